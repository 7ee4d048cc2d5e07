
-- The OID of the current database: the default of snapshots.dbid.
CREATE FUNCTION @extschema@._current_dbid()
RETURNS pg_catalog.oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
$$;
