
-- Releases this session's lock of the runs on the table.
CREATE FUNCTION @extschema@._archive_unlock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_unlock_1_1';
