
-- One row per (database, user, query id, top level): timings, latency
-- quantiles, rows, buffers and WAL; times rounded to the microsecond (to 4
-- significant digits from 10 s on); the most time-consuming first.
CREATE VIEW @extschema@.query_stats AS
  SELECT s.dbid, s.userid, s.queryid, s.toplevel, s.query, s.calls,
         s.errors, s.rows,
         @extschema@._ms_round(s.total_exec_ms) AS total_exec_ms,
         @extschema@._ms_round(s.mean_exec_ms) AS mean_exec_ms,
         @extschema@._ms_round(s.min_exec_ms) AS min_exec_ms,
         @extschema@._ms_round(s.max_exec_ms) AS max_exec_ms,
         @extschema@._ms_round(s.stddev_exec_ms) AS stddev_exec_ms,
         @extschema@._ms_round(s.p50_ms) AS p50_ms,
         @extschema@._ms_round(s.p95_ms) AS p95_ms,
         @extschema@._ms_round(s.p99_ms) AS p99_ms,
         @extschema@._ms_round(s.p999_ms) AS p999_ms,
         s.plans, @extschema@._ms_round(s.total_plan_ms) AS total_plan_ms,
         s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied,
         s.shared_blks_written, s.local_blks_hit, s.local_blks_read,
         s.local_blks_dirtied, s.local_blks_written, s.temp_blks_read,
         s.temp_blks_written, s.wal_records, s.wal_fpi, s.wal_bytes,
         s.first_seen, s.last_seen
  FROM @extschema@._query_stats(true) s
  WHERE @extschema@._require_loaded()
  ORDER BY s.total_exec_ms DESC, s.calls DESC;

-- Like pg_stat_statements: everyone sees the figures, the text and query id
-- of other users' statements only with pg_read_all_stats.  info refuses
-- roles without pg_read_all_stats with a hint naming the grant.
-- (slow_queries, which uses the thresholds, is in 60_readiness.sql.)
GRANT SELECT ON @extschema@.query_stats TO PUBLIC;
