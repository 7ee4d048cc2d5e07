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

-- The scans that cost the most time first.
CREATE VIEW @extschema@.index_workload AS
SELECT * FROM @extschema@._index_workload() w
 WHERE @extschema@._require_loaded()
 ORDER BY w.captured_calls * w.mean_ms DESC NULLS LAST, w.executions DESC, w.queryid;

-- Forget every captured plan.
CREATE FUNCTION @extschema@.index_workload_reset()
RETURNS void
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_reset';
REVOKE ALL ON FUNCTION @extschema@.index_workload_reset() FROM PUBLIC;

-- Plan a statement without and with one hypothetical btree, GIN or BRIN
-- index (given as a CREATE INDEX statement) and compare the planner's
-- costs.  The statement is planned, never run.  params: values for $1,
-- $2, ... as text.  Names in the statement and the index definition
-- resolve in the caller's search_path: the default of the last argument
-- is evaluated by the caller, before this function pins its own.
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
       a.include_columns, a.predicate,
       pg_catalog.pg_size_pretty(a.est_size_bytes) AS est_size,
       @extschema@._ms_pretty(a.est_ms_saved_per_hour) || ' an hour' AS time_saved_per_hour,
       a.access_method, a.replaces, a.drop_sql
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

-- Write rates and growth of tables, for the index advice's upkeep and aging
-- (src/advice_model.c).  Rows inserted, updated (of them HOT) and deleted
-- per second over the last window_s seconds: from the newest snapshot taken
-- at least window_s ago (or, when the history is shorter, the oldest one at
-- least five minutes old) to the counters now, so that a bulk load before
-- the window does not count.  rows_per_day: the slope of the live rows over
-- the snapshots of the last growth_window_days, NULL until they span an
-- hour (as the growth view).  Tables with no such snapshot of this
-- database, or whose counters went back since (a statistics reset, a
-- crash), have no row.  The snapshots' history is monitoring data: the
-- function is not executable by PUBLIC; index_advice (src/advice_model.c)
-- runs it as its owner, only for the tables whose history its reader may
-- see (every table for a reader of all statistics, else the tables whose
-- owner's privileges it has).  It waits at most a second for a lock on
-- them; index_advice then goes on with the statistics' rates.
CREATE FUNCTION @extschema@._index_table_activity(
    relids pg_catalog.oid[], window_s double precision,
    OUT relid pg_catalog.oid, OUT seconds double precision,
    OUT ins_per_s double precision, OUT upd_per_s double precision,
    OUT hot_per_s double precision, OUT del_per_s double precision,
    OUT rows_per_day double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
	v_cut timestamptz := pg_catalog.now()
		- pg_catalog.make_interval(secs => greatest(window_s, 300));
	v_from timestamptz;
BEGIN
	IF pg_catalog.to_regclass('@extschema@.snapshot_tables') IS NULL
	   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = '@extschema@.snapshot_tables'::pg_catalog.regclass
						AND a.attname = 'n_tup_hot_upd' AND NOT a.attisdropped) THEN
		RETURN;
	END IF;
	v_from := pg_catalog.now() - pg_catalog.make_interval(days =>
		coalesce(@extschema@._t('growth_window_days'), 30)::integer);
	RETURN QUERY EXECUTE $q$
	WITH cur AS (
		SELECT s.relid, s.n_live_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid = ANY ($1)
	), base AS (
		SELECT DISTINCT ON (t.relid) t.relid, n.taken_at,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE t.relid = ANY ($1)
		  AND n.dbid = @extschema@._current_dbid()
		  AND t.n_tup_ins IS NOT NULL
		  AND n.taken_at <= pg_catalog.now() - interval '5 minutes'
		ORDER BY t.relid, (n.taken_at <= $2) DESC,
				 pg_catalog.abs(EXTRACT(epoch FROM n.taken_at - $2))
	), growth AS (
		SELECT p.relid,
			   CASE WHEN max(p.t) - min(p.t) >= 3600
					THEN pg_catalog.regr_slope(p.r, p.t / 86400.0) END AS rpd
		FROM (SELECT t.relid, EXTRACT(epoch FROM n.taken_at)::float8 AS t, t.n_live_tup::float8 AS r
			  FROM @extschema@.snapshot_tables t
			  JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
			  WHERE t.relid = ANY ($1) AND n.taken_at >= $3
				AND n.dbid = @extschema@._current_dbid()
			  UNION ALL
			  SELECT c.relid, EXTRACT(epoch FROM pg_catalog.now())::float8, c.n_live_tup::float8
			  FROM cur c) p
		GROUP BY p.relid
	)
	SELECT c.relid, x.secs,
		   (c.n_tup_ins - b.n_tup_ins)::float8 / x.secs,
		   (c.n_tup_upd - b.n_tup_upd)::float8 / x.secs,
		   (c.n_tup_hot_upd - b.n_tup_hot_upd)::float8 / x.secs,
		   (c.n_tup_del - b.n_tup_del)::float8 / x.secs,
		   g.rpd
	FROM cur c
	JOIN base b ON b.relid = c.relid
	CROSS JOIN LATERAL (SELECT EXTRACT(epoch FROM pg_catalog.now() - b.taken_at)::float8 AS secs) x
	LEFT JOIN growth g ON g.relid = c.relid
	WHERE c.n_tup_ins >= b.n_tup_ins
	  AND c.n_tup_upd >= b.n_tup_upd
	  AND c.n_tup_hot_upd >= b.n_tup_hot_upd
	  AND c.n_tup_del >= b.n_tup_del
	  AND x.secs > 0 $q$
	USING relids, v_cut, v_from;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._index_table_activity(pg_catalog.oid[], double precision) FROM PUBLIC;
