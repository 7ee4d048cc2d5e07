
-- true when archiving looks stuck: no success for archive_max_age_s while
-- segments wait (or, when the waiting segments cannot be listed, while the
-- server writes a later segment than the last archived one)
CREATE FUNCTION @extschema@._archive_stale()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT s.last_archived_time < pg_catalog.now() - pg_catalog.make_interval(secs => (SELECT @extschema@._t('archive_max_age_s'))::float8)
	   AND coalesce(@extschema@._archive_ready() > 0,
					pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) > s.last_archived_wal)
FROM pg_catalog.pg_stat_archiver s
$$;
