
-- True, or an error when the server is a standby (in recovery): what writes
-- tables (archiving, partitioning, ignore lists, thresholds, snapshots)
-- PERFORMs it first, so that on a standby it stops before anything and says
-- why.  The in-memory figures (the statement store, N+1 detections,
-- captured plans) are per server and may be reset on a standby too.
CREATE FUNCTION @extschema@._require_primary(what text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	IF pg_catalog.pg_is_in_recovery() THEN
		RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction',
			MESSAGE = pg_catalog.format('%s cannot run on a standby server', what),
			HINT = 'Run it on the primary; its changes reach standbys through replication.';
	END IF;
	RETURN true;
END
$$;
