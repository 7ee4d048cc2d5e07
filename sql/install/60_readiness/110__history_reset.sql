
CREATE FUNCTION @extschema@._history_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_history_reset_1_1';
REVOKE ALL ON FUNCTION @extschema@._history_reset() FROM PUBLIC;
