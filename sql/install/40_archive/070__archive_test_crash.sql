
CREATE FUNCTION @extschema@._archive_test_crash()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'scale_advisor_archive_test_crash_1_1';
REVOKE ALL ON FUNCTION @extschema@._archive_test_crash FROM PUBLIC;
