
-- The statements of the current database, from the statement store
-- (query_stats).
-- Statements that read scale_advisor's own views (monitoring, this
-- checklist) are left out: they are not the application's.
CREATE TYPE @extschema@._statement AS (
	dbid oid, userid oid, queryid bigint, query text, calls bigint,
	errors bigint, rows bigint, total_exec_ms double precision,
	mean_exec_ms double precision, p95_ms double precision,
	max_exec_ms double precision, first_seen timestamptz,
	last_seen timestamptz);
