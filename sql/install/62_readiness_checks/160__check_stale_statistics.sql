
-- statistics age
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_stale_statistics()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('analyze_max_age_days'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname) ORDER BY t.n_mod_since_analyze DESC), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_mod_since_analyze > 50 + 0.1 * t.n_live_tup
	  AND coalesce(greatest(t.last_analyze, t.last_autoanalyze), '-infinity')
		  < pg_catalog.now() - pg_catalog.make_interval(days => v_t::integer);
	"check" := 'stale_statistics';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'statistics of modified tables are recent'
				  ELSE pg_catalog.format('%s not analyzed for %s: %s', @extschema@._n(v_n, 'modified table'), @extschema@._n(v_t, 'day'), v_txt) END;
	target := pg_catalog.format('tables with more than 10%% changed rows analyzed within %s days', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('ANALYZE %s; check that autovacuum runs (pg_stat_user_tables.last_autoanalyze)', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_stale_statistics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_stale_statistics() TO pg_read_all_stats;
