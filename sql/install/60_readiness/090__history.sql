
-- The statement histograms and examples kept in shared memory.
CREATE FUNCTION @extschema@._history(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT calls bigint,
	OUT rows bigint, OUT total_exec_ms double precision, OUT buckets bigint[],
	OUT first_seen timestamptz, OUT last_seen timestamptz,
	OUT sample_query text, OUT param_types regtype[], OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_1_1';
