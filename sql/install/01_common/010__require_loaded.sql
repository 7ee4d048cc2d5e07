-- True, or an error saying the library must be preloaded.  Views use it as a
-- one-time filter (WHERE scale_advisor._require_loaded()), PL/pgSQL
-- functions PERFORM it first.
CREATE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded_1_1';
