
CREATE FUNCTION @extschema@._history_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_history_reset';
REVOKE ALL ON FUNCTION @extschema@._history_reset() FROM PUBLIC;
