
-- dead tuples
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_dead_tuples()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_x numeric;
	v_txt text;
	v_t numeric;
	v_t2 numeric;
BEGIN
	v_t := (SELECT @extschema@._t('dead_tuple_pct'));
	v_t2 := (SELECT @extschema@._t('dead_tuple_critical_pct'));
	SELECT count(*), max(x.pct),
		   @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s%% dead, last vacuum %s)', x.schemaname, x.relname, x.pct,
										coalesce(x.lv::text, 'never')) ORDER BY x.pct DESC), ', ')
	INTO v_n, v_x, v_txt
	FROM (SELECT t.schemaname, t.relname,
				 round(t.n_dead_tup * 100.0 / greatest(t.n_live_tup + t.n_dead_tup, 1), 1) AS pct,
				 greatest(t.last_vacuum, t.last_autovacuum) AS lv
		  FROM pg_catalog.pg_stat_user_tables t
		  WHERE t.n_dead_tup >= (SELECT @extschema@._t('dead_tuple_min'))) x
	WHERE x.pct >= v_t;
	"check" := 'dead_tuples';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= v_t2 THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'autovacuum keeps up: no table over the dead-tuple threshold'
				  ELSE pg_catalog.format('%s: %s', @extschema@._n(v_n, 'table'), v_txt) END;
	target := pg_catalog.format('under %s%% dead tuples per table', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('VACUUM (VERBOSE) the tables; make autovacuum keep up: ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02); raise autovacuum_vacuum_cost_limit; look for long transactions holding back cleanup',
						pg_catalog.split_part(pg_catalog.split_part(v_txt, ', ', 1), ' ', 1)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_dead_tuples() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_dead_tuples() TO pg_read_all_stats;
