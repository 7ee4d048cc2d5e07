-- Statement timings: the store's rows as views, reset.

CREATE FUNCTION @extschema@._query_stats(showtext boolean DEFAULT true,
    OUT dbid oid, OUT userid oid, OUT queryid bigint, OUT toplevel boolean,
    OUT query text, OUT calls bigint, OUT errors bigint, OUT rows bigint,
    OUT total_exec_ms double precision, OUT mean_exec_ms double precision,
    OUT min_exec_ms double precision, OUT max_exec_ms double precision,
    OUT stddev_exec_ms double precision,
    OUT p50_ms double precision, OUT p95_ms double precision,
    OUT p99_ms double precision, OUT p999_ms double precision,
    OUT plans bigint, OUT total_plan_ms double precision,
    OUT shared_blks_hit bigint, OUT shared_blks_read bigint,
    OUT shared_blks_dirtied bigint, OUT shared_blks_written bigint,
    OUT local_blks_hit bigint, OUT local_blks_read bigint,
    OUT local_blks_dirtied bigint, OUT local_blks_written bigint,
    OUT temp_blks_read bigint, OUT temp_blks_written bigint,
    OUT wal_records bigint, OUT wal_fpi bigint, OUT wal_bytes numeric,
    OUT first_seen timestamptz, OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_query_stats_1_0';

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

CREATE FUNCTION @extschema@._info(
    OUT entries bigint, OUT max_entries bigint, OUT evictions bigint,
    OUT memory_bytes bigint, OUT entry_bytes bigint,
    OUT text_bytes_per_entry bigint, OUT stats_reset timestamptz,
    OUT last_save timestamptz, OUT saves bigint, OUT save_failures bigint,
    OUT loaded_entries bigint)
RETURNS record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_info_1_0';

-- Store-wide figures: entries, capacity, evictions, memory, last reset/save.
-- For monitoring: superusers and pg_read_all_stats (pg_monitor) members.
CREATE VIEW @extschema@.info AS
  SELECT i.*, pg_catalog.pg_size_pretty(i.memory_bytes) AS memory
  FROM @extschema@._info() i
  WHERE @extschema@._require_loaded()
    AND @extschema@._require_stats_reader('scale_advisor.info');

-- Remove statistics: everything (no arguments), or one user, database or
-- query id (0 matches anything).  Returns the number of statements removed.
CREATE FUNCTION @extschema@.reset(userid oid DEFAULT 0, dbid oid DEFAULT 0,
                                  queryid bigint DEFAULT 0)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_reset_1_0';
REVOKE ALL ON FUNCTION @extschema@.reset(oid, oid, bigint) FROM PUBLIC;

-- Like pg_stat_statements: everyone sees the figures, the text and query id
-- of other users' statements only with pg_read_all_stats.  info refuses
-- roles without pg_read_all_stats with a hint naming the grant.
-- (slow_queries, which uses the thresholds, is in 60_readiness.sql.)
GRANT SELECT ON @extschema@.query_stats, @extschema@.info TO PUBLIC;

-- Test aid: the sketch's quantiles for a set of values (milliseconds).
CREATE FUNCTION @extschema@._sketch_quantiles(vals double precision[],
                                              quantiles double precision[])
RETURNS double precision[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_sketch_quantiles_1_0';
