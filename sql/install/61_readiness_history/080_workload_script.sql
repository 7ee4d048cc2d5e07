
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
