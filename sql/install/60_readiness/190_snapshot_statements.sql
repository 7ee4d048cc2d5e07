
-- Cumulative histogram of every statement whose count changed since the
-- snapshot before (a statement's figures at a snapshot are those of its
-- latest row at or before it).
CREATE TABLE @extschema@.snapshot_statements (
	snap_id bigint NOT NULL REFERENCES @extschema@.snapshots ON DELETE CASCADE,
	dbid oid NOT NULL,
	queryid bigint NOT NULL,
	first_seen timestamptz NOT NULL,
	calls bigint NOT NULL,
	rows bigint NOT NULL,
	total_exec_ms double precision NOT NULL,
	buckets bigint[] NOT NULL,
	PRIMARY KEY (snap_id, dbid, queryid)
);
CREATE INDEX ON @extschema@.snapshot_statements (dbid, queryid, snap_id);
GRANT SELECT ON @extschema@.snapshot_statements TO pg_read_all_stats;
