
-- Why replaying a statement would run code that is not built in (a
-- function, operator, aggregate, view, policy or domain of some role, or a
-- trigger, constraint or index expression of a table it writes), or NULL.
-- The statement is analyzed as the caller, never run (src/replay.c).
CREATE FUNCTION @extschema@._replay_refusal(statement text)
RETURNS text
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_replay_refusal_1_1';
