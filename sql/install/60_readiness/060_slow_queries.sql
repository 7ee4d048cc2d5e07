
-- Slow statements (_is_slow: application statements with at least
-- slow_statement_min_calls calls and a p95 over slow_statement_ms), slowest
-- first, with their share of the execution time of all statements and
-- rows per call.
CREATE VIEW @extschema@.slow_queries AS
  SELECT s.queryid, s.dbid, s.userid, s.toplevel, s.query, s.calls, s.errors,
         s.p50_ms, s.p95_ms, s.p99_ms, s.max_exec_ms, s.mean_exec_ms,
         s.total_exec_ms,
         round((s.total_exec_ms / NULLIF(s.all_ms, 0) * 100)::numeric, 1)::float8
           AS pct_of_total_time,
         s.rows / NULLIF(s.calls, 0) AS rows_per_call,
         s.shared_blks_read, s.last_seen,
         @extschema@._ms_pretty(s.p95_ms) AS p95,
         @extschema@._ms_pretty(s.total_exec_ms) AS total_time
  FROM (SELECT q.*, sum(q.total_exec_ms) OVER () AS all_ms
          FROM @extschema@.query_stats q) s
  WHERE @extschema@._is_slow(s.query, s.calls, s.p95_ms)
  ORDER BY s.p95_ms DESC, s.total_exec_ms DESC;
GRANT SELECT ON @extschema@.slow_queries TO PUBLIC;
