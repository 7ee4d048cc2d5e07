
CREATE FUNCTION @extschema@._checklist()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_x numeric;
	v_y numeric;
	v_txt text;
	v_txt2 text;
	v_t numeric;
	v_t2 numeric;
	v_cpus integer := coalesce(@extschema@._host_cpus(), 1);
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	v_pool integer;
	v_setting text;
	v_g record;
	v_stmts @extschema@._statement[];
	v_r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the statements, read once for every check that needs them
	v_stmts := ARRAY(SELECT s FROM @extschema@._statements() s);

	-- slow statements: the rule of slow_queries (_is_slow)
	v_t := (SELECT @extschema@._t('slow_statement_ms'));
	SELECT count(*), max(s.p95_ms),
		   string_agg(pg_catalog.format('%s (%s: %s)', s.queryid, @extschema@._ms_pretty(s.p95_ms), @extschema@._short(s.query)), '; '
					  ORDER BY s.p95_ms DESC) FILTER (WHERE s.rn <= 3)
	INTO v_n, v_x, v_txt
	FROM (SELECT s.*, row_number() OVER (ORDER BY s.p95_ms DESC) AS rn
		  FROM unnest(v_stmts) s
		  WHERE @extschema@._is_slow(s.query, s.calls, s.p95_ms)) s;
	"check" := 'slow_statements';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= (SELECT @extschema@._t('alert_p95_ms')) THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement over the target'
				  ELSE pg_catalog.format('%s over the target, worst: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('p95 under %s ms (application statements run at least %s)', v_t,
		@extschema@._n((SELECT @extschema@._t('slow_statement_min_calls')), 'time'));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'EXPLAIN (ANALYZE, BUFFERS) the statements named; read scale_advisor.slow_queries and scale_advisor.index_advice for their plans and missing indexes' END;
	RETURN NEXT;

	-- missing indexes, from index_advice
	v_n := @extschema@._count_of('index_advice');
	"check" := 'missing_indexes';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.index_advice is not installed)'
				  ELSE @extschema@._n(v_n, 'index suggestion') END;
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;

	-- large tables read by sequential scans
	v_t := (SELECT @extschema@._t('seq_scan_min_rows'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s seq scans)', t.schemaname, t.relname, t.seq_scan)
								 ORDER BY t.seq_tup_read DESC), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_live_tup >= v_t AND t.seq_scan > coalesce(t.idx_scan, 0)
	  AND t.seq_tup_read / greatest(t.seq_scan, 1) >= v_t;
	"check" := 'sequential_scans';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no large table is read mostly by sequential scans'
				  ELSE pg_catalog.format('%s read mostly by sequential scans: %s', @extschema@._n(v_n, 'large table'), v_txt) END;
	target := pg_catalog.format('tables over %s rows read through indexes', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'find the statements scanning them (scale_advisor.slow_queries) and index the columns of their WHERE clauses' END;
	RETURN NEXT;

	-- N+1 patterns
	v_n := @extschema@._count_of('n_plus_one');
	"check" := 'n_plus_one';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.n_plus_one is not installed)'
				  ELSE @extschema@._n(v_n, 'N+1 pattern') END;
	target := '0 patterns';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with N+1 detection'
				   ELSE 'SELECT * FROM scale_advisor.n_plus_one; load the rows in one statement (WHERE id = ANY($1), a JOIN, or the ORM''s eager loading)' END;
	RETURN NEXT;

	-- cacheable repeated reads
	SELECT sum(s.calls) INTO v_m FROM unnest(v_stmts) s;
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s%% of calls: %s)', s.queryid,
								round(s.calls * 100.0 / v_m, 1), @extschema@._short(s.query)) ORDER BY s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(v_stmts) s
	WHERE s.calls >= (SELECT @extschema@._t('cacheable_min_calls'))
	  AND s.calls * 100.0 / greatest(v_m, 1) >= (SELECT @extschema@._t('cacheable_share_pct'))
	  AND s.rows <= s.calls * 100
	  AND s.query ~* '^\s*select\M'
	  AND s.query !~* '\m(now|random|clock_timestamp|current_timestamp|nextval|txid_current|pg_sleep)\M'
	  AND s.query !~* '\mfor\s+(update|share)\M'
	  -- an N+1 loop reads other keys at each call: batching is its fix,
	  -- not a cache
	  AND NOT EXISTS (SELECT 1 FROM @extschema@._n_plus_one_entries() n
					  WHERE n.kind = 'n_plus_one' AND n.queryid = s.queryid
						AND n.dbid = s.dbid AND n.userid = s.userid);
	"check" := 'cacheable_queries';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read dominates the statement mix'
				  ELSE pg_catalog.format('%s: %s', @extschema@._n(v_n, 'repeated read'), v_txt) END;
	target := pg_catalog.format('no read over %s%% of all calls', (SELECT @extschema@._t('cacheable_share_pct')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'cache these results in the application (with a TTL or invalidation on write), or precompute them in a materialized view' END;
	RETURN NEXT;

	-- connections against max_connections
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

	-- sessions idle in a transaction
	v_t := (SELECT @extschema@._t('idle_in_transaction_s'));
	SELECT count(*), max(extract(epoch FROM pg_catalog.now() - a.state_change))
	INTO v_n, v_x
	FROM pg_catalog.pg_stat_activity a
	WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
	  AND a.state_change < pg_catalog.now() - pg_catalog.make_interval(secs => v_t::float8);
	"check" := 'idle_in_transaction';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := CASE WHEN v_n = 0 THEN 'no session idle in a transaction'
				  ELSE pg_catalog.format('%s idle in a transaction, the oldest for %s s', @extschema@._n(v_n, 'session'), round(v_x)) END;
	target := pg_catalog.format('none idle in a transaction over %s s', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'commit or roll back promptly in the application; SELECT pid, query FROM pg_stat_activity WHERE state LIKE ''idle in transaction%'' shows them; set idle_in_transaction_session_timeout' END;
	RETURN NEXT;

	-- timeouts for application roles: login roles that are not superusers,
	-- replication roles, monitoring roles (pg_monitor, pg_read_all_stats)
	-- or maintenance roles (allowed to run archiving or partitioning, which
	-- must not be cut short by a timeout)
	FOR v_g IN SELECT * FROM (VALUES ('statement_timeout', 'statement_timeout_max_ms', '30s'),
								   ('idle_in_transaction_session_timeout', NULL, '60s')) AS g(guc, lim, suggest)
	LOOP
		SELECT count(*),
			   count(*) FILTER (WHERE x.bad),
			   @extschema@._list(array_agg(pg_catalog.quote_ident(x.rolname) ORDER BY x.rolname) FILTER (WHERE x.bad), ', '),
			   string_agg(pg_catalog.format('ALTER ROLE %I SET %s = %L;', x.rolname, v_g.guc, v_g.suggest), ' '
						  ORDER BY x.rolname) FILTER (WHERE x.bad)
		INTO v_n, v_m, v_txt, v_txt2
		FROM (SELECT r.rolname,
					 coalesce(@extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)), 0) = 0
					 OR (v_g.lim IS NOT NULL AND
						 @extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)) > (SELECT @extschema@._t(v_g.lim))) AS bad
			  FROM pg_catalog.pg_roles r
			  WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolreplication AND r.rolname !~ '^pg_'
				AND NOT pg_catalog.pg_has_role(r.oid, 'pg_monitor', 'USAGE')
				AND NOT pg_catalog.pg_has_role(r.oid, 'pg_read_all_stats', 'USAGE')
				AND NOT EXISTS (
					SELECT 1 FROM pg_catalog.pg_proc p
					WHERE p.pronamespace = '@extschema@'::regnamespace
					  AND p.proname IN ('archive', 'unarchive', 'run_archive_policies',
										'partition_table', 'maintain_partitions')
					  AND pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE'))) x;
		"check" := v_g.guc;
		status := CASE WHEN v_n = 0 THEN 'warn' WHEN v_m = 0 THEN 'pass' ELSE 'fail' END;
		value := CASE WHEN v_n = 0 THEN 'no application role: only superusers, monitoring and maintenance roles can log in'
					  WHEN v_m = 0 THEN pg_catalog.format('set for all %s', @extschema@._n(v_n, 'application role'))
					  ELSE pg_catalog.format('%s of %s without a suitable %s: %s', v_m, @extschema@._n(v_n, 'application role'), v_g.guc, v_txt) END;
		target := CASE WHEN v_g.lim IS NULL THEN 'set for every application role (login roles other than superusers, monitoring and maintenance roles)'
					   ELSE pg_catalog.format('set, at most %s ms, for every application role (login roles other than superusers, monitoring and maintenance roles)', (SELECT @extschema@._t(v_g.lim))) END;
		advice := CASE WHEN v_n = 0 THEN 'let the application log in as a role of its own, not a superuser, and give it timeouts'
					   WHEN v_m = 0 THEN 'nothing to do'
					   ELSE v_txt2 END;
		RETURN NEXT;
	END LOOP;

	-- slow-query logging
	v_x := @extschema@._guc_ms(pg_catalog.current_setting('log_min_duration_statement'));
	v_t := (SELECT @extschema@._t('log_min_duration_max_ms'));
	"check" := 'slow_query_logging';
	status := CASE WHEN v_x < 0 THEN 'fail' WHEN v_x > v_t THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('log_min_duration_statement = %s', pg_catalog.current_setting('log_min_duration_statement'));
	target := pg_catalog.format('between 0 and %s ms', v_t);
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('ALTER SYSTEM SET log_min_duration_statement = ''%sms''; SELECT pg_reload_conf();', least(v_t, 500)) END;
	RETURN NEXT;

	-- WAL archiving
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

	-- autovacuum on
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I', n.nspname, c.relname)), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm') AND c.reloptions @> ARRAY['autovacuum_enabled=false']
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema');
	"check" := 'autovacuum';
	status := CASE WHEN pg_catalog.current_setting('autovacuum') = 'off' OR pg_catalog.current_setting('track_counts') = 'off' THEN 'fail'
				   WHEN v_n > 0 THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('autovacuum = %s, track_counts = %s, %s tables with autovacuum disabled%s',
		pg_catalog.current_setting('autovacuum'), pg_catalog.current_setting('track_counts'), v_n,
		CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := 'autovacuum on for every table';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   WHEN pg_catalog.current_setting('autovacuum') = 'off' THEN 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'
				   ELSE pg_catalog.format('ALTER TABLE %s RESET (autovacuum_enabled);', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;

	-- dead tuples
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

	-- statistics age
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

	-- table bloat (estimate from row counts and average widths)
	v_t := (SELECT @extschema@._t('table_bloat_pct'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)) ORDER BY x.waste DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname,
				 (c.relpages::numeric * pg_catalog.current_setting('block_size')::integer) AS bytes,
				 greatest(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  JOIN (SELECT s.schemaname, s.tablename, sum(s.avg_width) AS width
				FROM pg_catalog.pg_stats s
				WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
				GROUP BY s.schemaname, s.tablename) w
			ON w.schemaname = n.nspname AND w.tablename = c.relname
		  CROSS JOIN LATERAL (
			SELECT ceil(c.reltuples::numeric * (24 + 4 + w.width + 8)
						/ (pg_catalog.current_setting('block_size')::integer - 24)
						/ coalesce((SELECT (pg_catalog.regexp_match(o, 'fillfactor=([0-9]+)'))[1]::numeric
									FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 100) * 100)
				   * pg_catalog.current_setting('block_size')::integer AS expected) e
		  WHERE c.relkind = 'r' AND c.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND c.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'table_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no table over the bloat threshold'
				  ELSE pg_catalog.format('%s, estimated: %s', @extschema@._n(v_n, 'table'), v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (tables over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'rewrite the table online with pg_repack (or VACUUM FULL in a maintenance window), then tune autovacuum so that dead rows are reused' END;
	RETURN NEXT;

	-- index bloat (B-tree, plain columns)
	v_t := (SELECT @extschema@._t('index_bloat_pct'));
	WITH widths AS MATERIALIZED (
		SELECT s.schemaname, s.tablename, s.attname, s.avg_width
		FROM pg_catalog.pg_stats s
		WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema'))
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)) ORDER BY x.waste DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, ic.relname,
				 greatest(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_index i
		  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		  JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
		  JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
		  JOIN pg_catalog.pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
		  CROSS JOIN LATERAL (
			SELECT (ceil(ic.reltuples::numeric * (8 + 4 + sum(s.avg_width) + 4)
						 / ((pg_catalog.current_setting('block_size')::integer - 24 - 16) * 0.9)) + 1)
				   * pg_catalog.current_setting('block_size')::integer AS expected,
				   count(*) AS ncols
			FROM pg_catalog.pg_attribute a
			JOIN widths s ON s.schemaname = n.nspname AND s.tablename = tc.relname
						  AND s.attname = a.attname
			WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) e
		  WHERE i.indexprs IS NULL AND e.ncols = i.indnatts AND ic.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'index_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no B-tree index over the bloat threshold'
				  ELSE pg_catalog.format('%s, estimated: %s', @extschema@._n(v_n, 'index', 'indexes'), v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (indexes over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('REINDEX INDEX CONCURRENTLY %s;', pg_catalog.split_part(v_txt, ' ', 1)) END;
	RETURN NEXT;

	-- cache hit ratio
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

	-- pagination
	v_t := (SELECT @extschema@._t('pagination_rows'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s rows a call: %s)', s.queryid, round(s.rows::numeric / s.calls),
								@extschema@._short(s.query)) ORDER BY s.rows::numeric / s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(v_stmts) s
	WHERE s.calls > 0 AND s.rows::numeric / s.calls >= v_t
	  AND s.query ~* '^\s*(select|with)\M'
	  AND s.query !~* '\m(limit|fetch\s+(first|next))\M';
	"check" := 'pagination';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read returns many rows without LIMIT'
				  ELSE pg_catalog.format('%s: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('reads returning %s rows or more per call use LIMIT', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'page through results with keyset pagination: WHERE id > $last_id ORDER BY id LIMIT 100 (not OFFSET)' END;
	RETURN NEXT;

	-- old rows: archiving or partitioning candidates
	v_t := (SELECT @extschema@._t('partition_min_bytes'));
	v_m := @extschema@._count_of('partition_advice');
	-- sizes read without waiting for locks (a locked table is left out)
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s)', x.nspname, x.relname,
								pg_catalog.pg_size_pretty(x.bytes))
								ORDER BY x.bytes DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname, @extschema@._relation_size_nowait(c.oid) AS bytes
		  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relkind = 'r' AND NOT c.relispartition
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND n.nspname <> '@extschema@'
			AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
						WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
						  AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype))) x
	WHERE x.bytes >= v_t;
	"check" := 'archiving_partitioning';
	status := CASE WHEN v_n = 0 AND coalesce(v_m, 0) = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s over %s with a time column%s; %s',
		@extschema@._n(v_n, 'table'), pg_catalog.pg_size_pretty(v_t), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END,
		CASE WHEN v_m IS NULL THEN 'partition advice not available'
			 ELSE @extschema@._n(v_m, 'partitioning suggestion') END);
	target := pg_catalog.format('no unpartitioned table over %s with a time column', pg_catalog.pg_size_pretty(v_t));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'move old rows out with an archive policy (scale_advisor.archive_policies) or partition by time (SELECT * FROM scale_advisor.partition_advice)' END;
	RETURN NEXT;

	-- unused indexes
	v_t := (SELECT @extschema@._t('unused_index_min_bytes'));
	SELECT l.n, l.names INTO v_n, v_txt
	FROM @extschema@._list_of('unused_indexes', 'index',
		CASE WHEN @extschema@._has_col('unused_indexes', 'index_size_bytes')
			 THEN pg_catalog.format('index_size_bytes >= %s', v_t) ELSE 'true' END) l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(pg_catalog.format('%I.%I', s.schemaname, s.indexrelname)
											 ORDER BY s.schemaname, s.indexrelname), ', '), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_stat_user_indexes s
		JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
		WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
		  AND @extschema@._relation_size_nowait(s.indexrelid, true) >= v_t;
	END IF;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'unused index', 'unused indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;

	-- duplicate indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('duplicate_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(x.names ORDER BY x.names), '; '), '')
		INTO v_n, v_txt
		FROM (SELECT string_agg(i.indexrelid::regclass::text, ' = ' ORDER BY i.indexrelid::regclass::text) AS names
			  FROM pg_catalog.pg_index i
			  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
			  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
				AND i.indisvalid
			  GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
					   coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
					   coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
			  HAVING count(*) > 1) x;
	END IF;
	"check" := 'duplicate_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'duplicate index', 'duplicate indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;

	-- invalid indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('invalid_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(i.indexrelid::regclass::text ORDER BY i.indexrelid::regclass::text), ', '), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_index i WHERE NOT i.indisvalid;
	END IF;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'invalid index', 'invalid indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 invalid indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'an interrupted CREATE INDEX CONCURRENTLY left them: REINDEX INDEX CONCURRENTLY, or drop and create again' END;
	RETURN NEXT;

	-- foreign keys without an index
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('fk_without_index', 'constraint_name') l;
	IF v_n IS NULL THEN
		v_n := @extschema@._count_of('fk_without_index');
		v_txt := '';
	END IF;
	"check" := 'fk_without_index';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.fk_without_index is not installed)'
				  ELSE pg_catalog.format('%s without an index%s', @extschema@._n(v_n, 'foreign key'), CASE WHEN v_txt <> '' THEN ': ' || v_txt ELSE '' END) END;
	target := '0 foreign keys without an index';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.fk_without_index; index the referencing columns, or deletes on the parent scan the child' END;
	RETURN NEXT;

	-- transaction ID age
	SELECT pg_catalog.age(d.datfrozenxid) INTO v_n FROM pg_catalog.pg_database d
	WHERE d.datname = pg_catalog.current_database();
	"check" := 'transaction_id_age';
	status := CASE WHEN v_n >= (SELECT @extschema@._t('xid_age_critical')) THEN 'fail'
				   WHEN v_n >= (SELECT @extschema@._t('xid_age_warning')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s since the oldest unfrozen row', @extschema@._n(v_n, 'transaction'));
	target := pg_catalog.format('under %s', (SELECT @extschema@._t('xid_age_warning')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'VACUUM (FREEZE) the oldest tables (ORDER BY age(relfrozenxid) DESC); end long transactions and drop stale replication slots that hold back freezing' END;
	RETURN NEXT;

	-- regressions
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s -> %s ms)', g.queryid, g.baseline_p95_ms, g.window_p95_ms)), '; ')
	INTO v_n, v_txt FROM @extschema@._regressions() g;
	"check" := 'regressions';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement slower than its baseline'
				  ELSE pg_catalog.format('%s slower than the baseline: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('p95 of the last window under %s x the baseline', (SELECT @extschema@._t('regression_ratio')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.regressions; compare the plans (a new plan, a grown table, a dropped index)' END;
	RETURN NEXT;

	-- headroom for twice the load
	SELECT count(*) FILTER (WHERE c.status = 'fail'), count(*) FILTER (WHERE c.status = 'warn'),
		   string_agg(c.item || ': ' || coalesce(c.projected::text, '?') || ' ' || c.unit, '; ')
			 FILTER (WHERE c.status <> 'pass')
	INTO v_n, v_m, v_txt
	FROM @extschema@.capacity(2) c;
	"check" := 'capacity_2x';
	status := CASE WHEN v_n > 0 THEN 'fail' WHEN v_m > 0 THEN 'warn' ELSE 'pass' END;
	value := CASE WHEN v_n + v_m = 0 THEN 'twice the load fits'
				  ELSE pg_catalog.format('at twice the load: %s', v_txt) END;
	target := 'twice today''s load fits the CPUs, connections and storage';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.capacity(2); load-test with scale_advisor.workload_script()' END;
	RETURN NEXT;
END
$$;
