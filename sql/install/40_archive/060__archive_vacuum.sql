
-- C helpers (src/archive.c): VACUUM in a background worker (as the table's
-- owner), the lock of the runs on a table, and the crash point the tests
-- use.
CREATE FUNCTION @extschema@._archive_vacuum(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_archive_vacuum_1_1';
REVOKE ALL ON FUNCTION @extschema@._archive_vacuum(regclass) FROM PUBLIC;
