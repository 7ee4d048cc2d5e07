-- Re-planning and replaying captured statements (issue 12, findings 1, 4
-- and the index_whatif part of 7; docs/security.md).
--
-- index_advice plans each captured statement as the role that ran it, in a
-- security-restricted operation, always rolled back, and shows a role that
-- may not read all statistics only its own statements (src/advisor.c,
-- src/plans.c: no SQL change); the statement views are readable by any role.
GRANT SELECT ON @extschema@.index_workload, @extschema@.index_advice,
  @extschema@.index_advice_skipped TO PUBLIC;

-- workload_script(): own statements only unless the caller may read all
-- statistics, values in hexadecimal, texts pgbench would misread and
-- statements that would run code that is not built in left out.
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
-- one captured execution.  Only the caller's statements unless it may read
-- all statistics; examples (text and values) of another role only for a
-- superuser.  Parameter values other than plain words and numbers are
-- emitted in hexadecimal, so that no value can form pgbench syntax.  Left
-- out, each with a comment line giving the reason: statements with no
-- captured example, writes unless include_writes, texts that pgbench would
-- read as its own syntax (a backslash, a :name), and statements that would
-- run code that is not built in.
CREATE OR REPLACE FUNCTION @extschema@.workload_script(top_n integer DEFAULT 20,
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
	v_sql text;
	v_val text;
	v_why text;
	i integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF top_n IS NULL OR top_n < 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'top_n must be a positive number',
			HINT = 'Pass how many of the most frequent statements to replay, for example 20.';
	END IF;
	v_all := v_super OR pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE');
	FOR r IN
		SELECT h.queryid, h.userid, h.calls, h.sample_query, h.param_types, h.param_values
		FROM @extschema@._history() h
		WHERE h.dbid = v_db AND h.calls > 0
		  AND (v_all OR h.userid = v_me)
		  AND strpos(pg_catalog.lower(coalesce(h.sample_query, '')), '@extschema@.') = 0
		ORDER BY h.calls DESC, h.queryid
		LIMIT top_n
	LOOP
		IF r.userid IS DISTINCT FROM v_me AND NOT v_super THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): example of another role (its text and values are shown only to that role and superusers)\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		IF r.sample_query IS NULL THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): no captured example\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		-- an EXECUTE of a prepared statement shows the PREPARE text
		v_sql := pg_catalog.regexp_replace(r.sample_query,
			'^\s*prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i');
		IF NOT include_writes AND
		   (v_sql !~* '^\s*(select|with|values|table)\M'
			OR v_sql ~* '\m(insert|update|delete|merge)\M'
			OR v_sql ~* '\mfor\s+(update|share|no\s+key\s+update|key\s+share)\M') THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): writes (include_writes => true replays it)\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		-- the text itself, before any value is put in: pgbench reads a
		-- backslash outside a literal (as it lexes them, with standard
		-- strings) as a meta-command, and :name as one of its variables
		IF strpos(v_sql, E'\\') > 0 THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): its text holds a backslash, which pgbench could read as a meta-command\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		IF v_sql ~ '(^|[^:]):[^:0-9[:space:]''"(),;\[\]{}+*/<>=!~^&|%@#.$?`-]' THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): its text holds a :name, which pgbench would read as a pgbench variable\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		IF r.param_values IS NOT NULL THEN
			FOR i IN REVERSE pg_catalog.array_length(r.param_values, 1) .. 1 LOOP
				-- plain when it holds only letters, digits and . _ + - @ or
				-- space, else in hexadecimal: the same value whatever it holds
				v_val := CASE WHEN r.param_values[i] IS NULL THEN 'NULL'
							  WHEN r.param_values[i] ~ '^[A-Za-z0-9 ._+@-]*$'
							  THEN pg_catalog.quote_literal(r.param_values[i])
							  ELSE pg_catalog.format('pg_catalog.convert_from(pg_catalog.decode(%L, %L), %L)',
									pg_catalog.encode(pg_catalog.convert_to(r.param_values[i], v_enc), 'hex'),
									'hex', v_enc) END
						 || '::' || pg_catalog.format_type(r.param_types[i], NULL);
				v_sql := pg_catalog.regexp_replace(v_sql, '\$' || i || '(?![0-9])', v_val, 'g');
			END LOOP;
		END IF;
		IF v_sql ~ '\$[0-9]' THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): parameters without captured values\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		IF strpos(v_sql, E'\\') > 0 OR
		   v_sql ~ '(^|[^:]):[^:0-9[:space:]''"(),;\[\]{}+*/<>=!~^&|%@#.$?`-]' THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): a parameter type name holds a backslash or a :name\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		v_why := @extschema@._replay_refusal(v_sql);
		IF v_why IS NOT NULL THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): %s\n', r.queryid, r.calls,
				pg_catalog.translate(v_why, E'\n\r', '  '));
			CONTINUE;
		END IF;
		v_total := v_total + r.calls;
		v_n := v_n + 1;
		-- a comment at the end of the text must not swallow the semicolon
		v_body := v_body || pg_catalog.format(E'%s :sa_pick <= %s\n-- queryid %s, %s calls\n%s%s;\n',
			CASE WHEN v_n = 1 THEN '\if' ELSE '\elif' END, v_total, r.queryid, r.calls, v_sql,
			CASE WHEN strpos(v_sql, '--') > 0 THEN E'\n' ELSE '' END);
	END LOOP;

	v_head := pg_catalog.format(E'-- scale_advisor workload: %s statements of database %s, weighted by calls\n'
		'-- recorded since the statement history started; run against a copy of the database:\n'
		'--   pgbench -n -f workload.sql -c CLIENTS -j THREADS -T SECONDS %s\n',
		v_n, pg_catalog.translate(pg_catalog.current_database(), E'\n\r', '  '),
		pg_catalog.translate(pg_catalog.quote_ident(pg_catalog.current_database()), E'\n\r', '  '));
	IF v_n = 0 THEN
		RETURN v_head || v_skip || E'-- nothing to replay yet\nSELECT 1;\n';
	END IF;
	RETURN v_head || v_skip
		|| pg_catalog.format(E'\\set sa_pick random(1, %s)\n', v_total)
		|| v_body || E'\\endif\n';
END
$$;
