
-- What load_factor times today's load needs.  See docs/readiness.md.
-- readable: current and projected as a person reads them (the byte rows,
-- through pg_size_pretty), NULL for the others.
CREATE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
RETURNS TABLE (item text, current numeric, projected numeric, unit text,
			   status text, detail text, readable text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cpus integer := coalesce(@extschema@._host_cpus(), 1);
	v_from timestamptz := pg_catalog.now() - pg_catalog.make_interval(days => (SELECT @extschema@._t('growth_window_days'))::integer);
	v_avg numeric;
	v_peak numeric;
	v_rho numeric;
	v_rho_new numeric;
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	v_peak_conn integer;
	v_proj_conn integer;
	v_pool integer;
	v_target numeric := (SELECT @extschema@._t('slow_statement_ms'));
	v_min_calls numeric := (SELECT @extschema@._t('slow_statement_min_calls'));
	v_infl numeric;
	v_db record;
	v_dblimit numeric := (SELECT @extschema@._t('db_size_limit_bytes'));
	v_n integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.capacity()');
	IF load_factor IS NULL OR load_factor <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'load_factor must be a positive number',
			HINT = 'Pass the load to plan for as a multiple of today''s, for example 2 or 3.';
	END IF;
	IF load_factor > 1000000 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('load_factor must be a number up to 1000000, not %s', load_factor),
			HINT = 'Pass the load to plan for as a multiple of today''s, for example 2 or 3.';
	END IF;

	-- busy time: active_time of the database between snapshots (and now)
	WITH pts AS (
		SELECT n.taken_at AS t, n.active_time_ms AS a
		FROM @extschema@.snapshots n
		WHERE n.taken_at >= v_from AND n.active_time_ms IS NOT NULL
		UNION ALL
		SELECT pg_catalog.now(), d.active_time
		FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()
	), steps AS (
		SELECT p.a - lag(p.a) OVER w AS da,
			   extract(epoch FROM p.t - lag(p.t) OVER w) * 1000 AS dt
		FROM pts p WINDOW w AS (ORDER BY p.t)
	)
	SELECT sum(s.da) FILTER (WHERE s.da >= 0) / nullif(sum(s.dt) FILTER (WHERE s.da >= 0), 0),
		   max(s.da / s.dt) FILTER (WHERE s.da >= 0 AND s.dt >= 1000)
	INTO v_avg, v_peak
	FROM steps s WHERE s.dt > 0;
	IF v_peak IS NULL THEN
		-- no history yet: what is active right now
		SELECT count(*) INTO v_peak FROM pg_catalog.pg_stat_activity a
		WHERE a.backend_type = 'client backend' AND a.state = 'active'
		  AND a.pid <> pg_catalog.pg_backend_pid();
		v_avg := coalesce(v_avg, v_peak);
	END IF;
	v_peak := greatest(v_peak, coalesce(v_avg, 0));
	v_rho := v_peak / v_cpus;
	v_rho_new := v_rho * load_factor;

	item := 'busy sessions (peak)'; current := round(v_peak, 2);
	projected := round(v_peak * load_factor, 2); unit := 'sessions';
	status := CASE WHEN v_rho_new >= 1 THEN 'fail' WHEN v_rho_new >= 0.7 THEN 'warn' ELSE 'pass' END;
	detail := pg_catalog.format('average %s busy sessions; %s CPUs; projected utilisation %s%%',
		round(coalesce(v_avg, 0), 2), v_cpus, round(v_rho_new * 100));
	RETURN NEXT;

	SELECT greatest(coalesce(max(n.numbackends), 0),
					(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'))
	INTO v_peak_conn
	FROM @extschema@.snapshots n WHERE n.taken_at >= v_from;
	v_proj_conn := ceil(v_peak_conn * load_factor);
	v_pool := least(greatest(2 * v_cpus, ceil(v_peak * load_factor * 1.5)::integer), v_maxconn);
	item := 'connections (peak)'; current := v_peak_conn; projected := v_proj_conn;
	unit := 'connections';
	status := CASE WHEN v_proj_conn > v_maxconn THEN 'fail'
				   WHEN v_proj_conn * 100.0 / v_maxconn >= (SELECT @extschema@._t('connections_warning_pct')) THEN 'warn'
				   ELSE 'pass' END;
	detail := pg_catalog.format('%s usable of max_connections; behind a transaction pooler %s server connections carry the projected load',
		v_maxconn, v_pool);
	RETURN NEXT;

	item := 'pool size'; current := NULL; projected := v_pool; unit := 'connections';
	status := 'pass';
	detail := pg_catalog.format('pgbouncer: pool_mode = transaction, default_pool_size = %s (max(2 x CPUs, 1.5 x projected busy sessions))', v_pool);
	RETURN NEXT;

	SELECT g.bytes_now, g.bytes_per_day INTO v_db
	FROM @extschema@._growth() g WHERE g.scope = 'database';
	FOR v_n IN SELECT unnest(ARRAY[30, 90]) LOOP
		item := pg_catalog.format('storage in %s days', v_n);
		current := v_db.bytes_now;
		projected := round(v_db.bytes_now + greatest(coalesce(v_db.bytes_per_day, 0), 0) * load_factor * v_n);
		unit := 'bytes';
		readable := pg_catalog.format('%s -> %s', pg_catalog.pg_size_pretty(current),
									  pg_catalog.pg_size_pretty(projected));
		status := CASE WHEN v_db.bytes_per_day IS NULL THEN 'warn'
					   WHEN v_dblimit > 0 AND projected > v_dblimit THEN 'fail'
					   ELSE 'pass' END;
		detail := CASE WHEN v_db.bytes_per_day IS NULL
					   THEN 'no growth measured yet: take snapshots (scale_advisor.snapshot()) over a few days'
					   ELSE pg_catalog.format('%s now, growing %s a day today, %s a day at %sx load',
							pg_catalog.pg_size_pretty(v_db.bytes_now),
							pg_catalog.pg_size_pretty(v_db.bytes_per_day),
							pg_catalog.pg_size_pretty(round(v_db.bytes_per_day * load_factor)), load_factor) END;
		RETURN NEXT;
	END LOOP;

	-- statements: queueing inflates response time by (1 - rho) / (1 - rho')
	v_infl := CASE WHEN v_rho_new < 1 THEN (1 - least(v_rho, 0.99)) / (1 - v_rho_new) END;
	FOR r IN
		SELECT s.queryid, s.query, s.p95_ms, s.calls
		FROM @extschema@._statements() s
		WHERE s.calls >= v_min_calls AND s.p95_ms IS NOT NULL
		ORDER BY s.p95_ms DESC
		LIMIT 5
	LOOP
		item := pg_catalog.format('statement %s', r.queryid);
		current := round(r.p95_ms::numeric, 2);
		projected := round(r.p95_ms::numeric * v_infl, 2);
		unit := 'ms p95';
		readable := NULL;
		status := CASE WHEN v_infl IS NULL OR r.p95_ms * v_infl >= v_target THEN 'fail'
					   WHEN r.p95_ms * v_infl >= v_target * 0.5 THEN 'warn' ELSE 'pass' END;
		detail := @extschema@._cut(r.query, 120);
		RETURN NEXT;
	END LOOP;
END
$$;
