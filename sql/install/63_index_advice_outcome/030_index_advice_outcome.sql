
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
