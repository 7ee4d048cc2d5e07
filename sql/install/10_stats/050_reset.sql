
-- Remove statistics: everything (no arguments), or one user, database or
-- query id (0 matches anything).  Returns the number of statements removed.
CREATE FUNCTION @extschema@.reset(userid oid DEFAULT 0, dbid oid DEFAULT 0,
                                  queryid bigint DEFAULT 0)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_reset_1_1';
REVOKE ALL ON FUNCTION @extschema@.reset(oid, oid, bigint) FROM PUBLIC;
