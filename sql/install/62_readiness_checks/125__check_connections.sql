
-- connections against max_connections
-- (one of the checks _checklist() combines; returns its rows)
CREATE FUNCTION @extschema@._check_connections()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_x numeric;
	v_y numeric;
	v_cpus integer := coalesce(@extschema@._host_cpus(), 1);
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	v_pool integer;
BEGIN
	SELECT count(*) FILTER (WHERE a.backend_type = 'client backend'),
		   count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.state = 'idle'),
		   count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.state = 'active')
	INTO v_n, v_m, v_x
	FROM pg_catalog.pg_stat_activity a;
	v_pool := least(greatest(2 * v_cpus + 1, ceil(v_x * 1.5)::integer), v_maxconn);
	v_y := round(v_n * 100.0 / v_maxconn, 1);
	"check" := 'connections';
	status := CASE WHEN v_y >= (SELECT @extschema@._t('connections_critical_pct')) THEN 'fail'
				   WHEN v_y >= (SELECT @extschema@._t('connections_warning_pct')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s of %s usable connections (%s%%), %s active', v_n, v_maxconn, v_y, v_x);
	target := pg_catalog.format('under %s%% of max_connections', (SELECT @extschema@._t('connections_warning_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('put a transaction pooler in front (pgbouncer pool_mode = transaction, default_pool_size = %s) rather than raising max_connections', v_pool) END;
	RETURN NEXT;

	-- idle sessions: pooling
	"check" := 'connection_pooling';
	status := CASE WHEN v_m >= (SELECT @extschema@._t('idle_sessions_min'))
					AND v_m * 100.0 / greatest(v_n, 1) >= (SELECT @extschema@._t('idle_sessions_pct')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s idle of %s', v_m, @extschema@._n(v_n, 'client session'));
	target := pg_catalog.format('fewer than %s idle sessions or under %s%% idle',
		(SELECT @extschema@._t('idle_sessions_min')), (SELECT @extschema@._t('idle_sessions_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('idle sessions hold server processes: use pgbouncer (pool_mode = transaction, default_pool_size = %s, max_client_conn = %s) and shrink the application pools', v_pool, greatest(v_n * 4, 100)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_connections() TO pg_read_all_stats;
