-- Index advice from the captured workload, checked by the planner with
-- hypothetical indexes (src/plans.c, src/whatif.c, src/advisor.c).

-- What the sampled and slow executions' plans lacked: per statement and
-- scanned relation, the columns filtered, joined or sorted on.
CREATE FUNCTION @extschema@._index_workload(
    OUT queryid bigint, OUT userid oid, OUT relation pg_catalog.regclass,
    OUT scan text, OUT terms text, OUT executions bigint,
    OUT avg_rows_scanned double precision,
    OUT avg_rows_removed double precision, OUT row_counts_measured boolean,
    OUT captured_calls bigint, OUT mean_ms double precision,
    OUT statement text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload';

CREATE VIEW @extschema@.index_workload AS
SELECT * FROM @extschema@._index_workload()
 WHERE @extschema@._require_loaded();

-- Forget every captured plan.
CREATE FUNCTION @extschema@.index_workload_reset()
RETURNS void
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_reset';
REVOKE ALL ON FUNCTION @extschema@.index_workload_reset() FROM PUBLIC;

-- Plan a statement without and with one hypothetical btree, GIN or BRIN
-- index (given as a CREATE INDEX statement) and compare the planner's costs.  The statement
-- is planned, never run.  params: values for $1, $2, ... as text.  Names
-- in the statement and the index definition resolve in the caller's
-- search_path: the default of the last argument is evaluated by the caller,
-- before this function pins its own.
CREATE FUNCTION @extschema@.index_whatif(
    statement text, index_sql text, params text[] DEFAULT NULL,
    search_path text DEFAULT pg_catalog.current_setting('search_path'),
    OUT cost_before double precision, OUT cost_after double precision,
    OUT improvement_pct double precision, OUT index_used boolean,
    OUT est_size_bytes bigint)
RETURNS record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_whatif';

-- The advice itself (skipped = false) or the statements that could not be
-- planned again, with the reason (skipped = true).  Computed on each call:
-- each captured statement is planned again as the role that ran it, in a
-- security-restricted operation, in a subtransaction that is always rolled
-- back (src/advisor.c); a role that may not read all statistics gets advice
-- from its own statements only.  So PUBLIC may run it, as the views below.
CREATE FUNCTION @extschema@._index_advice(skipped boolean)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_compute';

-- access_method: btree, gin or brin; replaces: existing indexes the new one
-- makes redundant (every scan they serve it serves: their key columns lead
-- its own), with the statements that drop them once it is built (drop_sql).
CREATE VIEW @extschema@.index_advice AS
SELECT a.relation, a.columns, a.index_sql, a.queryids, a.calls,
       a.cost_before, a.cost_after, a.improvement_pct, a.est_size_bytes,
       a.write_rate, a.est_ms_saved_per_hour, a.reason,
       a.include_columns, a.predicate, a.access_method, a.replaces,
       a.drop_sql
  FROM @extschema@._index_advice(false) AS a(
         relation pg_catalog.regclass, columns text[], index_sql text,
         queryids bigint[], calls bigint, cost_before double precision,
         cost_after double precision, improvement_pct double precision,
         est_size_bytes bigint, write_rate double precision,
         est_ms_saved_per_hour double precision, reason text,
         include_columns text[], predicate text, access_method text,
         replaces pg_catalog.regclass[], drop_sql text)
 WHERE @extschema@._require_loaded()
 ORDER BY a.est_ms_saved_per_hour DESC, a.relation::text, a.index_sql;

CREATE VIEW @extschema@.index_advice_skipped AS
SELECT a.queryid, a.userid, a.reason
  FROM @extschema@._index_advice(true) AS a(queryid bigint, userid oid, reason text)
 WHERE @extschema@._require_loaded();

-- Statement views: any role reads them, and sees only its own statements
-- unless it may read all statistics (as pg_stat_statements).
GRANT SELECT ON @extschema@.index_workload, @extschema@.index_advice,
  @extschema@.index_advice_skipped TO PUBLIC;

