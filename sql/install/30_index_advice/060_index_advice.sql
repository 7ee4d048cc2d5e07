
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
GRANT SELECT ON @extschema@.index_advice TO PUBLIC;
