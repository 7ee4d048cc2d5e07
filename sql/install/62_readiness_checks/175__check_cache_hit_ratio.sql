
-- cache hit ratio
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_cache_hit_ratio()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_x numeric;
BEGIN
	SELECT d.blks_hit, d.blks_read INTO v_n, v_m
	FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database();
	v_x := round(v_n * 100.0 / nullif(v_n + v_m, 0), 2);
	"check" := 'cache_hit_ratio';
	status := CASE WHEN v_n + v_m < 10000 THEN 'pass'
				   WHEN v_x < (SELECT @extschema@._t('cache_hit_critical_pct')) THEN 'fail'
				   WHEN v_x < (SELECT @extschema@._t('cache_hit_pct')) THEN 'warn' ELSE 'pass' END;
	value := CASE WHEN v_n + v_m < 10000 THEN pg_catalog.format('%s%% over only %s block reads, too few to judge', coalesce(v_x, 100), v_n + v_m)
				  ELSE pg_catalog.format('%s%% of %s block reads from shared buffers', v_x, v_n + v_m) END;
	target := pg_catalog.format('at least %s%%', (SELECT @extschema@._t('cache_hit_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('the working set does not fit in shared_buffers (%s): raise shared_buffers towards 25%% of RAM, or add RAM; check that large scans are not evicting the cache (sequential_scans)',
						pg_catalog.current_setting('shared_buffers')) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_cache_hit_ratio() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_cache_hit_ratio() TO pg_read_all_stats;
