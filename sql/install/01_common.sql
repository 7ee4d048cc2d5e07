-- Objects every part of the extension uses.

-- True, or an error saying the library must be preloaded.  Views use it as a
-- one-time filter (WHERE scale_advisor._require_loaded()), PL/pgSQL
-- functions PERFORM it first.
CREATE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded';

-- Everyone may look into the schema; what each object lets them do is
-- granted object by object (monitoring views to PUBLIC, functions that
-- change anything to nobody but their owner unless an admin grants them).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
