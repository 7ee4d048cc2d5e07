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
AS 'MODULE_PATHNAME', 'scale_advisor_query_stats_1_1';
