
-- Every example kept (up to four per statement, renewed over time), oldest
-- first: the caller's statements, or all when it may read all statistics;
-- parameter values only for the example's own role and superusers.
CREATE FUNCTION @extschema@._history_examples(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT example integer,
	OUT taken_at timestamptz, OUT sample_query text, OUT param_types regtype[],
	OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_examples_1_1';
