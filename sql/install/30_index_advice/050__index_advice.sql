
-- The advice itself (skipped = false) or the statements that could not be
-- planned again, with the reason (skipped = true).  Computed on each call:
-- each captured statement is planned again as the role that ran it, in a
-- security-restricted operation, in a subtransaction that is always rolled
-- back (src/advisor.c); a role that may not read all statistics gets advice
-- from its own statements only.  So PUBLIC may run it, as the views below.
CREATE FUNCTION @extschema@._index_advice(skipped boolean)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_compute_1_1';
