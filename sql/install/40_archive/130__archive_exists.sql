
-- EXECUTE helper of 1.0 for the foreign key checks, which now run as the
-- owner through _owner_exec(); kept unchanged (it runs with the caller's
-- rights, and PUBLIC may not execute it) so that the grant scripts written
-- for 1.0 keep working.
CREATE FUNCTION @extschema@._archive_exists(q text, p_from timestamptz, p_to timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r boolean;
BEGIN
	EXECUTE q INTO r USING p_from, NULL::int, NULL::jsonb, p_to;
	RETURN r;
END $$;
REVOKE ALL ON FUNCTION @extschema@._archive_exists FROM PUBLIC;
