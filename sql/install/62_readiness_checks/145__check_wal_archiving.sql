
-- WAL archiving
-- (one of the checks _checklist() combines; returns its rows)
CREATE FUNCTION @extschema@._check_wal_archiving()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_txt text;
	v_txt2 text;
	v_t numeric;
	v_setting text;
	v_r record;
BEGIN
	SELECT s.archived_count, s.failed_count, s.last_archived_time, s.last_failed_time,
		   s.last_failed_wal, s.last_archived_wal
	INTO v_r FROM pg_catalog.pg_stat_archiver s;
	v_setting := pg_catalog.current_setting('archive_mode');
	v_txt := coalesce(nullif(pg_catalog.current_setting('archive_command'), ''),
					  nullif(pg_catalog.current_setting('archive_library', true), ''));
	v_t := (SELECT @extschema@._t('archive_max_age_s'));
	"check" := 'wal_archiving';
	IF v_setting = 'off' OR v_txt IS NULL THEN
		status := 'fail';
		value := CASE WHEN v_setting = 'off' THEN 'archive_mode = off'
					  ELSE pg_catalog.format('archive_mode = %s without archive_command or archive_library', v_setting) END;
		advice := 'set archive_mode = on and an archive_command (or a backup tool such as pgBackRest or WAL-G) that copies WAL off the server; archive_mode needs a restart';
	ELSIF v_r.last_failed_time IS NOT NULL AND v_r.last_failed_time > coalesce(v_r.last_archived_time, '-infinity') THEN
		status := 'fail';
		value := pg_catalog.format('failing: %s failures, last for %s at %s; last success %s',
			v_r.failed_count, v_r.last_failed_wal, v_r.last_failed_time, coalesce(v_r.last_archived_time::text, 'never'));
		advice := 'read the server log for the archive_command error and fix it (destination full or unreachable, permissions); WAL piles up in pg_wal until it succeeds';
	ELSIF v_r.last_archived_time IS NULL THEN
		status := 'warn';
		value := 'archiving is on but nothing was archived yet';
		advice := 'SELECT pg_switch_wal(); then check pg_stat_archiver.last_archived_time';
	ELSIF @extschema@._archive_stale() THEN
		status := 'warn';
		value := pg_catalog.format('last segment archived at %s, %s segments waiting', v_r.last_archived_time,
			coalesce(@extschema@._archive_ready()::text, 'more'));
		advice := 'set archive_timeout (for example 60s) so that quiet periods are archived too, and check that archiving is not stuck';
	ELSE
		status := 'pass';
		value := pg_catalog.format('%s archived, last at %s, %s', @extschema@._n(v_r.archived_count, 'segment'), v_r.last_archived_time, @extschema@._n(v_r.failed_count, 'failure'));
		advice := 'nothing to do';
	END IF;
	target := pg_catalog.format('archiving on, no failure since the last success, last success within %s s while segments wait', v_t);
	RETURN NEXT;

	-- point-in-time recovery
	v_txt2 := status;
	"check" := 'point_in_time_recovery';
	status := CASE WHEN pg_catalog.current_setting('wal_level') = 'minimal' OR v_txt2 = 'fail' THEN 'fail'
				   WHEN v_txt2 = 'warn' OR pg_catalog.current_setting('archive_timeout') = '0' THEN 'warn'
				   ELSE 'pass' END;
	value := pg_catalog.format('wal_level = %s, WAL archiving %s, archive_timeout = %s',
		pg_catalog.current_setting('wal_level'), v_txt2, pg_catalog.current_setting('archive_timeout'));
	target := 'wal_level replica or logical, WAL archiving passing, archive_timeout set';
	advice := CASE WHEN status = 'pass' THEN 'take base backups regularly (pg_basebackup, pgBackRest) and rehearse a restore with recovery_target_time; backups themselves are not visible from SQL'
				   WHEN pg_catalog.current_setting('wal_level') = 'minimal' THEN 'ALTER SYSTEM SET wal_level = replica; restart; then set up WAL archiving'
				   WHEN v_txt2 <> 'pass' THEN 'fix WAL archiving first (check wal_archiving)'
				   ELSE 'ALTER SYSTEM SET archive_timeout = ''60s''; SELECT pg_reload_conf(); bounds how much a quiet server can lose' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_wal_archiving() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_wal_archiving() TO pg_read_all_stats;
