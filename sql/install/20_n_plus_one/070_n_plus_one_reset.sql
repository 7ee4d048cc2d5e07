
-- Forget every detection.
CREATE FUNCTION @extschema@.n_plus_one_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_reset_1_1';
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_reset() FROM PUBLIC;
