
-- Alerts that fire now.
CREATE FUNCTION @extschema@._alerts()
RETURNS TABLE (severity text, alert text, value numeric, threshold numeric,
			   detail text, since timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_window interval := pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_window_s'))::float8);
	v_n bigint;
	v_m bigint;
	v_x numeric;
	v_t numeric;
	v_t2 numeric;
	v_txt text;
	v_since timestamptz;
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.alerts');

	-- p95 and slow executions in the window, of the statements the rule of
	-- slow statements judges (_is_slow: application statements, run at
	-- least slow_statement_min_calls times; a one-off setup statement does
	-- not page anyone).  The window's histogram has the store's buckets:
	-- its p95 is within 2 %, and capped by the store's maximum.
	v_t := (SELECT @extschema@._t('alert_p95_ms'));
	v_t2 := (SELECT @extschema@._t('alert_slow_statement_ms'));
	v_n := (SELECT @extschema@._t('slow_statement_min_calls'));
	FOR r IN
		SELECT w.queryid,
			   least(@extschema@._hist_quantile(w.window_buckets, 0.95), m.max_ms) AS p95,
			   CASE WHEN m.max_ms > v_t2
					THEN @extschema@._hist_count_above(w.window_buckets, v_t2::float8) ELSE 0 END AS slow,
			   w.window_calls, w.window_start, w.last_seen
		FROM @extschema@._windows(v_window, '0'::interval) w
		JOIN (SELECT s.queryid, max(s.max_exec_ms) AS max_ms, sum(s.calls) AS calls
			  FROM @extschema@._statements() s
			  WHERE @extschema@._app_statement(s.query)
			  GROUP BY s.queryid) m ON m.queryid = w.queryid
		WHERE w.window_calls > 0 AND m.calls >= v_n
	LOOP
		IF r.p95 > v_t AND r.window_calls >= v_n THEN
			severity := 'warning'; alert := 'statement_p95';
			value := round(r.p95::numeric, 1); threshold := v_t;
			detail := pg_catalog.format('queryid %s: p95 %s over %s since %s', r.queryid,
				@extschema@._ms_pretty(r.p95), @extschema@._n(r.window_calls, 'call'),
				coalesce(r.window_start::text, 'the history started'));
			since := r.window_start;
			RETURN NEXT;
		END IF;
		IF r.slow > 0 THEN
			severity := 'warning'; alert := 'slow_statement';
			value := r.slow; threshold := v_t2;
			detail := pg_catalog.format('queryid %s: %s of %s slower than %s ms', r.queryid, r.slow, @extschema@._n(r.window_calls, 'execution'), v_t2);
			since := r.window_start;
			RETURN NEXT;
		END IF;
	END LOOP;

	-- error rate: failed statements (statement store) in the window
	SELECT sum(q.calls)::bigint, sum(q.errors)::bigint
	INTO v_n, v_m
	FROM @extschema@.query_stats q
	WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
					WHERE d.datname = pg_catalog.current_database());
	SELECT n.stmt_calls, n.stmt_errors, n.taken_at INTO r
	FROM @extschema@.snapshots n
	WHERE n.taken_at <= pg_catalog.now() - v_window AND n.stmt_calls IS NOT NULL
	ORDER BY n.taken_at DESC LIMIT 1;
	IF FOUND AND r.stmt_calls <= v_n AND r.stmt_errors <= v_m THEN
		v_n := v_n - r.stmt_calls;
		v_m := v_m - r.stmt_errors;
		v_since := r.taken_at;
	ELSE
		v_since := NULL;
	END IF;
	v_x := round(v_m * 100.0 / nullif(v_n + v_m, 0), 2);
	IF v_n + v_m >= (SELECT @extschema@._t('alert_error_min_calls')) THEN
		IF v_x >= (SELECT @extschema@._t('alert_error_rate_critical_pct')) THEN
			severity := 'critical'; threshold := (SELECT @extschema@._t('alert_error_rate_critical_pct'));
		ELSIF v_x >= (SELECT @extschema@._t('alert_error_rate_warning_pct')) THEN
			severity := 'warning'; threshold := (SELECT @extschema@._t('alert_error_rate_warning_pct'));
		ELSE
			severity := NULL;
		END IF;
		IF severity IS NOT NULL THEN
			alert := 'error_rate'; value := v_x;
			detail := pg_catalog.format('%s of %s failed', v_m, @extschema@._n(v_n + v_m, 'statement'));
			since := v_since;
			RETURN NEXT;
		END IF;
	END IF;

	-- connections
	SELECT count(*) INTO v_n FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend';
	v_x := round(v_n * 100.0 / v_maxconn, 1);
	IF v_x >= (SELECT @extschema@._t('connections_warning_pct')) THEN
		severity := CASE WHEN v_x >= (SELECT @extschema@._t('connections_critical_pct')) THEN 'critical' ELSE 'warning' END;
		alert := 'connections'; value := v_x;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('connections_critical_pct')) ELSE (SELECT @extschema@._t('connections_warning_pct')) END;
		detail := pg_catalog.format('%s of %s usable connections in use', v_n, v_maxconn);
		since := NULL;
		RETURN NEXT;
	END IF;

	-- replication lag, seen from the primary
	v_t := (SELECT @extschema@._t('replication_lag_warning_s'));
	v_t2 := (SELECT @extschema@._t('replication_lag_critical_s'));
	FOR r IN
		SELECT s.application_name, s.client_addr, s.state,
			   extract(epoch FROM coalesce(s.replay_lag, '0'::interval)) AS lag_s,
			   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.replay_lsn) AS lag_bytes
		FROM pg_catalog.pg_stat_replication s
		WHERE NOT pg_catalog.pg_is_in_recovery()
	LOOP
		IF r.lag_s >= v_t THEN
			severity := CASE WHEN r.lag_s >= v_t2 THEN 'critical' ELSE 'warning' END;
			alert := 'replication_lag'; value := round(r.lag_s, 1);
			threshold := CASE WHEN r.lag_s >= v_t2 THEN v_t2 ELSE v_t END;
			detail := pg_catalog.format('standby %s (%s): replay %s s and %s behind', r.application_name,
				coalesce(r.client_addr::text, 'local'), round(r.lag_s, 1), pg_catalog.pg_size_pretty(r.lag_bytes));
			since := pg_catalog.now() - pg_catalog.make_interval(secs => r.lag_s::float8);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- ... and on a standby
	IF pg_catalog.pg_is_in_recovery()
	   AND pg_catalog.pg_last_wal_receive_lsn() IS DISTINCT FROM pg_catalog.pg_last_wal_replay_lsn() THEN
		v_x := extract(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp());
		IF v_x >= v_t THEN
			severity := CASE WHEN v_x >= v_t2 THEN 'critical' ELSE 'warning' END;
			alert := 'replication_lag'; value := round(v_x, 1);
			threshold := CASE WHEN v_x >= v_t2 THEN v_t2 ELSE v_t END;
			detail := 'this standby replays WAL received that long after the primary wrote it';
			since := pg_catalog.pg_last_xact_replay_timestamp();
			RETURN NEXT;
		END IF;
	END IF;
	-- inactive replication slots retaining WAL
	IF NOT pg_catalog.pg_is_in_recovery() THEN
		FOR r IN
			SELECT s.slot_name, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn) AS bytes
			FROM pg_catalog.pg_replication_slots s
			WHERE NOT s.active AND s.restart_lsn IS NOT NULL
		LOOP
			IF r.bytes >= (SELECT @extschema@._t('replication_slot_max_bytes')) THEN
				severity := 'warning'; alert := 'replication_slot_retained_wal';
				value := r.bytes; threshold := (SELECT @extschema@._t('replication_slot_max_bytes'));
				detail := pg_catalog.format('inactive slot %s retains %s of WAL: SELECT pg_drop_replication_slot(%L) if its consumer is gone',
					r.slot_name, pg_catalog.pg_size_pretty(r.bytes), r.slot_name);
				since := NULL;
				RETURN NEXT;
			END IF;
		END LOOP;
	END IF;

	-- WAL archiving
	SELECT s.* INTO r FROM pg_catalog.pg_stat_archiver s;
	IF pg_catalog.current_setting('archive_mode') <> 'off' THEN
		IF r.last_failed_time IS NOT NULL AND r.last_failed_time > coalesce(r.last_archived_time, '-infinity') THEN
			severity := 'critical'; alert := 'wal_archiving_failing';
			value := r.failed_count; threshold := 0;
			detail := pg_catalog.format('archiving %s fails (%s failures); last success %s', r.last_failed_wal,
				r.failed_count, coalesce(r.last_archived_time::text, 'never'));
			since := coalesce(r.last_archived_time, r.stats_reset);
			RETURN NEXT;
		ELSIF @extschema@._archive_stale() THEN
			severity := 'warning'; alert := 'wal_archiving_stale';
			value := round(extract(epoch FROM pg_catalog.now() - r.last_archived_time));
			threshold := (SELECT @extschema@._t('archive_max_age_s'));
			detail := pg_catalog.format('last segment archived %s at %s, %s segments waiting', r.last_archived_wal,
				r.last_archived_time, coalesce(@extschema@._archive_ready()::text, 'more'));
			since := r.last_archived_time;
			RETURN NEXT;
		END IF;
	END IF;

	-- database growth and size limit
	SELECT g.bytes_per_day, g.days_to_limit, g.since INTO r
	FROM @extschema@._growth() g WHERE g.scope = 'database';
	v_t := (SELECT @extschema@._t('db_growth_bytes_per_day'));
	IF v_t > 0 AND r.bytes_per_day > v_t THEN
		severity := 'warning'; alert := 'database_growth';
		value := r.bytes_per_day; threshold := v_t;
		detail := pg_catalog.format('database grows %s a day', pg_catalog.pg_size_pretty(r.bytes_per_day));
		since := r.since;
		RETURN NEXT;
	END IF;
	IF r.days_to_limit IS NOT NULL AND r.days_to_limit <= (SELECT @extschema@._t('days_to_limit_warning')) THEN
		severity := CASE WHEN r.days_to_limit <= (SELECT @extschema@._t('days_to_limit_critical')) THEN 'critical' ELSE 'warning' END;
		alert := 'database_size_limit'; value := r.days_to_limit;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('days_to_limit_critical')) ELSE (SELECT @extschema@._t('days_to_limit_warning')) END;
		detail := pg_catalog.format('database reaches %s in %s', pg_catalog.pg_size_pretty((SELECT @extschema@._t('db_size_limit_bytes'))), @extschema@._n(r.days_to_limit, 'day'));
		since := r.since;
		RETURN NEXT;
	END IF;

	-- archive and partition maintenance: overdue measures the hours since
	-- the last success against maintenance_overdue_hours; failing counts the
	-- runs that failed since the last success (one is enough: the value is
	-- never NULL, even when no run ever succeeded)
	FOR r IN SELECT * FROM @extschema@._maintenance_status() m WHERE m.state <> 'ok' LOOP
		severity := CASE WHEN r.state = 'failing' THEN 'critical' ELSE 'warning' END;
		alert := r.kind || '_maintenance_' || r.state;
		IF r.state = 'failing' THEN
			value := greatest(r.failures, 1); threshold := 1;
		ELSE
			value := r.hours_since_success; threshold := (SELECT @extschema@._t('maintenance_overdue_hours'));
		END IF;
		detail := r.detail; since := r.last_success;
		RETURN NEXT;
	END LOOP;

	-- transaction ID age
	SELECT pg_catalog.age(d.datfrozenxid) INTO v_n FROM pg_catalog.pg_database d
	WHERE d.datname = pg_catalog.current_database();
	IF v_n >= (SELECT @extschema@._t('xid_age_warning')) THEN
		severity := CASE WHEN v_n >= (SELECT @extschema@._t('xid_age_critical')) THEN 'critical' ELSE 'warning' END;
		alert := 'transaction_id_age'; value := v_n;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('xid_age_critical')) ELSE (SELECT @extschema@._t('xid_age_warning')) END;
		detail := 'VACUUM (FREEZE) the oldest tables before wraparound protection stops writes';
		since := NULL;
		RETURN NEXT;
	END IF;

	-- regressions
	FOR r IN SELECT * FROM @extschema@._regressions() LOOP
		severity := 'warning'; alert := 'statement_regression';
		value := r.window_p95_ms; threshold := r.baseline_p95_ms * (SELECT @extschema@._t('regression_ratio'));
		detail := pg_catalog.format('queryid %s: p95 %s ms, baseline %s ms: %s', r.queryid, r.window_p95_ms,
			r.baseline_p95_ms, @extschema@._short(r.query));
		since := r.since;
		RETURN NEXT;
	END LOOP;
END
$$;
