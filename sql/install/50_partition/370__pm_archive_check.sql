
-- NULL when the archiving helper accepts the partition (its dry run
-- passes), else its error: the real run raises errors that would end the
-- maintenance run, and cannot be caught where it commits.
CREATE FUNCTION @extschema@._pm_archive_check(part_name text, col name, retention text,
	target text, batch_size integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	CALL @extschema@.archive(relation => part_name::regclass, time_column => col,
		older_than => retention::interval, target => @extschema@._pt_target(target),
		batch_size => batch_size, dry_run => true,
		run_id => r, rows_moved => n, status => st);
	RETURN NULL;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
	RETURN msg;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_archive_check(text, name, text, text, integer) FROM PUBLIC;
