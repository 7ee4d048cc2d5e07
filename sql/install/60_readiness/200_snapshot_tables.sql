
-- Rows and bytes of the largest tables of the database, per snapshot, and
-- their cumulative write counters (pg_stat_user_tables: rows inserted,
-- updated, of them HOT, deleted), from which the index advice takes the
-- write rate of a recent window (_index_table_activity()).
CREATE TABLE @extschema@.snapshot_tables (
	snap_id bigint NOT NULL REFERENCES @extschema@.snapshots ON DELETE CASCADE,
	relid oid NOT NULL,
	schemaname name NOT NULL,
	relname name NOT NULL,
	n_live_tup bigint,
	total_bytes bigint,
	n_tup_ins bigint,
	n_tup_upd bigint,
	n_tup_hot_upd bigint,
	n_tup_del bigint,
	PRIMARY KEY (snap_id, relid)
);
GRANT SELECT ON @extschema@.snapshot_tables TO pg_read_all_stats;
