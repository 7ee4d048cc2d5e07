-- Reading index_advice records, per advised index and statement it serves, the
-- planner's costs without and with the index and the statement's figures
-- in the statement store at that moment; each reading refreshes them while
-- the index does not exist.  Written only by the extension (as the table's
-- owner); each role reads the rows of its own statements, roles that may
-- read all statistics every row.
CREATE TABLE @extschema@.index_advice_predictions (
	relid oid NOT NULL,
	index_sql text NOT NULL,
	index_def text NOT NULL,
	queryid bigint NOT NULL,
	userid oid NOT NULL,
	first_advised timestamptz NOT NULL,
	last_advised timestamptz NOT NULL,
	cost_before double precision NOT NULL,
	cost_after double precision NOT NULL,
	calls bigint NOT NULL,
	total_exec_ms double precision NOT NULL,
	buckets bigint[],
	store_first_seen timestamptz,
	PRIMARY KEY (index_sql, queryid, userid)
);
ALTER TABLE @extschema@.index_advice_predictions ENABLE ROW LEVEL SECURITY;
CREATE POLICY index_advice_predictions_reader ON @extschema@.index_advice_predictions
	FOR SELECT
	USING (userid = (CURRENT_USER)::pg_catalog.regrole::pg_catalog.oid
		   OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE'));
GRANT SELECT ON @extschema@.index_advice_predictions TO PUBLIC;
