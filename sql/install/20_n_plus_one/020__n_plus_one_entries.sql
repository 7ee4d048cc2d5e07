
-- Rows matching an ignore rule (query id or NULL, application name or
-- NULL, the rule's creator; arrays of the same length) are left out before
-- other roles' query ids are hidden; a rule matches only the rows of roles
-- whose privileges its creator has.
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
	ignore_creators oid[] DEFAULT NULL,
	OUT dbid oid,
	OUT userid oid,
	OUT application_name text,
	OUT kind text,
	OUT queryid bigint,
	OUT query text,
	OUT parent_queryid bigint,
	OUT parent_query text,
	OUT parent_rows bigint,
	OUT detections bigint,
	OUT repeated_calls bigint,
	OUT max_run bigint,
	OUT last_run bigint,
	OUT total_ms double precision,
	OUT batched_query text,
	OUT join_query text,
	OUT first_seen timestamptz,
	OUT last_seen timestamptz,
	OUT batched_note text,
	OUT join_note text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries_1_1';
