
-- WAL segments waiting for the archiver (.ready files), or NULL when the
-- caller may not list pg_wal/archive_status (pg_monitor can).
CREATE FUNCTION @extschema@._archive_ready()
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir() f WHERE f.name LIKE '%.ready');
EXCEPTION WHEN insufficient_privilege THEN
	RETURN NULL;
END
$$;
