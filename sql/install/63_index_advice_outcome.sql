-- Index advice, part 2: the before/after check (src/advice_outcome.c).  It
-- comes after the readiness history, whose latency histograms
-- (_hist_quantile) it reads.

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

-- Per recorded prediction the caller may read: the index now found with
-- the advised definition (NULL until it exists), the recorded figures and
-- those since (NULL while the index does not exist).
CREATE FUNCTION @extschema@._index_advice_outcome(
    OUT relid oid, OUT index_sql text, OUT indexrelid oid,
    OUT first_advised timestamptz, OUT last_advised timestamptz,
    OUT queryid bigint, OUT userid oid, OUT cost_before double precision,
    OUT cost_after double precision, OUT calls_before bigint,
    OUT exec_ms_before double precision, OUT buckets_before bigint[],
    OUT calls_after bigint, OUT exec_ms_after double precision,
    OUT buckets_after bigint[], OUT tracked boolean, OUT index_scans bigint)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_outcome';

-- What each advised index was predicted to do for each statement it
-- serves, and what the statement measured since the index exists: mean and
-- p95 execution time before (the store's figures up to the last time the
-- advice was given) and after.  change_pct: negative is faster.
CREATE VIEW @extschema@.index_advice_outcome AS
SELECT o.relid::pg_catalog.regclass AS relation, o.index_sql,
       o.indexrelid::pg_catalog.regclass AS index,
       CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = o.relid)
                 THEN 'table dropped'
            WHEN o.indexrelid IS NULL THEN 'not created'
            WHEN NOT o.tracked THEN 'created; the statement is no longer in the store'
            WHEN o.calls_after = 0 THEN 'created; no executions since'
            ELSE 'created' END AS status,
       o.first_advised, o.last_advised AS baseline_at, o.queryid, o.userid,
       o.calls_before,
       pg_catalog.round((o.exec_ms_before / NULLIF(o.calls_before, 0))::numeric, 3)
         AS mean_ms_before,
       pg_catalog.round(@extschema@._hist_quantile(o.buckets_before, 0.95)::numeric, 3)
         AS p95_ms_before,
       pg_catalog.round((o.exec_ms_before / NULLIF(o.calls_before, 0)
                         * (o.cost_after / NULLIF(o.cost_before, 0)))::numeric, 3)
         AS predicted_mean_ms,
       pg_catalog.round((100 * (o.cost_after / NULLIF(o.cost_before, 0) - 1))::numeric, 1)
         AS predicted_change_pct,
       o.calls_after,
       pg_catalog.round((o.exec_ms_after / NULLIF(o.calls_after, 0))::numeric, 3)
         AS mean_ms_after,
       pg_catalog.round(@extschema@._hist_quantile(o.buckets_after, 0.95)::numeric, 3)
         AS p95_ms_after,
       pg_catalog.round((100 * ((o.exec_ms_after / NULLIF(o.calls_after, 0))
                                / NULLIF(o.exec_ms_before / NULLIF(o.calls_before, 0), 0)
                                - 1))::numeric, 1)
         AS measured_change_pct,
       o.index_scans
  FROM @extschema@._index_advice_outcome() o
 WHERE @extschema@._require_loaded()
 ORDER BY o.indexrelid IS NULL, o.relid::pg_catalog.regclass::text, o.index_sql, o.queryid;

-- A statement view: any role reads it and sees its own statements' rows
-- (the table's policy) unless it may read all statistics.
GRANT SELECT ON @extschema@.index_advice_outcome TO PUBLIC;
