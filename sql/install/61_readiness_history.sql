-- Scale readiness, part 2: what the history answers: growth, regressions,
-- capacity at a higher load, and a pgbench script replaying the statement
-- mix.  The model behind capacity() is explained in docs/readiness.md.

-- Rows and bytes per day of every table in the snapshots, and of the whole
-- database, from a least-squares line through the snapshots of the last
-- growth_window_days and the current size (NULL until they span an hour).
CREATE FUNCTION @extschema@._growth()
RETURNS TABLE (scope text, schemaname name, relname name, rows_now bigint,
			   bytes_now bigint, rows_per_day numeric, bytes_per_day numeric,
			   days_to_limit numeric, snapshots bigint, since timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_from timestamptz := pg_catalog.now() - pg_catalog.make_interval(days => (SELECT @extschema@._t('growth_window_days'))::integer);
	v_dblimit numeric := (SELECT @extschema@._t('db_size_limit_bytes'));
	v_tlimit numeric := (SELECT @extschema@._t('table_size_limit_bytes'));
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
	WITH pts AS (
		SELECT t.relid, n.taken_at, t.n_live_tup::float8 AS r, t.total_bytes::float8 AS b
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE n.taken_at >= v_from
		UNION ALL
		SELECT s.relid, pg_catalog.now(), s.n_live_tup::float8,
			   @extschema@._relation_size_nowait(s.relid)::float8
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid IN (SELECT t.relid FROM @extschema@.snapshot_tables t)
	), fit AS (
		SELECT p.relid,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.r, extract(epoch FROM p.taken_at) / 86400.0) END AS rpd,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.b, extract(epoch FROM p.taken_at) / 86400.0) END AS bpd,
			   count(*) AS n, min(p.taken_at) AS since
		FROM pts p GROUP BY p.relid
	)
	SELECT 'table'::text, s.schemaname, s.relname, s.n_live_tup,
		   s.bytes,
		   round(f.rpd::numeric, 1), round(f.bpd::numeric, 0),
		   CASE WHEN v_tlimit > 0 AND f.bpd > 0
				THEN round(greatest(v_tlimit - s.bytes, 0) / f.bpd::numeric, 1) END,
		   f.n - 1, f.since
	FROM fit f
	JOIN (SELECT u.relid, u.schemaname, u.relname, u.n_live_tup,
				 @extschema@._relation_size_nowait(u.relid) AS bytes
		  FROM pg_catalog.pg_stat_user_tables u) s ON s.relid = f.relid;

	RETURN QUERY
	WITH pts AS (
		SELECT n.taken_at, n.db_bytes::float8 AS b,
			   (SELECT sum(t.n_live_tup) FROM @extschema@.snapshot_tables t WHERE t.snap_id = n.snap_id)::float8 AS r
		FROM @extschema@.snapshots n WHERE n.taken_at >= v_from
		UNION ALL
		SELECT pg_catalog.now(), pg_catalog.pg_database_size(pg_catalog.current_database())::float8,
			   (SELECT sum(s.n_live_tup) FROM pg_catalog.pg_stat_user_tables s
				WHERE s.relid IN (SELECT t.relid FROM @extschema@.snapshot_tables t))::float8
	), fit AS (
		SELECT CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.r, extract(epoch FROM p.taken_at) / 86400.0) END AS rpd,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.b, extract(epoch FROM p.taken_at) / 86400.0) END AS bpd,
			   count(*) AS n, min(p.taken_at) AS since
		FROM pts p
	)
	SELECT 'database'::text, NULL::name, pg_catalog.current_database()::name,
		   (SELECT sum(s.n_live_tup)::bigint FROM pg_catalog.pg_stat_user_tables s),
		   pg_catalog.pg_database_size(pg_catalog.current_database()),
		   round(f.rpd::numeric, 1), round(f.bpd::numeric, 0),
		   CASE WHEN v_dblimit > 0 AND f.bpd > 0
				THEN round(greatest(v_dblimit - pg_catalog.pg_database_size(pg_catalog.current_database()), 0) / f.bpd::numeric, 1) END,
		   f.n - 1, f.since
	FROM fit f;
END
$$;

-- The database first, then the tables growing fastest; sizes also as
-- pg_size_pretty shows them.
CREATE VIEW @extschema@.growth AS
SELECT g.*, pg_catalog.pg_size_pretty(g.bytes_now) AS size_now,
	   pg_catalog.pg_size_pretty(g.bytes_per_day) || ' a day' AS growth_per_day
FROM @extschema@._growth() g
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.growth')
ORDER BY g.scope = 'table', g.bytes_per_day DESC NULLS LAST, g.bytes_now DESC NULLS LAST;

-- Statements of the current database whose p95 in the last window is worse
-- than in the baseline before it.
CREATE TYPE @extschema@._regression AS (
	queryid bigint, query text, baseline_calls bigint, baseline_p95_ms numeric,
	window_calls bigint, window_p95_ms numeric, ratio numeric, since timestamptz);

CREATE FUNCTION @extschema@._regressions()
RETURNS SETOF @extschema@._regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_found @extschema@._regression[];
	v_min_calls numeric := (SELECT @extschema@._t('regression_min_calls'));
	v_ratio numeric := (SELECT @extschema@._t('regression_ratio'));
	v_min_ms numeric := (SELECT @extschema@._t('regression_min_ms'));
BEGIN
	PERFORM @extschema@._require_loaded();
	SELECT array_agg(ROW(x.queryid, NULL, x.baseline_calls, round(x.bp::numeric, 2),
						 x.window_calls, round(x.wp::numeric, 2),
						 round((x.wp / nullif(x.bp, 0))::numeric, 2), x.window_start)::@extschema@._regression
					 ORDER BY x.wp / nullif(x.bp, 0) DESC)
	INTO v_found
	FROM (SELECT w.*, @extschema@._hist_quantile(w.window_buckets, 0.95) AS wp,
				 @extschema@._hist_quantile(w.baseline_buckets, 0.95) AS bp
		  FROM @extschema@._windows(
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_window_s'))::float8),
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_baseline_s'))::float8)) w
		  WHERE w.window_calls >= v_min_calls AND w.baseline_calls >= v_min_calls) x
	WHERE x.wp > x.bp * v_ratio AND x.wp - x.bp >= v_min_ms;
	IF v_found IS NULL THEN
		RETURN;
	END IF;
	-- the statements' text, only when there is something to report
	RETURN QUERY
	SELECT f.queryid, q.query, f.baseline_calls, f.baseline_p95_ms, f.window_calls,
		   f.window_p95_ms, f.ratio, f.since
	FROM unnest(v_found) WITH ORDINALITY AS f
	LEFT JOIN (SELECT DISTINCT ON (s.queryid) s.queryid, s.query
			   FROM @extschema@._statements() s ORDER BY s.queryid, s.calls DESC) q
		ON q.queryid = f.queryid
	ORDER BY f.ordinality;
END
$$;

-- The worst ratio first.
CREATE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.regressions')
ORDER BY r.ratio DESC, r.window_p95_ms DESC;

-- For monitoring: superusers and roles with the privileges of
-- pg_read_all_stats (pg_monitor); other roles get an error naming the grant
-- (capacity() checks the same).
GRANT SELECT ON @extschema@.growth, @extschema@.regressions TO PUBLIC;

-- What load_factor times today's load needs.  See docs/readiness.md.
CREATE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
RETURNS TABLE (item text, current numeric, projected numeric, unit text,
			   status text, detail text)
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
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'load_factor must be a positive number',
			HINT = 'Pass the load to plan for as a multiple of today''s, for example 2 or 3.';
	END IF;
	IF load_factor > 1000000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
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
		status := CASE WHEN v_infl IS NULL OR r.p95_ms * v_infl >= v_target THEN 'fail'
					   WHEN r.p95_ms * v_infl >= v_target * 0.5 THEN 'warn' ELSE 'pass' END;
		detail := @extschema@._cut(r.query, 120);
		RETURN NEXT;
	END LOOP;
END
$$;

-- Why replaying a statement would run code that is not built in (a
-- function, operator, aggregate, view, policy or domain of some role, or a
-- trigger, constraint or index expression of a table it writes), or NULL.
-- The statement is analyzed as the caller, never run (src/replay.c).
CREATE FUNCTION @extschema@._replay_refusal(statement text)
RETURNS text
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_replay_refusal';

-- A pgbench script replaying the top_n statements of the current database
-- by calls, each picked with the weight of its calls, with the values of
-- its captured executions (up to four, one picked at random each time).
-- Only the caller's statements unless it may read all statistics; examples
-- (text and values) of another role only for a superuser.  Bound
-- parameters are passed as pgbench variables, so that a statement keeps
-- its query identifier when replayed (pgbench -M extended sends them as
-- parameters; the script stops at once in simple mode, where they would be
-- pasted into the text): integers with \set, other values set by a SELECT
-- ... \gset of literals, in hexadecimal unless they hold only plain words
-- and numbers, so that no value can form pgbench syntax.  Left out, each
-- with a comment line giving the reason: statements with no captured
-- example, writes unless include_writes, texts that pgbench would read as
-- its own syntax (a backslash, a :name), statements that read only system
-- catalogs (a client tool's), and statements that would run code that is
-- not built in.
CREATE FUNCTION @extschema@.workload_script(top_n integer DEFAULT 20,
											include_writes boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_me oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
	v_super boolean := (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
	v_all boolean;
	v_enc text := pg_catalog.getdatabaseencoding();
	v_head text := '';
	v_body text := '';
	v_skip text := '';
	v_total bigint := 0;
	v_n integer := 0;
	v_vars boolean := false;
	v_sql text;
	v_check text;
	v_val text;
	v_why text;
	v_branches text[];
	v_set text;
	v_gset text;
	v_stmt text;
	v_ok boolean;
	i integer;
	k integer;
	r record;
	e record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF top_n IS NULL OR top_n < 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'top_n must be a positive number',
			HINT = 'Pass how many of the most frequent statements to replay, for example 20.';
	END IF;
	v_all := v_super OR pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE');
	FOR r IN
		SELECT h.queryid, h.userid, h.calls, h.sample_query
		FROM @extschema@._history() h
		WHERE h.dbid = v_db AND h.calls > 0
		  AND (v_all OR h.userid = v_me)
		  AND strpos(pg_catalog.lower(coalesce(h.sample_query, '')), '@extschema@.') = 0
		ORDER BY h.calls DESC, h.queryid
		LIMIT top_n
	LOOP
		IF r.userid IS DISTINCT FROM v_me AND NOT v_super THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s): example of another role (its text and values are shown only to that role and superusers)\n', r.queryid, @extschema@._n(r.calls, 'call'));
			CONTINUE;
		END IF;
		-- the statement's examples, each made a branch of the script
		v_branches := '{}';
		v_why := NULL;
		v_check := NULL;
		FOR e IN
			SELECT x.sample_query, x.param_types, x.param_values
			FROM @extschema@._history_examples() x
			WHERE x.dbid = v_db AND x.queryid = r.queryid
			  AND (v_super OR x.userid = v_me)
			ORDER BY x.example
		LOOP
			-- an EXECUTE of a prepared statement shows the PREPARE text
			v_sql := pg_catalog.regexp_replace(e.sample_query,
				'^\s*prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i');
			IF NOT include_writes AND
			   (v_sql !~* '^\s*(select|with|values|table)\M'
				OR v_sql ~* '\m(insert|update|delete|merge)\M'
				OR v_sql ~* '\mfor\s+(update|share|no\s+key\s+update|key\s+share)\M') THEN
				v_why := 'writes (include_writes => true replays it)';
				CONTINUE;
			END IF;
			-- the text itself, before any value is put in: pgbench reads a
			-- backslash outside a literal (as it lexes them, with standard
			-- strings) as a meta-command, and :name as one of its variables
			IF strpos(v_sql, E'\\') > 0 THEN
				v_why := 'its text holds a backslash, which pgbench could read as a meta-command';
				CONTINUE;
			END IF;
			IF v_sql ~ '(^|[^:]):[^:0-9[:space:]''"(),;\[\]{}+*/<>=!~^&|%@#.$?`-]' THEN
				v_why := 'its text holds a :name, which pgbench would read as a pgbench variable';
				CONTINUE;
			END IF;
			IF e.param_values IS NULL AND v_sql ~ '\$[0-9]' THEN
				v_why := 'parameters without captured values';
				CONTINUE;
			END IF;
			-- the values: integers with \set, others through one SELECT of
			-- literals ending in \gset, a NULL in the text (pgbench has no
			-- NULL variable); v_check gets the values as literals, to
			-- analyze the statement with
			v_set := '';
			v_gset := '';
			v_stmt := v_sql;
			v_check := v_sql;
			IF e.param_values IS NOT NULL THEN
				FOR i IN REVERSE pg_catalog.array_length(e.param_values, 1) .. 1 LOOP
					v_val := CASE WHEN e.param_values[i] ~ '^[A-Za-z0-9 ._+@-]*$'
								  THEN pg_catalog.quote_literal(e.param_values[i])
								  ELSE pg_catalog.format('pg_catalog.convert_from(pg_catalog.decode(%L, %L), %L)',
										pg_catalog.encode(pg_catalog.convert_to(e.param_values[i], v_enc), 'hex'),
										'hex', v_enc) END;
					IF e.param_values[i] IS NULL THEN
						v_stmt := pg_catalog.regexp_replace(v_stmt, '\$' || i || '(?![0-9])',
							'NULL::' || pg_catalog.format_type(e.param_types[i], NULL), 'g');
					ELSIF e.param_values[i] ~ '^-?(0|[1-9][0-9]{0,17})$' THEN
						v_set := pg_catalog.format(E'\\set sa_p%s %s\n', i, e.param_values[i]) || v_set;
						v_stmt := pg_catalog.regexp_replace(v_stmt, '\$' || i || '(?![0-9])', ':sa_p' || i, 'g');
					ELSE
						v_gset := v_val || ' AS sa_p' || i || CASE WHEN v_gset = '' THEN '' ELSE ', ' END || v_gset;
						v_stmt := pg_catalog.regexp_replace(v_stmt, '\$' || i || '(?![0-9])', ':sa_p' || i, 'g');
					END IF;
					v_check := pg_catalog.regexp_replace(v_check, '\$' || i || '(?![0-9])',
						coalesce(v_val, 'NULL') || '::' || pg_catalog.format_type(e.param_types[i], NULL), 'g');
				END LOOP;
			END IF;
			IF v_stmt ~ '\$[0-9]' THEN
				v_why := 'parameters without captured values';
				CONTINUE;
			END IF;
			IF strpos(v_stmt, E'\\') > 0 OR
			   v_stmt ~ '(^|[^:]):(?!sa_p[0-9])[^:0-9[:space:]''"(),;\[\]{}+*/<>=!~^&|%@#.$?`-]' THEN
				v_why := 'a parameter type name holds a backslash or a :name';
				CONTINUE;
			END IF;
			IF v_stmt <> v_sql THEN
				v_vars := true;
			END IF;
			-- a comment at the end of the text must not swallow the semicolon
			v_branches := v_branches || (v_set
				|| CASE WHEN v_gset = '' THEN '' ELSE 'SELECT ' || v_gset || E' \\gset\n' END
				|| v_stmt || CASE WHEN strpos(v_stmt, '--') > 0 THEN E'\n' ELSE '' END || E';\n');
		END LOOP;
		IF cardinality(v_branches) = 0 THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s): %s\n', r.queryid,
				@extschema@._n(r.calls, 'call'), coalesce(v_why, 'no captured example'));
			CONTINUE;
		END IF;
		-- what replaying it would run (one example stands for all: they
		-- have the same query identifier, so the same structure)
		v_why := @extschema@._replay_refusal(v_check);
		IF v_why IS NOT NULL THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s): %s\n', r.queryid,
				@extschema@._n(r.calls, 'call'), pg_catalog.translate(v_why, E'\n\r', '  '));
			CONTINUE;
		END IF;
		v_total := v_total + r.calls;
		v_n := v_n + 1;
		v_body := v_body || pg_catalog.format(E'%s :sa_pick <= %s\n-- queryid %s, %s, %s\n',
			CASE WHEN v_n = 1 THEN '\if' ELSE '\elif' END, v_total, r.queryid,
			@extschema@._n(r.calls, 'call'), @extschema@._n(cardinality(v_branches), 'example'));
		IF cardinality(v_branches) = 1 THEN
			v_body := v_body || v_branches[1];
		ELSE
			v_body := v_body || pg_catalog.format(E'\\set sa_ex random(1, %s)\n', cardinality(v_branches));
			FOR k IN 1 .. cardinality(v_branches) LOOP
				v_body := v_body || pg_catalog.format(E'%s :sa_ex = %s\n', CASE WHEN k = 1 THEN '\if' ELSE '\elif' END, k)
					|| v_branches[k];
			END LOOP;
			v_body := v_body || E'\\endif\n';
		END IF;
	END LOOP;

	v_head := pg_catalog.format(E'-- scale_advisor workload: %s of database %s, weighted by calls\n'
		'-- recorded since the statement history started; run against a copy of the database:\n'
		'--   pgbench -n -M extended -f workload.sql -c CLIENTS -j THREADS -T SECONDS %s\n',
		@extschema@._n(v_n, 'statement'), pg_catalog.translate(pg_catalog.current_database(), E'\n\r', '  '),
		pg_catalog.translate(pg_catalog.quote_ident(pg_catalog.current_database()), E'\n\r', '  '));
	IF v_n = 0 THEN
		RETURN v_head || v_skip || E'-- nothing to replay yet\nSELECT 1;\n';
	END IF;
	RETURN v_head || v_skip
		|| CASE WHEN v_vars THEN
			E'-- parameters are pgbench variables, sent as parameters (-M extended or prepared)\n'
			'-- so that each statement keeps its query identifier; in simple mode pgbench would\n'
			'-- paste them into the text: the empty pipeline below stops it at once\n'
			|| E'\\startpipeline\n\\endpipeline\n' ELSE '' END
		|| pg_catalog.format(E'\\set sa_pick random(1, %s)\n', v_total)
		|| v_body || E'\\endif\n';
END
$$;
REVOKE ALL ON FUNCTION @extschema@.workload_script(integer, boolean) FROM PUBLIC;
