
-- One run per table: a session lock no SQL advisory lock function can take
-- (src/archive.c), only for roles that may maintain the table.  True when
-- this session holds it now.
CREATE FUNCTION @extschema@._archive_lock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_lock_1_1';
