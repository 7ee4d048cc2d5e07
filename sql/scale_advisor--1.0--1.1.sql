-- scale_advisor update script 1.0 -> 1.1.  Every change to an SQL object in
-- sql/install/ since the 1.0 release is made here too, in sections by
-- concern (the schema check, run-as-owner, views and monitoring,
-- re-planning, archiving, partitioning): test/t/050_upgrade.pl checks that
-- an updated 1.0 installation has the same objects, definitions, grants and
-- policies as a fresh 1.1 one, and keeps the rows of 1.0.
\echo Use "ALTER EXTENSION scale_advisor UPDATE TO '1.1'" to load this file. \quit
-- Refuse a schema that a role other than a superuser controls.

-- The schema must be trustworthy before anything is created in it
-- ("Security Considerations for Extension Scripts" in the PostgreSQL
-- documentation).  The control file names the schema scale_advisor; when it
-- exists already, CREATE EXTENSION installs into it.  A role that owns it,
-- or may create objects in it, could then put a function or procedure of
-- its own there (scale_advisor.archive(text, text, text), an operator)
-- that a superuser later runs.  So the schema must be owned by a superuser
-- or by the role running this script, no other role that is not a
-- superuser may have CREATE on it, and every object already in it must be
-- owned by a superuser.  This file opens the install script and, as
-- the start of sql/scale_advisor--1.0--1.1.sql (the same text), the update script.  Every
-- name below is qualified with pg_catalog and compared with pg_catalog
-- operators: nothing in the schema is used before it is checked.
DO $sa_schema_check$
DECLARE
	v_nsp oid := '@extschema@'::pg_catalog.regnamespace::pg_catalog.oid;
	v_owner pg_catalog.text;
	v_bad pg_catalog.text;
BEGIN
	SELECT r.rolname INTO v_owner
	  FROM pg_catalog.pg_namespace n
	  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
	 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
	   AND NOT r.rolsuper
	   AND r.rolname OPERATOR(pg_catalog.<>) pg_catalog."current_user"();
	IF v_owner IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema %I is owned by role %I, which is not a superuser',
										'@extschema@', v_owner),
			DETAIL = 'A role that owns the schema of scale_advisor could put functions or procedures in it that a superuser would run.',
			HINT = pg_catalog.format('Check what the schema contains, then drop it (DROP SCHEMA %I) or give it to a superuser (ALTER SCHEMA %I OWNER TO %I), and run the command again.',
									 '@extschema@', '@extschema@', pg_catalog."current_user"());
	END IF;

	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname) INTO v_bad
	  FROM pg_catalog.pg_namespace n,
		   pg_catalog.aclexplode(n.nspacl) a
	  LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
	 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
	   AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
	   AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
	   AND (a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid OR NOT coalesce(r.rolsuper, false));
	IF v_bad IS NOT NULL OR EXISTS (
		SELECT 1 FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
		 WHERE n.oid OPERATOR(pg_catalog.=) v_nsp
		   AND a.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid
		   AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('roles other than the owner may create objects in schema %I: %s',
										'@extschema@', coalesce(v_bad, 'PUBLIC')),
			HINT = pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM those roles, check what they created there, and run the command again.',
									 '@extschema@');
	END IF;

	SELECT pg_catalog.string_agg(x.what, ', ' ORDER BY x.what) INTO v_bad
	  FROM (SELECT pg_catalog.format('relation %I.%I owned by %s', '@extschema@', c.relname, c.relowner::pg_catalog.regrole) AS what, c.relowner AS owner
			  FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('routine %I.%I(%s) owned by %s', '@extschema@', p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid), p.proowner::pg_catalog.regrole), p.proowner
			  FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('type %I.%I owned by %s', '@extschema@', t.typname, t.typowner::pg_catalog.regrole), t.typowner
			  FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('operator %I.%s(%s, %s) owned by %s', '@extschema@', o.oprname, o.oprleft::pg_catalog.regtype, o.oprright::pg_catalog.regtype, o.oprowner::pg_catalog.regrole), o.oprowner
			  FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('collation %I.%I owned by %s', '@extschema@', l.collname, l.collowner::pg_catalog.regrole), l.collowner
			  FROM pg_catalog.pg_collation l WHERE l.collnamespace OPERATOR(pg_catalog.=) v_nsp
			UNION ALL
			SELECT pg_catalog.format('conversion %I.%I owned by %s', '@extschema@', v.conname, v.conowner::pg_catalog.regrole), v.conowner
			  FROM pg_catalog.pg_conversion v WHERE v.connamespace OPERATOR(pg_catalog.=) v_nsp) x
	  JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) x.owner
	 WHERE NOT r.rolsuper;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema %I contains objects owned by roles that are not superusers',
										'@extschema@'),
			DETAIL = pg_catalog.left(v_bad, 1000),
			HINT = 'Check and drop those objects (they may be planted to run as a superuser), then run the command again.';
	END IF;
END
$sa_schema_check$;

-- Refuse, before anything changes, when an object outside the extension
-- (a user's view, a function with a BEGIN ATOMIC or RETURN body, a column
-- default) depends on a routine of 1.0 that this update drops and creates
-- again because its result columns or parameter names change: the DROP
-- would fail half-way with "other objects depend on it" and a hint to
-- CASCADE.  One error names them all, with what to do.
DO $sa_dependents_check$
DECLARE
	v_found pg_catalog.text;
	v_first pg_catalog.text;
	v_ext pg_catalog.oid := (SELECT x.oid FROM pg_catalog.pg_extension x
							 WHERE x.extname OPERATOR(pg_catalog.=) 'scale_advisor');
BEGIN
	WITH dropped AS (
		SELECT pg_catalog.to_regprocedure(pg_catalog.format('%s.%s', '@extschema@', s)) AS proc
		FROM pg_catalog.unnest(ARRAY[
			'capacity(numeric)',
			'partition_table_plan(regclass, name, text, integer, text, text, name, boolean, interval, integer, text)',
			'partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, text)',
			'_n_plus_one_entries(bigint[], text[])',
			'_maintenance_status()', '_archive_lock_key(regclass)',
			'_pm_holds_lock()', '_pt_run(text[], interval, regclass, text)',
			'_has(text)', '_has_col(text, text)', '_count_of(text, text)', '_list_of(text, text, text)',
			'_guc_ms(text)', '_role_setting(oid, text)',
			'_short(text)', '_t(text)', '_threshold_known(text)', '_windows(interval, interval)'])
			AS s
	), deps AS (
		-- what depends on them; a rule, constraint, default, trigger,
		-- policy or index belongs to its table (or a constraint to its
		-- domain): that is the object the extension may own
		SELECT d.refobjid::pg_catalog.regprocedure AS proc, d.classid, d.objid, d.objsubid,
			   CASE
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN
				   (SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN
				   (SELECT CASE WHEN c.conrelid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid THEN c.conrelid ELSE c.contypid END
					FROM pg_catalog.pg_constraint c WHERE c.oid OPERATOR(pg_catalog.=) d.objid)
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN
				   (SELECT a.adrelid FROM pg_catalog.pg_attrdef a WHERE a.oid OPERATOR(pg_catalog.=) d.objid)
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN
				   (SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE t.oid OPERATOR(pg_catalog.=) d.objid)
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass THEN
				   (SELECT o.polrelid FROM pg_catalog.pg_policy o WHERE o.oid OPERATOR(pg_catalog.=) d.objid)
				 WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass THEN
				   coalesce((SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid OPERATOR(pg_catalog.=) d.objid), d.objid)
				 ELSE d.objid END AS obj,
			   CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass
						 AND (SELECT c.conrelid FROM pg_catalog.pg_constraint c
							  WHERE c.oid OPERATOR(pg_catalog.=) d.objid) OPERATOR(pg_catalog.=) 0::pg_catalog.oid
					THEN 'pg_catalog.pg_type'::pg_catalog.regclass
					WHEN d.classid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.pg_rewrite', 'pg_catalog.pg_constraint',
						'pg_catalog.pg_attrdef', 'pg_catalog.pg_trigger', 'pg_catalog.pg_policy',
						'pg_catalog.pg_class']::pg_catalog.regclass[])
					THEN 'pg_catalog.pg_class'::pg_catalog.regclass
					ELSE d.classid END AS cls
		FROM dropped x
		JOIN pg_catalog.pg_depend d
		  ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		 AND d.refobjid OPERATOR(pg_catalog.=) x.proc
		 AND d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['n', 'a']::pg_catalog."char"[])
		WHERE x.proc IS NOT NULL
	), users AS (
		-- a view is named rather than its rewrite rule
		SELECT DISTINCT u.proc, u.cls, u.obj,
			   CASE WHEN u.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
					THEN pg_catalog.pg_describe_object(u.cls, u.obj, 0)
					ELSE pg_catalog.pg_describe_object(u.classid, u.objid, u.objsubid) END AS what
		FROM deps u
	)
	SELECT pg_catalog.string_agg(pg_catalog.format('%s uses %s.%s(%s)', u.what, '@extschema@',
				(SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) u.proc),
				pg_catalog.pg_get_function_identity_arguments(u.proc)), E'\n' ORDER BY u.what),
		   pg_catalog.min(u.what)
	  INTO v_found, v_first
	  FROM users u
	 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
					   WHERE e.classid OPERATOR(pg_catalog.=) u.cls
						 AND e.objid OPERATOR(pg_catalog.=) u.obj
						 AND e.deptype OPERATOR(pg_catalog.=) 'e'
						 AND e.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
						 AND e.refobjid OPERATOR(pg_catalog.=) v_ext);
	IF v_found IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
			MESSAGE = pg_catalog.format('scale_advisor 1.1 cannot be installed over 1.0 while %s depends on a routine it replaces', v_first),
			DETAIL = v_found,
			HINT = 'Save the definitions of these objects, drop them, run ALTER EXTENSION scale_advisor UPDATE again, then create them again (CHANGELOG.md says what changed in each routine). Nothing was changed.';
	END IF;

	-- nor while another session archives or partitions: the routines it is
	-- running are replaced under it (its next step would fail with "cache
	-- lookup failed").  Such a session holds 1.0's archive lock (one per
	-- table, classid 1399537989) or maintain_partitions' lock (1935762785,
	-- 50), or runs a CALL of the procedures; after an error or a cancel the
	-- locks and the run's row stay until the session's next run, so an idle
	-- session does not count.
	SELECT pg_catalog.string_agg(pg_catalog.format('session %s: %s', a.pid, pg_catalog.left(a.query, 200)),
								 E'\n' ORDER BY a.pid)
	  INTO v_found
	  FROM pg_catalog.pg_stat_activity a
	 WHERE a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
	   AND a.datid OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
											WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
	   AND a.state OPERATOR(pg_catalog.<>) 'idle'
	   AND (EXISTS (SELECT 1 FROM @extschema@.archive_runs r
					WHERE r.status OPERATOR(pg_catalog.=) 'running' AND r.pid OPERATOR(pg_catalog.=) a.pid
					  AND r.started_at OPERATOR(pg_catalog.>=) a.backend_start)
			OR EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
					   WHERE l.pid OPERATOR(pg_catalog.=) a.pid
						 AND l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.granted
						 AND ((l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
							   AND l.objsubid OPERATOR(pg_catalog.=) 1)
							  OR (l.classid OPERATOR(pg_catalog.=) 1935762785::pg_catalog.oid
								  AND l.objid OPERATOR(pg_catalog.=) 50::pg_catalog.oid
								  AND l.objsubid OPERATOR(pg_catalog.=) 2)))
			OR a.query OPERATOR(pg_catalog.~*) pg_catalog.format(
				'(^|;)\s*((--[^\n]*\n|/\*.*?\*/)\s*)*call\s+("?%s"?\.)"?(archive|unarchive|run_archive_policies|partition_table|maintain_partitions)"?\s*\(',
				'@extschema@'));
	IF v_found IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = 'scale_advisor cannot be updated while another session archives or partitions a table',
			DETAIL = v_found,
			HINT = 'Wait for these runs to finish (or stop them), then run ALTER EXTENSION scale_advisor UPDATE again. Nothing was changed.';
	END IF;
END
$sa_dependents_check$;
-- Maintenance work runs as the owner of the table (src/run_as.c); new in 1.1.

-- Runs query as the owner of rel in a security-restricted operation with
-- search_path = pg_catalog, pg_temp; parameters are passed as text ($1 ...,
-- cast them in the statement).  Returns the first column of the first row
-- (jsonb) when the statement returns rows, else {"processed": N}.  Only a
-- superuser or a role with the privileges of rel's owner may call it, so it
-- gives nobody a right: PUBLIC may execute it.
CREATE FUNCTION @extschema@._owner_exec(rel regclass, query text,
	VARIADIC params text[] DEFAULT '{}')
RETURNS jsonb
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_owner_exec';

-- True when who is a superuser or has the privileges of rel's owner (may
-- start maintenance work on rel); NULL when rel no longer exists.
CREATE FUNCTION @extschema@._may_maintain(rel regclass,
	who regrole DEFAULT current_user::regrole)
RETURNS boolean
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_may_maintain';
-- 1.0 -> 1.1: the security model of the views and functions (docs/security.md).
--
-- Monitoring views and functions check the reader with
-- _require_stats_reader() and are granted to PUBLIC; the history tables
-- are readable by pg_read_all_stats; N+1 ignore rules record their creator
-- and are shown (row-level security) and applied only to roles whose
-- privileges the creator has; table sizes are read without waiting for
-- locks.  Every definition below is the one of sql/install/.

CREATE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader';

CREATE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait';

CREATE OR REPLACE VIEW @extschema@.info AS
  SELECT * FROM @extschema@._info()
  WHERE @extschema@._require_loaded()
    AND @extschema@._require_stats_reader('scale_advisor.info');

-- N+1 ignore rules: their creator (1.0 rules: the role named in added_by,
-- or the extension's owner when that role no longer exists).
ALTER TABLE @extschema@.n_plus_one_ignore_list
	ADD COLUMN created_by pg_catalog.regrole;
UPDATE @extschema@.n_plus_one_ignore_list AS i
   SET created_by = coalesce(pg_catalog.to_regrole(pg_catalog.quote_ident(i.added_by)),
						  (SELECT e.extowner::pg_catalog.regrole FROM pg_catalog.pg_extension e
							WHERE e.extname = 'scale_advisor'));
ALTER TABLE @extschema@.n_plus_one_ignore_list
	ALTER COLUMN created_by SET DEFAULT (CURRENT_USER)::pg_catalog.regrole,
	ALTER COLUMN created_by SET NOT NULL;
DROP INDEX @extschema@.n_plus_one_ignore_list_key;
CREATE UNIQUE INDEX n_plus_one_ignore_list_key
	ON @extschema@.n_plus_one_ignore_list
	((COALESCE(queryid, 0)), (COALESCE(application_name, '')), created_by);
ALTER TABLE @extschema@.n_plus_one_ignore_list ENABLE ROW LEVEL SECURITY;
CREATE POLICY n_plus_one_ignore_list_creator ON @extschema@.n_plus_one_ignore_list
	USING (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'));

-- the entries function takes the rules' creators (a new signature)
-- users' own views over n_plus_one must stay: the view is pointed away
-- from the function while it is replaced (CREATE OR REPLACE, not DROP;
-- inside the update's transaction nobody sees this)
CREATE OR REPLACE VIEW @extschema@.n_plus_one AS
SELECT NULL::oid AS dbid, NULL::oid AS userid, NULL::text AS application_name,
	   NULL::text AS kind, NULL::bigint AS queryid, NULL::text AS query,
	   NULL::bigint AS parent_queryid, NULL::text AS parent_query,
	   NULL::bigint AS parent_rows, NULL::bigint AS detections,
	   NULL::bigint AS repeated_calls, NULL::bigint AS max_run,
	   NULL::numeric AS avg_run, NULL::bigint AS last_run,
	   NULL::numeric AS total_ms, NULL::text AS suggestion,
	   NULL::text AS batched_query, NULL::text AS join_query,
	   NULL::timestamptz AS first_seen, NULL::timestamptz AS last_seen
 WHERE false;
DROP FUNCTION @extschema@._n_plus_one_entries(bigint[], text[]);
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
	ignore_creators oid[] DEFAULT NULL,
	OUT dbid oid,
	OUT userid oid,
	OUT application_name text,
	OUT kind text,
	OUT queryid bigint,
	OUT query text,
	OUT parent_queryid bigint,
	OUT parent_query text,
	OUT parent_rows bigint,
	OUT detections bigint,
	OUT repeated_calls bigint,
	OUT max_run bigint,
	OUT last_run bigint,
	OUT total_ms double precision,
	OUT batched_query text,
	OUT join_query text,
	OUT first_seen timestamptz,
	OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries_1_1';

CREATE OR REPLACE VIEW @extschema@.n_plus_one AS
SELECT e.dbid,
	   e.userid,
	   e.application_name,
	   e.kind,
	   e.queryid,
	   e.query,
	   e.parent_queryid,
	   e.parent_query,
	   e.parent_rows,
	   e.detections,
	   e.repeated_calls,
	   e.max_run,
	   round(e.repeated_calls::numeric / NULLIF(e.detections, 0), 1) AS avg_run,
	   e.last_run,
	   round(e.total_ms::numeric, 3) AS total_ms,
	   CASE e.kind
		 WHEN 'n_plus_one' THEN
		   CASE WHEN e.batched_query IS NULL THEN
			 '-- fetch the rows for all keys with one statement (WHERE key = ANY($1)) instead of one statement per key'
		   ELSE
			 '-- one statement for all the keys of the loop (pass them as one array):' || E'\n'
			 || e.batched_query || ';'
		   END
		   || CASE WHEN e.join_query IS NOT NULL THEN
			 E'\n' || '-- or, instead of looping over the rows of the parent query, join to it:' || E'\n'
			 || e.join_query || ';'
		   ELSE '' END
		 WHEN 'insert_loop' THEN
		   CASE WHEN e.batched_query IS NULL THEN
			 '-- insert all the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row'
		   ELSE
			 '-- one INSERT for all the rows (one array per column), or COPY:' || E'\n'
			 || e.batched_query || ';'
		   END
		 ELSE
		   '-- the same statement ran ' || e.max_run
		   || ' times in a row with the same parameters: run it once and reuse its result'
	   END AS suggestion,
	   e.batched_query,
	   e.join_query,
	   e.first_seen,
	   e.last_seen
  FROM @extschema@._n_plus_one_entries(
		(SELECT pg_catalog.array_agg(i.queryid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.application_name ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.created_by::pg_catalog.oid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded();
GRANT SELECT ON @extschema@.n_plus_one TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore(
	queryid bigint,
	application_name text DEFAULT NULL,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore()');
	IF n_plus_one_ignore.queryid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'queryid must not be null',
			HINT = 'Pass the queryid shown in scale_advisor.n_plus_one, or use n_plus_one_ignore_application() to ignore an application.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid = n_plus_one_ignore.queryid
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore_application(
	application_name text,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore_application()');
	IF n_plus_one_ignore_application.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'application_name must not be null',
			HINT = 'Pass the application_name shown in scale_advisor.n_plus_one.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid IS NULL
				  AND i.application_name = n_plus_one_ignore_application.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;

GRANT SELECT ON @extschema@.index_workload, @extschema@.index_advice,
  @extschema@.index_advice_skipped TO PUBLIC;

CREATE OR REPLACE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
         WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                           WHERE datname = pg_catalog.current_database())) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.unused_indexes')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0;

CREATE OR REPLACE VIEW @extschema@.duplicate_indexes AS
WITH idx AS (
  SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary,
         n.nspname, ic.relname,
         i.indnkeyatts AS nkey,
         (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys,
         (i.indclass::oid[])[0:i.indnkeyatts - 1] AS classes,
         (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS colls,
         (i.indoption::int2[])[0:i.indnkeyatts - 1] AS opts,
         (i.indkey::int2[])[i.indnkeyatts:] AS incl,
         ic.relam,
         pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS exprs,
         pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred,
         @extschema@._relation_size_nowait(i.indexrelid, true) AS size
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indisvalid
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
)
SELECT DISTINCT ON (a.indexrelid)
       a.indrelid::pg_catalog.regclass AS relation,
       a.indexrelid::pg_catalog.regclass AS index,
       b.indexrelid::pg_catalog.regclass AS covered_by,
       CASE WHEN a.keys = b.keys AND a.incl = b.incl THEN 'same definition'
            ELSE 'leading columns of covered_by' END AS kind,
       pg_catalog.pg_get_indexdef(a.indexrelid) AS index_def,
       pg_catalog.pg_get_indexdef(b.indexrelid) AS covered_by_def,
       a.size AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', a.nspname, a.relname) AS drop_sql
  FROM idx a
  JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.duplicate_indexes')
   AND a.relam = b.relam
   AND a.pred IS NOT DISTINCT FROM b.pred
   AND a.exprs IS NOT DISTINCT FROM b.exprs
   AND a.nkey <= b.nkey
   AND a.keys = b.keys[1:a.nkey]
   AND a.classes = b.classes[1:a.nkey]
   AND a.colls = b.colls[1:a.nkey]
   AND a.opts = b.opts[1:a.nkey]
   AND (a.incl <@ (b.keys || b.incl))
   AND CASE
         -- identical definitions: keep the constraint index, else the older
         WHEN a.keys = b.keys AND a.incl = b.incl THEN
           a.indisunique = b.indisunique
           AND NOT a.indisprimary
           AND (b.indisprimary
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid))
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    = EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
                    AND a.indexrelid > b.indexrelid))
         -- a strict prefix (or the same keys with fewer INCLUDE columns)
         ELSE NOT a.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
       END
 ORDER BY a.indexrelid, (a.keys = b.keys AND a.incl = b.incl) DESC, b.nkey, b.indexrelid;

CREATE OR REPLACE VIEW @extschema@.invalid_indexes AS
SELECT c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       i.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS index_def,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.format('REINDEX INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS reindex_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.invalid_indexes')
   AND NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

CREATE OR REPLACE VIEW @extschema@.fk_without_index AS
SELECT k.conrelid::pg_catalog.regclass AS relation,
       k.conname AS constraint_name,
       k.confrelid::pg_catalog.regclass AS referenced_relation,
       ARRAY(SELECT a.attname::text
               FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
               JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = k.conrelid AND a.attnum = u.attnum
              ORDER BY u.ord) AS columns,
       @extschema@._relation_size_nowait(k.conrelid, true) AS table_size_bytes,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %I.%I (%s)',
              n.nspname, c.relname,
              (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
                 FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_catalog.pg_attribute a
                   ON a.attrelid = k.conrelid AND a.attnum = u.attnum)) AS index_sql
  FROM pg_catalog.pg_constraint k
  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.fk_without_index')
   AND k.contype = 'f'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND NOT EXISTS (
         SELECT 1
           FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_catalog.pg_am am ON am.oid = ic.relam
          WHERE i.indrelid = k.conrelid
            AND i.indisvalid
            AND i.indpred IS NULL
            AND am.amname IN ('btree', 'hash')
            AND i.indnkeyatts >= pg_catalog.cardinality(k.conkey)
            -- the first n key columns, as a set, are the FK's columns
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] @> k.conkey
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] <@ k.conkey);

GRANT SELECT ON @extschema@.unused_indexes, @extschema@.duplicate_indexes,
  @extschema@.invalid_indexes, @extschema@.fk_without_index TO PUBLIC;

CREATE OR REPLACE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings');

-- tables whose size a snapshot could not read without waiting for a lock
ALTER TABLE @extschema@.snapshots ADD COLUMN locked_tables text[];

GRANT SELECT ON @extschema@.snapshots, @extschema@.snapshot_statements,
  @extschema@.snapshot_tables TO pg_read_all_stats;
GRANT SELECT ON @extschema@.thresholds, @extschema@.threshold_settings TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.snapshot()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
	v_snap bigint;
	v_keep integer;
	v_oldest bigint;
	v_calls bigint;
	v_errors bigint;
	v_ms double precision;
	v_locked text[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('snapshot()');
	v_keep := pg_catalog.current_setting('scale_advisor.snapshot_keep')::integer;

	IF @extschema@._has('query_stats') THEN
		EXECUTE pg_catalog.format(
			'SELECT sum(calls)::bigint, sum(errors)::bigint, sum(total_exec_ms)::float8 FROM %I.query_stats WHERE dbid = $1',
			'@extschema@')
			INTO v_calls, v_errors, v_ms
			USING (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database());
	END IF;

	INSERT INTO @extschema@.snapshots (db_bytes, numbackends, active_sessions,
		active_time_ms, xact_commit, xact_rollback, stmt_calls, stmt_errors, stmt_exec_ms)
	SELECT pg_catalog.pg_database_size(d.datid),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a
			WHERE a.backend_type = 'client backend' AND a.state NOT IN ('idle')),
		   d.active_time, d.xact_commit, d.xact_rollback,
		   v_calls, v_errors, v_ms
	FROM pg_catalog.pg_stat_database d
	WHERE d.datname = pg_catalog.current_database()
	RETURNING snap_id INTO v_snap;

	-- statements whose count changed since their latest row
	INSERT INTO @extschema@.snapshot_statements
		(snap_id, dbid, queryid, first_seen, calls, rows, total_exec_ms, buckets)
	SELECT v_snap, h.dbid, h.queryid, h.first_seen, h.calls, h.rows, h.total_exec_ms, h.buckets
	FROM @extschema@._history() h
	WHERE NOT EXISTS (
		SELECT 1 FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid
		  AND s.snap_id = (SELECT max(s2.snap_id) FROM @extschema@.snapshot_statements s2
						   WHERE s2.dbid = h.dbid AND s2.queryid = h.queryid)
		  AND s.first_seen = h.first_seen AND s.calls = h.calls);

	-- sizes read without waiting: a NULL size of a table that still
	-- exists means another session holds a conflicting lock on it
	WITH sz AS MATERIALIZED (
		SELECT s.relid, s.schemaname, s.relname, s.n_live_tup,
			   @extschema@._relation_size_nowait(s.relid) AS bytes
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.schemaname <> '@extschema@'
	), ins AS (
		INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes)
		SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes
		FROM sz t
		WHERE t.bytes IS NOT NULL
		ORDER BY t.bytes DESC
		LIMIT (SELECT @extschema@._t('snapshot_max_tables'))
		RETURNING 1
	)
	SELECT array_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname) ORDER BY t.schemaname, t.relname)
	INTO v_locked
	FROM sz t
	WHERE t.bytes IS NULL
	  AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.relid);
	IF v_locked IS NOT NULL THEN
		UPDATE @extschema@.snapshots SET locked_tables = v_locked WHERE snap_id = v_snap;
		RAISE WARNING USING ERRCODE = 'lock_not_available',
			MESSAGE = pg_catalog.format('snapshot %s left out %s table(s) locked by other sessions: %s',
										v_snap, pg_catalog.cardinality(v_locked),
										pg_catalog.array_to_string(v_locked, ', ')),
			HINT = 'Their sizes are taken by the next snapshot; scale_advisor.snapshots.locked_tables lists them.';
	END IF;

	-- keep the newest snapshot_keep snapshots
	SELECT min(k.snap_id) INTO v_oldest
	FROM (SELECT s.snap_id FROM @extschema@.snapshots s
		  ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT v_keep) k;
	IF EXISTS (SELECT 1 FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest) THEN
		-- a statement still tracked keeps its latest row: move it to the
		-- oldest snapshot kept when that has none of its own
		UPDATE @extschema@.snapshot_statements s SET snap_id = v_oldest
		FROM (SELECT DISTINCT ON (x.dbid, x.queryid) x.snap_id, x.dbid, x.queryid
			  FROM @extschema@.snapshot_statements x
			  WHERE x.snap_id < v_oldest
			  ORDER BY x.dbid, x.queryid, x.snap_id DESC) l
		WHERE s.snap_id = l.snap_id AND s.dbid = l.dbid AND s.queryid = l.queryid
		  AND NOT EXISTS (SELECT 1 FROM @extschema@.snapshot_statements y
						  WHERE y.snap_id >= v_oldest AND y.dbid = s.dbid AND y.queryid = s.queryid)
		  AND EXISTS (SELECT 1 FROM @extschema@._history() h
					  WHERE h.dbid = s.dbid AND h.queryid = s.queryid AND h.first_seen = s.first_seen);
		DELETE FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest;
	END IF;
	RETURN v_snap;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._growth()
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

CREATE OR REPLACE VIEW @extschema@.growth AS
SELECT g.* FROM @extschema@._growth() g
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.growth');

CREATE OR REPLACE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.regressions');

GRANT SELECT ON @extschema@.growth, @extschema@.regressions TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
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
		detail := pg_catalog.left(pg_catalog.regexp_replace(coalesce(r.query, ''), '\s+', ' ', 'g'), 120);
		RETURN NEXT;
	END LOOP;
END
$$;

CREATE FUNCTION @extschema@._archive_status()
RETURNS TABLE (relation text, last_status text, last_success timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT (@extschema@._has_col('archive_policies', 'enabled')
			AND @extschema@._has_col('archive_runs', 'status')
			AND @extschema@._has_col('archive_runs', 'finished_at')) THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT p.relation::text, l.status::text, s.t
		FROM @extschema@.archive_policies p
		LEFT JOIN LATERAL (
			SELECT r.status FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.<>) 'running'
			ORDER BY r.started_at DESC LIMIT 1) l ON true
		LEFT JOIN LATERAL (
			SELECT max(coalesce(r.finished_at, r.started_at)) AS t FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.=) 'done') s ON true
		WHERE p.enabled $q$;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._archive_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._archive_status() TO pg_read_all_stats;

CREATE OR REPLACE FUNCTION @extschema@._maintenance_status()
RETURNS TABLE (kind text, object text, state text, last_success timestamptz,
			   hours_since_success numeric, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_hours numeric := (SELECT @extschema@._t('maintenance_overdue_hours'));
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
		SELECT 'archive'::text, a.relation,
			   CASE WHEN a.last_status IN ('failed', 'interrupted') THEN 'failing'
					WHEN a.last_success IS NULL OR a.last_success < pg_catalog.now() - pg_catalog.make_interval(hours => v_hours::integer) THEN 'overdue'
					ELSE 'ok' END,
			   a.last_success, round((extract(epoch FROM pg_catalog.now() - a.last_success) / 3600)::numeric, 1),
			   CASE WHEN a.last_status IN ('failed', 'interrupted')
					THEN pg_catalog.format('last archive run of %s %s: the role that ran it sees the error in scale_advisor.archive_runs', a.relation, a.last_status)
					WHEN a.last_success IS NULL THEN pg_catalog.format('archive policy of %s never ran to completion: call scale_advisor.run_archive_policies() from cron', a.relation)
					ELSE pg_catalog.format('archive policy of %s last completed at %s', a.relation, a.last_success) END
		FROM @extschema@._archive_status() a;
	IF @extschema@._has_col('partition_maintenance_status', 'overdue')
	   AND @extschema@._has_col('partition_maintenance_status', 'consecutive_failures')
	   AND @extschema@._has_col('partition_maintenance_status', 'last_success') THEN
		RETURN QUERY EXECUTE $q$
			SELECT 'partition'::text, pg_catalog.format('%I.%I', m.parent_schema, m.parent_table),
				   CASE WHEN m.consecutive_failures > 0 THEN 'failing'
						WHEN m.overdue THEN 'overdue' ELSE 'ok' END,
				   m.last_success, round((extract(epoch FROM pg_catalog.now() - m.last_success) / 3600)::numeric, 1),
				   pg_catalog.format('partition maintenance of %I.%I: %s', m.parent_schema, m.parent_table, m.status)
			FROM @extschema@.partition_maintenance_status m
			WHERE m.enabled $q$;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._checklist()
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

	-- statements over 100 ms at p95
	v_t := (SELECT @extschema@._t('slow_statement_ms'));
	SELECT count(*), max(s.p95_ms),
		   string_agg(pg_catalog.format('%s (%s ms: %s)', s.queryid, round(s.p95_ms::numeric, 1), @extschema@._short(s.query)), '; '
					  ORDER BY s.p95_ms DESC) FILTER (WHERE s.rn <= 3)
	INTO v_n, v_x, v_txt
	FROM (SELECT s.*, row_number() OVER (ORDER BY s.p95_ms DESC) AS rn
		  FROM unnest(v_stmts) s
		  WHERE s.calls >= (SELECT @extschema@._t('slow_statement_min_calls')) AND s.p95_ms > v_t) s;
	"check" := 'slow_statements';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= (SELECT @extschema@._t('alert_p95_ms')) THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN '0 statements over the target'
				  ELSE pg_catalog.format('%s statements over the target, worst: %s', v_n, v_txt) END;
	target := pg_catalog.format('p95 under %s ms', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'EXPLAIN (ANALYZE, BUFFERS) the statements named; read scale_advisor.slow_queries and scale_advisor.index_advice for their plans and missing indexes' END;
	RETURN NEXT;

	-- missing indexes, from index_advice
	v_n := @extschema@._count_of('index_advice');
	"check" := 'missing_indexes';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.index_advice is not installed)'
				  ELSE pg_catalog.format('%s index suggestions', v_n) END;
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;

	-- large tables read by sequential scans
	v_t := (SELECT @extschema@._t('seq_scan_min_rows'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s seq scans)', t.schemaname, t.relname, t.seq_scan), ', '
								 ORDER BY t.seq_tup_read DESC)
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_live_tup >= v_t AND t.seq_scan > coalesce(t.idx_scan, 0)
	  AND t.seq_tup_read / greatest(t.seq_scan, 1) >= v_t;
	"check" := 'sequential_scans';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no large table is read mostly by sequential scans'
				  ELSE pg_catalog.format('%s large tables read mostly by sequential scans: %s', v_n, v_txt) END;
	target := pg_catalog.format('tables over %s rows read through indexes', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'find the statements scanning them (scale_advisor.slow_queries) and index the columns of their WHERE clauses' END;
	RETURN NEXT;

	-- N+1 patterns
	v_n := @extschema@._count_of('n_plus_one');
	"check" := 'n_plus_one';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.n_plus_one is not installed)'
				  ELSE pg_catalog.format('%s N+1 patterns', v_n) END;
	target := '0 patterns';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with N+1 detection'
				   ELSE 'SELECT * FROM scale_advisor.n_plus_one; load the rows in one statement (WHERE id = ANY($1), a JOIN, or the ORM''s eager loading)' END;
	RETURN NEXT;

	-- cacheable repeated reads
	SELECT sum(s.calls) INTO v_m FROM unnest(v_stmts) s;
	SELECT count(*), string_agg(pg_catalog.format('%s (%s%% of calls: %s)', s.queryid,
								round(s.calls * 100.0 / v_m, 1), @extschema@._short(s.query)), '; ' ORDER BY s.calls DESC)
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
				  ELSE pg_catalog.format('%s repeated reads: %s', v_n, v_txt) END;
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
	value := pg_catalog.format('%s idle of %s client sessions', v_m, v_n);
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
				  ELSE pg_catalog.format('%s sessions idle in a transaction, the oldest for %s s', v_n, round(v_x)) END;
	target := pg_catalog.format('none idle in a transaction over %s s', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'commit or roll back promptly in the application; SELECT pid, query FROM pg_stat_activity WHERE state LIKE ''idle in transaction%'' shows them; set idle_in_transaction_session_timeout' END;
	RETURN NEXT;

	-- timeouts for application roles
	FOR v_g IN SELECT * FROM (VALUES ('statement_timeout', 'statement_timeout_max_ms', '30s'),
								   ('idle_in_transaction_session_timeout', NULL, '60s')) AS g(guc, lim, suggest)
	LOOP
		SELECT count(*),
			   count(*) FILTER (WHERE coalesce(@extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)), 0) = 0
							   OR (v_g.lim IS NOT NULL AND
								   @extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)) > (SELECT @extschema@._t(v_g.lim)))),
			   string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
				 FILTER (WHERE coalesce(@extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)), 0) = 0
						 OR (v_g.lim IS NOT NULL AND
							 @extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)) > (SELECT @extschema@._t(v_g.lim))))
		INTO v_n, v_m, v_txt
		FROM pg_catalog.pg_roles r
		WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolreplication AND r.rolname !~ '^pg_';
		"check" := v_g.guc;
		status := CASE WHEN v_n = 0 THEN 'warn' WHEN v_m = 0 THEN 'pass' ELSE 'fail' END;
		value := CASE WHEN v_n = 0 THEN 'no application role: only superusers can log in'
					  WHEN v_m = 0 THEN pg_catalog.format('set for all %s application roles', v_n)
					  ELSE pg_catalog.format('%s of %s application roles without a suitable %s: %s', v_m, v_n, v_g.guc, v_txt) END;
		target := CASE WHEN v_g.lim IS NULL THEN 'set for every login role that is not a superuser'
					   ELSE pg_catalog.format('set, at most %s ms, for every login role that is not a superuser', (SELECT @extschema@._t(v_g.lim))) END;
		advice := CASE WHEN v_n = 0 THEN 'let the application log in as a role of its own, not a superuser, and give it timeouts'
					   WHEN v_m = 0 THEN 'nothing to do'
					   ELSE pg_catalog.format('ALTER ROLE %s SET %s = %L;', pg_catalog.split_part(v_txt, ', ', 1), v_g.guc, v_g.suggest) END;
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
		value := pg_catalog.format('%s segments archived, last at %s, %s failures', v_r.archived_count, v_r.last_archived_time, v_r.failed_count);
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
	SELECT count(*), string_agg(pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')
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
		   string_agg(pg_catalog.format('%I.%I (%s%% dead, last vacuum %s)', x.schemaname, x.relname, x.pct,
										coalesce(x.lv::text, 'never')), ', ' ORDER BY x.pct DESC)
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
				  ELSE pg_catalog.format('%s tables: %s', v_n, v_txt) END;
	target := pg_catalog.format('under %s%% dead tuples per table', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('VACUUM (VERBOSE) the tables; make autovacuum keep up: ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02); raise autovacuum_vacuum_cost_limit; look for long transactions holding back cleanup',
						pg_catalog.split_part(pg_catalog.split_part(v_txt, ', ', 1), ' ', 1)) END;
	RETURN NEXT;

	-- statistics age
	v_t := (SELECT @extschema@._t('analyze_max_age_days'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname), ', ' ORDER BY t.n_mod_since_analyze DESC)
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_mod_since_analyze > 50 + 0.1 * t.n_live_tup
	  AND coalesce(greatest(t.last_analyze, t.last_autoanalyze), '-infinity')
		  < pg_catalog.now() - pg_catalog.make_interval(days => v_t::integer);
	"check" := 'stale_statistics';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'statistics of modified tables are recent'
				  ELSE pg_catalog.format('%s modified tables not analyzed for %s days: %s', v_n, v_t, v_txt) END;
	target := pg_catalog.format('tables with more than 10%% changed rows analyzed within %s days', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('ANALYZE %s; check that autovacuum runs (pg_stat_user_tables.last_autoanalyze)', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;

	-- table bloat (estimate from row counts and average widths)
	v_t := (SELECT @extschema@._t('table_bloat_pct'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)), ', ' ORDER BY x.waste DESC)
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
				  ELSE pg_catalog.format('%s tables, estimated: %s', v_n, v_txt) END;
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
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)), ', ' ORDER BY x.waste DESC)
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
				  ELSE pg_catalog.format('%s indexes, estimated: %s', v_n, v_txt) END;
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
	SELECT count(*), string_agg(pg_catalog.format('%s (%s rows a call: %s)', s.queryid, round(s.rows::numeric / s.calls),
								@extschema@._short(s.query)), '; ' ORDER BY s.rows::numeric / s.calls DESC)
	INTO v_n, v_txt
	FROM unnest(v_stmts) s
	WHERE s.calls > 0 AND s.rows::numeric / s.calls >= v_t
	  AND s.query ~* '^\s*(select|with)\M'
	  AND s.query !~* '\m(limit|fetch\s+(first|next))\M';
	"check" := 'pagination';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read returns many rows without LIMIT'
				  ELSE pg_catalog.format('%s statements: %s', v_n, v_txt) END;
	target := pg_catalog.format('reads returning %s rows or more per call use LIMIT', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'page through results with keyset pagination: WHERE id > $last_id ORDER BY id LIMIT 100 (not OFFSET)' END;
	RETURN NEXT;

	-- old rows: archiving or partitioning candidates
	v_t := (SELECT @extschema@._t('partition_min_bytes'));
	v_m := @extschema@._count_of('partition_advice');
	-- sizes read without waiting for locks (a locked table is left out)
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s)', x.nspname, x.relname,
								pg_catalog.pg_size_pretty(x.bytes)), ', '
								ORDER BY x.bytes DESC)
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
	value := pg_catalog.format('%s tables over %s with a time column%s; %s',
		v_n, pg_catalog.pg_size_pretty(v_t), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END,
		CASE WHEN v_m IS NULL THEN 'partition advice not available'
			 ELSE pg_catalog.format('%s partitioning suggestions', v_m) END);
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
		SELECT count(*), coalesce(string_agg(pg_catalog.format('%I.%I', s.schemaname, s.indexrelname), ', '
											 ORDER BY s.schemaname, s.indexrelname), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_stat_user_indexes s
		JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
		WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
		  AND @extschema@._relation_size_nowait(s.indexrelid, true) >= v_t;
	END IF;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s unused indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;

	-- duplicate indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('duplicate_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(string_agg(x.names, '; ' ORDER BY x.names), '')
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
	value := pg_catalog.format('%s duplicate indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;

	-- invalid indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('invalid_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(string_agg(i.indexrelid::regclass::text, ', ' ORDER BY i.indexrelid::regclass::text), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_index i WHERE NOT i.indisvalid;
	END IF;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s invalid indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
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
				  ELSE pg_catalog.format('%s foreign keys without an index%s', v_n, CASE WHEN v_txt <> '' THEN ': ' || v_txt ELSE '' END) END;
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
	value := pg_catalog.format('%s transactions since the oldest unfrozen row', v_n);
	target := pg_catalog.format('under %s', (SELECT @extschema@._t('xid_age_warning')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'VACUUM (FREEZE) the oldest tables (ORDER BY age(relfrozenxid) DESC); end long transactions and drop stale replication slots that hold back freezing' END;
	RETURN NEXT;

	-- regressions
	SELECT count(*), string_agg(pg_catalog.format('%s (%s -> %s ms)', g.queryid, g.baseline_p95_ms, g.window_p95_ms), '; ')
	INTO v_n, v_txt FROM @extschema@._regressions() g;
	"check" := 'regressions';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement slower than its baseline'
				  ELSE pg_catalog.format('%s statements slower than their baseline: %s', v_n, v_txt) END;
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

CREATE OR REPLACE VIEW @extschema@.checklist AS
SELECT c.* FROM @extschema@._checklist() c
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.checklist');

CREATE OR REPLACE VIEW @extschema@.alerts AS
SELECT a.* FROM @extschema@._alerts() a
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.alerts');

GRANT SELECT ON @extschema@.checklist, @extschema@.alerts TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := pg_size_bytes(coalesce(current_setting('scale_advisor.partition_advice_min_size', true), '1GB'));
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN to_regclass(format('%I.%I', s.parent_schema, s.parent_table)) IS NULL THEN 'table does not exist'
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'maintenance has never succeeded'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status');

CREATE OR REPLACE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice()
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_advice');

GRANT SELECT ON @extschema@.partition_advice,
  @extschema@.partition_maintenance_status TO PUBLIC;
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
-- Archiving (sql/install/40_archive.sql), 1.0 -> 1.1: the work runs as the
-- table's owner through _owner_exec(), the archive must belong to the same
-- owner, policies record their creator (created_by) and are checked by a
-- trigger, row-level security on archive_policies and archive_runs, a run
-- lock no role can take from SQL, search_path pinned after every COMMIT.
-- See docs/security.md, "Archiving".

-- Existing policies: created_by is the owner of the table the policy names
-- when that table exists, else the extension's owner (who could see and
-- change every policy in 1.0).  Names resolve as at run time.
ALTER TABLE @extschema@.archive_policies
	ADD COLUMN created_by regrole NOT NULL DEFAULT current_user::regrole;
DO $$
DECLARE
	saved text := pg_catalog.current_setting('search_path');
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	UPDATE @extschema@.archive_policies p
	SET created_by = coalesce(
		(SELECT c.relowner FROM pg_class c WHERE c.oid = to_regclass(p.relation)),
		(SELECT e.extowner FROM pg_extension e WHERE e.extname = 'scale_advisor'))::regrole;
	PERFORM pg_catalog.set_config('search_path', saved, true);
END $$;

-- A policy may name only tables whose owner's privileges its creator has
-- (checked again at every run); created_by is the role that wrote the row,
-- except that a superuser may write a row on another role's behalf.
CREATE FUNCTION @extschema@._archive_policy_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me regrole := current_user::regrole;
	super boolean := (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = current_user::regrole);
	rel regclass;
	tgt regclass;
BEGIN
	IF NOT super THEN
		IF NEW.created_by IS DISTINCT FROM me
		   AND (TG_OP = 'INSERT' OR NEW.created_by IS DISTINCT FROM OLD.created_by) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('role %s may not write an archive policy on behalf of role %s',
								 me, coalesce(NEW.created_by::text, 'NULL')),
				HINT = 'Leave created_by at its default: a policy belongs to the role that writes it.';
		END IF;
		-- whoever changes a policy answers for it from then on
		NEW.created_by := me;
	END IF;
	IF NEW.created_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
			MESSAGE = 'created_by of an archive policy must not be NULL',
			HINT = 'Leave it at its default, the current role.';
	END IF;
	IF TG_OP = 'INSERT' OR NEW.older_than IS DISTINCT FROM OLD.older_than THEN
		PERFORM @extschema@._archive_check_age(NEW.older_than);
	END IF;
	-- names resolve as at run time (search_path pg_catalog, pg_temp); a
	-- table that does not exist yet is checked when the policy runs
	rel := to_regclass(NEW.relation);
	tgt := to_regclass(NEW.target);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive table %s, owned by role %s',
							 NEW.created_by, rel,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel)),
			HINT = format('Create the policy as the owner of the table, or GRANT %s TO %s.',
						  (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel), NEW.created_by);
	END IF;
	IF tgt IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive into table %s, owned by role %s',
							 NEW.created_by, tgt,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = tgt)),
			HINT = 'The archive must belong to the owner of the table.';
	END IF;
	IF rel IS NOT NULL AND tgt IS NOT NULL
	   AND (SELECT c.relowner FROM pg_class c WHERE c.oid = rel)
		   <> (SELECT c.relowner FROM pg_class c WHERE c.oid = tgt) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('archive table %s is not owned by the owner of table %s', tgt, rel),
			HINT = 'The archive must belong to the owner of the table: ALTER TABLE ... OWNER TO ..., or name another target.';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER archive_policies_check
	BEFORE INSERT OR UPDATE ON @extschema@.archive_policies
	FOR EACH ROW EXECUTE FUNCTION @extschema@._archive_policy_check();
-- each role sees and changes the policies of the roles whose privileges it
-- has (its own among them); superusers see all
ALTER TABLE @extschema@.archive_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_policies_creator ON @extschema@.archive_policies
	USING (pg_catalog.pg_has_role(created_by, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by, 'USAGE'));
-- (a trigger fires whatever the EXECUTE privilege: nobody needs to call it)
REVOKE ALL ON FUNCTION @extschema@._archive_policy_check() FROM PUBLIC;

-- each role sees and changes only the runs it made (run_by); an error of a
-- run can hold row values.  Superusers see all.
ALTER TABLE @extschema@.archive_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_runs_own ON @extschema@.archive_runs
	USING (run_by = CURRENT_USER)
	WITH CHECK (run_by = CURRENT_USER);

-- The run lock: a session lock only _archive_lock() can take replaces the
-- advisory lock any role could take.  (_archive_exists stays, unchanged.)
DROP FUNCTION @extschema@._archive_lock_key(regclass);

-- One run per table: a session lock no SQL advisory lock function can take
-- (src/archive.c), only for roles that may maintain the table.  True when
-- this session holds it now.
CREATE FUNCTION @extschema@._archive_lock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_lock';

-- Releases this session's lock of the runs on the table.
CREATE FUNCTION @extschema@._archive_unlock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_unlock';

-- Validates a run, refuses a caller who may not maintain the table or an
-- archive owned by another role, takes the table's run lock, creates the
-- default archive table (as the table's owner) when needed, records the run
-- and returns its plan (the SQL of each batch step, run as the owner through
-- _owner_exec: parameters are text and cast in the statements; each returns
-- one jsonb value).  Raises on bad input, having changed nothing.
CREATE OR REPLACE FUNCTION @extschema@._archive_start(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel_ns name;
	rel_name name;
	rel_kind "char";
	owner regrole;
	other_owner regrole;
	other regclass := p_other;
	other_kind "char";
	other_name text;
	create_sql text[] := '{}';
	tcol record;
	key name[];
	cols name[];
	src regclass;			-- rows are deleted here
	dst regclass;			-- and inserted here
	dst_text text;
	src_kind "char";
	dst_kind "char";
	klist text;
	kdesc text;
	kcast text;
	kjson text;
	klit text;
	clist text;
	slist text;
	tlist text;
	cond text;
	overriding text := '';
	refs jsonb := '[]';
	fk record;
	n bigint;
	holder integer;
	holder_role name;
	run bigint;
	plan jsonb;
	sqls text;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- a dry run only reads: it may run on a standby
	IF p_dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary(p_operation || '()');
	END IF;

	-- arguments
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	IF p_max_duration <= interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_duration must be positive or NULL, not %s', p_max_duration);
	END IF;
	IF p_pause IS NULL OR p_pause < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('pause must not be NULL or negative, not %s', coalesce(p_pause::text, 'NULL'));
	END IF;
	IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('lock_timeout must be positive, not %s', coalesce(p_lock_timeout::text, 'NULL'));
	END IF;
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind, c.relowner INTO rel_ns, rel_name, rel_kind, owner
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
			MESSAGE = format('relation with OID %s does not exist', p_relation::oid);
	END IF;
	-- the work runs as the owner: only the owner's equals may start it
	IF NOT coalesce(@extschema@._may_maintain(p_relation), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not %s table %s', current_user::regrole, p_operation, p_relation),
			DETAIL = format('Archiving runs as the owner of the table (%s), so only a superuser or a role with the owner''s privileges may start it.', owner),
			HINT = format('Run it as the owner of the table, or GRANT %s TO %s.', owner, current_user::regrole);
	END IF;
	IF rel_kind = 'p' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('column %I of relation %s is of type %s, not a timestamp or date',
							 p_time_column, p_relation, tcol.typ),
			HINT = 'The time column must be of type timestamp with time zone, timestamp or date.';
	END IF;
	key := @extschema@._archive_key(p_relation);

	-- the archive table
	IF other IS NULL THEN
		IF p_operation = 'unarchive' THEN
			other := to_regclass(format('%I.%I', rel_ns, rel_name || '_archive'));
			IF other IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = '42P01',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = '42622',
					MESSAGE = format('default archive table name for %s would be longer than 63 bytes', p_relation),
					HINT = 'Create an archive table and name it with target => ''...''.';
			END IF;
			other_name := format('%I.%I', rel_ns, rel_name || '_archive');
			other := to_regclass(other_name);
			IF other IS NULL THEN
				create_sql := ARRAY[
					format('CREATE TABLE %s (LIKE %s)', other_name, p_relation),
					format('ALTER TABLE %s ADD PRIMARY KEY (%s)', other_name,
						   (SELECT string_agg(quote_ident(k), ', ') FROM unnest(key) k)),
					format('CREATE INDEX ON %s (%I)', other_name, p_time_column)];
				IF NOT has_schema_privilege(owner, rel_ns, 'CREATE') THEN
					RAISE EXCEPTION USING ERRCODE = '42501',
						MESSAGE = format('permission denied to create archive table %s', other_name),
						HINT = format('The first run creates the archive table as the owner of the table (%s), who needs CREATE on the schema; or create it as %s and name it with target => ''...''.', owner, owner);
				END IF;
			END IF;
		END IF;
	END IF;
	IF other IS NOT NULL THEN
		SELECT c.relkind, c.relowner INTO other_kind, other_owner FROM pg_class c WHERE c.oid = other;
		other_name := other::text;
		IF other = p_relation THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = 'a table cannot be its own archive';
		END IF;
		-- rows go only where their owner keeps them
		IF other_owner <> owner THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive table %s is owned by role %s, not by %s, the owner of table %s',
								 other, other_owner, owner, p_relation),
				HINT = format('The archive must belong to the owner of the table: create it as %s (or ALTER TABLE %s OWNER TO %s), or name another one.',
							  owner, other, owner);
		END IF;
		-- and so must every partition of a partitioned archive (rows are
		-- routed there, and their triggers fire)
		IF other_kind = 'p' THEN
			SELECT string_agg(format('%s (owned by %s)', t.relid, c.relowner::regrole), ', ') INTO sqls
			FROM pg_partition_tree(other) t JOIN pg_class c ON c.oid = t.relid
			WHERE c.relowner <> owner;
			IF sqls IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
					MESSAGE = format('partitions of archive table %s are not owned by %s, the owner of table %s',
									 other, owner, p_relation),
					DETAIL = format('Partitions: %s.', sqls),
					HINT = 'Every partition of the archive must belong to the owner of the table.';
			END IF;
		END IF;
		IF p_operation = 'archive' AND other_kind NOT IN ('r', 'p', 'f') THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = '0A000',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('archive %s is not a table', other);
		END IF;
		cols := @extschema@._archive_columns(p_relation, other, p_operation);
		IF other_kind IN ('r', 'p') AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = other AND i.indisunique AND i.indisvalid
				  AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND (SELECT array_agg(a.attname ORDER BY a.attname)
					   FROM pg_attribute a
					   WHERE a.attrelid = other AND a.attnum = ANY (i.indkey::int2[]))
					  = (SELECT array_agg(k ORDER BY k) FROM unnest(key) k)) THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('archive table %s has no unique index on (%s)', other,
								 array_to_string(key, ', ')),
				HINT = 'The archive needs the key of the table as a primary key or unique index, so that a batch can never be copied twice.';
		END IF;
	ELSE
		SELECT array_agg(a.attname ORDER BY a.attnum) INTO cols
		FROM pg_attribute a
		WHERE a.attrelid = p_relation AND a.attnum > 0 AND NOT a.attisdropped;
	END IF;

	IF p_operation = 'archive' THEN
		src := p_relation; dst := other; dst_text := other_name; src_kind := 'r'; dst_kind := coalesce(other_kind, 'r');
	ELSE
		src := other; dst := p_relation; dst_text := p_relation::text; src_kind := 'r'; dst_kind := 'r';
	END IF;

	-- privileges: the owner does the work and needs them (an owner may have
	-- revoked some of its own)
	IF NOT has_table_privilege(owner, src, 'SELECT') OR NOT has_table_privilege(owner, src, 'DELETE')
	   OR NOT has_table_privilege(owner, src, 'UPDATE') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = format('Archiving runs as the owner of the table (%s), who needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.', owner);
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(owner, dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = format('Archiving runs as the owner of the table (%s), who needs INSERT on the table the rows go to.', owner);
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = 'permission denied for table @extschema@.archive_runs',
			HINT = 'Grant SELECT, INSERT, UPDATE on @extschema@.archive_runs to the roles that archive.';
	END IF;
	-- rules: the batches use data-modifying WITH and ON CONFLICT, which
	-- rules do not support (and a rule's functions would run as the caller)
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = dst AND r.ev_type = '3') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has INSERT rules', CASE p_operation WHEN 'archive' THEN 'archive table' ELSE 'table' END, dst),
			HINT = 'Archiving moves rows with INSERT ... ON CONFLICT and data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = src AND r.ev_type = '4') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has DELETE rules', CASE p_operation WHEN 'unarchive' THEN 'archive table' ELSE 'table' END, src),
			HINT = 'Archiving deletes rows in a data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = dst AND a.attidentity = 'a' AND a.attname = ANY (cols)) THEN
		overriding := ' OVERRIDING SYSTEM VALUE';
	END IF;

	-- SQL of the batch steps, run as the owner by _owner_exec, which passes
	-- parameters as text: $1, $4: time range, $2: batch size, $3: last key
	-- of the previous batch (jsonb array of text) or NULL; in the
	-- step-by-step statements $1 is the batch's row ids (tid[]).
	klist := (SELECT string_agg(format('s.%I', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kdesc := (SELECT string_agg(format('b.%I DESC', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kjson := (SELECT string_agg(format('b.%I::text', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kcast := (SELECT string_agg(format('($3::jsonb->>%s)::%s', o - 1, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
			  FROM unnest(key) WITH ORDINALITY u(k, o)
			  JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	klit := (SELECT string_agg(format('t.%I = %%L::%s', k, format_type(a.atttypid, a.atttypmod)), ' AND ' ORDER BY o)
			 FROM unnest(key) WITH ORDINALITY u(k, o)
			 JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	clist := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
	slist := (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(cols) c);
	tlist := (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(cols) c);
	IF p_operation = 'archive' THEN
		cond := format('s.%I < $4::timestamptz', p_time_column);
	ELSE
		cond := format('s.%I >= $1::timestamptz AND s.%I < $4::timestamptz', p_time_column, p_time_column);
	END IF;

	-- foreign keys that point at the rows we delete
	FOR fk IN
		SELECT con.conname, con.conrelid::regclass AS child,
			   (SELECT string_agg(format('c.%I = s.%I', ca.attname, pa.attname), ' AND ')
				FROM unnest(con.conkey, con.confkey) AS u(ck, pk)
				JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = u.ck
				JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = u.pk) AS j
		FROM pg_constraint con
		WHERE con.contype = 'f' AND con.confrelid = src
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		refs := refs || jsonb_build_object(
			'name', format('%I on %s', fk.conname, fk.child),
			'all', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE %s))', fk.child, src, fk.j, cond),
			'batch', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE s.ctid = ANY ($1::tid[])))', fk.child, src, fk.j));
	END LOOP;
	IF jsonb_array_length(refs) > 0 THEN
		SELECT string_agg(r->>'name', ', ') INTO sqls
		FROM jsonb_array_elements(refs) r
		WHERE (@extschema@._owner_exec(src, r->>'all', p_from::text, NULL, NULL, p_to::text))::boolean;
		IF sqls IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '23503',
				MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', src),
				DETAIL = format('Referencing constraints: %s.', sqls),
				HINT = 'Archive or delete the referencing rows first.';
		END IF;
	END IF;

	plan := jsonb_build_object(
		'operation', p_operation,
		'relation', p_relation::oid,
		'relation_name', p_relation::text,
		'src', src::text,
		'dst', dst_text,
		'remote', dst_kind = 'f',
		'from', p_from, 'to', p_to,
		'batch_size', p_batch_size,
		'max_batches', p_max_batches,
		'max_duration', p_max_duration,
		'pause', extract(epoch FROM p_pause),
		'lock_timeout', format('%sms', ceil(extract(epoch FROM p_lock_timeout) * 1000)),
		'verbose', p_verbose,
		'vacuum', p_vacuum,
		'refs', refs,
		'lock_sql', format('SELECT jsonb_build_object(''n'', count(*), ''tids'', array_agg(b.ctid)::text, ''last_key'', %s) '
						   'FROM (SELECT s.ctid, %s FROM ONLY %s s WHERE %s AND ($3 IS NULL OR (%s) > (%s)) '
						   'ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED) b',
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END,
						   klist, src, cond, klist, kcast, klist),
		'fast_sql', format('WITH batch AS MATERIALIZED (SELECT s.ctid, %s FROM ONLY %s s '
						   'WHERE %s AND ($3 IS NULL OR (%s) > (%s)) ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED), '
						   'moved AS (DELETE FROM ONLY %s d WHERE d.ctid = ANY (ARRAY(SELECT b.ctid FROM batch b)) RETURNING %s), '
						   'ins AS (INSERT INTO %s AS t (%s)%s SELECT %s FROM moved RETURNING 1) '
						   'SELECT jsonb_build_object(''n'', (SELECT count(*) FROM batch), ''ins'', (SELECT count(*) FROM ins), '
						   '''last_key'', (SELECT %s FROM batch b))',
						   klist, src, cond, klist, kcast, klist,
						   src, clist, dst_text, clist, overriding, clist,
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END),
		'move_sql', format('WITH moved AS (DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[]) RETURNING %s) '
						   'INSERT INTO %s AS t (%s)%s SELECT %s FROM moved',
						   src, clist, dst_text, clist, overriding, clist),
		'insert_sql', format('INSERT INTO %s AS t (%s)%s SELECT %s FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]) ON CONFLICT DO NOTHING',
							 dst_text, clist, overriding, slist, src),
		'keys_sql', format('SELECT to_jsonb(string_agg(format(%L, %s), '' OR '')) FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[])',
						   '(' || klit || ')',
						   (SELECT string_agg(format('s.%I::text', k), ', ') FROM unnest(key) k), src),
		'verify_sql', format('SELECT to_jsonb(count(*)) FROM (SELECT ROW(%s)::text AS r FROM %s t WHERE %%s) x '
							 'WHERE x.r IN (SELECT ROW(%s)::text FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]))',
							 tlist, dst_text, slist, src),
		'delete_sql', format('DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[])', src));

	IF p_dry_run THEN
		n := (@extschema@._owner_exec(src, format('SELECT to_jsonb(count(*)) FROM ONLY %s s WHERE %s', src, cond),
									  p_from::text, NULL, NULL, p_to::text))::bigint;
		RAISE NOTICE '%', format('dry run: %s rows of %s would move to %s%s, in about %s batches of %s',
			n, src, dst_text, CASE WHEN dst IS NULL THEN ' (created on the first run)' ELSE '' END,
			ceil(n::numeric / p_batch_size), p_batch_size);
		sqls := array_to_string(create_sql || ARRAY[
			format(E'-- each batch, in its own transaction (%s$2 = %s, $3 = last key of the previous batch or NULL, $4 = %s)\n',
				   CASE WHEN p_operation = 'unarchive' THEN format('$1 = %L, ', p_from) ELSE '' END,
				   p_batch_size,
				   CASE WHEN p_operation = 'unarchive' THEN quote_literal(p_to) ELSE 'now() - older_than at the start of the run' END)
			|| CASE WHEN jsonb_array_length(refs) = 0 THEN plan->>'fast_sql'
					ELSE (plan->>'lock_sql') || E';\n-- (the foreign keys that point at the table are checked here)\n'
						 || (plan->>'move_sql') END,
			'COMMIT'], E';\n');
		RAISE NOTICE '%', E'statements:\n' || sqls;
		RETURN plan || jsonb_build_object('status', 'dry_run', 'rows', n);
	END IF;

	-- one run per table at a time, under a lock that only a run can take
	-- (src/archive.c); a lock this session still holds is left over from a
	-- run that was cancelled, and is taken over
	IF NOT @extschema@._archive_lock(p_relation) THEN
		SELECT l.pid, a.usename INTO holder, holder_role
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = 1399537989::oid
		  AND l.objid = p_relation::oid AND l.objsubid = 3 AND l.granted
		  AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
		LIMIT 1;
		RAISE NOTICE USING
			MESSAGE = format('another archiving run on %s is in progress (process %s); nothing done',
							 p_relation, coalesce(holder::text, '?')),
			DETAIL = format('The running one was started by role %s.', coalesce(quote_ident(holder_role), '?'));
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
			 finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy,
				clock_timestamp(), interval '0', 'skipped',
				format('another run (process %s, role %s) was in progress',
					   coalesce(holder::text, '?'), coalesce(quote_ident(holder_role), '?')))
		RETURNING r.run_id INTO run;
		RETURN plan || jsonb_build_object('status', 'skipped', 'run_id', run, 'rows', 0);
	END IF;

	BEGIN
		-- runs of this table still marked running died without finishing
		-- (those of other roles are not visible here: row-level security)
		UPDATE @extschema@.archive_runs r
		SET status = 'interrupted',
			error = coalesce(r.error, 'the run ended without finishing (server crash, cancel or terminated connection)')
		WHERE r.relation = p_relation::text AND r.status = 'running';
		-- created as the owner of the table, so that it owns its archive
		FOR i IN 1 .. coalesce(array_length(create_sql, 1), 0) LOOP
			PERFORM @extschema@._owner_exec(p_relation, create_sql[i]);
		END LOOP;
		IF dst IS NULL THEN
			dst := to_regclass(other_name);
		END IF;
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy)
		RETURNING r.run_id INTO run;
	EXCEPTION WHEN OTHERS THEN
		PERFORM @extschema@._archive_unlock(p_relation);
		RAISE;
	END;
	IF array_length(create_sql, 1) > 0 THEN
		RAISE NOTICE '%', format('created archive table %s', other_name);
	END IF;
	RETURN plan || jsonb_build_object('status', 'running', 'run_id', run, 'rows', 0);
END $$;

-- One batch, in the caller's transaction, inside a subtransaction: an error
-- undoes the batch and is returned in the state instead of raised.  Every
-- statement on the tables runs as the owner of the table the rows leave.
-- state: {"last_key": ..., "sweep": bool, "rows": n, "batches": n}
CREATE OR REPLACE FUNCTION @extschema@._archive_batch(plan jsonb, state jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	src regclass := (plan->>'src')::regclass;
	res jsonb;
	tids text;
	last_key jsonb;
	n bigint;
	ins bigint;
	same bigint;
	keys text;
	careful boolean := false;
	found_ref boolean;
	r jsonb;
	t0 timestamptz := clock_timestamp();
	e_state text;
	e_msg text;
	e_detail text;
	e_hint text;
BEGIN
	PERFORM set_config('lock_timeout', plan->>'lock_timeout', true);
	LOOP
		BEGIN
			IF NOT careful AND jsonb_array_length(plan->'refs') = 0 THEN
				-- one statement: lock, delete, insert
				res := @extschema@._owner_exec(src, plan->>'fast_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				ins := (res->>'ins')::bigint;
				last_key := nullif(res->'last_key', 'null'::jsonb);
				IF n > 0 AND ins <> n THEN
					-- a locked row had changed since the statement's snapshot:
					-- redo the batch step by step
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				res := @extschema@._owner_exec(src, plan->>'lock_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				tids := res->>'tids';
				last_key := nullif(res->'last_key', 'null'::jsonb);
			END IF;
			IF n = 0 THEN
				IF nullif(state->'last_key', 'null'::jsonb) IS NOT NULL THEN
					-- end of the walk: sweep once more from the start for rows
					-- that were locked by others when we passed them
					RETURN state || jsonb_build_object('last_key', NULL, 'sweep', true,
													   'status', 'continue', 'moved', 0);
				END IF;
				RETURN state || jsonb_build_object('status', 'done', 'moved', 0);
			END IF;
			FOR r IN SELECT * FROM jsonb_array_elements(plan->'refs') LOOP
				-- (only on the step-by-step path: fast_sql is not used when
				-- foreign keys point at the table)
				found_ref := (@extschema@._owner_exec(src, r->>'batch', tids))::boolean;
				IF found_ref THEN
					RAISE EXCEPTION USING ERRCODE = '23503',
						MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', plan->>'src'),
						DETAIL = format('Referencing constraint: %s.', r->>'name'),
						HINT = 'Archive or delete the referencing rows first.';
				END IF;
			END LOOP;
			IF tids IS NULL THEN
				NULL;		-- moved by fast_sql above (or nothing locked)
			ELSIF NOT careful THEN
				-- a plain INSERT: a key already in the target raises
				-- unique_violation and the batch is redone carefully
				ins := (@extschema@._owner_exec(src, plan->>'move_sql', tids)->>'processed')::bigint;
				IF ins <> n THEN
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				ins := (@extschema@._owner_exec(src, plan->>'insert_sql', tids)->>'processed')::bigint;
				IF ins < n THEN
					keys := @extschema@._owner_exec(src, plan->>'keys_sql', tids) #>> '{}';
					same := (@extschema@._owner_exec(src, format(plan->>'verify_sql', keys), tids))::bigint;
					IF same < n THEN
						RAISE EXCEPTION USING ERRCODE = '23505',
							MESSAGE = format('%s rows of %s have a key that %s already holds with different contents',
											 n - same, plan->>'src', plan->>'dst'),
							HINT = 'Compare the rows with the same key in both tables and delete the wrong copy; nothing was moved in this batch.';
					END IF;
				END IF;
				PERFORM @extschema@._owner_exec(src, plan->>'delete_sql', tids);
			END IF;
			IF coalesce(current_setting('scale_advisor.archive_test_crash', true), 'off') = 'on' THEN
				PERFORM @extschema@._archive_test_crash();
			END IF;
			UPDATE @extschema@.archive_runs AS ar
			SET batches = ar.batches + 1, rows_moved = ar.rows_moved + n,
				last_batch_at = clock_timestamp(), duration = clock_timestamp() - ar.started_at
			WHERE ar.run_id = (plan->>'run_id')::bigint;
			IF (plan->>'verbose')::boolean THEN
				RAISE NOTICE '%', format('batch %s: moved %s rows from %s to %s in %s ms%s',
					(state->>'batches')::int + 1, n, plan->>'src', plan->>'dst',
					round(extract(epoch FROM clock_timestamp() - t0) * 1000),
					CASE WHEN careful THEN ' (some were already there, identical)' ELSE '' END);
			END IF;
			RETURN state || jsonb_build_object('last_key', last_key, 'status', 'continue', 'moved', n,
											   'rows', (state->>'rows')::bigint + n,
											   'batches', (state->>'batches')::int + 1);
		EXCEPTION
			WHEN SQLSTATE 'SA001' OR unique_violation THEN
				IF careful THEN
					GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
						e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
					RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
						'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
						'hint', nullif(e_hint, ''));
				END IF;
				careful := true;
			WHEN lock_not_available THEN
				RETURN state || jsonb_build_object('status', 'lock_timeout', 'moved', 0,
					'error', format('lock_timeout (%s) expired: %s', plan->>'lock_timeout', SQLERRM));
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
					e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
				RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
					'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
					'hint', nullif(e_hint, ''));
		END;
	END LOOP;
END $$;

-- Ends a run: status, duration, VACUUM advice; releases the lock.
CREATE OR REPLACE FUNCTION @extschema@._archive_finish(plan jsonb, state jsonb, final_status text, message text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved bigint := (state->>'rows')::bigint;
	tuples double precision;
	advice text;
BEGIN
	SELECT greatest(c.reltuples, 0) INTO tuples FROM pg_class c WHERE c.oid = (plan->>'src')::regclass;
	-- reltuples may still count the rows that left (no ANALYZE since)
	IF moved >= 1000 AND moved >= 0.1 * greatest(coalesce(tuples, 0), moved) THEN
		advice := format('VACUUM (ANALYZE) %s', plan->>'src');
		RAISE NOTICE '%', format('%s rows were moved out of %s%s: %s',
			moved, plan->>'src',
			CASE WHEN tuples > 0 THEN format(' (about %s%% of its rows)', round(100 * moved / greatest(tuples, moved))) ELSE '' END,
			CASE WHEN (plan->>'vacuum')::boolean THEN 'vacuuming it now'
				 ELSE 'run ' || advice || ' to make the space reusable and refresh the planner statistics, or let autovacuum do it' END);
	END IF;
	UPDATE @extschema@.archive_runs AS ar
	SET status = final_status, error = message, finished_at = clock_timestamp(),
		duration = clock_timestamp() - ar.started_at, vacuum_advice = advice
	WHERE ar.run_id = (plan->>'run_id')::bigint;
	PERFORM @extschema@._archive_unlock((plan->>'relation')::oid::regclass);
	IF final_status = 'failed' THEN
		RAISE WARNING '%', format('%s of %s failed after %s rows: %s', plan->>'operation',
								  plan->>'relation_name', moved, message);
	END IF;
	RETURN advice;
END $$;

-- The run loop shared by archive, unarchive and run_archive_policies.  No
-- SET clause (it commits): search_path is set locally per transaction.
CREATE OR REPLACE PROCEDURE @extschema@._archive_run(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean, p_raise boolean,
	INOUT o_run_id bigint, INOUT o_rows bigint, INOUT o_status text)
LANGUAGE plpgsql
AS $$
DECLARE
	plan jsonb;
	state jsonb := jsonb_build_object('last_key', NULL, 'sweep', false, 'rows', 0, 'batches', 0);
	final_status text;
	message text;
	lock_failures integer := 0;
	started timestamptz := pg_catalog.clock_timestamp();
	advice text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- a failed start is logged as a run of this operation on this relation:
	-- without them there is nothing to log
	IF p_operation IS NULL OR p_operation NOT IN ('archive', 'unarchive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown archiving operation %L', p_operation),
			HINT = 'Use ''archive'' or ''unarchive''.';
	END IF;
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	BEGIN
		plan := @extschema@._archive_start(p_operation, p_relation, p_time_column, p_from, p_to,
			p_other, p_batch_size, p_max_batches, p_max_duration, p_pause, p_lock_timeout,
			p_dry_run, p_verbose, p_vacuum, p_policy);
	EXCEPTION WHEN OTHERS THEN
		IF p_raise THEN
			RAISE;
		END IF;
		GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
		RAISE WARNING '%', format('%s of %s not started: %s', p_operation, p_relation, message);
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, time_column, from_policy, finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, p_time_column, coalesce(p_policy, false),
				pg_catalog.clock_timestamp(), interval '0', 'failed', message)
		RETURNING r.run_id INTO o_run_id;
		o_rows := 0;
		o_status := 'failed';
		RETURN;
	END;
	o_run_id := (plan->>'run_id')::bigint;
	o_rows := (plan->>'rows')::bigint;
	o_status := plan->>'status';
	IF o_status <> 'running' THEN
		RETURN;
	END IF;
	-- each batch commits on its own: that needs a CALL outside a
	-- transaction block (else COMMIT fails with a bare "invalid
	-- transaction termination")
	IF NOT @extschema@._nonatomic() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_termination',
			MESSAGE = pg_catalog.format('%s() cannot run inside a transaction block', p_operation),
			DETAIL = 'It commits after every batch so that locks stay short and a failure keeps the batches already done.',
			HINT = pg_catalog.format('CALL scale_advisor.%s(...) on its own in autocommit mode (not after BEGIN, nor from a function or a DO block); dry_run => true works anywhere.', p_operation);
	END IF;
	COMMIT;
	-- first statement of every transaction: pin search_path
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

	LOOP
		IF (state->>'batches')::int >= (plan->>'max_batches')::int THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_batches (%s) reached', plan->>'max_batches');
			EXIT;
		END IF;
		IF pg_catalog.clock_timestamp() - started >= (plan->>'max_duration')::interval THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_duration (%s) reached', plan->>'max_duration');
			EXIT;
		END IF;
		-- A batch is atomic, so its commit need not wait for the disk: a
		-- crash can only undo the last batches, whose rows are then still
		-- in the table and move again next time.  The run's final commit
		-- (in _archive_finish) is synchronous and flushes them all.
		PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
		state := @extschema@._archive_batch(plan, state);
		COMMIT;
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		CASE state->>'status'
			WHEN 'done' THEN
				final_status := 'done';
				EXIT;
			WHEN 'failed' THEN
				final_status := 'failed';
				message := pg_catalog.concat_ws(E'\n', state->>'error',
					'DETAIL: ' || (state->>'detail'), 'HINT: ' || (state->>'hint'));
				EXIT;
			WHEN 'lock_timeout' THEN
				lock_failures := lock_failures + 1;
				IF lock_failures >= 3 THEN
					final_status := 'failed';
					message := (state->>'error') || ' (3 times in a row)';
					EXIT;
				END IF;
				IF (plan->>'verbose')::boolean THEN
					RAISE NOTICE '%', (state->>'error') || '; retrying';
				END IF;
			ELSE
				lock_failures := 0;
		END CASE;
		IF (plan->>'pause')::float8 > 0
		   AND ((state->>'moved')::bigint > 0 OR state->>'status' = 'lock_timeout') THEN
			PERFORM pg_catalog.pg_sleep((plan->>'pause')::float8);
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	advice := @extschema@._archive_finish(plan, state, final_status, message);
	o_rows := (state->>'rows')::bigint;
	o_status := final_status;
	COMMIT;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- the VACUUM runs as the owner of the table; a WARNING says why when it
	-- was not done
	IF advice IS NOT NULL AND (plan->>'vacuum')::boolean THEN
		IF @extschema@._archive_vacuum((plan->>'src')::regclass) THEN
			RAISE NOTICE '%', pg_catalog.format('%s finished', advice);
		END IF;
	END IF;
END $$;

CREATE OR REPLACE PROCEDURE @extschema@.run_archive_policies(verbose boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	p record;
	rel regclass;
	tgt regclass;
	run bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('run_archive_policies()');
	-- the policies this role may see (row-level security), read once: the
	-- loop commits
	FOR p IN
		SELECT * FROM @extschema@.archive_policies ap
		WHERE ap.enabled ORDER BY ap.relation
	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		rel := pg_catalog.to_regclass(p.relation);
		tgt := pg_catalog.to_regclass(p.target);
		msg := CASE WHEN rel IS NULL THEN pg_catalog.format('table %s does not exist', p.relation)
					WHEN p.target IS NOT NULL AND tgt IS NULL
					THEN pg_catalog.format('target %s does not exist', p.target) END;
		st := 'failed';
		-- a policy runs only while its creator may still maintain the table
		IF msg IS NULL AND NOT coalesce(@extschema@._may_maintain(rel, p.created_by), false) THEN
			msg := pg_catalog.format('its creator, role %s, does not have the privileges of the owner of the table, role %s',
				p.created_by, (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = rel));
			st := 'skipped';
		END IF;
		IF msg IS NOT NULL THEN
			IF st = 'skipped' THEN
				RAISE WARNING USING
					MESSAGE = pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg),
					HINT = 'Recreate the policy as the owner of the table, or grant the owner''s role to its creator.';
			ELSE
				RAISE WARNING '%', pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg);
			END IF;
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, from_policy, finished_at, duration, status, error)
			VALUES ('archive', p.relation, p.target, p.time_column, true,
					pg_catalog.clock_timestamp(), interval '0', st, msg);
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run('archive', rel, p.time_column,
			'-infinity', pg_catalog.now() - p.older_than, tgt, p.batch_size, p.max_batches,
			p.max_duration, p.pause, p.lock_timeout, false, $1, p.vacuum, true, false,
			run, n, st);
		-- a new transaction (the run committed): pin search_path first
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF $1 THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;

CREATE OR REPLACE FUNCTION @extschema@._archive_check_age(older_than interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF older_than < interval '1 hour' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN older_than <= interval '0'
						THEN format('older_than must be positive, not %s', older_than)
						ELSE format('older_than %s is less than 1 hour', older_than) END,
			HINT = 'A number without a unit is read as seconds: write the age with its unit, such as ''90 days''.';
	END IF;
END $$;

CREATE OR REPLACE PROCEDURE @extschema@.archive(
	relation regclass,
	time_column name,
	older_than interval,
	target regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	vacuum boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF $10 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	PERFORM @extschema@._archive_check_age($3);
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('archive', $1, $2,
		'-infinity', pg_catalog.now() - $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		false, true, $13, $14, $15);
END $$;
-- Partitioning (sql/install/50_partition.sql), 1.0 -> 1.1: maintenance runs
-- as the table's owner; partition_sets rows record their creator (1.0 rows:
-- the owner of the table they name when it exists, else the role running
-- the update); row-level security on partition_sets, partition_set_state and
-- partition_log (1.0 log rows: the role running the update); per-set claims
-- instead of the advisory lock; search_path pinned in every transaction of
-- the procedures.

ALTER TABLE @extschema@.partition_sets
	ADD COLUMN created_by regrole NOT NULL DEFAULT CURRENT_USER::regrole;
UPDATE @extschema@.partition_sets ps SET created_by = c.relowner::regrole
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
WHERE n.nspname OPERATOR(pg_catalog.=) ps.parent_schema AND c.relname OPERATOR(pg_catalog.=) ps.parent_table
  AND c.relkind IN ('r', 'p');
ALTER TABLE @extschema@.partition_set_state
	ADD COLUMN running_pid integer,
	ADD COLUMN running_backend_start timestamptz;
ALTER TABLE @extschema@.partition_log
	ADD COLUMN run_by name NOT NULL DEFAULT CURRENT_USER;

DROP FUNCTION @extschema@._pm_holds_lock();
DROP FUNCTION @extschema@._pt_run(text[], interval, regclass, text);
DROP FUNCTION @extschema@.partition_table_plan(regclass, name, text, integer, text, text, name, boolean, interval, integer, text);

---------------------------------------------------------------------------
-- Who may do what (docs/security.md, "Partitioning")
---------------------------------------------------------------------------

-- The relation sch.tbl, or NULL; read from the catalogs, so that a schema
-- the caller may not use is no error (to_regclass raises one).
CREATE FUNCTION @extschema@._pt_rel(sch name, tbl name)
RETURNS regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = sch AND c.relname = tbl
$$;

-- An archive target named as schema.table, or NULL when there is no such
-- table; an unqualified or malformed name is an error.
CREATE FUNCTION @extschema@._pt_target(target text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[];
BEGIN
	IF target IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		parts := parse_ident(target);
	EXCEPTION WHEN others THEN
		parts := NULL;
	END;
	IF cardinality(parts) IS DISTINCT FROM 2 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_name',
			MESSAGE = format('archive target %L is not a schema-qualified table name', target),
			HINT = 'Name the table with its schema, such as ''app.logs_archive''.';
	END IF;
	RETURN @extschema@._pt_rel(parts[1], parts[2]);
END
$$;

-- Raise insufficient_privilege unless the current user is a superuser or
-- has the privileges of rel's owner (may convert or maintain it).
CREATE FUNCTION @extschema@._pt_require_maintain(rel regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner name;
BEGIN
	IF coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN;
	END IF;
	SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
	RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
		MESSAGE = format('role %I may not partition or maintain table %s', current_user, rel),
		DETAIL = format('scale_advisor does this work as the owner of the table (%I), so only a superuser or a role with the owner''s privileges may start it.', owner),
		HINT = format('Run it as the owner of the table, or GRANT %I TO %I.', owner, current_user);
END
$$;

-- Why a set must not be maintained now by the current user, or NULL: its
-- creator or the caller lacks the privileges of the table's owner, or its
-- archive target is owned by another role.
CREATE FUNCTION @extschema@._pm_refusal(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass := @extschema@._pt_rel(sch, tbl);
	tgt regclass;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps
	WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	IF rel IS NULL OR NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, s.created_by), false) THEN
		RETURN format('its creator %s does not have the privileges of the owner of %s (%s)',
					  s.created_by, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN format('role %I does not have the privileges of the owner of %s (%s)',
					  current_user, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF s.retention_action = 'archive' AND s.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(s.archive_target);
		IF tgt IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel) THEN
			RETURN format('its archive target %s is not owned by the owner of %s', tgt, rel);
		END IF;
	END IF;
	RETURN NULL;
END
$$;

-- BEFORE INSERT OR UPDATE on partition_sets: a non-superuser's row is
-- recorded as its own, and a row may name only a table (and an archive
-- target owned by the same role) whose owner's privileges its creator has.
CREATE FUNCTION @extschema@._partition_sets_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	tgt regclass;
	owner name;
	kind text;
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)
		OR NEW.created_by IS NULL THEN
		NEW.created_by := current_user::regrole;
	END IF;
	rel := @extschema@._pt_rel(NEW.parent_schema, NEW.parent_table);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not configure maintenance of table %s', NEW.created_by, rel),
			DETAIL = 'maintain_partitions works on a table as its owner, so a partition set may name only a table whose owner''s privileges its creator has.',
			HINT = format('Add the set as the owner of the table, or GRANT %I TO %s.', owner, NEW.created_by);
	END IF;
	-- the interval and retention as partition_table checks them (a row
	-- whose table does not exist yet is checked when it is maintained)
	IF rel IS NOT NULL AND (TG_OP = 'INSERT'
		OR NEW.part_interval IS DISTINCT FROM OLD.part_interval
		OR NEW.retention IS DISTINCT FROM OLD.retention
		OR NEW.retention_action IS DISTINCT FROM OLD.retention_action) THEN
		SELECT @extschema@._pt_kind(a.atttypid::regtype) INTO kind
		FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = NEW.control_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF kind IS NOT NULL THEN
			PERFORM @extschema@._pt_check_interval(kind, NEW.part_interval);
			PERFORM @extschema@._pt_check_retention(kind, NEW.retention, NEW.retention_action);
		END IF;
	END IF;
	IF NEW.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(NEW.archive_target);
		IF tgt IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_table',
				MESSAGE = format('archive target %s does not exist', NEW.archive_target),
				HINT = 'Create the table first and give its name with the schema, such as ''app.logs_archive''.';
		END IF;
		IF NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false)
			OR (rel IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel)) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive target %s is not owned by the owner of %I.%I', tgt, NEW.parent_schema, NEW.parent_table),
				HINT = 'Rows are archived as the owner of the table: use a target table owned by the same role.';
		END IF;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER partition_sets_check BEFORE INSERT OR UPDATE ON @extschema@.partition_sets
	FOR EACH ROW EXECUTE FUNCTION @extschema@._partition_sets_check();

-- Each role sees and changes the sets of roles whose privileges it has (a
-- superuser all), the state of the sets it sees, and its own log rows.
ALTER TABLE @extschema@.partition_sets ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_sets_creator ON @extschema@.partition_sets
	USING (pg_catalog.pg_has_role(created_by::oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::oid, 'USAGE'));
ALTER TABLE @extschema@.partition_set_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_set_state_follows_set ON @extschema@.partition_set_state
	USING (EXISTS (SELECT 1 FROM @extschema@.partition_sets s
				   WHERE s.parent_schema OPERATOR(pg_catalog.=) partition_set_state.parent_schema
					 AND s.parent_table OPERATOR(pg_catalog.=) partition_set_state.parent_table));
ALTER TABLE @extschema@.partition_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_log_own ON @extschema@.partition_log
	USING (run_by OPERATOR(pg_catalog.=) CURRENT_USER)
	WITH CHECK (run_by OPERATOR(pg_catalog.=) CURRENT_USER);

-- The steps of a conversion, as SQL.  phase: 'prepare' (add the CHECK
-- constraint NOT VALID), 'validate' (its own transaction), 'swap' (one
-- transaction: new parent, then the exclusive lock, rename and attach),
-- 'finish' (validate re-pointed foreign keys, register the set).  Phases
-- already done (the constraint exists) are left out.  Raises an error that
-- lists every blocker when the table cannot be converted.  run_as is the
-- table whose owner runs the statement (relation itself, or a table whose
-- foreign key is re-pointed); NULL for the registration, which runs as the
-- caller.  Only a caller that may maintain relation gets a plan.
CREATE FUNCTION @extschema@.partition_table_plan(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL)
RETURNS TABLE (step integer, phase text, lock_mode text, statement text, run_as regclass)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blockers text[];
	c record;
	att record;
	r record;
	v_kind text;
	typ regtype;
	sch name;
	tbl name;
	qt text;
	qcol text;
	tmp name;
	qtmp text;
	hist name;
	dflt name;
	boundary numeric;
	b_lit text;
	mx numeric;
	margin numeric;
	conoid oid;
	convalid boolean;
	n integer := 0;
	k integer;
	x numeric;
	pname name;
	idxname name;
	tmpidx name;
	def text;
	seqname name;
	sq record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL OR part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	IF lock_timeout IS NULL OR lock_timeout <= interval '0' OR lock_timeout > interval '10 min' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'lock_timeout must be between 0 and 10 minutes';
	END IF;
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000', MESSAGE = format('schema %I does not exist', archive_schema);
	END IF;

	SELECT cl.*, ns.nspname INTO c
	FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE cl.oid = relation;
	PERFORM @extschema@._pt_require_maintain(relation);
	run_as := relation;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF FOUND THEN
		typ := att.atttypid::regtype;
		v_kind := @extschema@._pt_kind(typ);
	END IF;
	blockers := ARRAY(SELECT @extschema@.partition_blockers(relation, column_name));
	IF cardinality(blockers) > 0 THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	PERFORM @extschema@._pt_check_retention(v_kind, retention, retention_action);
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'retention_action archive needs a time partition column';
	END IF;

	sch := c.nspname;
	tbl := c.relname;
	qt := format('%I.%I', sch, tbl);
	qcol := quote_ident(column_name);

	-- an already partitioned table: a default partition if asked for and
	-- missing, then register the set
	IF c.relkind = 'p' THEN
		dflt := @extschema@._pt_name(tbl, 'default');
		IF default_partition AND NOT EXISTS (
			SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = relation AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT') THEN
			IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = dflt AND cl.relnamespace = c.relnamespace) THEN
				RAISE EXCEPTION USING ERRCODE = '42P07',
					MESSAGE = format('cannot add a default partition to %s: relation %I.%I already exists', relation, c.nspname, dflt),
					HINT = 'Nothing was changed.  Rename it, or pass default_partition => false.';
			END IF;
			n := n + 1;
			step := n; phase := 'swap'; lock_mode := 'ACCESS EXCLUSIVE';
			statement := format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', c.nspname, dflt, c.nspname, c.relname);
			RETURN NEXT;
		END IF;
		n := n + 1;
		step := n; phase := 'finish'; lock_mode := NULL; run_as := NULL;
		statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
			retention, retention_action, archive_schema, lock_timeout, retries);
		RETURN NEXT;
		RETURN;
	END IF;

	-- the historical range ends at boundary
	SELECT con.oid, con.convalidated, obj_description(con.oid, 'pg_constraint')
	INTO conoid, convalid, def
	FROM pg_constraint con
	WHERE con.conrelid = relation AND con.conname = 'sa_partition_bound' AND con.contype = 'c';
	IF conoid IS NOT NULL THEN
		IF def IS NULL OR def NOT LIKE 'scale_advisor partition boundary: %' THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('%s has a constraint named sa_partition_bound that scale_advisor did not create', relation);
		END IF;
		b_lit := substr(def, length('scale_advisor partition boundary: ') + 1);
		boundary := @extschema@._pt_to_num(typ, b_lit);
	ELSE
		-- read as the owner (src/run_as.c), like every statement on the table
		b_lit := @extschema@._owner_exec(relation,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM ONLY %s', column_name, qt)) ->> 'v';
		mx := @extschema@._pt_to_num(typ, b_lit);
		IF v_kind = 'time' THEN
			-- rows keep arriving during the conversion: leave a quarter
			-- interval (at least an hour) of room after now()
			margin := greatest(extract(epoch FROM part_interval::interval) / 4, 3600);
			mx := greatest(coalesce(mx, 0), extract(epoch FROM now()) + margin);
		ELSE
			mx := coalesce(mx, 0);
			FOR sq IN
				SELECT s.seqrelid FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
				WHERE d.refobjid = relation AND d.refobjsubid = att.attnum
				  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			LOOP
				mx := greatest(mx, coalesce(pg_sequence_last_value(sq.seqrelid::regclass), 0));
			END LOOP;
			mx := mx + ceil(part_interval::numeric / 4);
		END IF;
		IF historical_until IS NOT NULL THEN
			x := @extschema@._pt_to_num(typ, historical_until);
			IF x <= mx THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('historical_until %L is not above the largest key the table will hold during the conversion (%s)',
									 historical_until, @extschema@._pt_from_num(typ, mx));
			END IF;
			mx := x - 1e-6;
		END IF;
		boundary := @extschema@._pt_slot(v_kind, part_interval, mx);
		IF boundary <= mx THEN
			boundary := @extschema@._pt_add(v_kind, part_interval, boundary, 1);
		END IF;
		b_lit := @extschema@._pt_from_num(typ, boundary);
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%s IS NOT NULL AND %s < %L::%s) NOT VALID',
							qt, qcol, qcol, b_lit, typ);
		RETURN NEXT;
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('COMMENT ON CONSTRAINT sa_partition_bound ON %s IS %L', qt,
							'scale_advisor partition boundary: ' || b_lit);
		RETURN NEXT;
	END IF;
	IF NOT coalesce(convalid, false) THEN
		n := n + 1;
		step := n; phase := 'validate'; lock_mode := 'SHARE UPDATE EXCLUSIVE';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT sa_partition_bound', qt);
		RETURN NEXT;
	END IF;

	-- the swap: build the new parent under a temporary name first
	tmp := @extschema@._pt_name(tbl, 'sa_new');
	qtmp := format('%I.%I', sch, tmp);
	hist := @extschema@._pt_name(tbl, 'history');
	dflt := @extschema@._pt_name(tbl, 'default');
	FOR pname IN
		SELECT x.nm FROM (VALUES (tmp), (hist), (dflt)) x(nm)
		UNION ALL
		SELECT @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval,
			@extschema@._pt_add(v_kind, part_interval, boundary, g)))
		FROM generate_series(0, premake - 1) g
	LOOP
		IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = pname AND cl.relnamespace = c.relnamespace) THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('cannot partition %s: relation %I.%I already exists', relation, sch, pname),
				HINT = 'Nothing was changed.  Rename or drop it and call again.';
		END IF;
	END LOOP;

	n := n + 1;
	step := n; phase := 'swap'; lock_mode := NULL;
	statement := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%s)',
						qtmp, qt, qcol);
	RETURN NEXT;
	-- identity columns get a new sequence with the same options; its value
	-- is taken over under the lock
	FOR r IN
		SELECT a.attname, a.attidentity, s.*, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		JOIN pg_sequence s ON s.seqrelid = d.objid
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
							qtmp, r.attname, CASE r.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
							sch, seqname, r.seqincrement, r.seqmin, r.seqmax,
							r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
		RETURN NEXT;
	END LOOP;
	-- check constraints (ours stays on the old table)
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def, obj_description(con.oid, 'pg_constraint') AS cmt
		FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.conname <> 'sa_partition_bound'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- indexes, primary key and unique constraints under temporary names
	k := 0;
	FOR r IN
		SELECT i.indexrelid, ic.relname AS idxname, con.oid AS conoid, con.conname,
			   pg_get_indexdef(i.indexrelid) AS idxdef, i.indisunique,
			   obj_description(i.indexrelid, 'pg_class') AS cmt
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u')
		WHERE i.indrelid = relation
		ORDER BY ic.relname
	LOOP
		k := k + 1;
		tmpidx := @extschema@._pt_name('sa' || k, r.idxname);
		n := n + 1; step := n;
		IF r.conoid IS NOT NULL THEN
			statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, tmpidx, pg_get_constraintdef(r.conoid));
		ELSE
			def := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
						  r.idxname, qt);
			IF left(r.idxdef, length(def)) <> def THEN
				RAISE EXCEPTION USING ERRCODE = 'XX000',
					MESSAGE = format('unexpected definition of index %I: %s', r.idxname, r.idxdef);
			END IF;
			statement := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
								tmpidx, qtmp) || substr(r.idxdef, length(def) + 1);
		END IF;
		RETURN NEXT;
		IF r.cmt IS NOT NULL THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON INDEX %I.%I IS %L', sch, tmpidx, r.cmt);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- foreign keys to other tables
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con WHERE con.conrelid = relation AND con.contype = 'f'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- comment and privileges
	IF obj_description(relation, 'pg_class') IS NOT NULL THEN
		n := n + 1; step := n;
		statement := format('COMMENT ON TABLE %s IS %L', qtmp, obj_description(relation, 'pg_class'));
		RETURN NEXT;
	END IF;
	FOR r IN
		SELECT a.privilege_type, a.grantee, a.is_grantable
		FROM aclexplode(c.relacl) a
		WHERE a.grantee <> c.relowner
		ORDER BY a.grantee, a.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s ON %s TO %s%s', r.privilege_type, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	FOR r IN
		SELECT a.attname, x.privilege_type, x.grantee, x.is_grantable
		FROM pg_attribute a, aclexplode(a.attacl) x
		WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		ORDER BY a.attnum, x.grantee, x.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	-- future partitions and the default partition (empty, attached to a
	-- parent nobody uses yet)
	FOR k IN 0 .. premake - 1 LOOP
		x := @extschema@._pt_add(v_kind, part_interval, boundary, k);
		pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval, x));
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', sch, pname, qtmp,
							@extschema@._pt_from_num(typ, x),
							@extschema@._pt_from_num(typ, @extschema@._pt_add(v_kind, part_interval, x, 1)));
		RETURN NEXT;
	END LOOP;
	IF default_partition THEN
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', sch, dflt, qtmp);
		RETURN NEXT;
	END IF;

	-- from here on the old table is locked
	n := n + 1; step := n; lock_mode := 'ACCESS EXCLUSIVE';
	statement := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', qt);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qt, hist);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qtmp, tbl);
	RETURN NEXT;
	-- identity: take over the sequence position, drop the old identity and
	-- give the new sequence the old name
	FOR r IN
		SELECT a.attname, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L, s.last_value, s.is_called)) FROM %s s',
							format('%I.%I', sch, seqname), r.oldseq);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %I.%I ALTER COLUMN %I DROP IDENTITY', sch, hist, r.attname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %I.%I RENAME TO %I', sch, seqname,
							(parse_ident(r.oldseq))[array_upper(parse_ident(r.oldseq), 1)]);
		RETURN NEXT;
	END LOOP;
	-- sequences owned by columns (serial): the new parent owns them now
	FOR r IN
		SELECT a.attname, d.objid::regclass AS seq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		WHERE a.attrelid = relation AND a.attidentity = '' ORDER BY a.attnum
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, qt, r.attname);
		RETURN NEXT;
	END LOOP;
	-- triggers move to the parent, which clones row triggers to every
	-- partition, the historical one included
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := format('DROP TRIGGER %I ON %I.%I', r.tgname, sch, hist);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (MINVALUE) TO (%L)', qt, sch, hist, b_lit);
	RETURN NEXT;
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := r.def;
		RETURN NEXT;
		IF r.tgenabled <> 'O' THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %s %s TRIGGER %I', qt,
								CASE r.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
								ELSE 'ENABLE ALWAYS' END, r.tgname);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- index names: the parent's indexes take the original names
	k := 0;
	FOR r IN
		SELECT ic.relname AS idxname
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = relation ORDER BY ic.relname
	LOOP
		k := k + 1;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, r.idxname,
							@extschema@._pt_name(hist, CASE WHEN left(r.idxname, length(tbl) + 1) = tbl || '_'
								THEN substr(r.idxname, length(tbl) + 2) ELSE r.idxname END));
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, @extschema@._pt_name('sa' || k, r.idxname), r.idxname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %I.%I DROP CONSTRAINT sa_partition_bound', sch, hist);
	RETURN NEXT;
	-- foreign keys that reference the table: re-pointed to the parent, NOT
	-- VALID here and validated after the lock is gone
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		-- as the owner of the referencing table
		run_as := r.src;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s DROP CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', r.src, r.conname, r.def,
							CASE WHEN r.def LIKE '% NOT VALID' THEN '' ELSE ' NOT VALID' END);
		RETURN NEXT;
	END LOOP;
	run_as := relation;

	-- after the lock
	lock_mode := 'SHARE UPDATE EXCLUSIVE';
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0 AND con.convalidated
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n; phase := 'finish'; run_as := r.src;
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n; phase := 'finish'; run_as := relation;
	statement := format('ANALYZE %s', qt);
	RETURN NEXT;
	n := n + 1; step := n; phase := 'finish'; lock_mode := NULL; run_as := NULL;
	statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
		retention, retention_action, archive_schema, lock_timeout, retries);
	RETURN NEXT;
END
$$;

-- Run statements in one subtransaction under lock_timeout, each as the
-- owner of the table run_as names at the same position (_owner_exec), or
-- as the caller where it is NULL (only our own configuration rows).  A
-- statement that is a LOCK TABLE starts the exclusive part: after it the
-- table's fingerprint must still be the planned one, and the time from
-- there to the end is returned as lock_ms.  Errors are returned, not raised.
CREATE FUNCTION @extschema@._pt_run(stmts text[], run_as regclass[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	i integer;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	IF cardinality(stmts) <> coalesce(cardinality(run_as), 0) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'every statement needs the table whose owner runs it',
			HINT = 'Pass run_as with as many entries as stmts (NULL for the caller).';
	END IF;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOR i IN 1 .. coalesce(cardinality(stmts), 0) LOOP
			s := stmts[i];
			IF run_as[i] IS NULL THEN
				EXECUTE s;
			ELSE
				PERFORM @extschema@._owner_exec(run_as[i], s);
			END IF;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = '40001',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pt_log(sch name, tbl name, action text, ok boolean, detail text,
	lock_ms double precision DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO @extschema@.partition_log (parent_schema, parent_table, action, ok, detail, exclusive_lock_ms)
VALUES (sch, tbl, action, ok, detail, lock_ms);
-- (row-level security: the caller's own rows)
DELETE FROM @extschema@.partition_log
WHERE id <= (SELECT max(id) - 10000 FROM @extschema@.partition_log);
$$;

-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done.  Only
-- a superuser or a role with the owner's privileges may call it; every
-- statement on the table runs as its owner.
CREATE OR REPLACE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		IF ph OPERATOR(pg_catalog.=) 'finish' THEN
			-- planned together with the swap: the relation is a partition now
			stmts := finish;
			stmts_as := finish_as;
		ELSE
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				fp := @extschema@._pt_fingerprint(relation);
			END IF;
			SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
				   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
				   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
				   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
			INTO stmts, stmts_as, finish, finish_as
			FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
				retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
		END IF;
		CONTINUE WHEN stmts IS NULL;
		IF NOT nonatomic THEN
			IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
				-- the constraint must be committed before it can be validated
				-- without ACCESS EXCLUSIVE: stop here, the next call goes on
				RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
				steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
				RETURN;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- no scans while the caller's transaction holds the lock
				later := ARRAY(SELECT x FROM pg_catalog.unnest(stmts) x WHERE NOT pg_catalog.starts_with(x, 'INSERT INTO '));
				stmts := ARRAY(SELECT x FROM pg_catalog.unnest(stmts) x WHERE pg_catalog.starts_with(x, 'INSERT INTO '));
				-- (the registration runs as the caller)
				stmts_as := pg_catalog.array_fill(NULL::pg_catalog.regclass, ARRAY[pg_catalog.cardinality(stmts)]);
				IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
					RAISE NOTICE 'partition_table: run these after this transaction: %',
						pg_catalog.array_to_string(later, '; ');
				END IF;
			END IF;
		END IF;
		attempt := 0;
		LOOP
			res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
				CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
			EXIT WHEN res.ok;
			IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, res.message);
				IF nonatomic THEN
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				-- the table goes back to what it was before this call: the
				-- CHECK constraint this call added (or one that failed its
				-- validation) is dropped and the drop committed before the
				-- error rolls back the transaction it is raised in
				bound_left := false;
				IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
				   AND (prepared OR res.err_code OPERATOR(pg_catalog.=) '23514') THEN
					IF nonatomic THEN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
					bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
						WHERE con.conrelid OPERATOR(pg_catalog.=) relation
						  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
				END IF;
				IF ph OPERATOR(pg_catalog.=) 'validate' AND res.err_code OPERATOR(pg_catalog.=) '23514' THEN
					RAISE EXCEPTION USING ERRCODE = '23514',
						MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
							relation, column_name),
						DETAIL = res.message,
						HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
							ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
				END IF;
				RAISE EXCEPTION USING ERRCODE = res.err_code,
					MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, res.message),
					HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned; calling partition_table again registers it.'
						WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
						WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
						WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN 'The tables were not swapped.  Calling partition_table again resumes.'
						ELSE 'The table is unchanged apart from a CHECK constraint sa_partition_bound; calling partition_table again resumes.' END;
			END IF;
			attempt := attempt OPERATOR(pg_catalog.+) 1;
			PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
		END LOOP;
		IF ph OPERATOR(pg_catalog.=) 'swap' THEN
			lock_ms := res.lock_ms;
		END IF;
		IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
			prepared := true;
		END IF;
		done := done OPERATOR(pg_catalog.||) stmts;
		PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
			pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
END
$$;

-- Drop the sa_partition_bound constraint after a failed validation.
CREATE OR REPLACE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = pg_catalog.format('table %s does not exist', coalesce(relation::text, 'NULL')),
			HINT = 'Name the table whose sa_partition_bound constraint is to be removed.';
	END IF;
	-- each attempt waits at most lock_timeout; keep trying for a while
	-- longer than the step that failed, as its blocker may just be ending;
	-- only a lock that could not be had is worth another try
	FOR i IN 0 .. greatest(coalesce(retries, 0), 20) LOOP
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   ARRAY[relation], coalesce(lock_timeout, interval '1s'));
		EXIT WHEN res.ok OR res.err_code IS DISTINCT FROM '55P03' AND res.err_code IS DISTINCT FROM '40P01';
		PERFORM pg_sleep(least(0.1 * (i + 1), 1.0));
	END LOOP;
	-- the caller looks whether the constraint is still there and says so
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pm_tasks(sch name, tbl name)
RETURNS TABLE (action text, lo numeric, hi numeric, part oid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	cur numeric;
	lit text;
	target numeric;
	x numeric;
	dpart regclass;
	slots numeric[] := '{}';
	top numeric;
	cutoff numeric;
	r record;
	a numeric;
	b numeric;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := @extschema@._pt_rel(sch, tbl);
	IF parent IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('table %I.%I does not exist', sch, tbl);
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;

	-- the slot of "now": for time keys the clock, for integer keys the
	-- largest key value
	IF v_kind = 'time' THEN
		cur := extract(epoch FROM now());
	ELSE
		lit := @extschema@._owner_exec(parent,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
		cur := coalesce(@extschema@._pt_to_num(typ, lit), 0);
	END IF;
	cur := @extschema@._pt_slot(v_kind, s.part_interval, cur);
	target := @extschema@._pt_add(v_kind, s.part_interval, cur, s.premake + 1);
	-- premake: slots from the top of the existing partitions or from now
	SELECT max(p.hi) INTO top FROM @extschema@._pt_partitions(parent) p WHERE NOT p.is_default;
	-- (never behind the present: past slots get a partition only when rows
	-- for them wait in the default partition)
	x := CASE WHEN top IS NULL THEN cur ELSE greatest(cur, @extschema@._pt_slot(v_kind, s.part_interval, top)) END;
	WHILE x < target LOOP
		slots := slots || x;
		x := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
	END LOOP;
	-- slots of rows waiting in the default partition
	IF dpart IS NOT NULL AND s.move_default_rows THEN
		FOR r IN
			SELECT x.v FROM jsonb_array_elements_text(@extschema@._owner_exec(dpart,
				format('SELECT coalesce(jsonb_agg(v), ''[]'') FROM (SELECT DISTINCT %I::text AS v FROM ONLY %s WHERE %I IS NOT NULL LIMIT 1000) d',
					   s.control_column, dpart, s.control_column))) x(v)
		LOOP
			x := @extschema@._pt_slot(v_kind, s.part_interval, @extschema@._pt_to_num(typ, r.v));
			IF NOT x = ANY (slots) THEN
				slots := slots || x;
			END IF;
		END LOOP;
	END IF;
	FOR x IN SELECT DISTINCT u FROM unnest(slots) u ORDER BY u LOOP
		a := x;
		b := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
		-- clip to the gap: skip when covered
		SELECT max(coalesce(p.hi, 1e30)) INTO top FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND coalesce(p.lo, -1e30) <= a AND coalesce(p.hi, 1e30) > a;
		IF top IS NOT NULL THEN
			IF top >= b THEN
				CONTINUE;
			END IF;
			a := top;
		END IF;
		SELECT least(b, min(p.lo)) INTO b FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND p.lo > a AND p.lo < b;
		b := coalesce(b, @extschema@._pt_add(v_kind, s.part_interval, x, 1));
		action := 'create'; lo := a; hi := b; part := NULL;
		RETURN NEXT;
	END LOOP;

	-- retention
	IF s.retention IS NOT NULL THEN
		IF v_kind = 'time' THEN
			cutoff := extract(epoch FROM (now() AT TIME ZONE 'UTC') - s.retention::interval);
		ELSE
			lit := @extschema@._owner_exec(parent,
				format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
			cutoff := coalesce(@extschema@._pt_to_num(typ, lit), 0) - s.retention::numeric;
		END IF;
		FOR r IN
			SELECT p.part, p.lo, p.hi FROM @extschema@._pt_partitions(parent) p
			WHERE NOT p.is_default AND p.hi IS NOT NULL AND p.hi <= cutoff
			ORDER BY p.hi
		LOOP
			action := 'retire'; lo := r.lo; hi := r.hi; part := r.part;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Create the partition [lo, hi) of a set without ACCESS EXCLUSIVE on the
-- parent: a standalone table with a CHECK constraint, the rows of that
-- range moved out of the default partition, then ATTACH (SHARE UPDATE
-- EXCLUSIVE on the parent).  Every statement runs as the parent's owner
-- (so the partition is the owner's, and the owner's triggers, constraints
-- and index expressions run with the owner's rights).  One transaction;
-- errors are returned.
CREATE OR REPLACE FUNCTION @extschema@._pm_create(sch name, tbl name, lo numeric, hi numeric,
	OUT ok boolean, OUT err_code text, OUT message text, OUT moved bigint, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	dpart regclass;
	pname name;
	q text;
	lo_lit text;
	hi_lit text;
	cols text;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	moved := 0;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;
	pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, s.part_interval, lo));
	part_name := format('%I.%I', sch, pname);
	q := part_name;
	lo_lit := @extschema@._pt_from_num(typ, lo);
	hi_lit := @extschema@._pt_from_num(typ, hi);
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF to_regclass(q) IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('relation %s already exists but is not a partition of %s', q, parent);
		END IF;
		st := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', q, parent);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%I IS NOT NULL AND %I >= %L::%s AND %I < %L::%s)',
					 q, s.control_column, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ);
		PERFORM @extschema@._owner_exec(parent, st);
		-- the parent's lock first (the one ATTACH takes): while it cannot
		-- be had, nothing else is held, and nobody waits on us
		st := format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
		PERFORM @extschema@._owner_exec(parent, st);
		IF dpart IS NOT NULL THEN
			-- writers that would land in the default partition wait for this
			-- transaction; readers do not
			st := format('LOCK TABLE %s IN EXCLUSIVE MODE', dpart);
			PERFORM @extschema@._owner_exec(parent, st);
			st := format('WITH m AS (DELETE FROM ONLY %s WHERE %I >= %L::%s AND %I < %L::%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM m',
						 dpart, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ, cols, q, cols, cols);
			moved := (@extschema@._owner_exec(parent, st) ->> 'processed')::bigint;
		END IF;
		st := format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', parent, q, lo_lit, hi_lit);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s DROP CONSTRAINT sa_partition_bound', q);
		PERFORM @extschema@._owner_exec(parent, st);
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		moved := 0;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Detach a partition past retention, then drop it or move it to the
-- archive schema as the set says, as the parent's owner (a partition owned
-- by another role cannot be dropped or moved: the whole step fails).  One
-- transaction; errors are returned.
CREATE OR REPLACE FUNCTION @extschema@._pm_retire(sch name, tbl name, part oid,
	OUT ok boolean, OUT err_code text, OUT message text, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	part_name := part::regclass::text;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF (SELECT relowner FROM pg_class WHERE oid = part)
			<> (SELECT relowner FROM pg_class WHERE oid = parent) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('partition %s is not owned by the owner of %s; it is left attached', part::regclass, parent),
				HINT = 'Retire it by hand, or give it to the owner of the partitioned table.';
		END IF;
		st := format('ALTER TABLE %s DETACH PARTITION %s', parent, part::regclass);
		PERFORM @extschema@._owner_exec(parent, st);
		IF s.retention_action = 'drop' THEN
			st := format('DROP TABLE %s', part::regclass);
			PERFORM @extschema@._owner_exec(parent, st);
		ELSIF s.retention_action = 'archive_schema' THEN
			st := format('ALTER TABLE %s SET SCHEMA %I', part::regclass, s.archive_schema);
			PERFORM @extschema@._owner_exec(parent, st);
			part_name := part::regclass::text;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Record the start or the end of a set's maintenance.
CREATE OR REPLACE FUNCTION @extschema@._pm_state(sch name, tbl name, started boolean, err text,
	created integer DEFAULT 0, retired integer DEFAULT 0, moved bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dpart regclass;
	remaining bigint;
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	IF started THEN
		-- (maintain_partitions claims the set with _pm_claim instead)
		UPDATE @extschema@.partition_set_state
		SET last_started = clock_timestamp()
		WHERE parent_schema = sch AND parent_table = tbl;
		RETURN;
	END IF;
	IF @extschema@._pt_rel(sch, tbl) IS NOT NULL THEN
		SELECT p.part::regclass INTO dpart
		FROM @extschema@._pt_partitions(format('%I.%I', sch, tbl)::regclass) p WHERE p.is_default;
	END IF;
	IF dpart IS NOT NULL THEN
		remaining := (@extschema@._owner_exec(dpart,
			format('SELECT jsonb_build_object(''n'', count(*)) FROM (SELECT 1 FROM ONLY %s LIMIT 10000000) x', dpart)) ->> 'n')::bigint;
		IF remaining > 0 THEN
			RAISE WARNING '% rows are in the default partition % of %.%', remaining, dpart, sch, tbl
				USING HINT = 'Maintenance moves rows whose key is set into new partitions; rows with a NULL key stay there.';
		END IF;
	END IF;
	UPDATE @extschema@.partition_set_state
	SET last_finished = clock_timestamp(),
		last_success = CASE WHEN err IS NULL THEN clock_timestamp() ELSE last_success END,
		last_error = CASE WHEN err IS NULL THEN last_error ELSE err END,
		last_error_at = CASE WHEN err IS NULL THEN last_error_at ELSE clock_timestamp() END,
		consecutive_failures = CASE WHEN err IS NULL THEN 0 ELSE consecutive_failures + 1 END,
		partitions_created = partitions_created + created,
		partitions_retired = partitions_retired + retired,
		default_rows_moved = default_rows_moved + moved,
		default_rows_remaining = remaining,
		running_pid = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_pid END,
		running_backend_start = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_backend_start END
	WHERE parent_schema = sch AND parent_table = tbl;
END
$$;

-- Drop a detached partition that the archiving helper emptied.
CREATE OR REPLACE FUNCTION @extschema@._pm_drop_if_empty(part_name text, lock_timeout interval,
	OUT ok boolean, OUT message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(part_name);
	left_rows boolean;
	res record;
BEGIN
	ok := true;
	IF rel IS NULL THEN
		message := format('%s handed to scale_advisor.archive', part_name);
		RETURN;
	END IF;
	left_rows := (@extschema@._owner_exec(rel,
		format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s))', rel)) #>> '{}')::boolean;
	IF left_rows THEN
		ok := false;
		message := format('%s handed to scale_advisor.archive; rows are left in it, so it stays (detached)', part_name);
		RETURN;
	END IF;
	res := @extschema@._pt_run(ARRAY[format('DROP TABLE %s', rel)], ARRAY[rel], lock_timeout);
	ok := res.ok;
	message := CASE WHEN res.ok THEN format('%s handed to scale_advisor.archive, then dropped (empty)', part_name)
		ELSE format('%s handed to scale_advisor.archive; dropping it failed: %s', part_name, res.message) END;
END
$$;

-- Claim a set for this session's maintenance run: NULL when claimed, else
-- who holds it.  The claim is the set's partition_set_state row (its
-- running_pid), which only roles that may write that row can set, unlike
-- an advisory lock, which any role can take.  A claim whose session has
-- gone, or is not running a statement, is stale and taken over.
CREATE FUNCTION @extschema@._pm_claim(sch name, tbl name, wait interval)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st record;
	act record;
	msg text;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM wait) * 1000)::bigint::text, true);
		SELECT s.running_pid, s.running_backend_start, s.last_started INTO st
		FROM @extschema@.partition_set_state s
		WHERE s.parent_schema = sch AND s.parent_table = tbl
		FOR UPDATE;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN lock_not_available THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RETURN format('another transaction holds its state row (%s)', msg);
	END;
	IF st.running_pid IS NOT NULL AND st.running_pid <> pg_backend_pid() THEN
		SELECT a.usename, a.backend_start, a.state INTO act
		FROM pg_stat_activity a WHERE a.pid = st.running_pid;
		-- (backend_start and state are NULL for a session the caller may
		-- not see in full: taken as running)
		IF FOUND AND (act.backend_start IS NULL OR act.backend_start = st.running_backend_start)
			AND coalesce(act.state, 'active') NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)') THEN
			RETURN format('process %s of role %s, started %s', st.running_pid,
						  coalesce(quote_ident(act.usename::text), '?'), st.last_started);
		END IF;
	END IF;
	UPDATE @extschema@.partition_set_state
	SET running_pid = pg_backend_pid(),
		running_backend_start = (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()),
		last_started = clock_timestamp()
	WHERE parent_schema = sch AND parent_table = tbl;
	RETURN NULL;
END
$$;

-- The sets a maintenance run covers, checked: an error for a set that
-- does not exist, is not partitioned, or lost its column.
CREATE OR REPLACE FUNCTION @extschema@._pm_sets(parent regclass)
RETURNS TABLE (parent_schema name, parent_table name, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass;
BEGIN
	IF parent IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM @extschema@.partition_sets ps JOIN pg_class c ON c.relname = ps.parent_table
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ps.parent_schema
		WHERE c.oid = parent) THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('%s is not in scale_advisor.partition_sets', parent),
			HINT = 'Register it with scale_advisor.partition_table.';
	END IF;
	FOR s IN
		SELECT ps.* FROM @extschema@.partition_sets ps
		WHERE ps.enabled
		ORDER BY ps.parent_schema, ps.parent_table
	LOOP
		rel := @extschema@._pt_rel(s.parent_schema, s.parent_table);
		CONTINUE WHEN parent IS NOT NULL AND rel IS DISTINCT FROM parent;
		parent_schema := s.parent_schema;
		parent_table := s.parent_table;
		problem := NULL;
		IF rel IS NULL THEN
			problem := format('table %I.%I does not exist', s.parent_schema, s.parent_table);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
						  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
						  WHERE pt.partrelid = rel AND pt.partstrat = 'r' AND a.attname = s.control_column) THEN
			problem := format('%s is not range-partitioned on column %I', rel, s.control_column);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- NULL when the archiving helper accepts the partition (its dry run
-- passes), else its error: the real run raises errors that would end the
-- maintenance run, and cannot be caught where it commits.
CREATE OR REPLACE FUNCTION @extschema@._pm_archive_check(part_name text, col name, retention text,
	target text, batch_size integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	CALL @extschema@.archive(relation => part_name::regclass, time_column => col,
		older_than => retention::interval, target => @extschema@._pt_target(target),
		batch_size => batch_size, dry_run => true,
		run_id => r, rows_moved => n, status => st);
	RETURN NULL;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
	RETURN msg;
END
$$;

-- Maintain every enabled set the caller sees, or only parent: premake,
-- retention, rows in the default partition.  Each DDL runs in its own
-- transaction as the table's owner under the set's lock_timeout, retried
-- ddl_retries times.  A set runs only when its creator and the caller
-- still have the privileges of the table's owner (else a WARNING and a
-- logged skip; for an explicit parent the caller's lack is an error), and
-- only in one session at a time (a run that finds the set claimed by a
-- running session skips it with a WARNING naming that session); meant to
-- be CALLed from cron.
CREATE OR REPLACE PROCEDURE @extschema@.maintain_partitions(parent regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	s record;
	cfg record;
	t @extschema@._pm_task;
	pl record;
	res record;
	attempt integer;
	nonatomic boolean;
	err pg_catalog.text;
	refusal pg_catalog.text;
	holder pg_catalog.text;
	qname pg_catalog.text;
	created integer;
	retired integer;
	moved bigint;
	helper boolean;
	a_run bigint;
	a_rows bigint;
	a_status pg_catalog.text;
	a_err pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('maintain_partitions()');
	-- a parent the caller may not maintain, or an unknown one, is an error
	-- before anything is done
	IF parent IS NOT NULL THEN
		PERFORM @extschema@._pt_require_maintain(parent);
	END IF;
	PERFORM FROM @extschema@._pm_sets(parent) LIMIT 1;
	nonatomic := @extschema@._nonatomic();
	FOR s IN SELECT * FROM @extschema@._pm_sets(parent) LOOP
		qname := pg_catalog.format('%I.%I', s.parent_schema, s.parent_table);
		SELECT * INTO cfg FROM @extschema@.partition_sets ps
		WHERE ps.parent_schema OPERATOR(pg_catalog.=) s.parent_schema
		  AND ps.parent_table OPERATOR(pg_catalog.=) s.parent_table;
		-- the set's creator and the caller must still have the privileges
		-- of the table's owner
		refusal := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
		IF refusal IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: %', qname, refusal
				USING HINT = 'Maintenance runs as the owner of the table only for a set created by a role with the owner''s privileges; re-create the set as the owner.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: %s', refusal));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		-- one session at a time per set
		holder := @extschema@._pm_claim(s.parent_schema, s.parent_table, cfg.lock_timeout);
		IF holder IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: another run is in progress (%)', qname, holder
				USING HINT = 'If that session is not running maintenance, end it; the next run takes the set over.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: another run is in progress (%s)', holder));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
		err := s.problem;
		created := 0;
		retired := 0;
		moved := 0;
		IF err IS NULL THEN
			pl := @extschema@._pm_plan(s.parent_schema, s.parent_table);
			err := pl.err;
		END IF;
		IF err IS NULL THEN
			FOREACH t IN ARRAY pl.tasks LOOP
				attempt := 0;
				LOOP
					IF t.action OPERATOR(pg_catalog.=) 'create' THEN
						res := @extschema@._pm_create(s.parent_schema, s.parent_table, t.lo, t.hi);
					ELSE
						res := @extschema@._pm_retire(s.parent_schema, s.parent_table, t.part);
					END IF;
					EXIT WHEN res.ok OR NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable)
						OR attempt OPERATOR(pg_catalog.>=) cfg.ddl_retries;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF res.ok THEN
					IF t.action OPERATOR(pg_catalog.=) 'create' THEN
						created := created OPERATOR(pg_catalog.+) 1;
						moved := moved OPERATOR(pg_catalog.+) res.moved;
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'create', true,
							pg_catalog.format('%s created%s%s', res.part_name,
								CASE WHEN res.moved OPERATOR(pg_catalog.>) 0
									THEN pg_catalog.format(', %s rows moved from the default partition', res.moved) ELSE '' END,
								CASE WHEN attempt OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format(' after %s retries', attempt) ELSE '' END));
					ELSE
						retired := retired OPERATOR(pg_catalog.+) 1;
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'retire', true,
							pg_catalog.format('%s detached (%s)', res.part_name, cfg.retention_action));
					END IF;
				ELSE
					err := pg_catalog.format('%s failed after %s retries: %s', t.action, attempt, res.message);
					PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, t.action, false, err);
				END IF;
				IF nonatomic THEN
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				-- a detached partition goes to the archiving helper when the
				-- set asks for it and the helper is installed
				IF res.ok AND t.action OPERATOR(pg_catalog.=) 'retire'
					AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
						JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
						WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@'
						  AND p.proname OPERATOR(pg_catalog.=) 'archive'
						  AND p.prokind OPERATOR(pg_catalog.=) 'p') INTO helper;
					a_err := NULL;
					IF helper AND nonatomic THEN
						-- the target must still be the owner's (checked again:
						-- it may have changed hands since the set was made)
						a_err := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
						IF a_err IS NULL THEN
							a_err := @extschema@._pm_archive_check(res.part_name, cfg.control_column,
								cfg.retention, cfg.archive_target, cfg.archive_batch_size);
						END IF;
					END IF;
					IF helper AND NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', res.part_name));
					ELSIF helper AND a_err IS NOT NULL THEN
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive refused it: %s',
								res.part_name, a_err));
					ELSIF helper THEN
						-- a static CALL (EXECUTE would make it atomic); the
						-- helper resolves the names itself
						a_run := NULL;
						a_rows := NULL;
						a_status := NULL;
						CALL @extschema@.archive(relation => res.part_name::pg_catalog.regclass,
							time_column => cfg.control_column,
							older_than => cfg.retention::interval,
							target => @extschema@._pt_target(cfg.archive_target),
							batch_size => cfg.archive_batch_size,
							run_id => a_run, rows_moved => a_rows, status => a_status);
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', true,
							pg_catalog.format('scale_advisor.archive moved %s rows of %s (run %s, %s)',
								a_rows, res.part_name, a_run, a_status));
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(res.part_name, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					ELSE
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive is not installed', res.part_name));
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
				END IF;
			END LOOP;
		ELSE
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'maintain', false, err);
		END IF;
		-- records the end and gives up the claim
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
		IF err IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: %: %', qname, err;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
END
$$;

-- The upper end of the partitions of a set, as the column's type prints it.
CREATE OR REPLACE FUNCTION @extschema@._pm_covered_until(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := @extschema@._pt_rel(sch, tbl);
	typ regtype;
BEGIN
	IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = rel) THEN
		RETURN NULL;
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_partitioned_table pt
	JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] WHERE pt.partrelid = rel;
	RETURN (SELECT @extschema@._pt_from_num(typ, max(p.hi))
			FROM @extschema@._pt_partitions(rel) p WHERE NOT p.is_default);
END
$$;

-- Is maintenance running as expected?  One row per set.
CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN @extschema@._pt_rel(s.parent_schema, s.parent_table) IS NULL THEN 'table does not exist'
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'maintenance has never succeeded'
		 -- (a set restored from a dump has no state: not "ok" until a run succeeds)
		 WHEN st.last_success IS NULL THEN 'not maintained yet'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status');

REVOKE ALL ON FUNCTION @extschema@._pt_run(text[], regclass[], interval, regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_claim(name, name, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_refusal(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._partition_sets_check() FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.partition_blockers(relation regclass, column_name name)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	att record;
	r record;
	v_kind text;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation and column must not be NULL';
	END IF;
	SELECT cl.* INTO c FROM pg_class cl WHERE cl.oid = relation;
	IF c.relkind NOT IN ('r', 'p') THEN
		RETURN NEXT format('%s is not a table', relation);
		RETURN;
	END IF;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RETURN NEXT format('column %I does not exist in %s', column_name, relation);
		RETURN;
	END IF;
	v_kind := @extschema@._pt_kind(att.atttypid::regtype);
	IF v_kind IS NULL THEN
		RETURN NEXT format('column %I has type %s; the partition column must be timestamptz, timestamp, date, smallint, integer or bigint',
						   column_name, format_type(att.atttypid, att.atttypmod));
	END IF;
	IF att.attgenerated <> '' THEN
		RETURN NEXT format('column %I is a generated column, which cannot be a partition key', column_name);
	END IF;
	IF c.relkind = 'p' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
					   WHERE pt.partrelid = relation AND pt.partstrat = 'r'
						 AND pt.partnatts = 1 AND pt.partattrs[0] = att.attnum) THEN
			RETURN NEXT format('%s is already partitioned, but not by range on column %I alone', relation, column_name);
		END IF;
		RETURN;
	END IF;
	-- a row without a key fits no partition; looked for as the owner (a
	-- caller without the owner's privileges cannot convert the table anyway)
	IF NOT att.attnotnull AND coalesce(@extschema@._may_maintain(relation), false)
	   AND (@extschema@._owner_exec(relation,
			format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NULL))', relation, column_name)))::boolean THEN
		RETURN NEXT format('column %I is NULL in some rows, which fit no partition; set a value in them (or delete them) first',
						   column_name);
	END IF;
	IF c.relpersistence = 't' THEN
		RETURN NEXT format('%s is a temporary table', relation);
	ELSIF c.relpersistence = 'u' THEN
		RETURN NEXT format('%s is unlogged; partitioned tables cannot be unlogged', relation);
	END IF;
	IF c.relispartition THEN
		RETURN NEXT format('%s is itself a partition', relation);
	END IF;
	IF c.reloftype <> 0 THEN
		RETURN NEXT format('%s is a typed table (OF %s)', relation, c.reloftype::regtype);
	END IF;
	-- primary keys, unique constraints, unique indexes, exclusion constraints
	FOR r IN
		SELECT i.indexrelid::regclass AS idx, con.conname, con.contype, i.indisunique
		FROM pg_index i
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u', 'x')
		WHERE i.indrelid = relation
		  AND (i.indisunique OR con.contype = 'x')
		ORDER BY i.indexrelid::regclass::text
	LOOP
		IF r.contype = 'x' THEN
			RETURN NEXT format('exclusion constraint %I cannot be carried over to a partitioned table', r.conname);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_index i
						  WHERE i.indexrelid = r.idx AND att.attnum = ANY (i.indkey::int2[])) THEN
			RETURN NEXT format('%s %s does not include the partition column %I',
							   CASE r.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
							   ELSE 'unique index' END,
							   coalesce(quote_ident(r.conname), r.idx::text), column_name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.connoinherit
	LOOP
		RETURN NEXT format('check constraint %I is NO INHERIT', r.conname);
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'f' AND NOT con.convalidated
	LOOP
		RETURN NEXT format('foreign key %I is NOT VALID; validate or drop it first', r.conname);
	END LOOP;
	-- foreign keys of other tables that reference this one
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, con.conkey, con.confkey,
			   src.relkind AS src_kind
		FROM pg_constraint con
		JOIN pg_class src ON src.oid = con.conrelid
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		IF r.src = relation THEN
			RETURN NEXT format('foreign key %I references the table itself', r.conname);
		ELSIF NOT att.attnum = ANY (r.confkey) THEN
			RETURN NEXT format('foreign key %I of %s references columns without the partition column %I; a foreign key to a partitioned table must reference a key that includes it',
							   r.conname, r.src, column_name);
		ELSIF r.src_kind = 'p' THEN
			RETURN NEXT format('foreign key %I of partitioned table %s cannot be re-created NOT VALID on PostgreSQL %s',
							   r.conname, r.src, current_setting('server_version_num')::int / 10000);
		END IF;
	END LOOP;
	FOR r IN
		SELECT i.inhrelid::regclass AS child FROM pg_inherits i WHERE i.inhparent = relation ORDER BY i.inhrelid::regclass::text
	LOOP
		RETURN NEXT format('%s has inheritance child %s', relation, r.child);
	END LOOP;
	FOR r IN
		SELECT i.inhparent::regclass AS par FROM pg_inherits i WHERE i.inhrelid = relation ORDER BY i.inhparent::regclass::text
	LOOP
		RETURN NEXT format('%s inherits from %s', relation, r.par);
	END LOOP;
	FOR r IN
		SELECT rw.rulename FROM pg_rewrite rw
		WHERE rw.ev_class = relation AND rw.rulename <> '_RETURN' ORDER BY 1
	LOOP
		RETURN NEXT format('rule %I is defined on %s', r.rulename, relation);
	END LOOP;
	FOR r IN
		SELECT DISTINCT rw.ev_class::regclass::text AS v
		FROM pg_depend d
		JOIN pg_rewrite rw ON rw.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid = relation AND rw.ev_class <> relation
		ORDER BY 1
	LOOP
		RETURN NEXT format('view %s depends on %s; drop it and create it again after the conversion', r.v, relation);
	END LOOP;
	IF c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = relation) THEN
		RETURN NEXT format('%s has row-level security, which is not carried over', relation);
	END IF;
	FOR r IN
		SELECT p.pubname FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
		WHERE pr.prrelid = relation ORDER BY 1
	LOOP
		RETURN NEXT format('%s is in publication %I, which is not carried over', relation, r.pubname);
	END LOOP;
	FOR r IN
		SELECT t.tgname FROM pg_trigger t
		WHERE t.tgrelid = relation AND NOT t.tgisinternal
		  AND (t.tgconstraint <> 0 OR t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL)
		ORDER BY 1
	LOOP
		RETURN NEXT format('trigger %I is a constraint trigger or uses transition tables', r.tgname);
	END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pt_check_interval(kind text, part_interval text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	n numeric;
BEGIN
	IF part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'partition interval must not be NULL';
	END IF;
	IF kind = 'time' THEN
		-- '180' would be read as 180 seconds: a time span needs its unit
		IF part_interval ~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('interval %L has no unit', part_interval),
				HINT = 'A number alone would be read as seconds: write the unit, such as ''90 days'' or ''1 month''.';
		END IF;
		BEGIN
			iv := part_interval::interval;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for a time column', part_interval),
				HINT = 'Give an interval such as ''1 day'', ''1 week'' or ''1 month''.';
		END;
		IF iv <= interval '0' OR iv < interval '1 minute' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L is too small', part_interval),
				HINT = 'Give an interval of at least one minute.';
		END IF;
		IF (extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0)
			AND iv <> make_interval(years => extract(year FROM iv)::integer,
									months => extract(month FROM iv)::integer) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L mixes months with days or hours', part_interval),
				HINT = 'Use whole months (''1 month'', ''3 months'', ''1 year'') or a fixed length (''1 day'', ''7 days'', ''6 hours'').';
		END IF;
	ELSE
		BEGIN
			n := part_interval::numeric;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give the number of key values per partition, such as ''1000000''.';
		END;
		IF n <= 0 OR n <> trunc(n) OR n > 9223372036854775807 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give a positive whole number of key values per partition.';
		END IF;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pt_check_retention(kind text, retention text, action text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	minimum text := CASE WHEN action = 'drop' THEN '1 day' ELSE '1 hour' END;
BEGIN
	IF retention IS NULL THEN
		RETURN;
	END IF;
	PERFORM @extschema@._pt_check_interval(kind, retention);
	IF kind = 'time' AND retention::interval < minimum::interval THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('retention %L is shorter than %s', retention, minimum),
			HINT = format('With retention_action %s the retention must be at least %s, such as ''90 days''.',
						  coalesce(action, 'detach'), minimum);
	END IF;
END
$$;

-- (only tells the calling procedure whether it may COMMIT: archive() and
-- unarchive(), which run with their caller's rights, need it too)
GRANT EXECUTE ON FUNCTION @extschema@._nonatomic() TO PUBLIC;

-- N+1 rewrites: _n_plus_one_entries() returns two more columns, the notes
-- of the batched statement and of the JOIN (what each $n is, or why no
-- statement replaces the loop); the n_plus_one view shows them in the
-- suggestion (no new view column).
-- users' own views over n_plus_one must stay: the view is pointed away
-- from the function while it is replaced (CREATE OR REPLACE, not DROP;
-- inside the update's transaction nobody sees this)
CREATE OR REPLACE VIEW @extschema@.n_plus_one AS
SELECT NULL::oid AS dbid, NULL::oid AS userid, NULL::text AS application_name,
	   NULL::text AS kind, NULL::bigint AS queryid, NULL::text AS query,
	   NULL::bigint AS parent_queryid, NULL::text AS parent_query,
	   NULL::bigint AS parent_rows, NULL::bigint AS detections,
	   NULL::bigint AS repeated_calls, NULL::bigint AS max_run,
	   NULL::numeric AS avg_run, NULL::bigint AS last_run,
	   NULL::numeric AS total_ms, NULL::text AS suggestion,
	   NULL::text AS batched_query, NULL::text AS join_query,
	   NULL::timestamptz AS first_seen, NULL::timestamptz AS last_seen
 WHERE false;
DROP FUNCTION @extschema@._n_plus_one_entries(bigint[], text[], oid[]);
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
	ignore_creators oid[] DEFAULT NULL,
	OUT dbid oid,
	OUT userid oid,
	OUT application_name text,
	OUT kind text,
	OUT queryid bigint,
	OUT query text,
	OUT parent_queryid bigint,
	OUT parent_query text,
	OUT parent_rows bigint,
	OUT detections bigint,
	OUT repeated_calls bigint,
	OUT max_run bigint,
	OUT last_run bigint,
	OUT total_ms double precision,
	OUT batched_query text,
	OUT join_query text,
	OUT first_seen timestamptz,
	OUT last_seen timestamptz,
	OUT batched_note text,
	OUT join_note text)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries_1_1';

CREATE OR REPLACE VIEW @extschema@.n_plus_one AS
SELECT e.dbid,
	   e.userid,
	   e.application_name,
	   e.kind,
	   e.queryid,
	   e.query,
	   e.parent_queryid,
	   e.parent_query,
	   e.parent_rows,
	   e.detections,
	   e.repeated_calls,
	   e.max_run,
	   round(e.repeated_calls::numeric / NULLIF(e.detections, 0), 1) AS avg_run,
	   e.last_run,
	   round(e.total_ms::numeric, 3) AS total_ms,
	   CASE
		 WHEN e.queryid IS NULL THEN
		   '<insufficient privilege>'
		 WHEN e.kind = 'repeated_identical' THEN
		   '-- the same statement ran ' || e.max_run
		   || ' times in a row with the same parameters: run it once and reuse its result'
		 ELSE
		   coalesce(e.batched_note,
					CASE WHEN e.kind = 'insert_loop' THEN
					  '-- insert all the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row'
					ELSE
					  '-- one statement for all the keys (WHERE key = ANY($1)) instead of one statement per key'
					END)
		   || coalesce(E'\n' || e.batched_query || ';', '')
		   || coalesce(E'\n' || coalesce(e.join_note,
										 '-- or, instead of looping over the rows of the parent query, join to it:')
					   || E'\n' || e.join_query || ';', '')
	   END AS suggestion,
	   e.batched_query,
	   e.join_query,
	   e.first_seen,
	   e.last_seen
  FROM @extschema@._n_plus_one_entries(
		(SELECT pg_catalog.array_agg(i.queryid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.application_name ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.created_by::pg_catalog.oid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded();
GRANT SELECT ON @extschema@.n_plus_one TO PUBLIC;

-- fail safe: partition_table and maintain_partitions undo a failed step
-- whatever stopped it (an error, a lock timeout, a cancel) and recognise
-- what a killed run left (issue 16); durations in bounds that catch a
-- missing unit; an archive policy goes on after its table is partitioned,
-- into an archive keyed on part of the new key; 1.0 rows checked against
-- the 1.1 rules (docs/reliability.md, "Fail safe").
-- A duration given as an interval, for a message: '500 ms', '2 s', '5 min',
-- or the interval's own text from an hour up.
CREATE FUNCTION @extschema@._duration_text(v interval)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL THEN 'NULL'
	WHEN v >= interval '1 hour' OR v <= interval '-1 hour' THEN v::text
	WHEN abs(extract(epoch FROM v)) < 1 THEN round(extract(epoch FROM v) * 1000, 3)::float8 || ' ms'
	WHEN abs(extract(epoch FROM v)) >= 60 AND mod(extract(epoch FROM v), 60) = 0
		THEN (extract(epoch FROM v) / 60)::float8 || ' min'
	ELSE round(extract(epoch FROM v), 3)::float8 || ' s'
END
$$;

-- Refuse a duration argument (or policy column) outside [lo, hi] (hi NULL:
-- no upper bound), or NULL unless nullable.  An interval reads a number
-- without a unit as seconds ('500' is 500 seconds, where lock_timeout = 500
-- in postgresql.conf means milliseconds), and once it is an interval the
-- unit can no longer be told apart: the bounds are set so that the usual
-- slips land outside them, and the hint names the unit.  why, when given,
-- is the DETAIL: what a value out of bounds would do.
CREATE FUNCTION @extschema@._check_duration(arg text, v interval, lo interval, hi interval,
	nullable boolean DEFAULT false, example text DEFAULT '2s', why text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	hint text := format('A number without a unit is read as seconds (%s => ''500'' is 500 seconds, not milliseconds as in postgresql.conf): write the unit, such as ''%s''.',
						arg, example);
BEGIN
	IF v IS NULL THEN
		IF nullable THEN
			RETURN;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = format('%s must not be NULL', arg),
			HINT = format('Give %s with its unit, such as ''%s''.', arg, example);
	END IF;
	IF v < lo THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN lo <= interval '0' THEN format('%s must not be negative, not %s', arg, @extschema@._duration_text(v))
						   WHEN v <= interval '0' THEN format('%s must be positive, not %s', arg, @extschema@._duration_text(v))
						   ELSE format('%s of %s is shorter than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(lo)) END,
			DETAIL = why, HINT = hint;
	END IF;
	IF v > hi THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('%s of %s is longer than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(hi)),
			DETAIL = why, HINT = hint;
	END IF;
END
$$;

-- Refuse a run's durations out of bounds (_check_duration): max_duration
-- NULL or at least a second, pause up to a minute, lock_timeout from 1 ms
-- (0 would wait forever) up to a minute.
CREATE FUNCTION @extschema@._archive_check_timing(max_duration interval, pause interval,
	lock_timeout interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_duration('max_duration', max_duration, interval '1 second', NULL,
		true, '10min', 'A run stops starting batches after max_duration; NULL runs until every row is moved.');
	PERFORM @extschema@._check_duration('pause', pause, interval '0', interval '1 minute',
		false, '100ms', 'The run keeps the table''s archiving lock while it pauses between batches; to archive less often, schedule the runs less often.');
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
END $$;

-- A policy may name only tables whose owner's privileges its creator has
-- (checked again at every run); created_by is the role that wrote the row,
-- except that a superuser may write a row on another role's behalf.
CREATE OR REPLACE FUNCTION @extschema@._archive_policy_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me regrole := current_user::regrole;
	super boolean := (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = current_user::regrole);
	rel regclass;
	tgt regclass;
BEGIN
	IF NOT super THEN
		IF NEW.created_by IS DISTINCT FROM me
		   AND (TG_OP = 'INSERT' OR NEW.created_by IS DISTINCT FROM OLD.created_by) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('role %s may not write an archive policy on behalf of role %s',
								 me, coalesce(NEW.created_by::text, 'NULL')),
				HINT = 'Leave created_by at its default: a policy belongs to the role that writes it.';
		END IF;
		-- whoever changes a policy answers for it from then on
		NEW.created_by := me;
	END IF;
	IF NEW.created_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
			MESSAGE = 'created_by of an archive policy must not be NULL',
			HINT = 'Leave it at its default, the current role.';
	END IF;
	-- the age and the durations: every enabled row, whatever changed (a
	-- row disabled by the update from 1.0 is checked when it is enabled)
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._archive_check_age(NEW.older_than);
		PERFORM @extschema@._archive_check_timing(NEW.max_duration, NEW.pause, NEW.lock_timeout);
	END IF;
	-- names resolve as at run time (search_path pg_catalog, pg_temp); a
	-- table that does not exist yet is checked when the policy runs
	rel := to_regclass(NEW.relation);
	tgt := to_regclass(NEW.target);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive table %s, owned by role %s',
							 NEW.created_by, rel,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel)),
			HINT = format('Create the policy as the owner of the table, or GRANT %s TO %s.',
						  (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel), NEW.created_by);
	END IF;
	IF tgt IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive into table %s, owned by role %s',
							 NEW.created_by, tgt,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = tgt)),
			HINT = 'The archive must belong to the owner of the table.';
	END IF;
	IF rel IS NOT NULL AND tgt IS NOT NULL
	   AND (SELECT c.relowner FROM pg_class c WHERE c.oid = rel)
		   <> (SELECT c.relowner FROM pg_class c WHERE c.oid = tgt) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('archive table %s is not owned by the owner of table %s', tgt, rel),
			HINT = 'The archive must belong to the owner of the table: ALTER TABLE ... OWNER TO ..., or name another target.';
	END IF;
	RETURN NEW;
END $$;

-- Validates a run, refuses a caller who may not maintain the table or an
-- archive owned by another role, takes the table's run lock, creates the
-- default archive table (as the table's owner) when needed, records the run
-- and returns its plan (the SQL of each batch step, run as the owner through
-- _owner_exec: parameters are text and cast in the statements; each returns
-- one jsonb value).  Raises on bad input, having changed nothing.
CREATE OR REPLACE FUNCTION @extschema@._archive_start(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel_ns name;
	rel_name name;
	rel_kind "char";
	owner regrole;
	other_owner regrole;
	other regclass := p_other;
	other_kind "char";
	other_name text;
	create_sql text[] := '{}';
	tcol record;
	key name[];
	cols name[];
	src regclass;			-- rows are deleted here
	dst regclass;			-- and inserted here
	dst_text text;
	src_kind "char";
	dst_kind "char";
	klist text;
	kdesc text;
	kcast text;
	kjson text;
	klit text;
	clist text;
	slist text;
	tlist text;
	cond text;
	overriding text := '';
	refs jsonb := '[]';
	fk record;
	n bigint;
	holder integer;
	holder_role name;
	run bigint;
	plan jsonb;
	sqls text;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- a dry run only reads: it may run on a standby
	IF p_dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary(p_operation || '()');
	END IF;

	-- arguments
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	PERFORM @extschema@._archive_check_timing(p_max_duration, p_pause, p_lock_timeout);
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind, c.relowner INTO rel_ns, rel_name, rel_kind, owner
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
			MESSAGE = format('relation with OID %s does not exist', p_relation::oid);
	END IF;
	-- the work runs as the owner: only the owner's equals may start it
	IF NOT coalesce(@extschema@._may_maintain(p_relation), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not %s table %s', current_user::regrole, p_operation, p_relation),
			DETAIL = format('Archiving runs as the owner of the table (%s), so only a superuser or a role with the owner''s privileges may start it.', owner),
			HINT = format('Run it as the owner of the table, or GRANT %s TO %s.', owner, current_user::regrole);
	END IF;
	IF rel_kind = 'p' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('column %I of relation %s is of type %s, not a timestamp or date',
							 p_time_column, p_relation, tcol.typ),
			HINT = 'The time column must be of type timestamp with time zone, timestamp or date.';
	END IF;
	key := @extschema@._archive_key(p_relation);

	-- the archive table
	IF other IS NULL THEN
		IF p_operation = 'unarchive' THEN
			other := to_regclass(format('%I.%I', rel_ns, rel_name || '_archive'));
			IF other IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = '42P01',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = '42622',
					MESSAGE = format('default archive table name for %s would be longer than 63 bytes', p_relation),
					HINT = 'Create an archive table and name it with target => ''...''.';
			END IF;
			other_name := format('%I.%I', rel_ns, rel_name || '_archive');
			other := to_regclass(other_name);
			IF other IS NULL THEN
				create_sql := ARRAY[
					format('CREATE TABLE %s (LIKE %s)', other_name, p_relation),
					format('ALTER TABLE %s ADD PRIMARY KEY (%s)', other_name,
						   (SELECT string_agg(quote_ident(k), ', ') FROM unnest(key) k)),
					format('CREATE INDEX ON %s (%I)', other_name, p_time_column)];
				IF NOT has_schema_privilege(owner, rel_ns, 'CREATE') THEN
					RAISE EXCEPTION USING ERRCODE = '42501',
						MESSAGE = format('permission denied to create archive table %s', other_name),
						HINT = format('The first run creates the archive table as the owner of the table (%s), who needs CREATE on the schema; or create it as %s and name it with target => ''...''.', owner, owner);
				END IF;
			END IF;
		END IF;
	END IF;
	IF other IS NOT NULL THEN
		SELECT c.relkind, c.relowner INTO other_kind, other_owner FROM pg_class c WHERE c.oid = other;
		other_name := other::text;
		IF other = p_relation THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = 'a table cannot be its own archive';
		END IF;
		-- rows go only where their owner keeps them
		IF other_owner <> owner THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive table %s is owned by role %s, not by %s, the owner of table %s',
								 other, other_owner, owner, p_relation),
				HINT = format('The archive must belong to the owner of the table: create it as %s (or ALTER TABLE %s OWNER TO %s), or name another one.',
							  owner, other, owner);
		END IF;
		-- and so must every partition of a partitioned archive (rows are
		-- routed there, and their triggers fire)
		IF other_kind = 'p' THEN
			SELECT string_agg(format('%s (owned by %s)', t.relid, c.relowner::regrole), ', ') INTO sqls
			FROM pg_partition_tree(other) t JOIN pg_class c ON c.oid = t.relid
			WHERE c.relowner <> owner;
			IF sqls IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
					MESSAGE = format('partitions of archive table %s are not owned by %s, the owner of table %s',
									 other, owner, p_relation),
					DETAIL = format('Partitions: %s.', sqls),
					HINT = 'Every partition of the archive must belong to the owner of the table.';
			END IF;
		END IF;
		IF p_operation = 'archive' AND other_kind NOT IN ('r', 'p', 'f') THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = '0A000',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('archive %s is not a table', other);
		END IF;
		cols := @extschema@._archive_columns(p_relation, other, p_operation);
		-- a unique index on the key, or on some of its columns (stricter:
		-- an archive made while the key was (id) stays usable once the
		-- table's key is (id, created_at), as partitioning needs)
		IF other_kind IN ('r', 'p') AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = other AND i.indisunique AND i.indisvalid
				  AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND (SELECT array_agg(a.attname)
					   FROM pg_attribute a
					   WHERE a.attrelid = other AND a.attnum = ANY (i.indkey::int2[]))
					  <@ key) THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('archive table %s has no unique index on (%s)', other,
								 array_to_string(key, ', ')),
				HINT = 'The archive needs the key of the table (or some of its columns) as a primary key or unique index, so that a batch can never be copied twice.';
		END IF;
	ELSE
		SELECT array_agg(a.attname ORDER BY a.attnum) INTO cols
		FROM pg_attribute a
		WHERE a.attrelid = p_relation AND a.attnum > 0 AND NOT a.attisdropped;
	END IF;

	IF p_operation = 'archive' THEN
		src := p_relation; dst := other; dst_text := other_name; src_kind := 'r'; dst_kind := coalesce(other_kind, 'r');
	ELSE
		src := other; dst := p_relation; dst_text := p_relation::text; src_kind := 'r'; dst_kind := 'r';
	END IF;

	-- privileges: the owner does the work and needs them (an owner may have
	-- revoked some of its own)
	IF NOT has_table_privilege(owner, src, 'SELECT') OR NOT has_table_privilege(owner, src, 'DELETE')
	   OR NOT has_table_privilege(owner, src, 'UPDATE') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = format('Archiving runs as the owner of the table (%s), who needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.', owner);
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(owner, dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = format('Archiving runs as the owner of the table (%s), who needs INSERT on the table the rows go to.', owner);
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = 'permission denied for table @extschema@.archive_runs',
			HINT = 'Grant SELECT, INSERT, UPDATE on @extschema@.archive_runs to the roles that archive.';
	END IF;
	-- rules: the batches use data-modifying WITH and ON CONFLICT, which
	-- rules do not support (and a rule's functions would run as the caller)
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = dst AND r.ev_type = '3') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has INSERT rules', CASE p_operation WHEN 'archive' THEN 'archive table' ELSE 'table' END, dst),
			HINT = 'Archiving moves rows with INSERT ... ON CONFLICT and data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = src AND r.ev_type = '4') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has DELETE rules', CASE p_operation WHEN 'unarchive' THEN 'archive table' ELSE 'table' END, src),
			HINT = 'Archiving deletes rows in a data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = dst AND a.attidentity = 'a' AND a.attname = ANY (cols)) THEN
		overriding := ' OVERRIDING SYSTEM VALUE';
	END IF;

	-- SQL of the batch steps, run as the owner by _owner_exec, which passes
	-- parameters as text: $1, $4: time range, $2: batch size, $3: last key
	-- of the previous batch (jsonb array of text) or NULL; in the
	-- step-by-step statements $1 is the batch's row ids (tid[]).
	klist := (SELECT string_agg(format('s.%I', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kdesc := (SELECT string_agg(format('b.%I DESC', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kjson := (SELECT string_agg(format('b.%I::text', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kcast := (SELECT string_agg(format('($3::jsonb->>%s)::%s', o - 1, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
			  FROM unnest(key) WITH ORDINALITY u(k, o)
			  JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	klit := (SELECT string_agg(format('t.%I = %%L::%s', k, format_type(a.atttypid, a.atttypmod)), ' AND ' ORDER BY o)
			 FROM unnest(key) WITH ORDINALITY u(k, o)
			 JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	clist := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
	slist := (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(cols) c);
	tlist := (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(cols) c);
	IF p_operation = 'archive' THEN
		cond := format('s.%I < $4::timestamptz', p_time_column);
	ELSE
		cond := format('s.%I >= $1::timestamptz AND s.%I < $4::timestamptz', p_time_column, p_time_column);
	END IF;

	-- foreign keys that point at the rows we delete
	FOR fk IN
		SELECT con.conname, con.conrelid::regclass AS child,
			   (SELECT string_agg(format('c.%I = s.%I', ca.attname, pa.attname), ' AND ')
				FROM unnest(con.conkey, con.confkey) AS u(ck, pk)
				JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = u.ck
				JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = u.pk) AS j
		FROM pg_constraint con
		WHERE con.contype = 'f' AND con.confrelid = src
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		refs := refs || jsonb_build_object(
			'name', format('%I on %s', fk.conname, fk.child),
			'all', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE %s))', fk.child, src, fk.j, cond),
			'batch', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE s.ctid = ANY ($1::tid[])))', fk.child, src, fk.j));
	END LOOP;
	IF jsonb_array_length(refs) > 0 THEN
		SELECT string_agg(r->>'name', ', ') INTO sqls
		FROM jsonb_array_elements(refs) r
		WHERE (@extschema@._owner_exec(src, r->>'all', p_from::text, NULL, NULL, p_to::text))::boolean;
		IF sqls IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '23503',
				MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', src),
				DETAIL = format('Referencing constraints: %s.', sqls),
				HINT = 'Archive or delete the referencing rows first.';
		END IF;
	END IF;

	plan := jsonb_build_object(
		'operation', p_operation,
		'relation', p_relation::oid,
		'relation_name', p_relation::text,
		'src', src::text,
		'dst', dst_text,
		'remote', dst_kind = 'f',
		'from', p_from, 'to', p_to,
		'batch_size', p_batch_size,
		'max_batches', p_max_batches,
		'max_duration', p_max_duration,
		'pause', extract(epoch FROM p_pause),
		'lock_timeout', format('%sms', ceil(extract(epoch FROM p_lock_timeout) * 1000)),
		'verbose', p_verbose,
		'vacuum', p_vacuum,
		'refs', refs,
		'lock_sql', format('SELECT jsonb_build_object(''n'', count(*), ''tids'', array_agg(b.ctid)::text, ''last_key'', %s) '
						   'FROM (SELECT s.ctid, %s FROM ONLY %s s WHERE %s AND ($3 IS NULL OR (%s) > (%s)) '
						   'ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED) b',
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END,
						   klist, src, cond, klist, kcast, klist),
		'fast_sql', format('WITH batch AS MATERIALIZED (SELECT s.ctid, %s FROM ONLY %s s '
						   'WHERE %s AND ($3 IS NULL OR (%s) > (%s)) ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED), '
						   'moved AS (DELETE FROM ONLY %s d WHERE d.ctid = ANY (ARRAY(SELECT b.ctid FROM batch b)) RETURNING %s), '
						   'ins AS (INSERT INTO %s AS t (%s)%s SELECT %s FROM moved RETURNING 1) '
						   'SELECT jsonb_build_object(''n'', (SELECT count(*) FROM batch), ''ins'', (SELECT count(*) FROM ins), '
						   '''last_key'', (SELECT %s FROM batch b))',
						   klist, src, cond, klist, kcast, klist,
						   src, clist, dst_text, clist, overriding, clist,
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END),
		'move_sql', format('WITH moved AS (DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[]) RETURNING %s) '
						   'INSERT INTO %s AS t (%s)%s SELECT %s FROM moved',
						   src, clist, dst_text, clist, overriding, clist),
		'insert_sql', format('INSERT INTO %s AS t (%s)%s SELECT %s FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]) ON CONFLICT DO NOTHING',
							 dst_text, clist, overriding, slist, src),
		'keys_sql', format('SELECT to_jsonb(string_agg(format(%L, %s), '' OR '')) FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[])',
						   '(' || klit || ')',
						   (SELECT string_agg(format('s.%I::text', k), ', ') FROM unnest(key) k), src),
		'verify_sql', format('SELECT to_jsonb(count(*)) FROM (SELECT ROW(%s)::text AS r FROM %s t WHERE %%s) x '
							 'WHERE x.r IN (SELECT ROW(%s)::text FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]))',
							 tlist, dst_text, slist, src),
		'delete_sql', format('DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[])', src));

	IF p_dry_run THEN
		n := (@extschema@._owner_exec(src, format('SELECT to_jsonb(count(*)) FROM ONLY %s s WHERE %s', src, cond),
									  p_from::text, NULL, NULL, p_to::text))::bigint;
		RAISE NOTICE '%', format('dry run: %s rows of %s would move to %s%s, in about %s batches of %s',
			n, src, dst_text, CASE WHEN dst IS NULL THEN ' (created on the first run)' ELSE '' END,
			ceil(n::numeric / p_batch_size), p_batch_size);
		sqls := array_to_string(create_sql || ARRAY[
			format(E'-- each batch, in its own transaction (%s$2 = %s, $3 = last key of the previous batch or NULL, $4 = %s)\n',
				   CASE WHEN p_operation = 'unarchive' THEN format('$1 = %L, ', p_from) ELSE '' END,
				   p_batch_size,
				   CASE WHEN p_operation = 'unarchive' THEN quote_literal(p_to) ELSE 'now() - older_than at the start of the run' END)
			|| CASE WHEN jsonb_array_length(refs) = 0 THEN plan->>'fast_sql'
					ELSE (plan->>'lock_sql') || E';\n-- (the foreign keys that point at the table are checked here)\n'
						 || (plan->>'move_sql') END,
			'COMMIT'], E';\n');
		RAISE NOTICE '%', E'statements:\n' || sqls;
		RETURN plan || jsonb_build_object('status', 'dry_run', 'rows', n);
	END IF;

	-- one run per table at a time, under a lock that only a run can take
	-- (src/archive.c); a lock this session still holds is left over from a
	-- run that was cancelled, and is taken over
	IF NOT @extschema@._archive_lock(p_relation) THEN
		SELECT l.pid, a.usename INTO holder, holder_role
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = 1399537989::oid
		  AND l.objid = p_relation::oid AND l.objsubid = 3 AND l.granted
		  AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
		LIMIT 1;
		RAISE NOTICE USING
			MESSAGE = format('another archiving run on %s is in progress (process %s); nothing done',
							 p_relation, coalesce(holder::text, '?')),
			DETAIL = format('The running one was started by role %s.', coalesce(quote_ident(holder_role), '?'));
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
			 finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy,
				clock_timestamp(), interval '0', 'skipped',
				format('another run (process %s, role %s) was in progress',
					   coalesce(holder::text, '?'), coalesce(quote_ident(holder_role), '?')))
		RETURNING r.run_id INTO run;
		RETURN plan || jsonb_build_object('status', 'skipped', 'run_id', run, 'rows', 0);
	END IF;

	BEGIN
		-- runs of this table still marked running died without finishing
		-- (those of other roles are not visible here: row-level security)
		UPDATE @extschema@.archive_runs r
		SET status = 'interrupted',
			error = coalesce(r.error, 'the run ended without finishing (server crash, cancel or terminated connection)')
		WHERE r.relation = p_relation::text AND r.status = 'running';
		-- created as the owner of the table, so that it owns its archive
		FOR i IN 1 .. coalesce(array_length(create_sql, 1), 0) LOOP
			PERFORM @extschema@._owner_exec(p_relation, create_sql[i]);
		END LOOP;
		IF dst IS NULL THEN
			dst := to_regclass(other_name);
		END IF;
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy)
		RETURNING r.run_id INTO run;
	EXCEPTION WHEN OTHERS THEN
		PERFORM @extschema@._archive_unlock(p_relation);
		RAISE;
	END;
	IF array_length(create_sql, 1) > 0 THEN
		RAISE NOTICE '%', format('created archive table %s', other_name);
	END IF;
	RETURN plan || jsonb_build_object('status', 'running', 'run_id', run, 'rows', 0);
END $$;

CREATE OR REPLACE PROCEDURE @extschema@.run_archive_policies(verbose boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	p record;
	rel regclass;
	tgt regclass;
	run bigint;
	n bigint;
	st text;
	msg text;
	leaf record;
	dst_name text;
	key name[];
	started timestamptz;
	cutoff timestamptz;
	total bigint;
	parts integer;
	bad text[];
	fin text;
	budget interval;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('run_archive_policies()');
	-- the policies this role may see (row-level security), read once: the
	-- loop commits
	FOR p IN
		SELECT * FROM @extschema@.archive_policies ap
		WHERE ap.enabled ORDER BY ap.relation
	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		rel := pg_catalog.to_regclass(p.relation);
		tgt := pg_catalog.to_regclass(p.target);
		msg := CASE WHEN rel IS NULL THEN pg_catalog.format('table %s does not exist', p.relation)
					WHEN p.target IS NOT NULL AND tgt IS NULL
					THEN pg_catalog.format('target %s does not exist', p.target) END;
		st := 'failed';
		-- a policy runs only while its creator may still maintain the table
		IF msg IS NULL AND NOT coalesce(@extschema@._may_maintain(rel, p.created_by), false) THEN
			msg := pg_catalog.format('its creator, role %s, does not have the privileges of the owner of the table, role %s',
				p.created_by, (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = rel));
			st := 'skipped';
		END IF;
		IF msg IS NOT NULL THEN
			IF st = 'skipped' THEN
				RAISE WARNING USING
					MESSAGE = pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg),
					HINT = 'Recreate the policy as the owner of the table, or grant the owner''s role to its creator.';
			ELSE
				RAISE WARNING '%', pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg);
			END IF;
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, from_policy, finished_at, duration, status, error)
			VALUES ('archive', p.relation, p.target, p.time_column, true,
					pg_catalog.clock_timestamp(), interval '0', st, msg);
			COMMIT;
			CONTINUE;
		END IF;
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel) OPERATOR(pg_catalog.=) 'p' THEN
			-- Partitioned since the policy was made (partition_table): it
			-- goes on.  Every leaf partition holding rows older than the
			-- policy's age is archived on its own (its own run and run lock)
			-- into one archive, the policy's target or else the table's
			-- default archive <table>_archive (made as the table's owner with
			-- the table's key, as a first run would), and one run row for
			-- the policy's relation sums it up, so that its status reads as
			-- before.  max_duration is shared by the partitions, max_batches
			-- applies to each.
			started := pg_catalog.clock_timestamp();
			cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) p.older_than;
			total := 0; parts := 0; bad := '{}'; fin := 'done'; msg := NULL;
			BEGIN
				IF tgt IS NULL THEN
					SELECT pg_catalog.format('%I.%I', ns.nspname, c.relname OPERATOR(pg_catalog.||) '_archive') INTO dst_name
					FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
					WHERE c.oid OPERATOR(pg_catalog.=) rel;
					tgt := pg_catalog.to_regclass(dst_name);
					IF tgt IS NULL THEN
						key := @extschema@._archive_key(rel);
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE TABLE %s (LIKE %s)', dst_name, rel));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%s)', dst_name,
							(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') FROM pg_catalog.unnest(key) k)));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE INDEX ON %s (%I)', dst_name, p.time_column));
						tgt := pg_catalog.to_regclass(dst_name);
						RAISE NOTICE '%', pg_catalog.format('created archive table %s', dst_name);
					END IF;
				END IF;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
				fin := 'failed';
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			IF fin OPERATOR(pg_catalog.=) 'done' THEN
				FOR leaf IN
					SELECT t.relid::regclass AS part
					FROM pg_catalog.pg_partition_tree(rel) t
					JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
					WHERE t.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
					ORDER BY t.relid::regclass::pg_catalog.text
				LOOP
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					-- only the partitions that hold rows to move get a run
					CONTINUE WHEN pg_catalog.to_regclass(leaf.part::pg_catalog.text) IS NULL
						OR NOT (@extschema@._owner_exec(leaf.part,
							pg_catalog.format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I < $1::timestamptz))', leaf.part, p.time_column),
							cutoff::pg_catalog.text) #>> '{}')::boolean;
					budget := p.max_duration OPERATOR(pg_catalog.-) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started);
					IF budget OPERATOR(pg_catalog.<) interval '1 second' THEN
						fin := 'stopped';
						msg := pg_catalog.format('max_duration (%s) reached', p.max_duration);
						EXIT;
					END IF;
					run := NULL; n := NULL; st := NULL;
					CALL @extschema@._archive_run('archive', leaf.part, p.time_column,
						'-infinity', cutoff, tgt, p.batch_size, p.max_batches, budget, p.pause, p.lock_timeout,
						false, $1, p.vacuum, true, false, run, n, st);
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					parts := parts OPERATOR(pg_catalog.+) 1;
					total := total OPERATOR(pg_catalog.+) coalesce(n, 0);
					IF st IS DISTINCT FROM 'done' THEN
						bad := bad OPERATOR(pg_catalog.||) pg_catalog.format('%s %s (run %s)', leaf.part, coalesce(st, '?'), coalesce(run::pg_catalog.text, '-'));
						fin := CASE WHEN st OPERATOR(pg_catalog.=) 'failed' OR fin OPERATOR(pg_catalog.=) 'failed' THEN 'failed' ELSE 'stopped' END;
					END IF;
					COMMIT;
				END LOOP;
				IF pg_catalog.cardinality(bad) OPERATOR(pg_catalog.>) 0 THEN
					msg := 'partitions not finished: ' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(bad, '; ');
				END IF;
			END IF;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
				 last_batch_at, finished_at, duration, rows_moved, status, error)
			VALUES ('archive', p.relation, coalesce(tgt::pg_catalog.text, p.target), p.time_column, NULL, cutoff, true,
					CASE WHEN total OPERATOR(pg_catalog.>) 0 THEN pg_catalog.clock_timestamp() END,
					pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started, total,
					fin, msg)
			RETURNING r.run_id INTO run;
			IF $1 OR fin OPERATOR(pg_catalog.<>) 'done' THEN
				RAISE NOTICE '%', pg_catalog.format('archive policy for %s (partitioned): %s, %s rows moved from %s partitions (run %s)%s',
					p.relation, fin, total, parts, run, coalesce(': ' OPERATOR(pg_catalog.||) msg, ''));
			END IF;
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run('archive', rel, p.time_column,
			'-infinity', pg_catalog.now() - p.older_than, tgt, p.batch_size, p.max_batches,
			p.max_duration, p.pause, p.lock_timeout, false, $1, p.vacuum, true, false,
			run, n, st);
		-- a new transaction (the run committed): pin search_path first
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF $1 THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;

-- BEFORE INSERT OR UPDATE on partition_sets: a non-superuser's row is
-- recorded as its own, and a row may name only a table (and an archive
-- target owned by the same role) whose owner's privileges its creator has.
CREATE OR REPLACE FUNCTION @extschema@._partition_sets_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	tgt regclass;
	owner name;
	kind text;
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)
		OR NEW.created_by IS NULL THEN
		NEW.created_by := current_user::regrole;
	END IF;
	rel := @extschema@._pt_rel(NEW.parent_schema, NEW.parent_table);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not configure maintenance of table %s', NEW.created_by, rel),
			DETAIL = 'maintain_partitions works on a table as its owner, so a partition set may name only a table whose owner''s privileges its creator has.',
			HINT = format('Add the set as the owner of the table, or GRANT %I TO %s.', owner, NEW.created_by);
	END IF;
	-- the interval, retention and lock_timeout as partition_table checks
	-- them, in every row written enabled (a row the update from 1.0
	-- disabled is checked when it is enabled again); a row whose table
	-- does not exist yet is checked for its interval when it is maintained
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._check_duration('lock_timeout', NEW.lock_timeout, interval '1 millisecond', interval '1 minute',
			false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	END IF;
	IF rel IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.enabled
		OR NEW.part_interval IS DISTINCT FROM OLD.part_interval
		OR NEW.retention IS DISTINCT FROM OLD.retention
		OR NEW.retention_action IS DISTINCT FROM OLD.retention_action) THEN
		SELECT @extschema@._pt_kind(a.atttypid::regtype) INTO kind
		FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = NEW.control_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF kind IS NOT NULL THEN
			PERFORM @extschema@._pt_check_interval(kind, NEW.part_interval);
			PERFORM @extschema@._pt_check_retention(kind, NEW.retention, NEW.retention_action);
		END IF;
	END IF;
	IF NEW.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(NEW.archive_target);
		IF tgt IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_table',
				MESSAGE = format('archive target %s does not exist', NEW.archive_target),
				HINT = 'Create the table first and give its name with the schema, such as ''app.logs_archive''.';
		END IF;
		IF NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false)
			OR (rel IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel)) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive target %s is not owned by the owner of %I.%I', tgt, NEW.parent_schema, NEW.parent_table),
				HINT = 'Rows are archived as the owner of the table: use a target table owned by the same role.';
		END IF;
	END IF;
	RETURN NEW;
END
$$;

-- The steps of a conversion, as SQL.  phase: 'prepare' (add the CHECK
-- constraint NOT VALID), 'validate' (its own transaction), 'swap' (one
-- transaction: new parent, then the exclusive lock, rename and attach,
-- and the set registered), 'finish' (validate re-pointed foreign keys,
-- ANALYZE).  Phases
-- already done (the constraint exists) are left out.  Raises an error that
-- lists every blocker when the table cannot be converted.  run_as is the
-- table whose owner runs the statement (relation itself, or a table whose
-- foreign key is re-pointed); NULL for the registration, which runs as the
-- caller.  Only a caller that may maintain relation gets a plan.
CREATE OR REPLACE FUNCTION @extschema@.partition_table_plan(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL)
RETURNS TABLE (step integer, phase text, lock_mode text, statement text, run_as regclass)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blockers text[];
	c record;
	att record;
	r record;
	v_kind text;
	typ regtype;
	sch name;
	tbl name;
	qt text;
	qcol text;
	tmp name;
	qtmp text;
	hist name;
	dflt name;
	boundary numeric;
	b_lit text;
	mx numeric;
	margin numeric;
	conoid oid;
	convalid boolean;
	n integer := 0;
	k integer;
	x numeric;
	pname name;
	idxname name;
	tmpidx name;
	def text;
	seqname name;
	sq record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL OR part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000', MESSAGE = format('schema %I does not exist', archive_schema);
	END IF;

	SELECT cl.*, ns.nspname INTO c
	FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE cl.oid = relation;
	PERFORM @extschema@._pt_require_maintain(relation);
	run_as := relation;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF FOUND THEN
		typ := att.atttypid::regtype;
		v_kind := @extschema@._pt_kind(typ);
	END IF;
	blockers := ARRAY(SELECT @extschema@.partition_blockers(relation, column_name));
	IF cardinality(blockers) > 0 THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	PERFORM @extschema@._pt_check_retention(v_kind, retention, retention_action);
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'retention_action archive needs a time partition column';
	END IF;

	sch := c.nspname;
	tbl := c.relname;
	qt := format('%I.%I', sch, tbl);
	qcol := quote_ident(column_name);

	-- an already partitioned table: a default partition if asked for and
	-- missing, then register the set
	IF c.relkind = 'p' THEN
		dflt := @extschema@._pt_name(tbl, 'default');
		IF default_partition AND NOT EXISTS (
			SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = relation AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT') THEN
			IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = dflt AND cl.relnamespace = c.relnamespace) THEN
				RAISE EXCEPTION USING ERRCODE = '42P07',
					MESSAGE = format('cannot add a default partition to %s: relation %I.%I already exists', relation, c.nspname, dflt),
					HINT = 'Nothing was changed.  Rename it, or pass default_partition => false.';
			END IF;
			n := n + 1;
			step := n; phase := 'swap'; lock_mode := 'ACCESS EXCLUSIVE';
			statement := format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', c.nspname, dflt, c.nspname, c.relname);
			RETURN NEXT;
		END IF;
		-- (registered in the same transaction)
		n := n + 1;
		step := n; phase := 'swap'; lock_mode := NULL; run_as := NULL;
		statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
			retention, retention_action, archive_schema, lock_timeout, retries);
		RETURN NEXT;
		-- foreign keys a conversion re-pointed and could not validate yet
		-- (its finish step failed or was killed)
		FOR r IN
			SELECT con.conname, con.conrelid::regclass AS src
			FROM pg_constraint con
			WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
			  AND NOT con.convalidated
			  AND obj_description(con.oid, 'pg_constraint') = 'scale_advisor: validate after partitioning'
			ORDER BY con.conrelid::regclass::text, con.conname
		LOOP
			n := n + 1; step := n; phase := 'finish'; lock_mode := 'SHARE UPDATE EXCLUSIVE'; run_as := r.src;
			statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
			RETURN NEXT;
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
			RETURN NEXT;
		END LOOP;
		RETURN;
	END IF;

	-- the historical range ends at boundary
	SELECT con.oid, con.convalidated, obj_description(con.oid, 'pg_constraint')
	INTO conoid, convalid, def
	FROM pg_constraint con
	WHERE con.conrelid = relation AND con.conname = 'sa_partition_bound' AND con.contype = 'c';
	IF conoid IS NOT NULL THEN
		IF def IS NULL OR def NOT LIKE 'scale_advisor partition boundary: %' THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('%s has a constraint named sa_partition_bound that scale_advisor did not create', relation);
		END IF;
		b_lit := substr(def, length('scale_advisor partition boundary: ') + 1);
		boundary := @extschema@._pt_to_num(typ, b_lit);
	ELSE
		-- read as the owner (src/run_as.c), like every statement on the table
		b_lit := @extschema@._owner_exec(relation,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM ONLY %s', column_name, qt)) ->> 'v';
		mx := @extschema@._pt_to_num(typ, b_lit);
		IF v_kind = 'time' THEN
			-- rows keep arriving during the conversion: leave a quarter
			-- interval (at least an hour) of room after now()
			margin := greatest(extract(epoch FROM part_interval::interval) / 4, 3600);
			mx := greatest(coalesce(mx, 0), extract(epoch FROM now()) + margin);
		ELSE
			mx := coalesce(mx, 0);
			FOR sq IN
				SELECT s.seqrelid FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
				WHERE d.refobjid = relation AND d.refobjsubid = att.attnum
				  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			LOOP
				mx := greatest(mx, coalesce(pg_sequence_last_value(sq.seqrelid::regclass), 0));
			END LOOP;
			mx := mx + ceil(part_interval::numeric / 4);
		END IF;
		IF historical_until IS NOT NULL THEN
			x := @extschema@._pt_to_num(typ, historical_until);
			IF x <= mx THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('historical_until %L is not above the largest key the table will hold during the conversion (%s)',
									 historical_until, @extschema@._pt_from_num(typ, mx));
			END IF;
			mx := x - 1e-6;
		END IF;
		boundary := @extschema@._pt_slot(v_kind, part_interval, mx);
		IF boundary <= mx THEN
			boundary := @extschema@._pt_add(v_kind, part_interval, boundary, 1);
		END IF;
		b_lit := @extschema@._pt_from_num(typ, boundary);
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%s IS NOT NULL AND %s < %L::%s) NOT VALID',
							qt, qcol, qcol, b_lit, typ);
		RETURN NEXT;
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('COMMENT ON CONSTRAINT sa_partition_bound ON %s IS %L', qt,
							'scale_advisor partition boundary: ' || b_lit);
		RETURN NEXT;
	END IF;
	IF NOT coalesce(convalid, false) THEN
		n := n + 1;
		step := n; phase := 'validate'; lock_mode := 'SHARE UPDATE EXCLUSIVE';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT sa_partition_bound', qt);
		RETURN NEXT;
	END IF;

	-- the swap: build the new parent under a temporary name first
	tmp := @extschema@._pt_name(tbl, 'sa_new');
	qtmp := format('%I.%I', sch, tmp);
	hist := @extschema@._pt_name(tbl, 'history');
	dflt := @extschema@._pt_name(tbl, 'default');
	FOR pname IN
		SELECT x.nm FROM (VALUES (tmp), (hist), (dflt)) x(nm)
		UNION ALL
		SELECT @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval,
			@extschema@._pt_add(v_kind, part_interval, boundary, g)))
		FROM generate_series(0, premake - 1) g
	LOOP
		IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = pname AND cl.relnamespace = c.relnamespace) THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('cannot partition %s: relation %I.%I already exists', relation, sch, pname),
				HINT = 'Nothing was changed.  Rename or drop it and call again.';
		END IF;
	END LOOP;

	n := n + 1;
	step := n; phase := 'swap'; lock_mode := NULL;
	statement := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%s)',
						qtmp, qt, qcol);
	RETURN NEXT;
	-- identity columns get a new sequence with the same options; its value
	-- is taken over under the lock
	FOR r IN
		SELECT a.attname, a.attidentity, s.*, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		JOIN pg_sequence s ON s.seqrelid = d.objid
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
							qtmp, r.attname, CASE r.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
							sch, seqname, r.seqincrement, r.seqmin, r.seqmax,
							r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
		RETURN NEXT;
	END LOOP;
	-- check constraints (ours stays on the old table)
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def, obj_description(con.oid, 'pg_constraint') AS cmt
		FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.conname <> 'sa_partition_bound'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- indexes, primary key and unique constraints under temporary names
	k := 0;
	FOR r IN
		SELECT i.indexrelid, ic.relname AS idxname, con.oid AS conoid, con.conname,
			   pg_get_indexdef(i.indexrelid) AS idxdef, i.indisunique,
			   obj_description(i.indexrelid, 'pg_class') AS cmt
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u')
		WHERE i.indrelid = relation
		ORDER BY ic.relname
	LOOP
		k := k + 1;
		tmpidx := @extschema@._pt_name('sa' || k, r.idxname);
		n := n + 1; step := n;
		IF r.conoid IS NOT NULL THEN
			statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, tmpidx, pg_get_constraintdef(r.conoid));
		ELSE
			def := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
						  r.idxname, qt);
			IF left(r.idxdef, length(def)) <> def THEN
				RAISE EXCEPTION USING ERRCODE = 'XX000',
					MESSAGE = format('unexpected definition of index %I: %s', r.idxname, r.idxdef);
			END IF;
			statement := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
								tmpidx, qtmp) || substr(r.idxdef, length(def) + 1);
		END IF;
		RETURN NEXT;
		IF r.cmt IS NOT NULL THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON INDEX %I.%I IS %L', sch, tmpidx, r.cmt);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- foreign keys to other tables
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con WHERE con.conrelid = relation AND con.contype = 'f'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- comment and privileges
	IF obj_description(relation, 'pg_class') IS NOT NULL THEN
		n := n + 1; step := n;
		statement := format('COMMENT ON TABLE %s IS %L', qtmp, obj_description(relation, 'pg_class'));
		RETURN NEXT;
	END IF;
	FOR r IN
		SELECT a.privilege_type, a.grantee, a.is_grantable
		FROM aclexplode(c.relacl) a
		WHERE a.grantee <> c.relowner
		ORDER BY a.grantee, a.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s ON %s TO %s%s', r.privilege_type, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	FOR r IN
		SELECT a.attname, x.privilege_type, x.grantee, x.is_grantable
		FROM pg_attribute a, aclexplode(a.attacl) x
		WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		ORDER BY a.attnum, x.grantee, x.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	-- future partitions and the default partition (empty, attached to a
	-- parent nobody uses yet)
	FOR k IN 0 .. premake - 1 LOOP
		x := @extschema@._pt_add(v_kind, part_interval, boundary, k);
		pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval, x));
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', sch, pname, qtmp,
							@extschema@._pt_from_num(typ, x),
							@extschema@._pt_from_num(typ, @extschema@._pt_add(v_kind, part_interval, x, 1)));
		RETURN NEXT;
	END LOOP;
	IF default_partition THEN
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', sch, dflt, qtmp);
		RETURN NEXT;
	END IF;

	-- from here on the old table is locked
	n := n + 1; step := n; lock_mode := 'ACCESS EXCLUSIVE';
	statement := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', qt);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qt, hist);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qtmp, tbl);
	RETURN NEXT;
	-- identity: take over the sequence position, drop the old identity and
	-- give the new sequence the old name
	FOR r IN
		SELECT a.attname, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L, s.last_value, s.is_called)) FROM %s s',
							format('%I.%I', sch, seqname), r.oldseq);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %I.%I ALTER COLUMN %I DROP IDENTITY', sch, hist, r.attname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %I.%I RENAME TO %I', sch, seqname,
							(parse_ident(r.oldseq))[array_upper(parse_ident(r.oldseq), 1)]);
		RETURN NEXT;
	END LOOP;
	-- sequences owned by columns (serial): the new parent owns them now
	FOR r IN
		SELECT a.attname, d.objid::regclass AS seq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		WHERE a.attrelid = relation AND a.attidentity = '' ORDER BY a.attnum
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, qt, r.attname);
		RETURN NEXT;
	END LOOP;
	-- triggers move to the parent, which clones row triggers to every
	-- partition, the historical one included
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := format('DROP TRIGGER %I ON %I.%I', r.tgname, sch, hist);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (MINVALUE) TO (%L)', qt, sch, hist, b_lit);
	RETURN NEXT;
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := r.def;
		RETURN NEXT;
		IF r.tgenabled <> 'O' THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %s %s TRIGGER %I', qt,
								CASE r.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
								ELSE 'ENABLE ALWAYS' END, r.tgname);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- index names: the parent's indexes take the original names
	k := 0;
	FOR r IN
		SELECT ic.relname AS idxname
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = relation ORDER BY ic.relname
	LOOP
		k := k + 1;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, r.idxname,
							@extschema@._pt_name(hist, CASE WHEN left(r.idxname, length(tbl) + 1) = tbl || '_'
								THEN substr(r.idxname, length(tbl) + 2) ELSE r.idxname END));
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, @extschema@._pt_name('sa' || k, r.idxname), r.idxname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %I.%I DROP CONSTRAINT sa_partition_bound', sch, hist);
	RETURN NEXT;
	-- foreign keys that reference the table: re-pointed to the parent, NOT
	-- VALID here and validated after the lock is gone
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def,
			   con.convalidated
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		-- as the owner of the referencing table
		run_as := r.src;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s DROP CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', r.src, r.conname, r.def,
							CASE WHEN r.def LIKE '% NOT VALID' THEN '' ELSE ' NOT VALID' END);
		RETURN NEXT;
		-- marked until finish has validated it, so that a later call finds
		-- it if finish does not get there
		IF r.convalidated THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS %L', r.conname, r.src,
								'scale_advisor: validate after partitioning');
			RETURN NEXT;
		END IF;
	END LOOP;
	-- registered in the transaction of the swap: a partitioned table is
	-- never left without its set, whatever happens after
	n := n + 1; step := n; run_as := NULL;
	statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
		retention, retention_action, archive_schema, lock_timeout, retries);
	RETURN NEXT;
	run_as := relation;

	-- after the lock
	lock_mode := 'SHARE UPDATE EXCLUSIVE';
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0 AND con.convalidated
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n; phase := 'finish'; run_as := r.src;
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n; phase := 'finish'; run_as := relation;
	statement := format('ANALYZE %s', qt);
	RETURN NEXT;
END
$$;

-- Run statements in one subtransaction under lock_timeout, each as the
-- owner of the table run_as names at the same position (_owner_exec), or
-- as the caller where it is NULL (only our own configuration rows).  A
-- statement that is a LOCK TABLE starts the exclusive part: after it the
-- table's fingerprint must still be the planned one, and the time from
-- there to the end is returned as lock_ms.  Errors are returned, not raised
-- (a cancel too, as 57014).
CREATE OR REPLACE FUNCTION @extschema@._pt_run(stmts text[], run_as regclass[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	i integer;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	IF cardinality(stmts) <> coalesce(cardinality(run_as), 0) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'every statement needs the table whose owner runs it',
			HINT = 'Pass run_as with as many entries as stmts (NULL for the caller).';
	END IF;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOR i IN 1 .. coalesce(cardinality(stmts), 0) LOOP
			s := stmts[i];
			IF run_as[i] IS NULL THEN
				EXECUTE s;
			ELSE
				PERFORM @extschema@._owner_exec(run_as[i], s);
			END IF;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = '40001',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- a cancel (or statement_timeout) too: the caller must still undo what
	-- it committed before, then raise it
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;

-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done.  Only
-- a superuser or a role with the owner's privileges may call it; every
-- statement on the table runs as its owner.
--
-- Fail safe: each step (prepare, validate, swap, finish) runs in a
-- subtransaction of its own transaction, so that any failure in it (an
-- error, a lock timeout after the retries, a cancel or statement_timeout)
-- undoes all of that step; the CHECK constraint an earlier step of this
-- call committed is then dropped and the drop committed before the error
-- is raised: until the swap commits the table is left as it was.  From the
-- swap on (one transaction, which registers the set too) the table is
-- partitioned; a failure in finish (validating re-pointed foreign keys,
-- ANALYZE) leaves it so, working, and a new call completes it.  The call
-- holds the table's maintenance lock (_archive_lock: one conversion or
-- archiving run per table), so a session killed mid-way is recognised: its
-- lock is gone, the next partition_table resumes from the constraint, and
-- maintain_partitions() drops such a leftover constraint.
CREATE OR REPLACE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	step_lock_ms double precision;
	failed boolean;
	stop boolean;
	ran boolean;
	err_code pg_catalog.text;
	err_msg pg_catalog.text;
	holder pg_catalog.text;
	policy pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();
	-- one conversion or archiving run per table at a time
	IF NOT @extschema@._archive_lock(relation) THEN
		SELECT pg_catalog.format('process %s of role %s', l.pid, coalesce(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'))
		INTO holder
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
		WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
		  AND l.objid OPERATOR(pg_catalog.=) relation::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.granted
		LIMIT 1;
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('%s is being converted or archived by another session (%s)', relation, coalesce(holder, '?')),
			HINT = 'Nothing was changed.  Call partition_table again when that session has finished.';
	END IF;
	-- an archive policy on the table goes on after the conversion (said
	-- to a caller that may read the policies)
	IF pg_catalog.has_table_privilege('@extschema@.archive_policies', 'SELECT') THEN
		SELECT ap.relation INTO policy FROM @extschema@.archive_policies ap
		WHERE ap.enabled AND pg_catalog.to_regclass(ap.relation) OPERATOR(pg_catalog.=) partition_table.relation LIMIT 1;
	END IF;

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		failed := false;
		stop := false;
		ran := false;
		err_code := NULL;
		err_msg := NULL;
		attempt := 0;
		step_lock_ms := NULL;
		BEGIN
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- planned together with the swap: the relation is a partition now
				stmts := finish;
				stmts_as := finish_as;
			ELSE
				IF ph OPERATOR(pg_catalog.=) 'swap' THEN
					fp := @extschema@._pt_fingerprint(relation);
				END IF;
				SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
				INTO stmts, stmts_as, finish, finish_as
				FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
					retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
			END IF;
			IF stmts IS NOT NULL AND NOT nonatomic THEN
				IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
					-- the constraint must be committed before it can be
					-- validated without ACCESS EXCLUSIVE: stop here, the
					-- next call goes on
					stop := true;
				ELSIF ph OPERATOR(pg_catalog.=) 'finish' THEN
					-- no scans while the caller's transaction holds the lock
					later := stmts;
					stmts := NULL;
				END IF;
			END IF;
			IF stmts IS NOT NULL AND NOT stop THEN
				ran := true;
				LOOP
					res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
						CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
					EXIT WHEN res.ok;
					IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
						failed := true;
						err_code := res.err_code;
						err_msg := res.message;
						EXIT;
					END IF;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF NOT failed THEN
					step_lock_ms := res.lock_ms;
					PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
						pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
				END IF;
			END IF;
		-- whatever fails in the step, the cancel of the call included,
		-- undoes all of it
		EXCEPTION WHEN others OR query_canceled THEN
			failed := true;
			GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
		END;
		IF stop THEN
			PERFORM @extschema@._archive_unlock(relation);
			RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
			steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
			RETURN;
		END IF;
		IF failed THEN
			BEGIN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, err_msg);
			EXCEPTION WHEN others OR query_canceled THEN
				NULL;	-- the log is not worth keeping the table changed
			END;
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			-- the table goes back to what it was before this call: the
			-- CHECK constraint this call added (or one that failed its
			-- validation) is dropped and the drop committed before the
			-- error rolls back the transaction it is raised in
			bound_left := false;
			IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN
				IF nonatomic THEN
					BEGIN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					EXCEPTION WHEN others OR query_canceled THEN
						NULL;	-- said below: the constraint is looked for
					END;
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
					WHERE con.conrelid OPERATOR(pg_catalog.=) relation
					  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
			END IF;
			PERFORM @extschema@._archive_unlock(relation);
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN
				RAISE EXCEPTION USING ERRCODE = '23514',
					MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
						relation, column_name),
					DETAIL = err_msg,
					HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
						ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
			END IF;
			RAISE EXCEPTION USING ERRCODE = err_code,
				MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, err_msg),
				HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned and registered; calling partition_table again validates the foreign keys and analyzes it.'
					WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
					WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					WHEN ph OPERATOR(pg_catalog.=) 'prepare' THEN 'Nothing was changed.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					ELSE 'The table is unchanged apart from the CHECK constraint sa_partition_bound an earlier call left; calling partition_table again resumes, ALTER TABLE ... DROP CONSTRAINT sa_partition_bound removes it.' END;
		END IF;
		IF ran THEN
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				lock_ms := step_lock_ms;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
				prepared := true;
			END IF;
			done := done OPERATOR(pg_catalog.||) stmts;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	PERFORM @extschema@._archive_unlock(relation);
	IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'partition_table: run these after this transaction: %',
			pg_catalog.array_to_string(later, '; ');
	END IF;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	IF policy IS NOT NULL THEN
		RAISE NOTICE 'partition_table: the archive policy of % goes on: scale_advisor.run_archive_policies() archives each partition of it into the same archive', policy;
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
END
$$;

-- Drop the sa_partition_bound constraint after a failed validate or swap
-- step (the caller commits the drop; it checks whether it is gone).
CREATE OR REPLACE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = pg_catalog.format('table %s does not exist', coalesce(relation::text, 'NULL')),
			HINT = 'Name the table whose sa_partition_bound constraint is to be removed.';
	END IF;
	-- each attempt waits at most lock_timeout; keep trying for a while
	-- longer than the step that failed, as its blocker may just be ending;
	-- only a lock that could not be had is worth another try
	FOR i IN 0 .. greatest(coalesce(retries, 0), 20) LOOP
		-- (at most a second per try: while the drop waits for its lock,
		-- the application's statements queue behind it)
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   ARRAY[relation], least(coalesce(lock_timeout, interval '1s'), interval '1s'));
		EXIT WHEN res.ok OR res.err_code IS DISTINCT FROM '55P03' AND res.err_code IS DISTINCT FROM '40P01';
		PERFORM pg_sleep(least(0.1 * (i + 1), 1.0));
	END LOOP;
	-- the caller looks whether the constraint is still there and says so
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pm_tasks(sch name, tbl name)
RETURNS TABLE (action text, lo numeric, hi numeric, part oid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	cur numeric;
	lit text;
	target numeric;
	x numeric;
	dpart regclass;
	slots numeric[] := '{}';
	top numeric;
	cutoff numeric;
	r record;
	a numeric;
	b numeric;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := @extschema@._pt_rel(sch, tbl);
	IF parent IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('table %I.%I does not exist', sch, tbl);
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;

	-- the slot of "now": for time keys the clock, for integer keys the
	-- largest key value
	IF v_kind = 'time' THEN
		cur := extract(epoch FROM now());
	ELSE
		lit := @extschema@._owner_exec(parent,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
		cur := coalesce(@extschema@._pt_to_num(typ, lit), 0);
	END IF;
	cur := @extschema@._pt_slot(v_kind, s.part_interval, cur);
	target := @extschema@._pt_add(v_kind, s.part_interval, cur, s.premake + 1);
	-- premake: slots from the top of the existing partitions or from now
	SELECT max(p.hi) INTO top FROM @extschema@._pt_partitions(parent) p WHERE NOT p.is_default;
	-- (never behind the present: past slots get a partition only when rows
	-- for them wait in the default partition)
	x := CASE WHEN top IS NULL THEN cur ELSE greatest(cur, @extschema@._pt_slot(v_kind, s.part_interval, top)) END;
	WHILE x < target LOOP
		slots := slots || x;
		x := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
	END LOOP;
	-- slots of rows waiting in the default partition
	IF dpart IS NOT NULL AND s.move_default_rows THEN
		FOR r IN
			SELECT x.v FROM jsonb_array_elements_text(@extschema@._owner_exec(dpart,
				format('SELECT coalesce(jsonb_agg(v), ''[]'') FROM (SELECT DISTINCT %I::text AS v FROM ONLY %s WHERE %I IS NOT NULL LIMIT 1000) d',
					   s.control_column, dpart, s.control_column))) x(v)
		LOOP
			x := @extschema@._pt_slot(v_kind, s.part_interval, @extschema@._pt_to_num(typ, r.v));
			IF NOT x = ANY (slots) THEN
				slots := slots || x;
			END IF;
		END LOOP;
	END IF;
	FOR x IN SELECT DISTINCT u FROM unnest(slots) u ORDER BY u LOOP
		a := x;
		b := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
		-- clip to the gap: skip when covered
		SELECT max(coalesce(p.hi, 1e30)) INTO top FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND coalesce(p.lo, -1e30) <= a AND coalesce(p.hi, 1e30) > a;
		IF top IS NOT NULL THEN
			IF top >= b THEN
				CONTINUE;
			END IF;
			a := top;
		END IF;
		SELECT least(b, min(p.lo)) INTO b FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND p.lo > a AND p.lo < b;
		b := coalesce(b, @extschema@._pt_add(v_kind, s.part_interval, x, 1));
		action := 'create'; lo := a; hi := b; part := NULL;
		RETURN NEXT;
	END LOOP;

	-- retention
	IF s.retention IS NOT NULL THEN
		IF v_kind = 'time' THEN
			cutoff := extract(epoch FROM (now() AT TIME ZONE 'UTC') - s.retention::interval);
		ELSE
			lit := @extschema@._owner_exec(parent,
				format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
			cutoff := coalesce(@extschema@._pt_to_num(typ, lit), 0) - s.retention::numeric;
		END IF;
		FOR r IN
			SELECT p.part, p.lo, p.hi FROM @extschema@._pt_partitions(parent) p
			WHERE NOT p.is_default AND p.hi IS NOT NULL AND p.hi <= cutoff
			ORDER BY p.hi
		LOOP
			action := 'retire'; lo := r.lo; hi := r.hi; part := r.part;
			RETURN NEXT;
		END LOOP;
	END IF;
	-- partitions an earlier run detached for the archiving helper and did
	-- not empty (it was stopped or killed): handed to it again
	IF s.retention_action = 'archive' THEN
		FOR r IN
			SELECT c.oid FROM pg_class c
			JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
			WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = parent)
			  AND c.relkind = 'r' AND NOT c.relispartition
			  AND d.description = @extschema@._pm_pending_comment(sch, tbl)
			ORDER BY c.relname
		LOOP
			action := 'archive'; lo := NULL; hi := NULL; part := r.oid;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Create the partition [lo, hi) of a set without ACCESS EXCLUSIVE on the
-- parent: a standalone table with a CHECK constraint, the rows of that
-- range moved out of the default partition, then ATTACH (SHARE UPDATE
-- EXCLUSIVE on the parent).  Every statement runs as the parent's owner
-- (so the partition is the owner's, and the owner's triggers, constraints
-- and index expressions run with the owner's rights).  One transaction;
-- errors are returned.
CREATE OR REPLACE FUNCTION @extschema@._pm_create(sch name, tbl name, lo numeric, hi numeric,
	OUT ok boolean, OUT err_code text, OUT message text, OUT moved bigint, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	dpart regclass;
	pname name;
	q text;
	lo_lit text;
	hi_lit text;
	cols text;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	moved := 0;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;
	pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, s.part_interval, lo));
	part_name := format('%I.%I', sch, pname);
	q := part_name;
	lo_lit := @extschema@._pt_from_num(typ, lo);
	hi_lit := @extschema@._pt_from_num(typ, hi);
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF to_regclass(q) IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('relation %s already exists but is not a partition of %s', q, parent);
		END IF;
		st := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', q, parent);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%I IS NOT NULL AND %I >= %L::%s AND %I < %L::%s)',
					 q, s.control_column, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ);
		PERFORM @extschema@._owner_exec(parent, st);
		-- the parent's lock first (the one ATTACH takes): while it cannot
		-- be had, nothing else is held, and nobody waits on us
		st := format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
		PERFORM @extschema@._owner_exec(parent, st);
		IF dpart IS NOT NULL THEN
			-- writers that would land in the default partition wait for this
			-- transaction; readers do not
			st := format('LOCK TABLE %s IN EXCLUSIVE MODE', dpart);
			PERFORM @extschema@._owner_exec(parent, st);
			st := format('WITH m AS (DELETE FROM ONLY %s WHERE %I >= %L::%s AND %I < %L::%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM m',
						 dpart, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ, cols, q, cols, cols);
			moved := (@extschema@._owner_exec(parent, st) ->> 'processed')::bigint;
		END IF;
		st := format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', parent, q, lo_lit, hi_lit);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s DROP CONSTRAINT sa_partition_bound', q);
		PERFORM @extschema@._owner_exec(parent, st);
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- (a cancel too: the run records it before it stops)
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		moved := 0;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- The comment of a partition detached for the archiving helper and not
-- yet emptied by it (retention_action archive).
CREATE FUNCTION @extschema@._pm_pending_comment(sch name, tbl name)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('scale_advisor: detached from %I.%I for archiving', sch, tbl)
$$;

-- Detach a partition past retention, then drop it or move it to the
-- archive schema as the set says, as the parent's owner (a partition owned
-- by another role cannot be dropped or moved: the whole step fails).  One
-- transaction; errors are returned.
CREATE OR REPLACE FUNCTION @extschema@._pm_retire(sch name, tbl name, part oid,
	OUT ok boolean, OUT err_code text, OUT message text, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	part_name := part::regclass::text;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF (SELECT relowner FROM pg_class WHERE oid = part)
			<> (SELECT relowner FROM pg_class WHERE oid = parent) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('partition %s is not owned by the owner of %s; it is left attached', part::regclass, parent),
				HINT = 'Retire it by hand, or give it to the owner of the partitioned table.';
		END IF;
		st := format('ALTER TABLE %s DETACH PARTITION %s', parent, part::regclass);
		PERFORM @extschema@._owner_exec(parent, st);
		IF s.retention_action = 'archive' THEN
			-- in the same transaction: a detached partition whose rows the
			-- archiving helper has not taken yet is found again by the
			-- next run, whatever stops this one
			st := format('COMMENT ON TABLE %s IS %L', part::regclass, @extschema@._pm_pending_comment(sch, tbl));
			PERFORM @extschema@._owner_exec(parent, st);
		END IF;
		IF s.retention_action = 'drop' THEN
			st := format('DROP TABLE %s', part::regclass);
			PERFORM @extschema@._owner_exec(parent, st);
		ELSIF s.retention_action = 'archive_schema' THEN
			st := format('ALTER TABLE %s SET SCHEMA %I', part::regclass, s.archive_schema);
			PERFORM @extschema@._owner_exec(parent, st);
			part_name := part::regclass::text;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Claim a set for this session's maintenance run: NULL when claimed, else
-- who holds it.  The claim is the set's partition_set_state row (its
-- running_pid), which only roles that may write that row can set, unlike
-- an advisory lock, which any role can take.  A claim whose session has
-- gone, or is not running a statement, is stale and taken over; the run it
-- belonged to did not finish (killed, cancelled or failed where it could
-- not record it), which is recorded as a failure of the set and logged.
CREATE OR REPLACE FUNCTION @extschema@._pm_claim(sch name, tbl name, wait interval)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st record;
	act record;
	msg text;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM wait) * 1000)::bigint::text, true);
		SELECT s.running_pid, s.running_backend_start, s.last_started INTO st
		FROM @extschema@.partition_set_state s
		WHERE s.parent_schema = sch AND s.parent_table = tbl
		FOR UPDATE;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN lock_not_available THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RETURN format('another transaction holds its state row (%s)', msg);
	END;
	IF st.running_pid IS NOT NULL AND st.running_pid <> pg_backend_pid() THEN
		SELECT a.usename, a.backend_start, a.state INTO act
		FROM pg_stat_activity a WHERE a.pid = st.running_pid;
		-- (backend_start and state are NULL for a session the caller may
		-- not see in full: taken as running)
		IF FOUND AND (act.backend_start IS NULL OR act.backend_start = st.running_backend_start)
			AND coalesce(act.state, 'active') NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)') THEN
			RETURN format('process %s of role %s, started %s', st.running_pid,
						  coalesce(quote_ident(act.usename::text), '?'), st.last_started);
		END IF;
	END IF;
	IF st.running_pid IS NOT NULL THEN
		msg := format('the run of process %s started %s did not finish (its session ended, or it was cancelled or failed before it could record it)',
					  st.running_pid, st.last_started);
		UPDATE @extschema@.partition_set_state
		SET last_error = msg, last_error_at = clock_timestamp(),
			consecutive_failures = consecutive_failures + 1
		WHERE parent_schema = sch AND parent_table = tbl;
		PERFORM @extschema@._pt_log(sch, tbl, 'interrupted', false, msg);
	END IF;
	UPDATE @extschema@.partition_set_state
	SET running_pid = pg_backend_pid(),
		running_backend_start = (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()),
		last_started = clock_timestamp()
	WHERE parent_schema = sch AND parent_table = tbl;
	RETURN NULL;
END
$$;

-- Tables a conversion left its CHECK constraint sa_partition_bound on (a
-- partition_table that was killed, or a first call inside a transaction
-- block), among those the caller may maintain.
CREATE FUNCTION @extschema@._pt_leftover_bounds()
RETURNS SETOF regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT con.conrelid::regclass
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
WHERE con.conname = 'sa_partition_bound' AND con.contype = 'c'
  AND c.relkind = 'r' AND NOT c.relispartition
  AND obj_description(con.oid, 'pg_constraint') LIKE 'scale_advisor partition boundary: %'
  AND coalesce(@extschema@._may_maintain(con.conrelid::regclass), false)
ORDER BY 1::text
$$;

-- Maintain every enabled set the caller sees, or only parent: premake,
-- retention, rows in the default partition.  Each DDL runs in its own
-- transaction as the table's owner under the set's lock_timeout, retried
-- ddl_retries times.  A set runs only when its creator and the caller
-- still have the privileges of the table's owner (else a WARNING and a
-- logged skip; for an explicit parent the caller's lack is an error), and
-- only in one session at a time (a run that finds the set claimed by a
-- running session skips it with a WARNING naming that session); meant to
-- be CALLed from cron.
--
-- Fail safe: each task (create a partition with the rows the default
-- partition holds for it, retire one) runs with its log line in a
-- subtransaction, so that whatever fails in it (an error, a lock timeout
-- after the retries, a cancel) undoes all of that task; the failure is
-- recorded in partition_set_state (a cancel after that ends the call).
-- Tasks done before stay done.  A run that could not record its end (the
-- session was killed) is recognised by the next one (_pm_claim).  A
-- partition detached for the archiving helper keeps a comment until the
-- helper has emptied it, so a stopped hand-over is taken up again.  Called
-- without parent, it also removes the CHECK constraint of a conversion
-- whose session is gone (_pt_leftover_bounds), which would otherwise
-- refuse the application's rows once they pass its boundary.
CREATE OR REPLACE PROCEDURE @extschema@.maintain_partitions(parent regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	s record;
	cfg record;
	t @extschema@._pm_task;
	pl record;
	res record;
	attempt integer;
	nonatomic boolean;
	err pg_catalog.text;
	refusal pg_catalog.text;
	holder pg_catalog.text;
	qname pg_catalog.text;
	created integer;
	retired integer;
	moved bigint;
	helper boolean;
	a_run bigint;
	a_rows bigint;
	a_status pg_catalog.text;
	a_err pg_catalog.text;
	a_part pg_catalog.text;
	t_ok boolean;
	t_moved bigint;
	t_code pg_catalog.text;
	t_msg pg_catalog.text;
	leftover pg_catalog.regclass;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('maintain_partitions()');
	-- a parent the caller may not maintain, or an unknown one, is an error
	-- before anything is done
	IF parent IS NOT NULL THEN
		PERFORM @extschema@._pt_require_maintain(parent);
	END IF;
	PERFORM FROM @extschema@._pm_sets(parent) LIMIT 1;
	nonatomic := @extschema@._nonatomic();
	-- conversions whose session is gone: their constraint goes (a running
	-- one holds the table's maintenance lock and is left alone)
	IF parent IS NULL AND nonatomic THEN
		FOR leftover IN SELECT * FROM @extschema@._pt_leftover_bounds() LOOP
			CONTINUE WHEN NOT @extschema@._archive_lock(leftover);
			t_msg := NULL;
			BEGIN
				PERFORM @extschema@._pt_undo_bound(leftover, interval '1s', 0);
				IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
						   WHERE con.conrelid OPERATOR(pg_catalog.=) leftover
							 AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound') THEN
					t_msg := 'its CHECK constraint sa_partition_bound could not be removed now (the table is busy); the next run tries again';
				ELSE
					t_msg := 'its CHECK constraint sa_partition_bound was removed; call partition_table again to convert the table';
				END IF;
				PERFORM @extschema@._pt_log(n.nspname, c.relname, 'partition_table undo',
					t_msg OPERATOR(pg_catalog.~~) 'its CHECK constraint sa_partition_bound was removed%',
					'an interrupted conversion: ' OPERATOR(pg_catalog.||) t_msg)
				FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
				WHERE c.oid OPERATOR(pg_catalog.=) leftover;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS t_msg = MESSAGE_TEXT;
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			PERFORM @extschema@._archive_unlock(leftover);
			RAISE WARNING 'maintain_partitions: %: the conversion of this table was interrupted: %', leftover, t_msg
				USING HINT = 'A partition_table call that is killed leaves the constraint, which refuses rows beyond its boundary.';
		END LOOP;
	END IF;
	FOR s IN SELECT * FROM @extschema@._pm_sets(parent) LOOP
		qname := pg_catalog.format('%I.%I', s.parent_schema, s.parent_table);
		SELECT * INTO cfg FROM @extschema@.partition_sets ps
		WHERE ps.parent_schema OPERATOR(pg_catalog.=) s.parent_schema
		  AND ps.parent_table OPERATOR(pg_catalog.=) s.parent_table;
		-- the set's creator and the caller must still have the privileges
		-- of the table's owner
		refusal := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
		IF refusal IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: %', qname, refusal
				USING HINT = 'Maintenance runs as the owner of the table only for a set created by a role with the owner''s privileges; re-create the set as the owner.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: %s', refusal));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		-- one session at a time per set
		holder := @extschema@._pm_claim(s.parent_schema, s.parent_table, cfg.lock_timeout);
		IF holder IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: another run is in progress (%)', qname, holder
				USING HINT = 'If that session is not running maintenance, end it; the next run takes the set over.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: another run is in progress (%s)', holder));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
		err := s.problem;
		created := 0;
		retired := 0;
		moved := 0;
		IF err IS NULL THEN
			pl := @extschema@._pm_plan(s.parent_schema, s.parent_table);
			err := pl.err;
		END IF;
		IF err IS NULL THEN
			FOREACH t IN ARRAY pl.tasks LOOP
				t_ok := true;
				t_code := NULL;
				t_msg := NULL;
				t_moved := 0;
				a_part := NULL;
				IF t.action OPERATOR(pg_catalog.=) ANY (ARRAY['create', 'retire']) THEN
					-- the task and its log line: all or nothing
					BEGIN
						attempt := 0;
						LOOP
							IF t.action OPERATOR(pg_catalog.=) 'create' THEN
								res := @extschema@._pm_create(s.parent_schema, s.parent_table, t.lo, t.hi);
							ELSE
								res := @extschema@._pm_retire(s.parent_schema, s.parent_table, t.part);
							END IF;
							EXIT WHEN res.ok OR NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable)
								OR attempt OPERATOR(pg_catalog.>=) cfg.ddl_retries;
							attempt := attempt OPERATOR(pg_catalog.+) 1;
							PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
						END LOOP;
						IF res.ok AND t.action OPERATOR(pg_catalog.=) 'create' THEN
							t_moved := res.moved;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'create', true,
								pg_catalog.format('%s created%s%s', res.part_name,
									CASE WHEN res.moved OPERATOR(pg_catalog.>) 0
										THEN pg_catalog.format(', %s rows moved from the default partition', res.moved) ELSE '' END,
									CASE WHEN attempt OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format(' after %s retries', attempt) ELSE '' END));
						ELSIF res.ok THEN
							a_part := res.part_name;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'retire', true,
								pg_catalog.format('%s detached (%s)', res.part_name, cfg.retention_action));
						ELSE
							t_ok := false;
							t_code := res.err_code;
							t_msg := pg_catalog.format('%s failed after %s retries: %s', t.action, attempt, res.message);
						END IF;
					EXCEPTION WHEN others OR query_canceled THEN
						t_ok := false;
						GET STACKED DIAGNOSTICS t_code = RETURNED_SQLSTATE, t_msg = MESSAGE_TEXT;
						t_msg := pg_catalog.format('%s failed: %s', t.action, t_msg);
					END;
					IF t_ok THEN
						IF t.action OPERATOR(pg_catalog.=) 'create' THEN
							created := created OPERATOR(pg_catalog.+) 1;
							moved := moved OPERATOR(pg_catalog.+) t_moved;
						ELSE
							retired := retired OPERATOR(pg_catalog.+) 1;
						END IF;
					ELSE
						err := t_msg;
						BEGIN
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, t.action, false, t_msg);
						EXCEPTION WHEN others OR query_canceled THEN
							NULL;	-- the state below records it
						END;
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
					-- a cancel stops the run, once it is recorded
					IF t_code OPERATOR(pg_catalog.=) '57014' THEN
						PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
						IF nonatomic THEN
							COMMIT;
							PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						END IF;
						RAISE EXCEPTION USING ERRCODE = 'query_canceled',
							MESSAGE = pg_catalog.format('maintain_partitions: %s: %s', qname, t_msg),
							HINT = 'What this run did before is kept; the next run goes on.';
					END IF;
				ELSIF t.action OPERATOR(pg_catalog.=) 'archive' THEN
					-- detached by an earlier run, not emptied yet
					a_part := t.part::pg_catalog.regclass::pg_catalog.text;
				END IF;
				-- a detached partition goes to the archiving helper when the
				-- set asks for it and the helper is installed
				IF a_part IS NOT NULL AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
						JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
						WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@'
						  AND p.proname OPERATOR(pg_catalog.=) 'archive'
						  AND p.prokind OPERATOR(pg_catalog.=) 'p') INTO helper;
					a_err := NULL;
					IF helper AND nonatomic THEN
						-- the target must still be the owner's (checked again:
						-- it may have changed hands since the set was made)
						a_err := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
						IF a_err IS NULL THEN
							a_err := @extschema@._pm_archive_check(a_part, cfg.control_column,
								cfg.retention, cfg.archive_target, cfg.archive_batch_size);
						END IF;
					END IF;
					IF helper AND NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', a_part));
					ELSIF helper AND a_err IS NOT NULL THEN
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive refused it: %s',
								a_part, a_err));
						-- not handed over again: the comment says why
						BEGIN
							PERFORM @extschema@._owner_exec(a_part::pg_catalog.regclass,
								pg_catalog.format('COMMENT ON TABLE %s IS %L', a_part,
									pg_catalog.format('scale_advisor: detached from %s; scale_advisor.archive refused it: %s', qname, a_err)));
						EXCEPTION WHEN others THEN
							NULL;
						END;
					ELSIF helper THEN
						-- a static CALL (EXECUTE would make it atomic); the
						-- helper resolves the names itself
						a_run := NULL;
						a_rows := NULL;
						a_status := NULL;
						CALL @extschema@.archive(relation => a_part::pg_catalog.regclass,
							time_column => cfg.control_column,
							older_than => cfg.retention::interval,
							target => @extschema@._pt_target(cfg.archive_target),
							batch_size => cfg.archive_batch_size,
							run_id => a_run, rows_moved => a_rows, status => a_status);
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', a_status IS NOT DISTINCT FROM 'done',
							pg_catalog.format('scale_advisor.archive moved %s rows of %s (run %s, %s)',
								a_rows, a_part, a_run, a_status));
						-- a run that did not finish is a failure of this one (the
						-- partition stays detached and marked: the next run goes on)
						IF a_status IS DISTINCT FROM 'done' THEN
							err := pg_catalog.format('archiving %s did not finish: run %s %s (scale_advisor.archive_runs says why)',
								a_part, a_run, a_status);
						END IF;
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(a_part, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					ELSE
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive is not installed', a_part));
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
				END IF;
			END LOOP;
		ELSE
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'maintain', false, err);
		END IF;
		-- records the end and gives up the claim
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
		IF err IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: %: %', qname, err;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
END
$$;

-- Is maintenance running as expected?  One row per set.
CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN @extschema@._pt_rel(s.parent_schema, s.parent_table) IS NULL THEN 'table does not exist'
		 -- a run that holds the set but whose session is gone or idle was
		 -- killed or stopped before it could record its end
		 WHEN st.running_pid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pg_stat_activity a
				WHERE a.pid = st.running_pid AND a.backend_start IS NOT DISTINCT FROM st.running_backend_start
				  AND a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'))
			THEN format('last run was interrupted: process %s, started %s, stopped before it finished; the next run takes over',
						st.running_pid, date_trunc('second', st.last_started))
		 -- (a set restored from a dump has no state: not "ok" until a run
		 -- succeeds here, and a failure is said as such)
		 WHEN st.last_success IS NULL AND st.consecutive_failures > 0 THEN 'no run has succeeded yet; last run failed: ' || st.last_error
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'no successful run recorded (maintenance is overdue)'
		 WHEN st.last_success IS NULL THEN 'not maintained yet'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status');

-- fail safe: rows of 1.0 checked against the rules of 1.1 (docs/reliability.md,
-- "Rows from 1.0").  The update never makes a row do something else without
-- saying so:
-- - a time partition interval or retention written as a bare number, which
--   1.0 read as seconds, is written again with its unit ('86400' becomes
--   '86400 seconds': the same interval);
-- - a row whose age, interval or retention breaks a 1.1 minimum, which would
--   move, detach or drop rows within minutes, stops doing so: an archive
--   policy is disabled, a partition set loses its retention (it still
--   premakes partitions: disabling it would make inserts fail once the
--   premade partitions run out), a set whose interval is under a minute is
--   disabled;
-- - a lock_timeout over 1 minute (or a pause over 1 minute, a max_duration
--   under 1 second) is brought to that bound: these say only how long a step
--   waits, never which rows it touches.
-- Each change is named in a WARNING (an extension script shows no NOTICE).
DO $fs$
DECLARE
	r record;
	rel pg_catalog.regclass;
	kind pg_catalog.text;
	v pg_catalog.text;
	why pg_catalog.text;
	bare pg_catalog.text := '^\s*[-+]?[0-9]*\.?[0-9]+\s*$';
BEGIN
	-- the fixes are the update's own: the rows' triggers (which check the
	-- creator's privileges and the new rules) do not fire for them
	PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
	FOR r IN SELECT * FROM @extschema@.archive_policies ap ORDER BY ap.relation LOOP
		IF r.older_than OPERATOR(pg_catalog.<) interval '1 hour' AND r.enabled THEN
			UPDATE @extschema@.archive_policies ap
			SET enabled = false,
				comment = pg_catalog.concat_ws(' ', ap.comment, pg_catalog.format('[disabled by the update to 1.1: older_than %s is under 1 hour]', r.older_than))
			WHERE ap.relation OPERATOR(pg_catalog.=) r.relation;
			RAISE WARNING 'archive policy for % disabled: older_than % is under 1 hour', r.relation, r.older_than
				USING DETAIL = 'A number without a unit is read as seconds, so such a policy archives rows a few seconds or minutes old.',
					HINT = pg_catalog.format('Give the age with its unit and enable it: UPDATE scale_advisor.archive_policies SET older_than = ''90 days'', enabled = true WHERE relation = %L;', r.relation);
		END IF;
		IF r.lock_timeout OPERATOR(pg_catalog.>) interval '1 minute' THEN
			UPDATE @extschema@.archive_policies ap SET lock_timeout = interval '1 minute' WHERE ap.relation OPERATOR(pg_catalog.=) r.relation;
			RAISE WARNING 'archive policy for %: lock_timeout % lowered to 1 minute, the longest 1.1 accepts', r.relation, r.lock_timeout;
		END IF;
		IF r.pause OPERATOR(pg_catalog.>) interval '1 minute' THEN
			UPDATE @extschema@.archive_policies ap SET pause = interval '1 minute' WHERE ap.relation OPERATOR(pg_catalog.=) r.relation;
			RAISE WARNING 'archive policy for %: pause % lowered to 1 minute, the longest 1.1 accepts', r.relation, r.pause;
		END IF;
		IF r.max_duration OPERATOR(pg_catalog.<) interval '1 second' THEN
			UPDATE @extschema@.archive_policies ap SET max_duration = interval '1 second' WHERE ap.relation OPERATOR(pg_catalog.=) r.relation;
			RAISE WARNING 'archive policy for %: max_duration % raised to 1 second, the shortest 1.1 accepts', r.relation, r.max_duration;
		END IF;
	END LOOP;
	FOR r IN SELECT * FROM @extschema@.partition_sets ps ORDER BY ps.parent_schema, ps.parent_table LOOP
		rel := @extschema@._pt_rel(r.parent_schema, r.parent_table);
		kind := NULL;
		IF rel IS NOT NULL THEN
			SELECT @extschema@._pt_kind(a.atttypid::pg_catalog.regtype) INTO kind
			FROM pg_catalog.pg_attribute a
			WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attname OPERATOR(pg_catalog.=) r.control_column
			  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
		END IF;
		IF kind OPERATOR(pg_catalog.=) 'time' THEN
			v := r.part_interval;
			IF v OPERATOR(pg_catalog.~) bare THEN
				v := pg_catalog.btrim(v) OPERATOR(pg_catalog.||) ' seconds';
			END IF;
			why := NULL;
			BEGIN
				PERFORM @extschema@._pt_check_interval(kind, v);
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS why = MESSAGE_TEXT;
			END;
			IF why IS NOT NULL THEN
				IF r.enabled THEN
					UPDATE @extschema@.partition_sets ps SET enabled = false
					WHERE ps.parent_schema OPERATOR(pg_catalog.=) r.parent_schema AND ps.parent_table OPERATOR(pg_catalog.=) r.parent_table;
					RAISE WARNING 'partition set %.% disabled: %', r.parent_schema, r.parent_table, why
						USING DETAIL = pg_catalog.format('Its interval was %L (a number without a unit is read as seconds).', r.part_interval),
							HINT = 'Partition it anew with a supported interval; maintain_partitions leaves it alone meanwhile.';
				END IF;
			ELSIF v OPERATOR(pg_catalog.<>) r.part_interval THEN
				UPDATE @extschema@.partition_sets ps SET part_interval = v
				WHERE ps.parent_schema OPERATOR(pg_catalog.=) r.parent_schema AND ps.parent_table OPERATOR(pg_catalog.=) r.parent_table;
				RAISE WARNING 'partition set %.%: interval % written with its unit, %', r.parent_schema, r.parent_table,
					pg_catalog.quote_literal(r.part_interval), pg_catalog.quote_literal(v);
			END IF;
			IF r.retention IS NOT NULL THEN
				v := r.retention;
				IF v OPERATOR(pg_catalog.~) bare THEN
					v := pg_catalog.btrim(v) OPERATOR(pg_catalog.||) ' seconds';
				END IF;
				why := NULL;
				BEGIN
					PERFORM @extschema@._pt_check_retention(kind, v, r.retention_action);
				EXCEPTION WHEN others THEN
					GET STACKED DIAGNOSTICS why = MESSAGE_TEXT;
				END;
				IF why IS NOT NULL THEN
					UPDATE @extschema@.partition_sets ps SET retention = NULL
					WHERE ps.parent_schema OPERATOR(pg_catalog.=) r.parent_schema AND ps.parent_table OPERATOR(pg_catalog.=) r.parent_table;
					RAISE WARNING 'partition set %.%: retention % removed: %', r.parent_schema, r.parent_table,
						pg_catalog.quote_literal(r.retention), why
						USING DETAIL = 'Its partitions are no longer retired; they are still premade.',
							HINT = pg_catalog.format('Give a retention with its unit: UPDATE scale_advisor.partition_sets SET retention = ''90 days'' WHERE parent_schema = %L AND parent_table = %L;',
								r.parent_schema, r.parent_table);
				ELSIF v OPERATOR(pg_catalog.<>) r.retention THEN
					UPDATE @extschema@.partition_sets ps SET retention = v
					WHERE ps.parent_schema OPERATOR(pg_catalog.=) r.parent_schema AND ps.parent_table OPERATOR(pg_catalog.=) r.parent_table;
					RAISE WARNING 'partition set %.%: retention % written with its unit, %', r.parent_schema, r.parent_table,
						pg_catalog.quote_literal(r.retention), pg_catalog.quote_literal(v);
				END IF;
			END IF;
		END IF;
		IF r.lock_timeout OPERATOR(pg_catalog.>) interval '1 minute' THEN
			UPDATE @extschema@.partition_sets ps SET lock_timeout = interval '1 minute'
			WHERE ps.parent_schema OPERATOR(pg_catalog.=) r.parent_schema AND ps.parent_table OPERATOR(pg_catalog.=) r.parent_table;
			RAISE WARNING 'partition set %.%: lock_timeout % lowered to 1 minute, the longest 1.1 accepts',
				r.parent_schema, r.parent_table, r.lock_timeout;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
END
$fs$;

-- DBA first week (issue 16): readable psql output, one rule for slow statements, history
-- at the store's accuracy in every database, workload scripts that keep query
-- ids, a short partition_table summary (docs/readiness.md, statement-timings.md).

-- n and the noun, singular for 1: '1 call', '3 calls' (plural given when
-- it is not the noun and an s).
CREATE OR REPLACE FUNCTION @extschema@._n(n numeric, singular text, plural text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(n::text, '?') || ' '
	   || CASE WHEN n = 1 THEN singular ELSE coalesce(plural, singular || 's') END
$$;

-- A time in milliseconds as a person reads it: '850 us', '12.3 ms',
-- '4.56 s', '2.1 min', '3.5 h' (three significant digits at most).
CREATE OR REPLACE FUNCTION @extschema@._ms_pretty(ms double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL THEN NULL
			WHEN ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms::text
			WHEN abs(ms) < 1 THEN trim_scale(round((ms * 1000)::numeric, greatest(0, 2 - floor(log(greatest(abs(ms) * 1000, 1e-9)::numeric))::integer))) || ' us'
			WHEN abs(ms) < 1000 THEN trim_scale(round(ms::numeric, greatest(0, 2 - floor(log(abs(ms)::numeric))::integer))) || ' ms'
			WHEN abs(ms) < 60000 THEN trim_scale(round((ms / 1000)::numeric, greatest(0, 2 - floor(log(abs(ms / 1000)::numeric))::integer))) || ' s'
			WHEN abs(ms) < 3600000 THEN trim_scale(round((ms / 60000)::numeric, 1)) || ' min'
			ELSE trim_scale(round((ms / 3600000)::numeric, 1)) || ' h' END
$$;

-- A time in milliseconds rounded to what is meaningful: to the microsecond
-- (3 decimals), and to 4 significant digits above 10 seconds.
CREATE OR REPLACE FUNCTION @extschema@._ms_round(ms double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL OR ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms
			WHEN abs(ms) < 10000 THEN round(ms::numeric, 3)::float8
			ELSE round(ms::numeric, 3 - floor(log(abs(ms)::numeric))::integer)::float8 END
$$;

-- True for a statement the application runs: a query or a change of rows
-- (SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE, CALL, also
-- as the text of a prepared statement), leading comments and parentheses
-- aside.  Not DDL (CREATE DATABASE, CREATE INDEX, ALTER ...), maintenance
-- (ANALYZE, VACUUM, REINDEX, CLUSTER, REFRESH), COPY (bulk loads),
-- transaction control or SET, and not scale_advisor's own reads (a
-- monitoring scrape, this checklist).  A text the reader may not see
-- counts as the application's.
CREATE OR REPLACE FUNCTION @extschema@._app_statement(p_query text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN p_query IS NULL OR p_query = '<insufficient privilege>' THEN true
			WHEN strpos(lower(p_query), '@extschema@.') > 0 THEN false
			ELSE regexp_replace(
					regexp_replace(p_query, '^(\s|/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$)|\()*', ''),
					'^prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i')
				 ~* '^(select|with|values|table|insert|update|delete|merge|call)\M' END
$$;

-- A text on one line, cut at a word boundary to at most n characters, with
-- ' ...' when something was cut.
CREATE OR REPLACE FUNCTION @extschema@._cut(p_text text, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN length(t) <= n THEN t
			ELSE coalesce(nullif(regexp_replace(left(t, n + 1), '\s*\S*$', ''), ''), left(t, n)) || ' ...' END
FROM (SELECT btrim(regexp_replace(coalesce(p_text, '?'), '\s+', ' ', 'g')) AS t) x
$$;

-- The first five items of a list joined with sep, and how many more
-- ('a, b, c, d, e and 7 more'); NULL for no items.
CREATE OR REPLACE FUNCTION @extschema@._list(items text[], sep text DEFAULT ', ')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT array_to_string(items[1:5], sep)
	   || CASE WHEN cardinality(items) > 5 THEN ' and ' || (cardinality(items) - 5) || ' more' ELSE '' END
$$;

-- One row per (database, user, query id, top level): timings, latency
-- quantiles, rows, buffers and WAL; times rounded to the microsecond (to 4
-- significant digits from 10 s on); the most time-consuming first.
CREATE OR REPLACE VIEW @extschema@.query_stats AS
  SELECT s.dbid, s.userid, s.queryid, s.toplevel, s.query, s.calls,
         s.errors, s.rows,
         @extschema@._ms_round(s.total_exec_ms) AS total_exec_ms,
         @extschema@._ms_round(s.mean_exec_ms) AS mean_exec_ms,
         @extschema@._ms_round(s.min_exec_ms) AS min_exec_ms,
         @extschema@._ms_round(s.max_exec_ms) AS max_exec_ms,
         @extschema@._ms_round(s.stddev_exec_ms) AS stddev_exec_ms,
         @extschema@._ms_round(s.p50_ms) AS p50_ms,
         @extschema@._ms_round(s.p95_ms) AS p95_ms,
         @extschema@._ms_round(s.p99_ms) AS p99_ms,
         @extschema@._ms_round(s.p999_ms) AS p999_ms,
         s.plans, @extschema@._ms_round(s.total_plan_ms) AS total_plan_ms,
         s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied,
         s.shared_blks_written, s.local_blks_hit, s.local_blks_read,
         s.local_blks_dirtied, s.local_blks_written, s.temp_blks_read,
         s.temp_blks_written, s.wal_records, s.wal_fpi, s.wal_bytes,
         s.first_seen, s.last_seen
  FROM @extschema@._query_stats(true) s
  WHERE @extschema@._require_loaded()
  ORDER BY s.total_exec_ms DESC, s.calls DESC;

-- Store-wide figures: entries, capacity, evictions, memory, last reset/save.
-- For monitoring: superusers and pg_read_all_stats (pg_monitor) members.
CREATE OR REPLACE VIEW @extschema@.info AS
  SELECT i.*, pg_catalog.pg_size_pretty(i.memory_bytes) AS memory
  FROM @extschema@._info() i
  WHERE @extschema@._require_loaded()
    AND @extschema@._require_stats_reader('scale_advisor.info');

-- The one rule of a slow statement (slow_queries, the checklist's
-- slow_statements, the statement alerts and capacity() use it): an
-- application statement (_app_statement) that ran at least
-- slow_statement_min_calls times with a p95 over slow_statement_ms.
CREATE OR REPLACE FUNCTION @extschema@._is_slow(p_query text, p_calls bigint, p_p95_ms double precision)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p_calls >= @extschema@._t('slow_statement_min_calls')
	   AND p_p95_ms > @extschema@._t('slow_statement_ms')
	   AND @extschema@._app_statement(p_query)
$$;

-- Slow statements (_is_slow: application statements with at least
-- slow_statement_min_calls calls and a p95 over slow_statement_ms), slowest
-- first, with their share of the execution time of all statements and
-- rows per call.
CREATE OR REPLACE VIEW @extschema@.slow_queries AS
  SELECT s.queryid, s.dbid, s.userid, s.toplevel, s.query, s.calls, s.errors,
         s.p50_ms, s.p95_ms, s.p99_ms, s.max_exec_ms, s.mean_exec_ms,
         s.total_exec_ms,
         round((s.total_exec_ms / NULLIF(s.all_ms, 0) * 100)::numeric, 1)::float8
           AS pct_of_total_time,
         s.rows / NULLIF(s.calls, 0) AS rows_per_call,
         s.shared_blks_read, s.last_seen,
         @extschema@._ms_pretty(s.p95_ms) AS p95,
         @extschema@._ms_pretty(s.total_exec_ms) AS total_time
  FROM (SELECT q.*, sum(q.total_exec_ms) OVER () AS all_ms
          FROM @extschema@.query_stats q) s
  WHERE @extschema@._is_slow(s.query, s.calls, s.p95_ms)
  ORDER BY s.p95_ms DESC, s.total_exec_ms DESC;

CREATE OR REPLACE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings')
ORDER BY d.name;

-- One row per (database, user, application_name, kind, statement), the
-- loops that cost the most time first.  The suggestion is the batched
-- statement and the JOIN, each after its note (comment lines: what it does
-- and what each $n is, or why no statement replaces the loop).
CREATE OR REPLACE VIEW @extschema@.n_plus_one AS
SELECT e.dbid,
	   e.userid,
	   e.application_name,
	   e.kind,
	   e.queryid,
	   e.query,
	   e.parent_queryid,
	   e.parent_query,
	   e.parent_rows,
	   e.detections,
	   e.repeated_calls,
	   e.max_run,
	   round(e.repeated_calls::numeric / NULLIF(e.detections, 0), 1) AS avg_run,
	   e.last_run,
	   round(e.total_ms::numeric, 3) AS total_ms,
	   CASE
		 WHEN e.queryid IS NULL THEN
		   '<insufficient privilege>'
		 WHEN e.kind = 'repeated_identical' THEN
		   '-- the same statement ran ' || e.max_run
		   || ' times in a row with the same parameters: run it once and reuse its result'
		 ELSE
		   coalesce(e.batched_note,
					CASE WHEN e.kind = 'insert_loop' THEN
					  '-- insert all the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row'
					ELSE
					  '-- one statement for all the keys (WHERE key = ANY($1)) instead of one statement per key'
					END)
		   || coalesce(E'\n' || e.batched_query || ';', '')
		   || coalesce(E'\n' || coalesce(e.join_note,
										 '-- or, instead of looping over the rows of the parent query, join to it:')
					   || E'\n' || e.join_query || ';', '')
	   END AS suggestion,
	   e.batched_query,
	   e.join_query,
	   e.first_seen,
	   e.last_seen
  FROM @extschema@._n_plus_one_entries(
		(SELECT pg_catalog.array_agg(i.queryid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.application_name ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.created_by::pg_catalog.oid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded()
 ORDER BY e.total_ms DESC, e.repeated_calls DESC;

CREATE OR REPLACE VIEW @extschema@.index_advice AS
SELECT a.relation, a.columns, a.index_sql, a.queryids, a.calls,
       a.cost_before, a.cost_after, a.improvement_pct, a.est_size_bytes,
       a.write_rate, a.est_ms_saved_per_hour, a.reason,
       a.include_columns, a.predicate,
       pg_catalog.pg_size_pretty(a.est_size_bytes) AS est_size,
       @extschema@._ms_pretty(a.est_ms_saved_per_hour) || ' an hour' AS time_saved_per_hour
  FROM @extschema@._index_advice(false) AS a(
         relation pg_catalog.regclass, columns text[], index_sql text,
         queryids bigint[], calls bigint, cost_before double precision,
         cost_after double precision, improvement_pct double precision,
         est_size_bytes bigint, write_rate double precision,
         est_ms_saved_per_hour double precision, reason text,
         include_columns text[], predicate text)
 WHERE @extschema@._require_loaded()
 ORDER BY a.est_ms_saved_per_hour DESC, a.relation::text, a.index_sql;

-- The scans that cost the most time first.
CREATE OR REPLACE VIEW @extschema@.index_workload AS
SELECT * FROM @extschema@._index_workload() w
 WHERE @extschema@._require_loaded()
 ORDER BY w.captured_calls * w.mean_ms DESC NULLS LAST, w.executions DESC, w.queryid;

CREATE OR REPLACE VIEW @extschema@.invalid_indexes AS
SELECT c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       i.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS index_def,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.format('REINDEX INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS reindex_sql,
       pg_catalog.pg_size_pretty(@extschema@._relation_size_nowait(i.indexrelid, true)) AS index_size
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.invalid_indexes')
   AND NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
 ORDER BY index_size_bytes DESC NULLS LAST, 2;

CREATE OR REPLACE VIEW @extschema@.fk_without_index AS
SELECT k.conrelid::pg_catalog.regclass AS relation,
       k.conname AS constraint_name,
       k.confrelid::pg_catalog.regclass AS referenced_relation,
       ARRAY(SELECT a.attname::text
               FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
               JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = k.conrelid AND a.attnum = u.attnum
              ORDER BY u.ord) AS columns,
       @extschema@._relation_size_nowait(k.conrelid, true) AS table_size_bytes,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %I.%I (%s)',
              n.nspname, c.relname,
              (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
                 FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_catalog.pg_attribute a
                   ON a.attrelid = k.conrelid AND a.attnum = u.attnum)) AS index_sql,
       pg_catalog.pg_size_pretty(@extschema@._relation_size_nowait(k.conrelid, true)) AS table_size
  FROM pg_catalog.pg_constraint k
  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.fk_without_index')
   AND k.contype = 'f'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND NOT EXISTS (
         SELECT 1
           FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_catalog.pg_am am ON am.oid = ic.relam
          WHERE i.indrelid = k.conrelid
            AND i.indisvalid
            AND i.indpred IS NULL
            AND am.amname IN ('btree', 'hash')
            AND i.indnkeyatts >= pg_catalog.cardinality(k.conkey)
            -- the first n key columns, as a set, are the FK's columns
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] @> k.conkey
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] <@ k.conkey)
 ORDER BY table_size_bytes DESC NULLS LAST, 1, 2;

CREATE OR REPLACE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice() a
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_advice')
ORDER BY a.total_bytes DESC NULLS LAST, a.relation::text;

CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN @extschema@._pt_rel(s.parent_schema, s.parent_table) IS NULL THEN 'table does not exist'
		 -- a run that holds the set but whose session is gone or idle was
		 -- killed or stopped before it could record its end
		 WHEN st.running_pid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pg_stat_activity a
				WHERE a.pid = st.running_pid AND a.backend_start IS NOT DISTINCT FROM st.running_backend_start
				  AND a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'))
			THEN format('last run was interrupted: process %s, started %s, stopped before it finished; the next run takes over',
						st.running_pid, date_trunc('second', st.last_started))
		 -- (a set restored from a dump has no state: not "ok" until a run
		 -- succeeds here, and a failure is said as such)
		 WHEN st.last_success IS NULL AND st.consecutive_failures > 0 THEN 'no run has succeeded yet; last run failed: ' || st.last_error
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'no successful run recorded (maintenance is overdue)'
		 WHEN st.last_success IS NULL THEN 'not maintained yet'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status')
-- failing sets first, then overdue ones
ORDER BY coalesce(st.consecutive_failures, 0) > 0 DESC,
	 s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every DESC,
	 s.parent_schema, s.parent_table;

-- Every example kept (up to four per statement, renewed over time), oldest
-- first: the caller's statements, or all when it may read all statistics;
-- parameter values only for the example's own role and superusers.
CREATE OR REPLACE FUNCTION @extschema@._history_examples(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT example integer,
	OUT taken_at timestamptz, OUT sample_query text, OUT param_types regtype[],
	OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_examples';

-- a - b bucket by bucket: the histogram of the executions between two
-- readings of the same statement.  The counts of _history() are kept
-- modulo 2^32, so is the difference.  a alone when b is missing or has
-- another number of buckets (a snapshot of version 1.0); for 1.0's 48
-- buckets, also when b is larger somewhere (the counters were reset).
CREATE OR REPLACE FUNCTION @extschema@._hist_sub(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN b IS NULL OR cardinality(a) <> cardinality(b) THEN a
			WHEN cardinality(a) = 48 AND bool_or(u.x < coalesce(b[u.i], 0)) THEN a
			WHEN cardinality(a) = 48 THEN array_agg(u.x - coalesce(b[u.i], 0) ORDER BY u.i)
			ELSE array_agg(((u.x - coalesce(b[u.i], 0)) % 4294967296 + 4294967296) % 4294967296
						   ORDER BY u.i) END
FROM unnest(a) WITH ORDINALITY AS u(x, i)
$$;

-- Per statement of the current database: the histogram of the window (the
-- time since the latest snapshot at least p_window old) and of the
-- baseline (the p_baseline before that).
CREATE OR REPLACE FUNCTION @extschema@._windows(p_window interval, p_baseline interval)
RETURNS TABLE (dbid oid, queryid bigint, window_start timestamptz,
			   window_calls bigint, window_exec_ms double precision,
			   window_buckets bigint[], baseline_calls bigint,
			   baseline_buckets bigint[], last_seen timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_w timestamptz;
	v_wid bigint;
	v_bid bigint;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the window and baseline snapshots (ids grow with time)
	SELECT s.taken_at, s.snap_id INTO v_w, v_wid FROM @extschema@.snapshots s
	WHERE s.taken_at <= pg_catalog.now() - p_window
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	SELECT s.snap_id INTO v_bid FROM @extschema@.snapshots s
	WHERE s.taken_at <= v_w - p_baseline
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	-- a reading taken since the statement's history started (same
	-- first_seen, as many buckets, no fewer calls) is subtracted; without
	-- one, the window is everything since the history started
	RETURN QUERY
	SELECT h.dbid, h.queryid, v_w,
		   CASE WHEN w.calls IS NULL THEN h.calls ELSE h.calls - w.calls END,
		   CASE WHEN w.calls IS NULL THEN h.total_exec_ms
				ELSE h.total_exec_ms - w.total_exec_ms END,
		   CASE WHEN w.calls IS NULL THEN h.buckets
				ELSE @extschema@._hist_sub(h.buckets, w.buckets) END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint
				WHEN b.calls IS NULL THEN w.calls
				ELSE w.calls - b.calls END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint[]
				WHEN b.calls IS NULL THEN w.buckets
				ELSE @extschema@._hist_sub(w.buckets, b.buckets) END,
		   h.last_seen
	FROM @extschema@._history() h
	LEFT JOIN LATERAL (
		SELECT s.calls, s.total_exec_ms, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_wid
		ORDER BY s.snap_id DESC LIMIT 1) w0 ON true
	LEFT JOIN LATERAL (SELECT w0.* WHERE w0.first_seen = h.first_seen
						 AND cardinality(w0.buckets) = cardinality(h.buckets)
						 AND w0.calls <= h.calls) w ON true
	LEFT JOIN LATERAL (
		SELECT s.calls, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_bid
		ORDER BY s.snap_id DESC LIMIT 1) b0 ON true
	LEFT JOIN LATERAL (SELECT b0.* WHERE b0.first_seen = w.first_seen
						 AND cardinality(b0.buckets) = cardinality(w.buckets)
						 AND b0.calls <= w.calls) b ON true
	WHERE h.dbid = v_db
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0;
END
$$;

-- The database first, then the tables growing fastest; sizes also as
-- pg_size_pretty shows them.
CREATE OR REPLACE VIEW @extschema@.growth AS
SELECT g.*, pg_catalog.pg_size_pretty(g.bytes_now) AS size_now,
	   pg_catalog.pg_size_pretty(g.bytes_per_day) || ' a day' AS growth_per_day
FROM @extschema@._growth() g
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.growth')
ORDER BY g.scope = 'table', g.bytes_per_day DESC NULLS LAST, g.bytes_now DESC NULLS LAST;

-- The worst ratio first.
CREATE OR REPLACE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.regressions')
ORDER BY r.ratio DESC, r.window_p95_ms DESC;

-- What load_factor times today's load needs.  See docs/readiness.md.
CREATE OR REPLACE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
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

-- A statement's text on one line, cut at a word boundary to 100
-- characters.
CREATE OR REPLACE FUNCTION @extschema@._short(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._cut(p_text, 100) $$;

-- Rows of another part's view and a list of one of its columns (the first
-- five, and how many more), or NULLs when the view (or the column) is not
-- installed.
CREATE OR REPLACE FUNCTION @extschema@._list_of(p_name text, p_col text, p_where text DEFAULT 'true',
									 OUT n bigint, OUT names text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._has_col(p_name, p_col) THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('SELECT count(*), %I._list(array_agg(%I::text ORDER BY %I::text), '', '') FROM %I.%I WHERE %s',
							  '@extschema@', p_col, p_col, '@extschema@', p_name, p_where)
		INTO n, names;
	names := coalesce(names, '');
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._checklist()
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

-- The checks that fail first, then those that warn, each group in the
-- order of the checklist.
CREATE OR REPLACE VIEW @extschema@.checklist AS
SELECT c."check", c.status, c.value, c.target, c.advice
FROM @extschema@._checklist() WITH ORDINALITY AS c("check", status, value, target, advice, n)
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.checklist')
ORDER BY CASE c.status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, c.n;

-- Alerts that fire now.
CREATE OR REPLACE FUNCTION @extschema@._alerts()
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
	IF @extschema@._has('query_stats') THEN
		EXECUTE pg_catalog.format(
			'SELECT sum(calls)::bigint, sum(errors)::bigint FROM %I.query_stats WHERE dbid = $1', '@extschema@')
			INTO v_n, v_m
			USING (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
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

	-- archive and partition maintenance
	FOR r IN SELECT * FROM @extschema@._maintenance_status() m WHERE m.state <> 'ok' LOOP
		severity := CASE WHEN r.state = 'failing' THEN 'critical' ELSE 'warning' END;
		alert := r.kind || '_maintenance_' || r.state;
		value := r.hours_since_success; threshold := (SELECT @extschema@._t('maintenance_overdue_hours'));
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

-- Critical alerts first.
CREATE OR REPLACE VIEW @extschema@.alerts AS
SELECT a.severity, a.alert, a.value, a.threshold, a.detail, a.since
FROM @extschema@._alerts() WITH ORDINALITY AS a(severity, alert, value, threshold, detail, since, n)
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.alerts')
ORDER BY CASE a.severity WHEN 'critical' THEN 0 ELSE 1 END, a.n;

-- Ends a run: status, duration, VACUUM advice; releases the lock.
CREATE OR REPLACE FUNCTION @extschema@._archive_finish(plan jsonb, state jsonb, final_status text, message text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved bigint := (state->>'rows')::bigint;
	tuples double precision;
	advice text;
BEGIN
	-- the rows the table had when the run started, from the statistics
	-- collector's live count (fresh, unlike pg_class.reltuples, which only
	-- VACUUM and ANALYZE update, so that it still counts rows earlier runs
	-- moved out).  This session's own deletes are reported when the CALL
	-- ends, so the count still holds them, unless a VACUUM or ANALYZE
	-- recounted the table during the run: then they are added back.
	SELECT greatest(s.n_live_tup, 0)
		   + CASE WHEN greatest(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze)
					   >= (SELECT ar.started_at FROM @extschema@.archive_runs ar
						   WHERE ar.run_id = (plan->>'run_id')::bigint)
				  THEN moved ELSE 0 END
	INTO tuples
	FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = (plan->>'src')::regclass;
	IF moved >= 1000 AND moved >= 0.1 * greatest(coalesce(tuples, 0), moved) THEN
		advice := format('VACUUM (ANALYZE) %s', plan->>'src');
		RAISE NOTICE '%', format('%s rows were moved out of %s%s: %s',
			moved, plan->>'src',
			CASE WHEN tuples > 0 THEN format(' (about %s%% of its rows)', round(100 * moved / greatest(tuples, moved))) ELSE '' END,
			CASE WHEN (plan->>'vacuum')::boolean THEN 'vacuuming it now'
				 ELSE 'run ' || advice || ' to make the space reusable and refresh the planner statistics, or let autovacuum do it' END);
	END IF;
	UPDATE @extschema@.archive_runs AS ar
	SET status = final_status, error = message, finished_at = clock_timestamp(),
		duration = clock_timestamp() - ar.started_at, vacuum_advice = advice
	WHERE ar.run_id = (plan->>'run_id')::bigint;
	PERFORM @extschema@._archive_unlock((plan->>'relation')::oid::regclass);
	IF final_status = 'failed' THEN
		RAISE WARNING '%', format('%s of %s failed after %s rows: %s', plan->>'operation',
								  plan->>'relation_name', moved, message);
	END IF;
	RETURN advice;
END $$;

-- partition_table gains verbose (a new signature): the grants of the old
-- procedure go to the new one.  (Made inside ALTER EXTENSION, PostgreSQL
-- records them as initial privileges of the extension too: pg_dump then
-- leaves them out, and on 17 and later DROP ROLE of such a role needs DROP
-- OWNED first.  The CHANGELOG says so.)
SELECT pg_catalog.set_config('sa_update.partition_table_acl',
	coalesce((SELECT p.proacl::pg_catalog.text FROM pg_catalog.pg_proc p
			  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, text)'::pg_catalog.regprocedure), ''), true);
DROP PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, text);

-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done in one
-- line, or every statement run with verbose => true.  Only
-- a superuser or a role with the owner's privileges may call it; every
-- statement on the table runs as its owner.
CREATE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	step_lock_ms double precision;
	failed boolean;
	stop boolean;
	ran boolean;
	err_code pg_catalog.text;
	err_msg pg_catalog.text;
	holder pg_catalog.text;
	policy pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();
	-- one conversion or archiving run per table at a time
	IF NOT @extschema@._archive_lock(relation) THEN
		SELECT pg_catalog.format('process %s of role %s', l.pid, coalesce(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'))
		INTO holder
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
		WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
		  AND l.objid OPERATOR(pg_catalog.=) relation::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.granted
		LIMIT 1;
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('%s is being converted or archived by another session (%s)', relation, coalesce(holder, '?')),
			HINT = 'Nothing was changed.  Call partition_table again when that session has finished.';
	END IF;
	-- an archive policy on the table goes on after the conversion (said
	-- to a caller that may read the policies)
	IF pg_catalog.has_table_privilege('@extschema@.archive_policies', 'SELECT') THEN
		SELECT ap.relation INTO policy FROM @extschema@.archive_policies ap
		WHERE ap.enabled AND pg_catalog.to_regclass(ap.relation) OPERATOR(pg_catalog.=) partition_table.relation LIMIT 1;
	END IF;

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		failed := false;
		stop := false;
		ran := false;
		err_code := NULL;
		err_msg := NULL;
		attempt := 0;
		step_lock_ms := NULL;
		BEGIN
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- planned together with the swap: the relation is a partition now
				stmts := finish;
				stmts_as := finish_as;
			ELSE
				IF ph OPERATOR(pg_catalog.=) 'swap' THEN
					fp := @extschema@._pt_fingerprint(relation);
				END IF;
				SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
				INTO stmts, stmts_as, finish, finish_as
				FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
					retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
			END IF;
			IF stmts IS NOT NULL AND NOT nonatomic THEN
				IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
					-- the constraint must be committed before it can be
					-- validated without ACCESS EXCLUSIVE: stop here, the
					-- next call goes on
					stop := true;
				ELSIF ph OPERATOR(pg_catalog.=) 'finish' THEN
					-- no scans while the caller's transaction holds the lock
					later := stmts;
					stmts := NULL;
				END IF;
			END IF;
			IF stmts IS NOT NULL AND NOT stop THEN
				ran := true;
				LOOP
					res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
						CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
					EXIT WHEN res.ok;
					IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
						failed := true;
						err_code := res.err_code;
						err_msg := res.message;
						EXIT;
					END IF;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF NOT failed THEN
					step_lock_ms := res.lock_ms;
					PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
						pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
				END IF;
			END IF;
		-- whatever fails in the step, the cancel of the call included,
		-- undoes all of it
		EXCEPTION WHEN others OR query_canceled THEN
			failed := true;
			GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
		END;
		IF stop THEN
			PERFORM @extschema@._archive_unlock(relation);
			RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
			steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
			RETURN;
		END IF;
		IF failed THEN
			BEGIN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, err_msg);
			EXCEPTION WHEN others OR query_canceled THEN
				NULL;	-- the log is not worth keeping the table changed
			END;
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			-- the table goes back to what it was before this call: the
			-- CHECK constraint this call added (or one that failed its
			-- validation) is dropped and the drop committed before the
			-- error rolls back the transaction it is raised in
			bound_left := false;
			IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN
				IF nonatomic THEN
					BEGIN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					EXCEPTION WHEN others OR query_canceled THEN
						NULL;	-- said below: the constraint is looked for
					END;
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
					WHERE con.conrelid OPERATOR(pg_catalog.=) relation
					  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
			END IF;
			PERFORM @extschema@._archive_unlock(relation);
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN
				RAISE EXCEPTION USING ERRCODE = '23514',
					MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
						relation, column_name),
					DETAIL = err_msg,
					HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
						ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
			END IF;
			RAISE EXCEPTION USING ERRCODE = err_code,
				MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, err_msg),
				HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned and registered; calling partition_table again validates the foreign keys and analyzes it.'
					WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
					WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					WHEN ph OPERATOR(pg_catalog.=) 'prepare' THEN 'Nothing was changed.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					ELSE 'The table is unchanged apart from the CHECK constraint sa_partition_bound an earlier call left; calling partition_table again resumes, ALTER TABLE ... DROP CONSTRAINT sa_partition_bound removes it.' END;
		END IF;
		IF ran THEN
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				lock_ms := step_lock_ms;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
				prepared := true;
			END IF;
			done := done OPERATOR(pg_catalog.||) stmts;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	PERFORM @extschema@._archive_unlock(relation);
	IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'partition_table: run these after this transaction: %',
			pg_catalog.array_to_string(later, '; ');
	END IF;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	IF policy IS NOT NULL THEN
		RAISE NOTICE 'partition_table: the archive policy of % goes on: scale_advisor.run_archive_policies() archives each partition of it into the same archive', policy;
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
	-- what was done, in a line; every statement with verbose => true
	IF partition_table.verbose IS NOT TRUE THEN
		SELECT pg_catalog.format('%I.%I is partitioned by %I, %s a partition: %s%s%s; %s',
				sch, tbl, column_name, part_interval,
				@extschema@._n(pg_catalog.count(*), 'partition'),
				CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
					 THEN ' (' OPERATOR(pg_catalog.||) @extschema@._list(pg_catalog.array_agg(i.inhrelid::pg_catalog.regclass::pg_catalog.text
							ORDER BY i.inhrelid::pg_catalog.regclass::pg_catalog.text), ', ') OPERATOR(pg_catalog.||) ')'
					 ELSE '' END,
				CASE WHEN lock_ms IS NULL THEN ''
					 ELSE pg_catalog.format(', exclusive lock held %s ms', pg_catalog.round(lock_ms::numeric, 1)) END,
				'verbose => true lists the statements run')
		INTO steps
		FROM pg_catalog.pg_inherits i
		WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', sch, tbl)::pg_catalog.regclass;
	END IF;
END
$$;

REVOKE ALL ON PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, boolean, text) FROM PUBLIC;

DO $sa_pt_grants$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT a.grantee, a.is_grantable
		FROM pg_catalog.aclexplode(NULLIF(pg_catalog.current_setting('sa_update.partition_table_acl'), '')::pg_catalog.aclitem[]) a
		JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) '@extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, boolean, text)'::pg_catalog.regprocedure
		WHERE a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, boolean, text) TO %s%s',
			CASE WHEN r.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
			CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$sa_pt_grants$;

-- CREATE EXTENSION without the preloaded library succeeds (the objects can
-- be created), but nothing works until the server loads it: say so.  The
-- same block ends the 1.0 -> 1.1 update script.
DO $sa_preload_check$
DECLARE
	v_loaded boolean;
BEGIN
	SELECT pg_catalog.bool_or(pg_catalog.regexp_replace(pg_catalog.btrim(l, ' "'),
						'^\$libdir/|\.so$', '', 'g') OPERATOR(pg_catalog.=) 'scale_advisor')
	  INTO v_loaded
	  FROM pg_catalog.unnest(pg_catalog.string_to_array(
			pg_catalog.current_setting('shared_preload_libraries'), ',')) AS l;
	IF NOT coalesce(v_loaded, false) THEN
		RAISE WARNING USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'scale_advisor is not loaded through shared_preload_libraries: its views and functions fail until it is',
			HINT = 'Add scale_advisor to shared_preload_libraries in postgresql.conf and restart the server.';
	END IF;
END
$sa_preload_check$;
-- index advice scoring (issues 14 and 16): unused_indexes leaves out the
-- extension's own indexes and those of archive tables and fills
-- stats_since, duplicate_indexes reports a plain index with the same
-- columns as a unique one (sql/install/31_index_hygiene.sql); the snapshots
-- keep each table's write counters, from which _index_table_activity()
-- gives the index advice the write rate of a recent window
-- (sql/install/60_readiness.sql, 30_index_advice.sql).
CREATE FUNCTION @extschema@._archive_tables()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.unused_indexes');
	IF pg_catalog.to_regclass('@extschema@.archive_runs') IS NULL
	   OR pg_catalog.to_regclass('@extschema@.archive_policies') IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT DISTINCT pg_catalog.to_regclass(t.target)::pg_catalog.oid
		FROM (SELECT r.target FROM @extschema@.archive_runs r
			  WHERE r.target IS NOT NULL
			  UNION
			  SELECT p.target FROM @extschema@.archive_policies p
			  WHERE p.target IS NOT NULL) t
		WHERE pg_catalog.to_regclass(t.target) IS NOT NULL $q$;
END
$$;

CREATE OR REPLACE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       COALESCE(
         (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
           WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                             WHERE datname = pg_catalog.current_database())),
         pg_catalog.pg_postmaster_start_time()) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.unused_indexes')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '@extschema@')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND e.objid OPERATOR(pg_catalog.=) c.oid AND e.deptype = 'e')
   AND c.oid OPERATOR(pg_catalog.<>) ALL (ARRAY(SELECT @extschema@._archive_tables()))
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0;

CREATE OR REPLACE VIEW @extschema@.duplicate_indexes AS
WITH idx AS (
  SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary,
         n.nspname, ic.relname,
         i.indnkeyatts AS nkey,
         (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys,
         (i.indclass::oid[])[0:i.indnkeyatts - 1] AS classes,
         (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS colls,
         (i.indoption::int2[])[0:i.indnkeyatts - 1] AS opts,
         (i.indkey::int2[])[i.indnkeyatts:] AS incl,
         ic.relam,
         pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS exprs,
         pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred,
         @extschema@._relation_size_nowait(i.indexrelid, true) AS size
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indisvalid
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
)
SELECT DISTINCT ON (a.indexrelid)
       a.indrelid::pg_catalog.regclass AS relation,
       a.indexrelid::pg_catalog.regclass AS index,
       b.indexrelid::pg_catalog.regclass AS covered_by,
       CASE WHEN a.keys = b.keys AND a.incl = b.incl
             AND a.indisunique = b.indisunique THEN 'same definition'
            WHEN a.keys = b.keys AND a.incl = b.incl THEN 'same columns as the unique covered_by'
            ELSE 'leading columns of covered_by' END AS kind,
       pg_catalog.pg_get_indexdef(a.indexrelid) AS index_def,
       pg_catalog.pg_get_indexdef(b.indexrelid) AS covered_by_def,
       a.size AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', a.nspname, a.relname) AS drop_sql
  FROM idx a
  JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.duplicate_indexes')
   AND a.relam = b.relam
   AND a.pred IS NOT DISTINCT FROM b.pred
   AND a.exprs IS NOT DISTINCT FROM b.exprs
   AND a.nkey <= b.nkey
   AND a.keys = b.keys[1:a.nkey]
   AND a.classes = b.classes[1:a.nkey]
   AND a.colls = b.colls[1:a.nkey]
   AND a.opts = b.opts[1:a.nkey]
   AND (a.incl <@ (b.keys || b.incl))
   AND CASE
         -- the same columns as a unique index: the plain one is redundant
         WHEN a.keys = b.keys AND a.incl = b.incl
              AND b.indisunique AND NOT a.indisunique THEN
           NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
         -- identical definitions: keep the constraint index, else the older
         WHEN a.keys = b.keys AND a.incl = b.incl THEN
           a.indisunique = b.indisunique
           AND NOT a.indisprimary
           AND (b.indisprimary
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid))
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    = EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
                    AND a.indexrelid > b.indexrelid))
         -- a strict prefix (or the same keys with fewer INCLUDE columns)
         ELSE NOT a.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
       END
 ORDER BY a.indexrelid, (a.keys = b.keys AND a.incl = b.incl) DESC, b.nkey, b.indexrelid;

ALTER TABLE @extschema@.snapshot_tables
  ADD COLUMN n_tup_ins bigint,
  ADD COLUMN n_tup_upd bigint,
  ADD COLUMN n_tup_hot_upd bigint,
  ADD COLUMN n_tup_del bigint;

CREATE OR REPLACE FUNCTION @extschema@.snapshot()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
	v_snap bigint;
	v_keep integer;
	v_oldest bigint;
	v_calls bigint;
	v_errors bigint;
	v_ms double precision;
	v_locked text[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('snapshot()');
	v_keep := pg_catalog.current_setting('scale_advisor.snapshot_keep')::integer;

	IF @extschema@._has('query_stats') THEN
		EXECUTE pg_catalog.format(
			'SELECT sum(calls)::bigint, sum(errors)::bigint, sum(total_exec_ms)::float8 FROM %I.query_stats WHERE dbid = $1',
			'@extschema@')
			INTO v_calls, v_errors, v_ms
			USING (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database());
	END IF;

	INSERT INTO @extschema@.snapshots (db_bytes, numbackends, active_sessions,
		active_time_ms, xact_commit, xact_rollback, stmt_calls, stmt_errors, stmt_exec_ms)
	SELECT pg_catalog.pg_database_size(d.datid),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a
			WHERE a.backend_type = 'client backend' AND a.state NOT IN ('idle')),
		   d.active_time, d.xact_commit, d.xact_rollback,
		   v_calls, v_errors, v_ms
	FROM pg_catalog.pg_stat_database d
	WHERE d.datname = pg_catalog.current_database()
	RETURNING snap_id INTO v_snap;

	-- statements whose count changed since their latest row
	INSERT INTO @extschema@.snapshot_statements
		(snap_id, dbid, queryid, first_seen, calls, rows, total_exec_ms, buckets)
	SELECT v_snap, h.dbid, h.queryid, h.first_seen, h.calls, h.rows, h.total_exec_ms, h.buckets
	FROM @extschema@._history() h
	WHERE NOT EXISTS (
		SELECT 1 FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid
		  AND s.snap_id = (SELECT max(s2.snap_id) FROM @extschema@.snapshot_statements s2
						   WHERE s2.dbid = h.dbid AND s2.queryid = h.queryid)
		  AND s.first_seen = h.first_seen AND s.calls = h.calls);

	-- sizes read without waiting: a NULL size of a table that still
	-- exists means another session holds a conflicting lock on it
	WITH sz AS MATERIALIZED (
		SELECT s.relid, s.schemaname, s.relname, s.n_live_tup,
			   @extschema@._relation_size_nowait(s.relid) AS bytes,
			   s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.schemaname <> '@extschema@'
	), ins AS (
		INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes,
			n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del)
		SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM sz t
		WHERE t.bytes IS NOT NULL
		ORDER BY t.bytes DESC
		LIMIT (SELECT @extschema@._t('snapshot_max_tables'))
		RETURNING 1
	)
	SELECT array_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname) ORDER BY t.schemaname, t.relname)
	INTO v_locked
	FROM sz t
	WHERE t.bytes IS NULL
	  AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.relid);
	IF v_locked IS NOT NULL THEN
		UPDATE @extschema@.snapshots SET locked_tables = v_locked WHERE snap_id = v_snap;
		RAISE WARNING USING ERRCODE = 'lock_not_available',
			MESSAGE = pg_catalog.format('snapshot %s left out %s table(s) locked by other sessions: %s',
										v_snap, pg_catalog.cardinality(v_locked),
										pg_catalog.array_to_string(v_locked, ', ')),
			HINT = 'Their sizes are taken by the next snapshot; scale_advisor.snapshots.locked_tables lists them.';
	END IF;

	-- keep the newest snapshot_keep snapshots
	SELECT min(k.snap_id) INTO v_oldest
	FROM (SELECT s.snap_id FROM @extschema@.snapshots s
		  ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT v_keep) k;
	IF EXISTS (SELECT 1 FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest) THEN
		-- a statement still tracked keeps its latest row: move it to the
		-- oldest snapshot kept when that has none of its own
		UPDATE @extschema@.snapshot_statements s SET snap_id = v_oldest
		FROM (SELECT DISTINCT ON (x.dbid, x.queryid) x.snap_id, x.dbid, x.queryid
			  FROM @extschema@.snapshot_statements x
			  WHERE x.snap_id < v_oldest
			  ORDER BY x.dbid, x.queryid, x.snap_id DESC) l
		WHERE s.snap_id = l.snap_id AND s.dbid = l.dbid AND s.queryid = l.queryid
		  AND NOT EXISTS (SELECT 1 FROM @extschema@.snapshot_statements y
						  WHERE y.snap_id >= v_oldest AND y.dbid = s.dbid AND y.queryid = s.queryid)
		  AND EXISTS (SELECT 1 FROM @extschema@._history() h
					  WHERE h.dbid = s.dbid AND h.queryid = s.queryid AND h.first_seen = s.first_seen);
		DELETE FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest;
	END IF;
	RETURN v_snap;
END
$$;

-- Write rates and growth of tables, for the index advice's upkeep and aging
-- (src/advice_model.c).  Rows inserted, updated (of them HOT) and deleted
-- per second over the last window_s seconds: from the newest snapshot taken
-- at least window_s ago (or, when the history is shorter, the oldest one at
-- least five minutes old) to the counters now, so that a bulk load before
-- the window does not count.  rows_per_day: the slope of the live rows over
-- the snapshots of the last growth_window_days, NULL until they span an
-- hour (as the growth view).  Tables with no such snapshot, or whose
-- counters went back since (a statistics reset, a crash), have no row.
-- These are the figures pg_stat_user_tables shows every role; the function
-- reads the extension's snapshot tables as their owner and returns nothing
-- else, so any role may run it (index_advice runs it for its reader).  It
-- waits at most a second for a lock on them; index_advice then goes on
-- with the statistics' rates.
CREATE FUNCTION @extschema@._index_table_activity(
    relids pg_catalog.oid[], window_s double precision,
    OUT relid pg_catalog.oid, OUT seconds double precision,
    OUT ins_per_s double precision, OUT upd_per_s double precision,
    OUT hot_per_s double precision, OUT del_per_s double precision,
    OUT rows_per_day double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
	v_cut timestamptz := pg_catalog.now()
		- pg_catalog.make_interval(secs => greatest(window_s, 300));
	v_from timestamptz;
BEGIN
	IF pg_catalog.to_regclass('@extschema@.snapshot_tables') IS NULL
	   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = '@extschema@.snapshot_tables'::pg_catalog.regclass
						AND a.attname = 'n_tup_hot_upd' AND NOT a.attisdropped) THEN
		RETURN;
	END IF;
	v_from := pg_catalog.now() - pg_catalog.make_interval(days =>
		coalesce(@extschema@._t('growth_window_days'), 30)::integer);
	RETURN QUERY EXECUTE $q$
	WITH cur AS (
		SELECT s.relid, s.n_live_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid = ANY ($1)
	), base AS (
		SELECT DISTINCT ON (t.relid) t.relid, n.taken_at,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE t.relid = ANY ($1)
		  AND t.n_tup_ins IS NOT NULL
		  AND n.taken_at <= pg_catalog.now() - interval '5 minutes'
		ORDER BY t.relid, (n.taken_at <= $2) DESC,
				 pg_catalog.abs(EXTRACT(epoch FROM n.taken_at - $2))
	), growth AS (
		SELECT p.relid,
			   CASE WHEN max(p.t) - min(p.t) >= 3600
					THEN pg_catalog.regr_slope(p.r, p.t / 86400.0) END AS rpd
		FROM (SELECT t.relid, EXTRACT(epoch FROM n.taken_at)::float8 AS t, t.n_live_tup::float8 AS r
			  FROM @extschema@.snapshot_tables t
			  JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
			  WHERE t.relid = ANY ($1) AND n.taken_at >= $3
			  UNION ALL
			  SELECT c.relid, EXTRACT(epoch FROM pg_catalog.now())::float8, c.n_live_tup::float8
			  FROM cur c) p
		GROUP BY p.relid
	)
	SELECT c.relid, x.secs,
		   (c.n_tup_ins - b.n_tup_ins)::float8 / x.secs,
		   (c.n_tup_upd - b.n_tup_upd)::float8 / x.secs,
		   (c.n_tup_hot_upd - b.n_tup_hot_upd)::float8 / x.secs,
		   (c.n_tup_del - b.n_tup_del)::float8 / x.secs,
		   g.rpd
	FROM cur c
	JOIN base b ON b.relid = c.relid
	CROSS JOIN LATERAL (SELECT EXTRACT(epoch FROM pg_catalog.now() - b.taken_at)::float8 AS secs) x
	LEFT JOIN growth g ON g.relid = c.relid
	WHERE c.n_tup_ins >= b.n_tup_ins
	  AND c.n_tup_upd >= b.n_tup_upd
	  AND c.n_tup_hot_upd >= b.n_tup_hot_upd
	  AND c.n_tup_del >= b.n_tup_del
	  AND x.secs > 0 $q$
	USING relids, v_cut, v_from;
END
$$;

-- Merged definitions: objects that several parts of 1.1 changed (fail-safe
-- partitioning, psql readability, N+1 in the checklist), as a fresh 1.1
-- installation defines them.

CREATE OR REPLACE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	step_lock_ms double precision;
	failed boolean;
	stop boolean;
	ran boolean;
	err_code pg_catalog.text;
	err_msg pg_catalog.text;
	holder pg_catalog.text;
	policy pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();
	-- one conversion or archiving run per table at a time
	IF NOT @extschema@._archive_lock(relation) THEN
		SELECT pg_catalog.format('process %s of role %s', l.pid, coalesce(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'))
		INTO holder
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
		WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
		  AND l.objid OPERATOR(pg_catalog.=) relation::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.granted
		LIMIT 1;
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('%s is being converted or archived by another session (%s)', relation, coalesce(holder, '?')),
			HINT = 'Nothing was changed.  Call partition_table again when that session has finished.';
	END IF;
	-- an archive policy on the table goes on after the conversion (said
	-- to a caller that may read the policies)
	IF pg_catalog.has_table_privilege('@extschema@.archive_policies', 'SELECT') THEN
		SELECT ap.relation INTO policy FROM @extschema@.archive_policies ap
		WHERE ap.enabled AND pg_catalog.to_regclass(ap.relation) OPERATOR(pg_catalog.=) partition_table.relation LIMIT 1;
	END IF;

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		failed := false;
		stop := false;
		ran := false;
		err_code := NULL;
		err_msg := NULL;
		attempt := 0;
		step_lock_ms := NULL;
		BEGIN
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- planned together with the swap: the relation is a partition now
				stmts := finish;
				stmts_as := finish_as;
			ELSE
				IF ph OPERATOR(pg_catalog.=) 'swap' THEN
					fp := @extschema@._pt_fingerprint(relation);
				END IF;
				SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
				INTO stmts, stmts_as, finish, finish_as
				FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
					retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
			END IF;
			IF stmts IS NOT NULL AND NOT nonatomic THEN
				IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
					-- the constraint must be committed before it can be
					-- validated without ACCESS EXCLUSIVE: stop here, the
					-- next call goes on
					stop := true;
				ELSIF ph OPERATOR(pg_catalog.=) 'finish' THEN
					-- no scans while the caller's transaction holds the lock
					later := stmts;
					stmts := NULL;
				END IF;
			END IF;
			IF stmts IS NOT NULL AND NOT stop THEN
				ran := true;
				LOOP
					res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
						CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
					EXIT WHEN res.ok;
					IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
						failed := true;
						err_code := res.err_code;
						err_msg := res.message;
						EXIT;
					END IF;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF NOT failed THEN
					step_lock_ms := res.lock_ms;
					PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
						pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
				END IF;
			END IF;
		-- whatever fails in the step, the cancel of the call included,
		-- undoes all of it
		EXCEPTION WHEN others OR query_canceled THEN
			failed := true;
			GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
		END;
		IF stop THEN
			PERFORM @extschema@._archive_unlock(relation);
			RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
			steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
			RETURN;
		END IF;
		IF failed THEN
			BEGIN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, err_msg);
			EXCEPTION WHEN others OR query_canceled THEN
				NULL;	-- the log is not worth keeping the table changed
			END;
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			-- the table goes back to what it was before this call: the
			-- CHECK constraint this call added (or one that failed its
			-- validation) is dropped and the drop committed before the
			-- error rolls back the transaction it is raised in
			bound_left := false;
			IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN
				IF nonatomic THEN
					BEGIN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					EXCEPTION WHEN others OR query_canceled THEN
						NULL;	-- said below: the constraint is looked for
					END;
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
					WHERE con.conrelid OPERATOR(pg_catalog.=) relation
					  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
			END IF;
			PERFORM @extschema@._archive_unlock(relation);
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN
				RAISE EXCEPTION USING ERRCODE = '23514',
					MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
						relation, column_name),
					DETAIL = err_msg,
					HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
						ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
			END IF;
			RAISE EXCEPTION USING ERRCODE = err_code,
				MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, err_msg),
				HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned and registered; calling partition_table again validates the foreign keys and analyzes it.'
					WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
					WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					WHEN ph OPERATOR(pg_catalog.=) 'prepare' THEN 'Nothing was changed.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					ELSE 'The table is unchanged apart from the CHECK constraint sa_partition_bound an earlier call left; calling partition_table again resumes, ALTER TABLE ... DROP CONSTRAINT sa_partition_bound removes it.' END;
		END IF;
		IF ran THEN
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				lock_ms := step_lock_ms;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
				prepared := true;
			END IF;
			done := done OPERATOR(pg_catalog.||) stmts;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	PERFORM @extschema@._archive_unlock(relation);
	IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'partition_table: run these after this transaction: %',
			pg_catalog.array_to_string(later, '; ');
	END IF;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	IF policy IS NOT NULL THEN
		RAISE NOTICE 'partition_table: the archive policy of % goes on: scale_advisor.run_archive_policies() archives each partition of it into the same archive', policy;
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
	-- what was done, in a line; every statement with verbose => true
	IF partition_table.verbose IS NOT TRUE THEN
		SELECT pg_catalog.format('%I.%I is partitioned by %I, %s a partition: %s%s%s; %s',
				sch, tbl, column_name, part_interval,
				@extschema@._n(pg_catalog.count(*), 'partition'),
				CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
					 THEN ' (' OPERATOR(pg_catalog.||) @extschema@._list(pg_catalog.array_agg(i.inhrelid::pg_catalog.regclass::pg_catalog.text
							ORDER BY i.inhrelid::pg_catalog.regclass::pg_catalog.text), ', ') OPERATOR(pg_catalog.||) ')'
					 ELSE '' END,
				CASE WHEN lock_ms IS NULL THEN ''
					 ELSE pg_catalog.format(', exclusive lock held %s ms', pg_catalog.round(lock_ms::numeric, 1)) END,
				'verbose => true lists the statements run')
		INTO steps
		FROM pg_catalog.pg_inherits i
		WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', sch, tbl)::pg_catalog.regclass;
	END IF;
END
$$;

CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN @extschema@._pt_rel(s.parent_schema, s.parent_table) IS NULL THEN 'table does not exist'
		 -- a run that holds the set but whose session is gone or idle was
		 -- killed or stopped before it could record its end
		 WHEN st.running_pid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pg_stat_activity a
				WHERE a.pid = st.running_pid AND a.backend_start IS NOT DISTINCT FROM st.running_backend_start
				  AND a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'))
			THEN format('last run was interrupted: process %s, started %s, stopped before it finished; the next run takes over',
						st.running_pid, date_trunc('second', st.last_started))
		 -- (a set restored from a dump has no state: not "ok" until a run
		 -- succeeds here, and a failure is said as such)
		 WHEN st.last_success IS NULL AND st.consecutive_failures > 0 THEN 'no run has succeeded yet; last run failed: ' || st.last_error
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'no successful run recorded (maintenance is overdue)'
		 WHEN st.last_success IS NULL THEN 'not maintained yet'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status')
-- failing sets first, then overdue ones
ORDER BY coalesce(st.consecutive_failures, 0) > 0 DESC,
	 s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every DESC,
	 s.parent_schema, s.parent_table;

CREATE OR REPLACE FUNCTION @extschema@._checklist()
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

-- Index advice (issue 14): GIN and BRIN advice, the indexes a new one makes
-- redundant, and the before/after check.
--
-- index_advice gains access_method, replaces and drop_sql (the C function
-- behind it returns them when the view asks for them); index_whatif()
-- accepts USING gin and USING brin (no SQL change).
-- access_method: btree, gin or brin; replaces: existing indexes the new one
-- makes redundant (every scan they serve it serves: their key columns lead
-- its own), with the statements that drop them once it is built (drop_sql).
CREATE OR REPLACE VIEW @extschema@.index_advice AS
SELECT a.relation, a.columns, a.index_sql, a.queryids, a.calls,
       a.cost_before, a.cost_after, a.improvement_pct, a.est_size_bytes,
       a.write_rate, a.est_ms_saved_per_hour, a.reason,
       a.include_columns, a.predicate,
       pg_catalog.pg_size_pretty(a.est_size_bytes) AS est_size,
       @extschema@._ms_pretty(a.est_ms_saved_per_hour) || ' an hour' AS time_saved_per_hour,
       a.access_method, a.replaces, a.drop_sql
  FROM @extschema@._index_advice(false) AS a(
         relation pg_catalog.regclass, columns text[], index_sql text,
         queryids bigint[], calls bigint, cost_before double precision,
         cost_after double precision, improvement_pct double precision,
         est_size_bytes bigint, write_rate double precision,
         est_ms_saved_per_hour double precision, reason text,
         include_columns text[], predicate text, access_method text,
         replaces pg_catalog.regclass[], drop_sql text)
 WHERE @extschema@._require_loaded()
 ORDER BY a.est_ms_saved_per_hour DESC, a.relation::text, a.index_sql;

-- Reading index_advice records, per advised index and statement it serves, the
-- planner's costs without and with the index and the statement's figures
-- in the statement store at that moment; each reading refreshes them while
-- the index does not exist.  Written only by the extension (as the table's
-- owner); each role reads the rows of its own statements, roles that may
-- read all statistics every row.
CREATE TABLE @extschema@.index_advice_predictions (
	relid oid NOT NULL,
	index_sql text NOT NULL,
	index_def text NOT NULL,
	queryid bigint NOT NULL,
	userid oid NOT NULL,
	first_advised timestamptz NOT NULL,
	last_advised timestamptz NOT NULL,
	cost_before double precision NOT NULL,
	cost_after double precision NOT NULL,
	calls bigint NOT NULL,
	total_exec_ms double precision NOT NULL,
	buckets bigint[],
	store_first_seen timestamptz,
	PRIMARY KEY (index_sql, queryid, userid)
);
ALTER TABLE @extschema@.index_advice_predictions ENABLE ROW LEVEL SECURITY;
CREATE POLICY index_advice_predictions_reader ON @extschema@.index_advice_predictions
	FOR SELECT
	USING (userid = (CURRENT_USER)::pg_catalog.regrole::pg_catalog.oid
		   OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE'));
GRANT SELECT ON @extschema@.index_advice_predictions TO PUBLIC;

-- Per recorded prediction the caller may read: the index now found with
-- the advised definition (NULL until it exists), the recorded figures and
-- those since (NULL while the index does not exist).
CREATE FUNCTION @extschema@._index_advice_outcome(
    OUT relid oid, OUT index_sql text, OUT indexrelid oid,
    OUT first_advised timestamptz, OUT last_advised timestamptz,
    OUT queryid bigint, OUT userid oid, OUT cost_before double precision,
    OUT cost_after double precision, OUT calls_before bigint,
    OUT exec_ms_before double precision, OUT buckets_before bigint[],
    OUT calls_after bigint, OUT exec_ms_after double precision,
    OUT buckets_after bigint[], OUT tracked boolean, OUT index_scans bigint)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_outcome';

-- What each advised index was predicted to do for each statement it
-- serves, and what the statement measured since the index exists: mean and
-- p95 execution time before (the store's figures up to the last time the
-- advice was given) and after.  change_pct: negative is faster.
CREATE VIEW @extschema@.index_advice_outcome AS
SELECT o.relid::pg_catalog.regclass AS relation, o.index_sql,
       o.indexrelid::pg_catalog.regclass AS index,
       CASE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = o.relid)
                 THEN 'table dropped'
            WHEN o.indexrelid IS NULL THEN 'not created'
            WHEN NOT o.tracked THEN 'created; the statement is no longer in the store'
            WHEN o.calls_after = 0 THEN 'created; no executions since'
            ELSE 'created' END AS status,
       o.first_advised, o.last_advised AS baseline_at, o.queryid, o.userid,
       o.calls_before,
       pg_catalog.round((o.exec_ms_before / NULLIF(o.calls_before, 0))::numeric, 3)
         AS mean_ms_before,
       pg_catalog.round(@extschema@._hist_quantile(o.buckets_before, 0.95)::numeric, 3)
         AS p95_ms_before,
       pg_catalog.round((o.exec_ms_before / NULLIF(o.calls_before, 0)
                         * (o.cost_after / NULLIF(o.cost_before, 0)))::numeric, 3)
         AS predicted_mean_ms,
       pg_catalog.round((100 * (o.cost_after / NULLIF(o.cost_before, 0) - 1))::numeric, 1)
         AS predicted_change_pct,
       o.calls_after,
       pg_catalog.round((o.exec_ms_after / NULLIF(o.calls_after, 0))::numeric, 3)
         AS mean_ms_after,
       pg_catalog.round(@extschema@._hist_quantile(o.buckets_after, 0.95)::numeric, 3)
         AS p95_ms_after,
       pg_catalog.round((100 * ((o.exec_ms_after / NULLIF(o.calls_after, 0))
                                / NULLIF(o.exec_ms_before / NULLIF(o.calls_before, 0), 0)
                                - 1))::numeric, 1)
         AS measured_change_pct,
       o.index_scans
  FROM @extschema@._index_advice_outcome() o
 WHERE @extschema@._require_loaded()
 ORDER BY o.indexrelid IS NULL, o.relid::pg_catalog.regclass::text, o.index_sql, o.queryid;

-- A statement view: any role reads it and sees its own statements' rows
-- (the table's policy) unless it may read all statistics.
GRANT SELECT ON @extschema@.index_advice_outcome TO PUBLIC;

-- index advice (issue 14): the snapshots record their database (a copy made
-- with CREATE DATABASE ... TEMPLATE holds its template's history, whose
-- table OIDs are the copy's); _index_table_activity() reads this
-- database's snapshots only, is no longer SECURITY DEFINER nor executable
-- by PUBLIC: index_advice runs it as its owner for the tables whose
-- history the reader may see (sql/install/30_index_advice/,
-- 60_readiness/).  Existing snapshots are taken to be this database's.
-- _archive_tables() checked its caller inside a SECURITY DEFINER function,
-- where the check saw the extension's owner and always passed: the definer
-- part is now _archive_tables_all() (for readers of all statistics),
-- called by _archive_tables() as its caller after the check
-- (31_index_hygiene/010__archive_tables.sql).
CREATE FUNCTION @extschema@._current_dbid()
RETURNS pg_catalog.oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
$$;
ALTER TABLE @extschema@.snapshots
  ADD COLUMN dbid pg_catalog.oid DEFAULT @extschema@._current_dbid();
CREATE OR REPLACE FUNCTION @extschema@._index_table_activity(
    relids pg_catalog.oid[], window_s double precision,
    OUT relid pg_catalog.oid, OUT seconds double precision,
    OUT ins_per_s double precision, OUT upd_per_s double precision,
    OUT hot_per_s double precision, OUT del_per_s double precision,
    OUT rows_per_day double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
	v_cut timestamptz := pg_catalog.now()
		- pg_catalog.make_interval(secs => greatest(window_s, 300));
	v_from timestamptz;
BEGIN
	IF pg_catalog.to_regclass('@extschema@.snapshot_tables') IS NULL
	   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = '@extschema@.snapshot_tables'::pg_catalog.regclass
						AND a.attname = 'n_tup_hot_upd' AND NOT a.attisdropped) THEN
		RETURN;
	END IF;
	v_from := pg_catalog.now() - pg_catalog.make_interval(days =>
		coalesce(@extschema@._t('growth_window_days'), 30)::integer);
	RETURN QUERY EXECUTE $q$
	WITH cur AS (
		SELECT s.relid, s.n_live_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid = ANY ($1)
	), base AS (
		SELECT DISTINCT ON (t.relid) t.relid, n.taken_at,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE t.relid = ANY ($1)
		  AND n.dbid = @extschema@._current_dbid()
		  AND t.n_tup_ins IS NOT NULL
		  AND n.taken_at <= pg_catalog.now() - interval '5 minutes'
		ORDER BY t.relid, (n.taken_at <= $2) DESC,
				 pg_catalog.abs(EXTRACT(epoch FROM n.taken_at - $2))
	), growth AS (
		SELECT p.relid,
			   CASE WHEN max(p.t) - min(p.t) >= 3600
					THEN pg_catalog.regr_slope(p.r, p.t / 86400.0) END AS rpd
		FROM (SELECT t.relid, EXTRACT(epoch FROM n.taken_at)::float8 AS t, t.n_live_tup::float8 AS r
			  FROM @extschema@.snapshot_tables t
			  JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
			  WHERE t.relid = ANY ($1) AND n.taken_at >= $3
				AND n.dbid = @extschema@._current_dbid()
			  UNION ALL
			  SELECT c.relid, EXTRACT(epoch FROM pg_catalog.now())::float8, c.n_live_tup::float8
			  FROM cur c) p
		GROUP BY p.relid
	)
	SELECT c.relid, x.secs,
		   (c.n_tup_ins - b.n_tup_ins)::float8 / x.secs,
		   (c.n_tup_upd - b.n_tup_upd)::float8 / x.secs,
		   (c.n_tup_hot_upd - b.n_tup_hot_upd)::float8 / x.secs,
		   (c.n_tup_del - b.n_tup_del)::float8 / x.secs,
		   g.rpd
	FROM cur c
	JOIN base b ON b.relid = c.relid
	CROSS JOIN LATERAL (SELECT EXTRACT(epoch FROM pg_catalog.now() - b.taken_at)::float8 AS secs) x
	LEFT JOIN growth g ON g.relid = c.relid
	WHERE c.n_tup_ins >= b.n_tup_ins
	  AND c.n_tup_upd >= b.n_tup_upd
	  AND c.n_tup_hot_upd >= b.n_tup_hot_upd
	  AND c.n_tup_del >= b.n_tup_del
	  AND x.secs > 0 $q$
	USING relids, v_cut, v_from;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._index_table_activity(pg_catalog.oid[], double precision) FROM PUBLIC;
CREATE FUNCTION @extschema@._archive_tables_all()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.to_regclass('@extschema@.archive_runs') IS NULL
	   OR pg_catalog.to_regclass('@extschema@.archive_policies') IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT DISTINCT pg_catalog.to_regclass(t.target)::pg_catalog.oid
		FROM (SELECT r.target FROM @extschema@.archive_runs r
			  WHERE r.target IS NOT NULL
			  UNION
			  SELECT p.target FROM @extschema@.archive_policies p
			  WHERE p.target IS NOT NULL) t
		WHERE pg_catalog.to_regclass(t.target) IS NOT NULL $q$;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._archive_tables_all() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._archive_tables_all() TO pg_read_all_stats;

CREATE OR REPLACE FUNCTION @extschema@._archive_tables()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.unused_indexes');
	RETURN QUERY SELECT a FROM @extschema@._archive_tables_all() a;
END
$$;
-- structure: issue 17, one rule in one place (sql/install/ split one object
-- per file).  The readiness checklist is made of one function per check
-- (_check_*), combined by _checklist() with UNION ALL; archive(),
-- unarchive() and run_archive_policies() call _archive_run() with named
-- arguments; the checks, alerts, snapshot() and _statements() read the
-- extension's views directly (no _has/_has_col/_count_of/_list_of); one
-- setting per idea: the thresholds slow_statement_ms and
-- partition_min_bytes, whose 1.0 settings scale_advisor.slow_query_ms and
-- scale_advisor.partition_advice_min_size are their old names
-- (_threshold_alias); names: history_reset() (reset_history() kept as its
-- old name), SQLSTATEs raised by condition name; unused_indexes worst
-- first with index_size, capacity() with readable, the failing maintenance
-- alerts valued by their failed runs, _pm_drop_if_empty() stops on a
-- cancel.

-- slow statements: the rule of slow_queries (_is_slow)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_slow_statements(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_x numeric;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('slow_statement_ms'));
	SELECT count(*), max(s.p95_ms),
		   string_agg(pg_catalog.format('%s (%s: %s)', s.queryid, @extschema@._ms_pretty(s.p95_ms), @extschema@._short(s.query)), '; '
					  ORDER BY s.p95_ms DESC) FILTER (WHERE s.rn <= 3)
	INTO v_n, v_x, v_txt
	FROM (SELECT s.*, row_number() OVER (ORDER BY s.p95_ms DESC) AS rn
		  FROM unnest(stmts) s
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
END
$$;

-- missing indexes, from index_advice
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_missing_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	v_n := (SELECT count(*) FROM @extschema@.index_advice);
	"check" := 'missing_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := @extschema@._n(v_n, 'index suggestion');
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;
END
$$;

-- large tables read by sequential scans
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_sequential_scans()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
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
END
$$;

-- N+1 patterns
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_n_plus_one()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	v_n := (SELECT count(*) FROM @extschema@.n_plus_one);
	"check" := 'n_plus_one';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := @extschema@._n(v_n, 'N+1 pattern');
	target := '0 patterns';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.n_plus_one; load the rows in one statement (WHERE id = ANY($1), a JOIN, or the ORM''s eager loading)' END;
	RETURN NEXT;
END
$$;

-- cacheable repeated reads
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_cacheable_queries(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
BEGIN
	SELECT sum(s.calls) INTO v_m FROM unnest(stmts) s;
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s%% of calls: %s)', s.queryid,
								round(s.calls * 100.0 / v_m, 1), @extschema@._short(s.query)) ORDER BY s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(stmts) s
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
END
$$;

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

-- sessions idle in a transaction
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_idle_in_transaction()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_x numeric;
	v_t numeric;
BEGIN
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
END
$$;

-- timeouts for application roles: login roles that are not superusers,
-- replication roles, monitoring roles (pg_monitor, pg_read_all_stats)
-- or maintenance roles (allowed to run archiving or partitioning, which
-- must not be cut short by a timeout)
-- (one of the checks _checklist() combines; returns its rows)
CREATE FUNCTION @extschema@._check_role_timeouts()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
	v_txt2 text;
	v_g record;
BEGIN
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
END
$$;

-- slow-query logging
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_slow_query_logging()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_x numeric;
	v_t numeric;
BEGIN
	v_x := @extschema@._guc_ms(pg_catalog.current_setting('log_min_duration_statement'));
	v_t := (SELECT @extschema@._t('log_min_duration_max_ms'));
	"check" := 'slow_query_logging';
	status := CASE WHEN v_x < 0 THEN 'fail' WHEN v_x > v_t THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('log_min_duration_statement = %s', pg_catalog.current_setting('log_min_duration_statement'));
	target := pg_catalog.format('between 0 and %s ms', v_t);
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('ALTER SYSTEM SET log_min_duration_statement = ''%sms''; SELECT pg_reload_conf();', least(v_t, 500)) END;
	RETURN NEXT;
END
$$;

-- WAL archiving
-- (one of the checks _checklist() combines; returns its rows)
CREATE FUNCTION @extschema@._check_wal_archiving()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_txt text;
	v_txt2 text;
	v_t numeric;
	v_setting text;
	v_r record;
BEGIN
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
END
$$;

-- autovacuum on
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_autovacuum()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
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
END
$$;

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

-- table bloat (estimate from row counts and average widths)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_table_bloat()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
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
END
$$;

-- index bloat (B-tree, plain columns)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_index_bloat()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
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
END
$$;

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

-- pagination
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_pagination(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('pagination_rows'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s rows a call: %s)', s.queryid, round(s.rows::numeric / s.calls),
								@extschema@._short(s.query)) ORDER BY s.rows::numeric / s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(stmts) s
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
END
$$;

-- old rows: archiving or partitioning candidates
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_archiving_partitioning()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('partition_min_bytes'));
	v_m := (SELECT count(*) FROM @extschema@.partition_advice);
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
	status := CASE WHEN v_n = 0 AND v_m = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s over %s with a time column%s; %s',
		@extschema@._n(v_n, 'table'), pg_catalog.pg_size_pretty(v_t), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END,
		@extschema@._n(v_m, 'partitioning suggestion'));
	target := pg_catalog.format('no unpartitioned table over %s with a time column', pg_catalog.pg_size_pretty(v_t));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'move old rows out with an archive policy (scale_advisor.archive_policies) or partition by time (SELECT * FROM scale_advisor.partition_advice)' END;
	RETURN NEXT;
END
$$;

-- unused indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_unused_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('unused_index_min_bytes'));
	SELECT count(*), coalesce(@extschema@._list(array_agg(u.index::text ORDER BY u.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.unused_indexes u
	WHERE u.index_size_bytes >= v_t;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'unused index', 'unused indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;
END
$$;

-- duplicate indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_duplicate_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(d.index::text ORDER BY d.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.duplicate_indexes d;
	"check" := 'duplicate_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'duplicate index', 'duplicate indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;
END
$$;

-- invalid indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_invalid_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(v.index::text ORDER BY v.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.invalid_indexes v;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'invalid index', 'invalid indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 invalid indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'an interrupted CREATE INDEX CONCURRENTLY left them: REINDEX INDEX CONCURRENTLY, or drop and create again' END;
	RETURN NEXT;
END
$$;

-- foreign keys without an index
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_fk_without_index()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(f.constraint_name::text ORDER BY f.constraint_name::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.fk_without_index f;
	"check" := 'fk_without_index';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s without an index%s', @extschema@._n(v_n, 'foreign key'), CASE WHEN v_txt <> '' THEN ': ' || v_txt ELSE '' END);
	target := '0 foreign keys without an index';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.fk_without_index; index the referencing columns, or deletes on the parent scan the child' END;
	RETURN NEXT;
END
$$;

-- transaction ID age
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_transaction_id_age()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
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
END
$$;

-- regressions
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_regressions()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
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
END
$$;

-- headroom for twice the load
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_capacity_2x()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
BEGIN
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

-- The readiness checklist: one row per check, in this order (the view
-- checklist puts the failing ones first).  Each check is a function of its
-- own, _check_<name>() (62_readiness_checks/1NN__check_*.sql), returning
-- its row(s) ("check", status pass/warn/fail, value, target, advice); the
-- statements are read once here for the checks that need them.
CREATE OR REPLACE FUNCTION @extschema@._checklist()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stmts @extschema@._statement[];
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the statements, read once for every check that needs them
	v_stmts := ARRAY(SELECT s FROM @extschema@._statements() s);
	RETURN QUERY
	SELECT * FROM @extschema@._check_slow_statements(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_missing_indexes()
	UNION ALL SELECT * FROM @extschema@._check_sequential_scans()
	UNION ALL SELECT * FROM @extschema@._check_n_plus_one()
	UNION ALL SELECT * FROM @extschema@._check_cacheable_queries(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_connections()
	UNION ALL SELECT * FROM @extschema@._check_idle_in_transaction()
	UNION ALL SELECT * FROM @extschema@._check_role_timeouts()
	UNION ALL SELECT * FROM @extschema@._check_slow_query_logging()
	UNION ALL SELECT * FROM @extschema@._check_wal_archiving()
	UNION ALL SELECT * FROM @extschema@._check_autovacuum()
	UNION ALL SELECT * FROM @extschema@._check_dead_tuples()
	UNION ALL SELECT * FROM @extschema@._check_stale_statistics()
	UNION ALL SELECT * FROM @extschema@._check_table_bloat()
	UNION ALL SELECT * FROM @extschema@._check_index_bloat()
	UNION ALL SELECT * FROM @extschema@._check_cache_hit_ratio()
	UNION ALL SELECT * FROM @extschema@._check_pagination(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_archiving_partitioning()
	UNION ALL SELECT * FROM @extschema@._check_unused_indexes()
	UNION ALL SELECT * FROM @extschema@._check_duplicate_indexes()
	UNION ALL SELECT * FROM @extschema@._check_invalid_indexes()
	UNION ALL SELECT * FROM @extschema@._check_fk_without_index()
	UNION ALL SELECT * FROM @extschema@._check_transaction_id_age()
	UNION ALL SELECT * FROM @extschema@._check_regressions()
	UNION ALL SELECT * FROM @extschema@._check_capacity_2x();
END
$$;

CREATE OR REPLACE PROCEDURE @extschema@.archive(
	relation regclass,
	time_column name,
	older_than interval,
	target regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	vacuum boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF archive.dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	PERFORM @extschema@._archive_check_age(archive.older_than);
	-- (parameters qualified by the procedure's name: some of their names
	-- are SQL keywords)
	CALL @extschema@._archive_run(
		p_operation => 'archive',
		p_relation => archive.relation,
		p_time_column => archive.time_column,
		p_from => '-infinity',
		p_to => pg_catalog.now() - archive.older_than,
		p_other => archive.target,
		p_batch_size => archive.batch_size,
		p_max_batches => archive.max_batches,
		p_max_duration => archive.max_duration,
		p_pause => archive.pause,
		p_lock_timeout => archive.lock_timeout,
		p_dry_run => archive.dry_run,
		p_verbose => archive.verbose,
		p_vacuum => archive.vacuum,
		p_policy => false,
		p_raise => true,
		o_run_id => archive.run_id,
		o_rows => archive.rows_moved,
		o_status => archive.status);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

CREATE OR REPLACE PROCEDURE @extschema@.unarchive(
	relation regclass,
	time_column name,
	since timestamptz DEFAULT '-infinity',
	before timestamptz DEFAULT 'infinity',
	archive regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF unarchive.dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('unarchive()');
	END IF;
	-- (parameters qualified by the procedure's name: some of their names
	-- are SQL keywords)
	CALL @extschema@._archive_run(
		p_operation => 'unarchive',
		p_relation => unarchive.relation,
		p_time_column => unarchive.time_column,
		p_from => unarchive.since,
		p_to => unarchive.before,
		p_other => unarchive.archive,
		p_batch_size => unarchive.batch_size,
		p_max_batches => unarchive.max_batches,
		p_max_duration => unarchive.max_duration,
		p_pause => unarchive.pause,
		p_lock_timeout => unarchive.lock_timeout,
		p_dry_run => unarchive.dry_run,
		p_verbose => unarchive.verbose,
		p_vacuum => false,
		p_policy => false,
		p_raise => true,
		o_run_id => unarchive.run_id,
		o_rows => unarchive.rows_moved,
		o_status => unarchive.status);
END $$;
COMMENT ON PROCEDURE @extschema@.unarchive IS
'moves archived rows whose time_column is in [since, before) back into the table, in committed batches';

CREATE OR REPLACE PROCEDURE @extschema@.run_archive_policies(verbose boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	p record;
	rel regclass;
	tgt regclass;
	run bigint;
	n bigint;
	st text;
	msg text;
	leaf record;
	dst_name text;
	key name[];
	started timestamptz;
	cutoff timestamptz;
	total bigint;
	parts integer;
	bad text[];
	fin text;
	budget interval;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('run_archive_policies()');
	-- the policies this role may see (row-level security), read once: the
	-- loop commits
	FOR p IN
		SELECT * FROM @extschema@.archive_policies ap
		WHERE ap.enabled ORDER BY ap.relation
	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		rel := pg_catalog.to_regclass(p.relation);
		tgt := pg_catalog.to_regclass(p.target);
		msg := CASE WHEN rel IS NULL THEN pg_catalog.format('table %s does not exist', p.relation)
					WHEN p.target IS NOT NULL AND tgt IS NULL
					THEN pg_catalog.format('target %s does not exist', p.target) END;
		st := 'failed';
		-- a policy runs only while its creator may still maintain the table
		IF msg IS NULL AND NOT coalesce(@extschema@._may_maintain(rel, p.created_by), false) THEN
			msg := pg_catalog.format('its creator, role %s, does not have the privileges of the owner of the table, role %s',
				p.created_by, (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = rel));
			st := 'skipped';
		END IF;
		IF msg IS NOT NULL THEN
			IF st = 'skipped' THEN
				RAISE WARNING USING
					MESSAGE = pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg),
					HINT = 'Recreate the policy as the owner of the table, or grant the owner''s role to its creator.';
			ELSE
				RAISE WARNING '%', pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg);
			END IF;
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, from_policy, finished_at, duration, status, error)
			VALUES ('archive', p.relation, p.target, p.time_column, true,
					pg_catalog.clock_timestamp(), interval '0', st, msg);
			COMMIT;
			CONTINUE;
		END IF;
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel) OPERATOR(pg_catalog.=) 'p' THEN
			-- Partitioned since the policy was made (partition_table): it
			-- goes on.  Every leaf partition holding rows older than the
			-- policy's age is archived on its own (its own run and run lock)
			-- into one archive, the policy's target or else the table's
			-- default archive <table>_archive (made as the table's owner with
			-- the table's key, as a first run would), and one run row for
			-- the policy's relation sums it up, so that its status reads as
			-- before.  max_duration is shared by the partitions, max_batches
			-- applies to each.
			started := pg_catalog.clock_timestamp();
			cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) p.older_than;
			total := 0; parts := 0; bad := '{}'; fin := 'done'; msg := NULL;
			BEGIN
				IF tgt IS NULL THEN
					SELECT pg_catalog.format('%I.%I', ns.nspname, c.relname OPERATOR(pg_catalog.||) '_archive') INTO dst_name
					FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
					WHERE c.oid OPERATOR(pg_catalog.=) rel;
					tgt := pg_catalog.to_regclass(dst_name);
					IF tgt IS NULL THEN
						key := @extschema@._archive_key(rel);
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE TABLE %s (LIKE %s)', dst_name, rel));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%s)', dst_name,
							(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') FROM pg_catalog.unnest(key) k)));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE INDEX ON %s (%I)', dst_name, p.time_column));
						tgt := pg_catalog.to_regclass(dst_name);
						RAISE NOTICE '%', pg_catalog.format('created archive table %s', dst_name);
					END IF;
				END IF;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
				fin := 'failed';
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			IF fin OPERATOR(pg_catalog.=) 'done' THEN
				FOR leaf IN
					SELECT t.relid::regclass AS part
					FROM pg_catalog.pg_partition_tree(rel) t
					JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
					WHERE t.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
					ORDER BY t.relid::regclass::pg_catalog.text
				LOOP
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					-- only the partitions that hold rows to move get a run
					CONTINUE WHEN pg_catalog.to_regclass(leaf.part::pg_catalog.text) IS NULL
						OR NOT (@extschema@._owner_exec(leaf.part,
							pg_catalog.format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I < $1::timestamptz))', leaf.part, p.time_column),
							cutoff::pg_catalog.text) #>> '{}')::boolean;
					budget := p.max_duration OPERATOR(pg_catalog.-) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started);
					IF budget OPERATOR(pg_catalog.<) interval '1 second' THEN
						fin := 'stopped';
						msg := pg_catalog.format('max_duration (%s) reached', p.max_duration);
						EXIT;
					END IF;
					run := NULL; n := NULL; st := NULL;
					CALL @extschema@._archive_run(
						p_operation => 'archive', p_relation => leaf.part,
						p_time_column => p.time_column,
						p_from => '-infinity', p_to => cutoff, p_other => tgt,
						p_batch_size => p.batch_size, p_max_batches => p.max_batches,
						p_max_duration => budget, p_pause => p.pause,
						p_lock_timeout => p.lock_timeout, p_dry_run => false,
						p_verbose => run_archive_policies.verbose,
						p_vacuum => p.vacuum, p_policy => true, p_raise => false,
						o_run_id => run, o_rows => n, o_status => st);
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					parts := parts OPERATOR(pg_catalog.+) 1;
					total := total OPERATOR(pg_catalog.+) coalesce(n, 0);
					IF st IS DISTINCT FROM 'done' THEN
						bad := bad OPERATOR(pg_catalog.||) pg_catalog.format('%s %s (run %s)', leaf.part, coalesce(st, '?'), coalesce(run::pg_catalog.text, '-'));
						fin := CASE WHEN st OPERATOR(pg_catalog.=) 'failed' OR fin OPERATOR(pg_catalog.=) 'failed' THEN 'failed' ELSE 'stopped' END;
					END IF;
					COMMIT;
				END LOOP;
				IF pg_catalog.cardinality(bad) OPERATOR(pg_catalog.>) 0 THEN
					msg := 'partitions not finished: ' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(bad, '; ');
				END IF;
			END IF;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
				 last_batch_at, finished_at, duration, rows_moved, status, error)
			VALUES ('archive', p.relation, coalesce(tgt::pg_catalog.text, p.target), p.time_column, NULL, cutoff, true,
					CASE WHEN total OPERATOR(pg_catalog.>) 0 THEN pg_catalog.clock_timestamp() END,
					pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started, total,
					fin, msg)
			RETURNING r.run_id INTO run;
			IF run_archive_policies.verbose OR fin OPERATOR(pg_catalog.<>) 'done' THEN
				RAISE NOTICE '%', pg_catalog.format('archive policy for %s (partitioned): %s, %s rows moved from %s partitions (run %s)%s',
					p.relation, fin, total, parts, run, coalesce(': ' OPERATOR(pg_catalog.||) msg, ''));
			END IF;
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run(
			p_operation => 'archive', p_relation => rel,
			p_time_column => p.time_column,
			p_from => '-infinity', p_to => pg_catalog.now() - p.older_than,
			p_other => tgt, p_batch_size => p.batch_size,
			p_max_batches => p.max_batches, p_max_duration => p.max_duration,
			p_pause => p.pause, p_lock_timeout => p.lock_timeout,
			p_dry_run => false, p_verbose => run_archive_policies.verbose,
			p_vacuum => p.vacuum, p_policy => true, p_raise => false,
			o_run_id => run, o_rows => n, o_status => st);
		-- a new transaction (the run committed): pin search_path first
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF run_archive_policies.verbose THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.run_archive_policies IS
'runs every enabled archive policy, one table after the other';

-- unused_indexes gains index_size (beside index_size_bytes) and is ordered
-- worst first; capacity() gains readable; _archive_status() and
-- _maintenance_status() gain failures (the value of the failing
-- maintenance alerts): new row types, so they are dropped and created
-- again (no other object depends on them; the grants are made again).
-- (unused_indexes is replaced, not dropped: index_size comes last, so
-- that users' own views over it stay)
DROP FUNCTION @extschema@.capacity(numeric);
DROP FUNCTION @extschema@._maintenance_status();
DROP FUNCTION @extschema@._archive_status();

-- Per enabled archive policy: the status of its latest finished run, the
-- time of its latest successful one and the number of runs that failed
-- (or were interrupted) since.  Monitoring must see every
-- policy's state, while row-level security shows a role only its own
-- policies and runs: so this reads them as the extension's owner, only
-- these columns of the extension's own tables (no error text: a failed
-- run's error may quote the rows it failed on), and runs no other code.
-- Granted to pg_read_all_stats (pg_monitor) only.
CREATE OR REPLACE FUNCTION @extschema@._archive_status()
RETURNS TABLE (relation text, last_status text, last_success timestamptz,
			   failures bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
		SELECT p.relation::text, l.status::text, s.t, f.n
		FROM @extschema@.archive_policies p
		LEFT JOIN LATERAL (
			SELECT r.status FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.<>) 'running'
			ORDER BY r.started_at DESC LIMIT 1) l ON true
		LEFT JOIN LATERAL (
			SELECT max(coalesce(r.finished_at, r.started_at)) AS t FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.=) 'done') s ON true
		LEFT JOIN LATERAL (
			SELECT count(*) AS n FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.=) ANY ('{failed,interrupted}'::text[])
			  AND r.started_at OPERATOR(pg_catalog.>=) coalesce(s.t, '-infinity')) f ON true
		WHERE p.enabled;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._archive_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._archive_status() TO pg_read_all_stats;

-- Archiving policies and partition sets whose maintenance is failing or
-- overdue; failures: the runs that failed since the last success (for a
-- partition set, its consecutive failures).
-- The error of a failed archive run is not repeated here (it may quote
-- rows): scale_advisor.archive_runs shows it to the role that ran it.
CREATE OR REPLACE FUNCTION @extschema@._maintenance_status()
RETURNS TABLE (kind text, object text, state text, last_success timestamptz,
			   hours_since_success numeric, detail text, failures bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_hours numeric := (SELECT @extschema@._t('maintenance_overdue_hours'));
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
		SELECT 'archive'::text, a.relation,
			   CASE WHEN a.last_status IN ('failed', 'interrupted') THEN 'failing'
					WHEN a.last_success IS NULL OR a.last_success < pg_catalog.now() - pg_catalog.make_interval(hours => v_hours::integer) THEN 'overdue'
					ELSE 'ok' END,
			   a.last_success, round((extract(epoch FROM pg_catalog.now() - a.last_success) / 3600)::numeric, 1),
			   CASE WHEN a.last_status IN ('failed', 'interrupted')
					THEN pg_catalog.format('last archive run of %s %s: the role that ran it sees the error in scale_advisor.archive_runs', a.relation, a.last_status)
					WHEN a.last_success IS NULL THEN pg_catalog.format('archive policy of %s never ran to completion: call scale_advisor.run_archive_policies() from cron', a.relation)
					ELSE pg_catalog.format('archive policy of %s last completed at %s', a.relation, a.last_success) END,
			   a.failures
		FROM @extschema@._archive_status() a;
	RETURN QUERY
		SELECT 'partition'::text, pg_catalog.format('%I.%I', m.parent_schema, m.parent_table),
			   CASE WHEN m.consecutive_failures > 0 THEN 'failing'
					WHEN m.overdue THEN 'overdue' ELSE 'ok' END,
			   m.last_success, round((extract(epoch FROM pg_catalog.now() - m.last_success) / 3600)::numeric, 1),
			   pg_catalog.format('partition maintenance of %I.%I: %s', m.parent_schema, m.parent_table, m.status),
			   m.consecutive_failures::bigint
		FROM @extschema@.partition_maintenance_status m
		WHERE m.enabled;
END
$$;

-- Indexes never scanned since the statistics began: stats_since is when
-- the database's statistics were last reset or, when they never were, the
-- server's start (statistics kept across a clean restart run longer: the
-- index was unused at least since then).  Indexes that enforce a
-- constraint (primary key, unique, exclusion) are left out: they are needed
-- even when no query reads them; so are the indexes of the extension's own
-- tables (and of any extension's), and those of archive tables
-- (_archive_tables()).  Worst first: the largest (what dropping them gives
-- back, and what every write to their table maintains).
CREATE OR REPLACE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       sz.bytes AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       COALESCE(
         (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
           WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                             WHERE datname = pg_catalog.current_database())),
         pg_catalog.pg_postmaster_start_time()) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.pg_size_pretty(sz.bytes) AS index_size
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (SELECT @extschema@._relation_size_nowait(i.indexrelid, true) AS bytes) sz
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.unused_indexes')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '@extschema@')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND e.objid OPERATOR(pg_catalog.=) c.oid AND e.deptype = 'e')
   AND c.oid OPERATOR(pg_catalog.<>) ALL (ARRAY(SELECT @extschema@._archive_tables()))
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0
 ORDER BY index_size_bytes DESC NULLS LAST, table_writes DESC,
          c.oid::pg_catalog.regclass::pg_catalog.text, i.indexrelid::pg_catalog.regclass::pg_catalog.text;

GRANT SELECT ON @extschema@.unused_indexes TO PUBLIC;

-- What load_factor times today's load needs.  See docs/readiness.md.
-- readable: current and projected as a person reads them (the byte rows,
-- through pg_size_pretty), NULL for the others.
CREATE OR REPLACE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
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

-- Drop a detached partition that the archiving helper emptied.  A failed
-- drop is reported (ok false), but a cancel (or statement_timeout), which
-- _pt_run() returns as 57014, is raised again: the run stops.
CREATE OR REPLACE FUNCTION @extschema@._pm_drop_if_empty(part_name text, lock_timeout interval,
	OUT ok boolean, OUT message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(part_name);
	left_rows boolean;
	res record;
BEGIN
	ok := true;
	IF rel IS NULL THEN
		message := format('%s handed to scale_advisor.archive', part_name);
		RETURN;
	END IF;
	left_rows := (@extschema@._owner_exec(rel,
		format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s))', rel)) #>> '{}')::boolean;
	IF left_rows THEN
		ok := false;
		message := format('%s handed to scale_advisor.archive; rows are left in it, so it stays (detached)', part_name);
		RETURN;
	END IF;
	res := @extschema@._pt_run(ARRAY[format('DROP TABLE %s', rel)], ARRAY[rel], lock_timeout);
	IF res.err_code = '57014' THEN	-- query_canceled
		RAISE EXCEPTION USING ERRCODE = 'query_canceled',
			MESSAGE = format('dropping %s: %s', part_name, res.message),
			HINT = 'The partition stays detached, its rows archived; the next run drops it.';
	END IF;
	ok := res.ok;
	message := CASE WHEN res.ok THEN format('%s handed to scale_advisor.archive, then dropped (empty)', part_name)
		ELSE format('%s handed to scale_advisor.archive; dropping it failed: %s', part_name, res.message) END;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._statements()
RETURNS SETOF @extschema@._statement
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
		SELECT q.dbid, q.userid, q.queryid, q.query, q.calls::bigint, q.errors::bigint,
			   q.rows::bigint, q.total_exec_ms::float8, q.mean_exec_ms::float8,
			   q.p95_ms::float8, q.max_exec_ms::float8, q.first_seen, q.last_seen
		FROM @extschema@.query_stats q
		WHERE q.dbid = v_db
		  AND strpos(coalesce(q.query, ''), '@extschema@.') = 0;
END
$$;

-- Take a snapshot now, then delete the snapshots past
-- scale_advisor.snapshot_keep.  Returns the new snapshot's id.  It never
-- waits for a lock held on a user table: a table locked by another session
-- is left out of snapshot_tables, named in snapshots.locked_tables and in a
-- WARNING.  lock_timeout bounds any other wait (on its own tables).
CREATE OR REPLACE FUNCTION @extschema@.snapshot()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
	v_snap bigint;
	v_keep integer;
	v_oldest bigint;
	v_calls bigint;
	v_errors bigint;
	v_ms double precision;
	v_locked text[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('snapshot()');
	v_keep := pg_catalog.current_setting('scale_advisor.snapshot_keep')::integer;

	SELECT sum(q.calls)::bigint, sum(q.errors)::bigint, sum(q.total_exec_ms)::float8
	INTO v_calls, v_errors, v_ms
	FROM @extschema@.query_stats q
	WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
					WHERE d.datname = pg_catalog.current_database());

	INSERT INTO @extschema@.snapshots (db_bytes, numbackends, active_sessions,
		active_time_ms, xact_commit, xact_rollback, stmt_calls, stmt_errors, stmt_exec_ms)
	SELECT pg_catalog.pg_database_size(d.datid),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a
			WHERE a.backend_type = 'client backend' AND a.state NOT IN ('idle')),
		   d.active_time, d.xact_commit, d.xact_rollback,
		   v_calls, v_errors, v_ms
	FROM pg_catalog.pg_stat_database d
	WHERE d.datname = pg_catalog.current_database()
	RETURNING snap_id INTO v_snap;

	-- statements whose count changed since their latest row
	INSERT INTO @extschema@.snapshot_statements
		(snap_id, dbid, queryid, first_seen, calls, rows, total_exec_ms, buckets)
	SELECT v_snap, h.dbid, h.queryid, h.first_seen, h.calls, h.rows, h.total_exec_ms, h.buckets
	FROM @extschema@._history() h
	WHERE NOT EXISTS (
		SELECT 1 FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid
		  AND s.snap_id = (SELECT max(s2.snap_id) FROM @extschema@.snapshot_statements s2
						   WHERE s2.dbid = h.dbid AND s2.queryid = h.queryid)
		  AND s.first_seen = h.first_seen AND s.calls = h.calls);

	-- sizes read without waiting: a NULL size of a table that still
	-- exists means another session holds a conflicting lock on it
	WITH sz AS MATERIALIZED (
		SELECT s.relid, s.schemaname, s.relname, s.n_live_tup,
			   @extschema@._relation_size_nowait(s.relid) AS bytes,
			   s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.schemaname <> '@extschema@'
	), ins AS (
		INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes,
			n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del)
		SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM sz t
		WHERE t.bytes IS NOT NULL
		ORDER BY t.bytes DESC
		LIMIT (SELECT @extschema@._t('snapshot_max_tables'))
		RETURNING 1
	)
	SELECT array_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname) ORDER BY t.schemaname, t.relname)
	INTO v_locked
	FROM sz t
	WHERE t.bytes IS NULL
	  AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.relid);
	IF v_locked IS NOT NULL THEN
		UPDATE @extschema@.snapshots SET locked_tables = v_locked WHERE snap_id = v_snap;
		RAISE WARNING USING ERRCODE = 'lock_not_available',
			MESSAGE = pg_catalog.format('snapshot %s left out %s table(s) locked by other sessions: %s',
										v_snap, pg_catalog.cardinality(v_locked),
										pg_catalog.array_to_string(v_locked, ', ')),
			HINT = 'Their sizes are taken by the next snapshot; scale_advisor.snapshots.locked_tables lists them.';
	END IF;

	-- keep the newest snapshot_keep snapshots
	SELECT min(k.snap_id) INTO v_oldest
	FROM (SELECT s.snap_id FROM @extschema@.snapshots s
		  ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT v_keep) k;
	IF EXISTS (SELECT 1 FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest) THEN
		-- a statement still tracked keeps its latest row: move it to the
		-- oldest snapshot kept when that has none of its own
		UPDATE @extschema@.snapshot_statements s SET snap_id = v_oldest
		FROM (SELECT DISTINCT ON (x.dbid, x.queryid) x.snap_id, x.dbid, x.queryid
			  FROM @extschema@.snapshot_statements x
			  WHERE x.snap_id < v_oldest
			  ORDER BY x.dbid, x.queryid, x.snap_id DESC) l
		WHERE s.snap_id = l.snap_id AND s.dbid = l.dbid AND s.queryid = l.queryid
		  AND NOT EXISTS (SELECT 1 FROM @extschema@.snapshot_statements y
						  WHERE y.snap_id >= v_oldest AND y.dbid = s.dbid AND y.queryid = s.queryid)
		  AND EXISTS (SELECT 1 FROM @extschema@._history() h
					  WHERE h.dbid = s.dbid AND h.queryid = s.queryid AND h.first_seen = s.first_seen);
		DELETE FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest;
	END IF;
	RETURN v_snap;
END
$$;

-- Alerts that fire now.
CREATE OR REPLACE FUNCTION @extschema@._alerts()
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

-- The helpers that read the extension's own views through dynamic SQL "in
-- case they are not installed" are gone: one install script creates them
-- all, and the functions above name them directly.
DROP FUNCTION @extschema@._list_of(text, text, text);
DROP FUNCTION @extschema@._count_of(text, text);
DROP FUNCTION @extschema@._has_col(text, text);
DROP FUNCTION @extschema@._has(text);

-- Every threshold the checklist, the alerts and the history views use.
CREATE OR REPLACE FUNCTION @extschema@._threshold_defaults()
RETURNS TABLE (name text, default_value numeric, unit text, description text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
VALUES
	('slow_statement_ms', 100, 'ms', 'slow_queries, checklist: p95 execution time a statement must stay under (1.0 setting: scale_advisor.slow_query_ms)'),
	('slow_statement_min_calls', 10, 'calls', 'statements with fewer calls are not judged'),
	('seq_scan_min_rows', 10000, 'rows', 'checklist: tables this large read mostly by sequential scans need an index'),
	('cacheable_min_calls', 1000, 'calls', 'checklist: a read repeated this often may be cached'),
	('cacheable_share_pct', 10, '%', 'checklist: ... when it is at least this share of all calls'),
	('connections_warning_pct', 80, '%', 'connections in use against max_connections: warning'),
	('connections_critical_pct', 90, '%', 'connections in use against max_connections: critical'),
	('idle_sessions_pct', 50, '%', 'checklist: idle sessions above this share of all sessions call for a pooler'),
	('idle_sessions_min', 10, 'sessions', 'checklist: ... when there are at least this many idle sessions'),
	('idle_in_transaction_s', 60, 's', 'checklist: sessions idle in a transaction longer than this'),
	('statement_timeout_max_ms', 60000, 'ms', 'checklist: longest statement_timeout accepted for application roles'),
	('log_min_duration_max_ms', 1000, 'ms', 'checklist: log_min_duration_statement must be on and at most this'),
	('archive_max_age_s', 3600, 's', 'WAL archiving: age of the last archived segment, while WAL is written'),
	('dead_tuple_pct', 20, '%', 'checklist: dead tuples against all tuples of a table: warn'),
	('dead_tuple_critical_pct', 50, '%', 'checklist: dead tuples against all tuples of a table: fail'),
	('dead_tuple_min', 1000, 'rows', 'checklist: tables with fewer dead tuples are not judged'),
	('analyze_max_age_days', 7, 'days', 'checklist: statistics of a modified table older than this are stale'),
	('table_bloat_pct', 50, '%', 'checklist: estimated table bloat'),
	('index_bloat_pct', 50, '%', 'checklist: estimated B-tree index bloat'),
	('bloat_min_bytes', 10485760, 'bytes', 'checklist: relations smaller than this are not judged for bloat'),
	('cache_hit_pct', 99, '%', 'checklist: buffer cache hit ratio: warn below'),
	('cache_hit_critical_pct', 90, '%', 'checklist: buffer cache hit ratio: fail below'),
	('pagination_rows', 1000, 'rows', 'checklist: rows per call of a SELECT without LIMIT'),
	('partition_min_bytes', 10737418240, 'bytes', 'checklist, partition_advice: tables larger than this are archiving or partitioning candidates (1.0 setting: scale_advisor.partition_advice_min_size)'),
	('unused_index_min_bytes', 1048576, 'bytes', 'checklist: unused indexes smaller than this are not reported'),
	('xid_age_warning', 1000000000, 'xids', 'transaction ID age of the database: warning'),
	('xid_age_critical', 1500000000, 'xids', 'transaction ID age of the database: critical'),
	('alert_p95_ms', 1000, 'ms', 'alert: p95 of a statement in the last window'),
	('alert_slow_statement_ms', 500, 'ms', 'alert: executions slower than this in the last window'),
	('alert_error_rate_warning_pct', 1, '%', 'alert: failed statements against all statements: warning'),
	('alert_error_rate_critical_pct', 5, '%', 'alert: failed statements against all statements: critical'),
	('alert_error_min_calls', 100, 'calls', 'alert: the error rate is judged from this many statements on'),
	('replication_lag_warning_s', 30, 's', 'alert: replay lag of a standby: warning'),
	('replication_lag_critical_s', 300, 's', 'alert: replay lag of a standby: critical'),
	('replication_slot_max_bytes', 1073741824, 'bytes', 'alert: WAL retained by an inactive replication slot'),
	('db_growth_bytes_per_day', 1073741824, 'bytes/day', 'alert: database growth per day (0: off)'),
	('db_size_limit_bytes', 0, 'bytes', 'database size limit, for days until full (0: none)'),
	('table_size_limit_bytes', 0, 'bytes', 'table size limit, for days until full (0: none)'),
	('days_to_limit_warning', 30, 'days', 'alert: days until the database reaches db_size_limit_bytes: warning'),
	('days_to_limit_critical', 7, 'days', 'alert: days until the database reaches db_size_limit_bytes: critical'),
	('maintenance_overdue_hours', 26, 'hours', 'alert: archiving or partition maintenance last succeeded longer ago than this'),
	('regression_window_s', 3600, 's', 'regressions: length of the recent window'),
	('regression_baseline_s', 604800, 's', 'regressions: length of the baseline before the window'),
	('regression_ratio', 1.5, 'ratio', 'regressions: window p95 against baseline p95'),
	('regression_min_ms', 5, 'ms', 'regressions: smallest p95 increase reported'),
	('regression_min_calls', 20, 'calls', 'regressions: calls needed in both the window and the baseline'),
	('growth_window_days', 30, 'days', 'growth: snapshots this recent are used'),
	('snapshot_max_tables', 200, 'tables', 'snapshots: sizes of this many largest tables are kept')
$$;

-- The value a threshold gets from the server setting that was its name in
-- 1.0, or NULL when that setting is not set (-1, its default): the setting
-- scale_advisor.slow_query_ms (ms) for slow_statement_ms, and
-- scale_advisor.partition_advice_min_size (MB) for partition_min_bytes.
-- A value given with set_threshold() takes precedence (_t), and the
-- threshold's default is written once, in _threshold_defaults().
CREATE FUNCTION @extschema@._threshold_alias(name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN s.v >= 0 THEN s.v END
FROM (SELECT CASE _threshold_alias.name
			 WHEN 'slow_statement_ms'
			 THEN pg_catalog.current_setting('scale_advisor.slow_query_ms', true)::numeric
			 WHEN 'partition_min_bytes'
			 THEN pg_catalog.pg_size_bytes(pg_catalog.current_setting('scale_advisor.partition_advice_min_size', true))::numeric
			 END AS v) s
$$;

-- The value of a threshold: the user's (set_threshold), else the one its
-- 1.0 setting gives (_threshold_alias), else the default.
CREATE OR REPLACE FUNCTION @extschema@._t(p_name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT t.value FROM @extschema@.thresholds t WHERE t.name = p_name),
				@extschema@._threshold_alias(p_name),
				(SELECT d.default_value FROM @extschema@._threshold_defaults() d WHERE d.name = p_name))
$$;

CREATE OR REPLACE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, @extschema@._threshold_alias(d.name), d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings')
ORDER BY d.name;

---------------------------------------------------------------------------
-- Advice
---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := @extschema@._t('partition_min_bytes');
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

-- Keep a statement (optionally only for one application_name) out of the
-- view.
CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore(
	queryid bigint,
	application_name text DEFAULT NULL,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore()');
	IF n_plus_one_ignore.queryid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'queryid must not be null',
			HINT = 'Pass the queryid shown in scale_advisor.n_plus_one, or use n_plus_one_ignore_application() to ignore an application.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid = n_plus_one_ignore.queryid
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;

-- Keep every statement of an application (a batch job that loops on
-- purpose) out of the view.
CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore_application(
	application_name text,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore_application()');
	IF n_plus_one_ignore_application.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'application_name must not be null',
			HINT = 'Pass the application_name shown in scale_advisor.n_plus_one.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid IS NULL
				  AND i.application_name = n_plus_one_ignore_application.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;

-- Undo n_plus_one_ignore / n_plus_one_ignore_application; returns the number
-- of entries removed.
CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_unignore(
	queryid bigint DEFAULT NULL,
	application_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_unignore()');
	IF n_plus_one_unignore.queryid IS NULL
	   AND n_plus_one_unignore.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'queryid and application_name must not both be null',
			HINT = 'Pass the queryid, the application_name, or both, as given to n_plus_one_ignore.';
	END IF;
	DELETE FROM @extschema@.n_plus_one_ignore_list AS i
	 WHERE i.queryid IS NOT DISTINCT FROM n_plus_one_unignore.queryid
	   AND i.application_name IS NOT DISTINCT FROM n_plus_one_unignore.application_name;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;

-- The key the batches walk and the archive must enforce: the primary key,
-- else the narrowest valid, non-partial unique index on NOT NULL columns.
CREATE OR REPLACE FUNCTION @extschema@._archive_key(rel regclass)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k name[];
BEGIN
	SELECT array_agg(a.attname ORDER BY c.ord) INTO k
	FROM (SELECT i.indexrelid, i.indkey
		  FROM pg_index i
		  WHERE i.indrelid = rel AND i.indisunique AND i.indisvalid
			AND i.indpred IS NULL AND i.indexprs IS NULL
			AND NOT EXISTS (SELECT 1 FROM pg_attribute na
							WHERE na.attrelid = rel
							  AND na.attnum = ANY (i.indkey::int2[])
							  AND NOT na.attnotnull)
		  ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid
		  LIMIT 1) ix,
		 unnest(ix.indkey::int2[]) WITH ORDINALITY AS c(attnum, ord),
		 pg_attribute a
	WHERE a.attrelid = rel AND a.attnum = c.attnum;
	IF k IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('table %s has no primary key', rel),
			HINT = 'Archiving needs a primary key (or a unique index on NOT NULL columns) to move every row exactly once; add one, for example ALTER TABLE ... ADD PRIMARY KEY (id).';
	END IF;
	RETURN k;
END $$;

-- Checks that the archive table matches the main table: every column of
-- the main table exists in the archive with the same type; extra archive
-- columns must be nullable, have a default or be generated.  Returns the
-- columns to copy in the given direction.
CREATE OR REPLACE FUNCTION @extschema@._archive_columns(main regclass, arch regclass, operation text)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	problems text;
	cols name[];
BEGIN
	SELECT string_agg(p, '; ' ORDER BY n) INTO problems
	FROM (SELECT m.attnum AS n,
				 CASE WHEN a.attname IS NULL
					  THEN format('column %I (%s) is missing', m.attname,
								  format_type(m.atttypid, m.atttypmod))
					  ELSE format('column %I is %s, not %s', m.attname,
								  format_type(a.atttypid, a.atttypmod),
								  format_type(m.atttypid, m.atttypmod))
				 END AS p
		  FROM pg_attribute m
		  LEFT JOIN pg_attribute a
			ON a.attrelid = arch AND a.attname = m.attname
		   AND a.attnum > 0 AND NOT a.attisdropped
		  WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
			AND (a.attname IS NULL OR a.atttypid <> m.atttypid
				 OR (a.atttypmod <> m.atttypmod AND a.atttypmod <> -1))
		  UNION ALL
		  SELECT 10000 + a.attnum,
				 format('extra column %I is NOT NULL without a default', a.attname)
		  FROM pg_attribute a
		  WHERE a.attrelid = arch AND a.attnum > 0 AND NOT a.attisdropped
			AND a.attnotnull AND NOT a.atthasdef AND a.attgenerated = ''
			AND operation = 'archive'
			AND NOT EXISTS (SELECT 1 FROM pg_attribute m
							WHERE m.attrelid = main AND m.attname = a.attname
							  AND m.attnum > 0 AND NOT m.attisdropped)) x;
	IF problems IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
			MESSAGE = format('archive table %s does not match table %s', arch, main),
			DETAIL = problems || '.',
			HINT = 'The archive needs every column of the table, with the same types.';
	END IF;
	-- copy the columns the receiving side does not generate itself
	SELECT array_agg(m.attname ORDER BY m.attnum) INTO cols
	FROM pg_attribute m
	JOIN pg_attribute a ON a.attrelid = arch AND a.attname = m.attname
	WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
	  AND CASE WHEN operation = 'archive' THEN a.attgenerated = ''
			   ELSE m.attgenerated = '' END;
	RETURN cols;
END $$;

-- Validates a run, refuses a caller who may not maintain the table or an
-- archive owned by another role, takes the table's run lock, creates the
-- default archive table (as the table's owner) when needed, records the run
-- and returns its plan (the SQL of each batch step, run as the owner through
-- _owner_exec: parameters are text and cast in the statements; each returns
-- one jsonb value).  Raises on bad input, having changed nothing.
CREATE OR REPLACE FUNCTION @extschema@._archive_start(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel_ns name;
	rel_name name;
	rel_kind "char";
	owner regrole;
	other_owner regrole;
	other regclass := p_other;
	other_kind "char";
	other_name text;
	create_sql text[] := '{}';
	tcol record;
	key name[];
	cols name[];
	src regclass;			-- rows are deleted here
	dst regclass;			-- and inserted here
	dst_text text;
	src_kind "char";
	dst_kind "char";
	klist text;
	kdesc text;
	kcast text;
	kjson text;
	klit text;
	clist text;
	slist text;
	tlist text;
	cond text;
	overriding text := '';
	refs jsonb := '[]';
	fk record;
	n bigint;
	holder integer;
	holder_role name;
	run bigint;
	plan jsonb;
	sqls text;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- a dry run only reads: it may run on a standby
	IF p_dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary(p_operation || '()');
	END IF;

	-- arguments
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	PERFORM @extschema@._archive_check_timing(p_max_duration, p_pause, p_lock_timeout);
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind, c.relowner INTO rel_ns, rel_name, rel_kind, owner
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = format('relation with OID %s does not exist', p_relation::oid);
	END IF;
	-- the work runs as the owner: only the owner's equals may start it
	IF NOT coalesce(@extschema@._may_maintain(p_relation), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not %s table %s', current_user::regrole, p_operation, p_relation),
			DETAIL = format('Archiving runs as the owner of the table (%s), so only a superuser or a role with the owner''s privileges may start it.', owner),
			HINT = format('Run it as the owner of the table, or GRANT %s TO %s.', owner, current_user::regrole);
	END IF;
	IF rel_kind = 'p' THEN
		RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_column',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
			MESSAGE = format('column %I of relation %s is of type %s, not a timestamp or date',
							 p_time_column, p_relation, tcol.typ),
			HINT = 'The time column must be of type timestamp with time zone, timestamp or date.';
	END IF;
	key := @extschema@._archive_key(p_relation);

	-- the archive table
	IF other IS NULL THEN
		IF p_operation = 'unarchive' THEN
			other := to_regclass(format('%I.%I', rel_ns, rel_name || '_archive'));
			IF other IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'undefined_table',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = 'name_too_long',
					MESSAGE = format('default archive table name for %s would be longer than 63 bytes', p_relation),
					HINT = 'Create an archive table and name it with target => ''...''.';
			END IF;
			other_name := format('%I.%I', rel_ns, rel_name || '_archive');
			other := to_regclass(other_name);
			IF other IS NULL THEN
				create_sql := ARRAY[
					format('CREATE TABLE %s (LIKE %s)', other_name, p_relation),
					format('ALTER TABLE %s ADD PRIMARY KEY (%s)', other_name,
						   (SELECT string_agg(quote_ident(k), ', ') FROM unnest(key) k)),
					format('CREATE INDEX ON %s (%I)', other_name, p_time_column)];
				IF NOT has_schema_privilege(owner, rel_ns, 'CREATE') THEN
					RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
						MESSAGE = format('permission denied to create archive table %s', other_name),
						HINT = format('The first run creates the archive table as the owner of the table (%s), who needs CREATE on the schema; or create it as %s and name it with target => ''...''.', owner, owner);
				END IF;
			END IF;
		END IF;
	END IF;
	IF other IS NOT NULL THEN
		SELECT c.relkind, c.relowner INTO other_kind, other_owner FROM pg_class c WHERE c.oid = other;
		other_name := other::text;
		IF other = p_relation THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'a table cannot be its own archive';
		END IF;
		-- rows go only where their owner keeps them
		IF other_owner <> owner THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive table %s is owned by role %s, not by %s, the owner of table %s',
								 other, other_owner, owner, p_relation),
				HINT = format('The archive must belong to the owner of the table: create it as %s (or ALTER TABLE %s OWNER TO %s), or name another one.',
							  owner, other, owner);
		END IF;
		-- and so must every partition of a partitioned archive (rows are
		-- routed there, and their triggers fire)
		IF other_kind = 'p' THEN
			SELECT string_agg(format('%s (owned by %s)', t.relid, c.relowner::regrole), ', ') INTO sqls
			FROM pg_partition_tree(other) t JOIN pg_class c ON c.oid = t.relid
			WHERE c.relowner <> owner;
			IF sqls IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
					MESSAGE = format('partitions of archive table %s are not owned by %s, the owner of table %s',
									 other, owner, p_relation),
					DETAIL = format('Partitions: %s.', sqls),
					HINT = 'Every partition of the archive must belong to the owner of the table.';
			END IF;
		END IF;
		IF p_operation = 'archive' AND other_kind NOT IN ('r', 'p', 'f') THEN
			RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
				MESSAGE = format('archive %s is not a table', other);
		END IF;
		cols := @extschema@._archive_columns(p_relation, other, p_operation);
		-- a unique index on the key, or on some of its columns (stricter:
		-- an archive made while the key was (id) stays usable once the
		-- table's key is (id, created_at), as partitioning needs)
		IF other_kind IN ('r', 'p') AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = other AND i.indisunique AND i.indisvalid
				  AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND (SELECT array_agg(a.attname)
					   FROM pg_attribute a
					   WHERE a.attrelid = other AND a.attnum = ANY (i.indkey::int2[]))
					  <@ key) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('archive table %s has no unique index on (%s)', other,
								 array_to_string(key, ', ')),
				HINT = 'The archive needs the key of the table (or some of its columns) as a primary key or unique index, so that a batch can never be copied twice.';
		END IF;
	ELSE
		SELECT array_agg(a.attname ORDER BY a.attnum) INTO cols
		FROM pg_attribute a
		WHERE a.attrelid = p_relation AND a.attnum > 0 AND NOT a.attisdropped;
	END IF;

	IF p_operation = 'archive' THEN
		src := p_relation; dst := other; dst_text := other_name; src_kind := 'r'; dst_kind := coalesce(other_kind, 'r');
	ELSE
		src := other; dst := p_relation; dst_text := p_relation::text; src_kind := 'r'; dst_kind := 'r';
	END IF;

	-- privileges: the owner does the work and needs them (an owner may have
	-- revoked some of its own)
	IF NOT has_table_privilege(owner, src, 'SELECT') OR NOT has_table_privilege(owner, src, 'DELETE')
	   OR NOT has_table_privilege(owner, src, 'UPDATE') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = format('Archiving runs as the owner of the table (%s), who needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.', owner);
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(owner, dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = format('Archiving runs as the owner of the table (%s), who needs INSERT on the table the rows go to.', owner);
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = 'permission denied for table @extschema@.archive_runs',
			HINT = 'Grant SELECT, INSERT, UPDATE on @extschema@.archive_runs to the roles that archive.';
	END IF;
	-- rules: the batches use data-modifying WITH and ON CONFLICT, which
	-- rules do not support (and a rule's functions would run as the caller)
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = dst AND r.ev_type = '3') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has INSERT rules', CASE p_operation WHEN 'archive' THEN 'archive table' ELSE 'table' END, dst),
			HINT = 'Archiving moves rows with INSERT ... ON CONFLICT and data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = src AND r.ev_type = '4') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has DELETE rules', CASE p_operation WHEN 'unarchive' THEN 'archive table' ELSE 'table' END, src),
			HINT = 'Archiving deletes rows in a data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = dst AND a.attidentity = 'a' AND a.attname = ANY (cols)) THEN
		overriding := ' OVERRIDING SYSTEM VALUE';
	END IF;

	-- SQL of the batch steps, run as the owner by _owner_exec, which passes
	-- parameters as text: $1, $4: time range, $2: batch size, $3: last key
	-- of the previous batch (jsonb array of text) or NULL; in the
	-- step-by-step statements $1 is the batch's row ids (tid[]).
	klist := (SELECT string_agg(format('s.%I', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kdesc := (SELECT string_agg(format('b.%I DESC', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kjson := (SELECT string_agg(format('b.%I::text', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kcast := (SELECT string_agg(format('($3::jsonb->>%s)::%s', o - 1, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
			  FROM unnest(key) WITH ORDINALITY u(k, o)
			  JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	klit := (SELECT string_agg(format('t.%I = %%L::%s', k, format_type(a.atttypid, a.atttypmod)), ' AND ' ORDER BY o)
			 FROM unnest(key) WITH ORDINALITY u(k, o)
			 JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	clist := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
	slist := (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(cols) c);
	tlist := (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(cols) c);
	IF p_operation = 'archive' THEN
		cond := format('s.%I < $4::timestamptz', p_time_column);
	ELSE
		cond := format('s.%I >= $1::timestamptz AND s.%I < $4::timestamptz', p_time_column, p_time_column);
	END IF;

	-- foreign keys that point at the rows we delete
	FOR fk IN
		SELECT con.conname, con.conrelid::regclass AS child,
			   (SELECT string_agg(format('c.%I = s.%I', ca.attname, pa.attname), ' AND ')
				FROM unnest(con.conkey, con.confkey) AS u(ck, pk)
				JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = u.ck
				JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = u.pk) AS j
		FROM pg_constraint con
		WHERE con.contype = 'f' AND con.confrelid = src
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		refs := refs || jsonb_build_object(
			'name', format('%I on %s', fk.conname, fk.child),
			'all', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE %s))', fk.child, src, fk.j, cond),
			'batch', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE s.ctid = ANY ($1::tid[])))', fk.child, src, fk.j));
	END LOOP;
	IF jsonb_array_length(refs) > 0 THEN
		SELECT string_agg(r->>'name', ', ') INTO sqls
		FROM jsonb_array_elements(refs) r
		WHERE (@extschema@._owner_exec(src, r->>'all', p_from::text, NULL, NULL, p_to::text))::boolean;
		IF sqls IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
				MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', src),
				DETAIL = format('Referencing constraints: %s.', sqls),
				HINT = 'Archive or delete the referencing rows first.';
		END IF;
	END IF;

	plan := jsonb_build_object(
		'operation', p_operation,
		'relation', p_relation::oid,
		'relation_name', p_relation::text,
		'src', src::text,
		'dst', dst_text,
		'remote', dst_kind = 'f',
		'from', p_from, 'to', p_to,
		'batch_size', p_batch_size,
		'max_batches', p_max_batches,
		'max_duration', p_max_duration,
		'pause', extract(epoch FROM p_pause),
		'lock_timeout', format('%sms', ceil(extract(epoch FROM p_lock_timeout) * 1000)),
		'verbose', p_verbose,
		'vacuum', p_vacuum,
		'refs', refs,
		'lock_sql', format('SELECT jsonb_build_object(''n'', count(*), ''tids'', array_agg(b.ctid)::text, ''last_key'', %s) '
						   'FROM (SELECT s.ctid, %s FROM ONLY %s s WHERE %s AND ($3 IS NULL OR (%s) > (%s)) '
						   'ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED) b',
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END,
						   klist, src, cond, klist, kcast, klist),
		'fast_sql', format('WITH batch AS MATERIALIZED (SELECT s.ctid, %s FROM ONLY %s s '
						   'WHERE %s AND ($3 IS NULL OR (%s) > (%s)) ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED), '
						   'moved AS (DELETE FROM ONLY %s d WHERE d.ctid = ANY (ARRAY(SELECT b.ctid FROM batch b)) RETURNING %s), '
						   'ins AS (INSERT INTO %s AS t (%s)%s SELECT %s FROM moved RETURNING 1) '
						   'SELECT jsonb_build_object(''n'', (SELECT count(*) FROM batch), ''ins'', (SELECT count(*) FROM ins), '
						   '''last_key'', (SELECT %s FROM batch b))',
						   klist, src, cond, klist, kcast, klist,
						   src, clist, dst_text, clist, overriding, clist,
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END),
		'move_sql', format('WITH moved AS (DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[]) RETURNING %s) '
						   'INSERT INTO %s AS t (%s)%s SELECT %s FROM moved',
						   src, clist, dst_text, clist, overriding, clist),
		'insert_sql', format('INSERT INTO %s AS t (%s)%s SELECT %s FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]) ON CONFLICT DO NOTHING',
							 dst_text, clist, overriding, slist, src),
		'keys_sql', format('SELECT to_jsonb(string_agg(format(%L, %s), '' OR '')) FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[])',
						   '(' || klit || ')',
						   (SELECT string_agg(format('s.%I::text', k), ', ') FROM unnest(key) k), src),
		'verify_sql', format('SELECT to_jsonb(count(*)) FROM (SELECT ROW(%s)::text AS r FROM %s t WHERE %%s) x '
							 'WHERE x.r IN (SELECT ROW(%s)::text FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]))',
							 tlist, dst_text, slist, src),
		'delete_sql', format('DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[])', src));

	IF p_dry_run THEN
		n := (@extschema@._owner_exec(src, format('SELECT to_jsonb(count(*)) FROM ONLY %s s WHERE %s', src, cond),
									  p_from::text, NULL, NULL, p_to::text))::bigint;
		RAISE NOTICE '%', format('dry run: %s rows of %s would move to %s%s, in about %s batches of %s',
			n, src, dst_text, CASE WHEN dst IS NULL THEN ' (created on the first run)' ELSE '' END,
			ceil(n::numeric / p_batch_size), p_batch_size);
		sqls := array_to_string(create_sql || ARRAY[
			format(E'-- each batch, in its own transaction (%s$2 = %s, $3 = last key of the previous batch or NULL, $4 = %s)\n',
				   CASE WHEN p_operation = 'unarchive' THEN format('$1 = %L, ', p_from) ELSE '' END,
				   p_batch_size,
				   CASE WHEN p_operation = 'unarchive' THEN quote_literal(p_to) ELSE 'now() - older_than at the start of the run' END)
			|| CASE WHEN jsonb_array_length(refs) = 0 THEN plan->>'fast_sql'
					ELSE (plan->>'lock_sql') || E';\n-- (the foreign keys that point at the table are checked here)\n'
						 || (plan->>'move_sql') END,
			'COMMIT'], E';\n');
		RAISE NOTICE '%', E'statements:\n' || sqls;
		RETURN plan || jsonb_build_object('status', 'dry_run', 'rows', n);
	END IF;

	-- one run per table at a time, under a lock that only a run can take
	-- (src/archive.c); a lock this session still holds is left over from a
	-- run that was cancelled, and is taken over
	IF NOT @extschema@._archive_lock(p_relation) THEN
		SELECT l.pid, a.usename INTO holder, holder_role
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = 1399537989::oid
		  AND l.objid = p_relation::oid AND l.objsubid = 3 AND l.granted
		  AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
		LIMIT 1;
		RAISE NOTICE USING
			MESSAGE = format('another archiving run on %s is in progress (process %s); nothing done',
							 p_relation, coalesce(holder::text, '?')),
			DETAIL = format('The running one was started by role %s.', coalesce(quote_ident(holder_role), '?'));
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
			 finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy,
				clock_timestamp(), interval '0', 'skipped',
				format('another run (process %s, role %s) was in progress',
					   coalesce(holder::text, '?'), coalesce(quote_ident(holder_role), '?')))
		RETURNING r.run_id INTO run;
		RETURN plan || jsonb_build_object('status', 'skipped', 'run_id', run, 'rows', 0);
	END IF;

	BEGIN
		-- runs of this table still marked running died without finishing
		-- (those of other roles are not visible here: row-level security)
		UPDATE @extschema@.archive_runs r
		SET status = 'interrupted',
			error = coalesce(r.error, 'the run ended without finishing (server crash, cancel or terminated connection)')
		WHERE r.relation = p_relation::text AND r.status = 'running';
		-- created as the owner of the table, so that it owns its archive
		FOR i IN 1 .. coalesce(array_length(create_sql, 1), 0) LOOP
			PERFORM @extschema@._owner_exec(p_relation, create_sql[i]);
		END LOOP;
		IF dst IS NULL THEN
			dst := to_regclass(other_name);
		END IF;
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy)
		RETURNING r.run_id INTO run;
	EXCEPTION WHEN OTHERS THEN
		PERFORM @extschema@._archive_unlock(p_relation);
		RAISE;
	END;
	IF array_length(create_sql, 1) > 0 THEN
		RAISE NOTICE '%', format('created archive table %s', other_name);
	END IF;
	RETURN plan || jsonb_build_object('status', 'running', 'run_id', run, 'rows', 0);
END $$;

-- One batch, in the caller's transaction, inside a subtransaction: an error
-- undoes the batch and is returned in the state instead of raised.  Every
-- statement on the tables runs as the owner of the table the rows leave.
-- state: {"last_key": ..., "sweep": bool, "rows": n, "batches": n}
CREATE OR REPLACE FUNCTION @extschema@._archive_batch(plan jsonb, state jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	src regclass := (plan->>'src')::regclass;
	res jsonb;
	tids text;
	last_key jsonb;
	n bigint;
	ins bigint;
	same bigint;
	keys text;
	careful boolean := false;
	found_ref boolean;
	r jsonb;
	t0 timestamptz := clock_timestamp();
	e_state text;
	e_msg text;
	e_detail text;
	e_hint text;
BEGIN
	PERFORM set_config('lock_timeout', plan->>'lock_timeout', true);
	LOOP
		BEGIN
			IF NOT careful AND jsonb_array_length(plan->'refs') = 0 THEN
				-- one statement: lock, delete, insert
				res := @extschema@._owner_exec(src, plan->>'fast_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				ins := (res->>'ins')::bigint;
				last_key := nullif(res->'last_key', 'null'::jsonb);
				IF n > 0 AND ins <> n THEN
					-- a locked row had changed since the statement's snapshot:
					-- redo the batch step by step
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				res := @extschema@._owner_exec(src, plan->>'lock_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				tids := res->>'tids';
				last_key := nullif(res->'last_key', 'null'::jsonb);
			END IF;
			IF n = 0 THEN
				IF nullif(state->'last_key', 'null'::jsonb) IS NOT NULL THEN
					-- end of the walk: sweep once more from the start for rows
					-- that were locked by others when we passed them
					RETURN state || jsonb_build_object('last_key', NULL, 'sweep', true,
													   'status', 'continue', 'moved', 0);
				END IF;
				RETURN state || jsonb_build_object('status', 'done', 'moved', 0);
			END IF;
			FOR r IN SELECT * FROM jsonb_array_elements(plan->'refs') LOOP
				-- (only on the step-by-step path: fast_sql is not used when
				-- foreign keys point at the table)
				found_ref := (@extschema@._owner_exec(src, r->>'batch', tids))::boolean;
				IF found_ref THEN
					RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
						MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', plan->>'src'),
						DETAIL = format('Referencing constraint: %s.', r->>'name'),
						HINT = 'Archive or delete the referencing rows first.';
				END IF;
			END LOOP;
			IF tids IS NULL THEN
				NULL;		-- moved by fast_sql above (or nothing locked)
			ELSIF NOT careful THEN
				-- a plain INSERT: a key already in the target raises
				-- unique_violation and the batch is redone carefully
				ins := (@extschema@._owner_exec(src, plan->>'move_sql', tids)->>'processed')::bigint;
				IF ins <> n THEN
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				ins := (@extschema@._owner_exec(src, plan->>'insert_sql', tids)->>'processed')::bigint;
				IF ins < n THEN
					keys := @extschema@._owner_exec(src, plan->>'keys_sql', tids) #>> '{}';
					same := (@extschema@._owner_exec(src, format(plan->>'verify_sql', keys), tids))::bigint;
					IF same < n THEN
						RAISE EXCEPTION USING ERRCODE = 'unique_violation',
							MESSAGE = format('%s rows of %s have a key that %s already holds with different contents',
											 n - same, plan->>'src', plan->>'dst'),
							HINT = 'Compare the rows with the same key in both tables and delete the wrong copy; nothing was moved in this batch.';
					END IF;
				END IF;
				PERFORM @extschema@._owner_exec(src, plan->>'delete_sql', tids);
			END IF;
			IF coalesce(current_setting('scale_advisor.archive_test_crash', true), 'off') = 'on' THEN
				PERFORM @extschema@._archive_test_crash();
			END IF;
			UPDATE @extschema@.archive_runs AS ar
			SET batches = ar.batches + 1, rows_moved = ar.rows_moved + n,
				last_batch_at = clock_timestamp(), duration = clock_timestamp() - ar.started_at
			WHERE ar.run_id = (plan->>'run_id')::bigint;
			IF (plan->>'verbose')::boolean THEN
				RAISE NOTICE '%', format('batch %s: moved %s rows from %s to %s in %s ms%s',
					(state->>'batches')::int + 1, n, plan->>'src', plan->>'dst',
					round(extract(epoch FROM clock_timestamp() - t0) * 1000),
					CASE WHEN careful THEN ' (some were already there, identical)' ELSE '' END);
			END IF;
			RETURN state || jsonb_build_object('last_key', last_key, 'status', 'continue', 'moved', n,
											   'rows', (state->>'rows')::bigint + n,
											   'batches', (state->>'batches')::int + 1);
		EXCEPTION
			WHEN SQLSTATE 'SA001' OR unique_violation THEN
				IF careful THEN
					GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
						e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
					RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
						'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
						'hint', nullif(e_hint, ''));
				END IF;
				careful := true;
			WHEN lock_not_available THEN
				RETURN state || jsonb_build_object('status', 'lock_timeout', 'moved', 0,
					'error', format('lock_timeout (%s) expired: %s', plan->>'lock_timeout', SQLERRM));
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
					e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
				RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
					'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
					'hint', nullif(e_hint, ''));
		END;
	END LOOP;
END $$;

-- The run loop shared by archive, unarchive and run_archive_policies.  No
-- SET clause (it commits): search_path is set locally per transaction.
CREATE OR REPLACE PROCEDURE @extschema@._archive_run(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean, p_raise boolean,
	INOUT o_run_id bigint, INOUT o_rows bigint, INOUT o_status text)
LANGUAGE plpgsql
AS $$
DECLARE
	plan jsonb;
	state jsonb := jsonb_build_object('last_key', NULL, 'sweep', false, 'rows', 0, 'batches', 0);
	final_status text;
	message text;
	lock_failures integer := 0;
	started timestamptz := pg_catalog.clock_timestamp();
	advice text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- a failed start is logged as a run of this operation on this relation:
	-- without them there is nothing to log
	IF p_operation IS NULL OR p_operation NOT IN ('archive', 'unarchive') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown archiving operation %L', p_operation),
			HINT = 'Use ''archive'' or ''unarchive''.';
	END IF;
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation must not be NULL';
	END IF;
	BEGIN
		plan := @extschema@._archive_start(p_operation, p_relation, p_time_column, p_from, p_to,
			p_other, p_batch_size, p_max_batches, p_max_duration, p_pause, p_lock_timeout,
			p_dry_run, p_verbose, p_vacuum, p_policy);
	EXCEPTION WHEN OTHERS THEN
		IF p_raise THEN
			RAISE;
		END IF;
		GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
		RAISE WARNING '%', format('%s of %s not started: %s', p_operation, p_relation, message);
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, time_column, from_policy, finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, p_time_column, coalesce(p_policy, false),
				pg_catalog.clock_timestamp(), interval '0', 'failed', message)
		RETURNING r.run_id INTO o_run_id;
		o_rows := 0;
		o_status := 'failed';
		RETURN;
	END;
	o_run_id := (plan->>'run_id')::bigint;
	o_rows := (plan->>'rows')::bigint;
	o_status := plan->>'status';
	IF o_status <> 'running' THEN
		RETURN;
	END IF;
	-- each batch commits on its own: that needs a CALL outside a
	-- transaction block (else COMMIT fails with a bare "invalid
	-- transaction termination")
	IF NOT @extschema@._nonatomic() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_termination',
			MESSAGE = pg_catalog.format('%s() cannot run inside a transaction block', p_operation),
			DETAIL = 'It commits after every batch so that locks stay short and a failure keeps the batches already done.',
			HINT = pg_catalog.format('CALL scale_advisor.%s(...) on its own in autocommit mode (not after BEGIN, nor from a function or a DO block); dry_run => true works anywhere.', p_operation);
	END IF;
	COMMIT;
	-- first statement of every transaction: pin search_path
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

	LOOP
		IF (state->>'batches')::int >= (plan->>'max_batches')::int THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_batches (%s) reached', plan->>'max_batches');
			EXIT;
		END IF;
		IF pg_catalog.clock_timestamp() - started >= (plan->>'max_duration')::interval THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_duration (%s) reached', plan->>'max_duration');
			EXIT;
		END IF;
		-- A batch is atomic, so its commit need not wait for the disk: a
		-- crash can only undo the last batches, whose rows are then still
		-- in the table and move again next time.  The run's final commit
		-- (in _archive_finish) is synchronous and flushes them all.
		PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
		state := @extschema@._archive_batch(plan, state);
		COMMIT;
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		CASE state->>'status'
			WHEN 'done' THEN
				final_status := 'done';
				EXIT;
			WHEN 'failed' THEN
				final_status := 'failed';
				message := pg_catalog.concat_ws(E'\n', state->>'error',
					'DETAIL: ' || (state->>'detail'), 'HINT: ' || (state->>'hint'));
				EXIT;
			WHEN 'lock_timeout' THEN
				lock_failures := lock_failures + 1;
				IF lock_failures >= 3 THEN
					final_status := 'failed';
					message := (state->>'error') || ' (3 times in a row)';
					EXIT;
				END IF;
				IF (plan->>'verbose')::boolean THEN
					RAISE NOTICE '%', (state->>'error') || '; retrying';
				END IF;
			ELSE
				lock_failures := 0;
		END CASE;
		IF (plan->>'pause')::float8 > 0
		   AND ((state->>'moved')::bigint > 0 OR state->>'status' = 'lock_timeout') THEN
			PERFORM pg_catalog.pg_sleep((plan->>'pause')::float8);
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	advice := @extschema@._archive_finish(plan, state, final_status, message);
	o_rows := (state->>'rows')::bigint;
	o_status := final_status;
	COMMIT;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- the VACUUM runs as the owner of the table; a WARNING says why when it
	-- was not done
	IF advice IS NOT NULL AND (plan->>'vacuum')::boolean THEN
		IF @extschema@._archive_vacuum((plan->>'src')::regclass) THEN
			RAISE NOTICE '%', pg_catalog.format('%s finished', advice);
		END IF;
	END IF;
END $$;

-- Check a partition interval for a key kind; raises on bad input.
CREATE OR REPLACE FUNCTION @extschema@._pt_check_interval(kind text, part_interval text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	n numeric;
BEGIN
	IF part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'partition interval must not be NULL';
	END IF;
	IF kind = 'time' THEN
		-- '180' would be read as 180 seconds: a time span needs its unit
		IF part_interval ~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('interval %L has no unit', part_interval),
				HINT = 'A number alone would be read as seconds: write the unit, such as ''90 days'' or ''1 month''.';
		END IF;
		BEGIN
			iv := part_interval::interval;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for a time column', part_interval),
				HINT = 'Give an interval such as ''1 day'', ''1 week'' or ''1 month''.';
		END;
		IF iv <= interval '0' OR iv < interval '1 minute' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('partition interval %L is too small', part_interval),
				HINT = 'Give an interval of at least one minute.';
		END IF;
		IF (extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0)
			AND iv <> make_interval(years => extract(year FROM iv)::integer,
									months => extract(month FROM iv)::integer) THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('partition interval %L mixes months with days or hours', part_interval),
				HINT = 'Use whole months (''1 month'', ''3 months'', ''1 year'') or a fixed length (''1 day'', ''7 days'', ''6 hours'').';
		END IF;
	ELSE
		BEGIN
			n := part_interval::numeric;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give the number of key values per partition, such as ''1000000''.';
		END;
		IF n <= 0 OR n <> trunc(n) OR n > 9223372036854775807 THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give a positive whole number of key values per partition.';
		END IF;
	END IF;
END
$$;

---------------------------------------------------------------------------
-- Converting a table
---------------------------------------------------------------------------

-- Everything that stops relation from being converted, partitioned on
-- column_name.  Reads catalogs, and looks for rows whose key is NULL (as
-- the table's owner, for a caller with the owner's privileges only).
CREATE OR REPLACE FUNCTION @extschema@.partition_blockers(relation regclass, column_name name)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	att record;
	r record;
	v_kind text;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation and column must not be NULL';
	END IF;
	SELECT cl.* INTO c FROM pg_class cl WHERE cl.oid = relation;
	IF c.relkind NOT IN ('r', 'p') THEN
		RETURN NEXT format('%s is not a table', relation);
		RETURN;
	END IF;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RETURN NEXT format('column %I does not exist in %s', column_name, relation);
		RETURN;
	END IF;
	v_kind := @extschema@._pt_kind(att.atttypid::regtype);
	IF v_kind IS NULL THEN
		RETURN NEXT format('column %I has type %s; the partition column must be timestamptz, timestamp, date, smallint, integer or bigint',
						   column_name, format_type(att.atttypid, att.atttypmod));
	END IF;
	IF att.attgenerated <> '' THEN
		RETURN NEXT format('column %I is a generated column, which cannot be a partition key', column_name);
	END IF;
	IF c.relkind = 'p' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
					   WHERE pt.partrelid = relation AND pt.partstrat = 'r'
						 AND pt.partnatts = 1 AND pt.partattrs[0] = att.attnum) THEN
			RETURN NEXT format('%s is already partitioned, but not by range on column %I alone', relation, column_name);
		END IF;
		RETURN;
	END IF;
	-- a row without a key fits no partition; looked for as the owner (a
	-- caller without the owner's privileges cannot convert the table anyway)
	IF NOT att.attnotnull AND coalesce(@extschema@._may_maintain(relation), false)
	   AND (@extschema@._owner_exec(relation,
			format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NULL))', relation, column_name)))::boolean THEN
		RETURN NEXT format('column %I is NULL in some rows, which fit no partition; set a value in them (or delete them) first',
						   column_name);
	END IF;
	IF c.relpersistence = 't' THEN
		RETURN NEXT format('%s is a temporary table', relation);
	ELSIF c.relpersistence = 'u' THEN
		RETURN NEXT format('%s is unlogged; partitioned tables cannot be unlogged', relation);
	END IF;
	IF c.relispartition THEN
		RETURN NEXT format('%s is itself a partition', relation);
	END IF;
	IF c.reloftype <> 0 THEN
		RETURN NEXT format('%s is a typed table (OF %s)', relation, c.reloftype::regtype);
	END IF;
	-- primary keys, unique constraints, unique indexes, exclusion constraints
	FOR r IN
		SELECT i.indexrelid::regclass AS idx, con.conname, con.contype, i.indisunique
		FROM pg_index i
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u', 'x')
		WHERE i.indrelid = relation
		  AND (i.indisunique OR con.contype = 'x')
		ORDER BY i.indexrelid::regclass::text
	LOOP
		IF r.contype = 'x' THEN
			RETURN NEXT format('exclusion constraint %I cannot be carried over to a partitioned table', r.conname);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_index i
						  WHERE i.indexrelid = r.idx AND att.attnum = ANY (i.indkey::int2[])) THEN
			RETURN NEXT format('%s %s does not include the partition column %I',
							   CASE r.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
							   ELSE 'unique index' END,
							   coalesce(quote_ident(r.conname), r.idx::text), column_name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.connoinherit
	LOOP
		RETURN NEXT format('check constraint %I is NO INHERIT', r.conname);
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'f' AND NOT con.convalidated
	LOOP
		RETURN NEXT format('foreign key %I is NOT VALID; validate or drop it first', r.conname);
	END LOOP;
	-- foreign keys of other tables that reference this one
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, con.conkey, con.confkey,
			   src.relkind AS src_kind
		FROM pg_constraint con
		JOIN pg_class src ON src.oid = con.conrelid
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		IF r.src = relation THEN
			RETURN NEXT format('foreign key %I references the table itself', r.conname);
		ELSIF NOT att.attnum = ANY (r.confkey) THEN
			RETURN NEXT format('foreign key %I of %s references columns without the partition column %I; a foreign key to a partitioned table must reference a key that includes it',
							   r.conname, r.src, column_name);
		ELSIF r.src_kind = 'p' THEN
			RETURN NEXT format('foreign key %I of partitioned table %s cannot be re-created NOT VALID on PostgreSQL %s',
							   r.conname, r.src, current_setting('server_version_num')::int / 10000);
		END IF;
	END LOOP;
	FOR r IN
		SELECT i.inhrelid::regclass AS child FROM pg_inherits i WHERE i.inhparent = relation ORDER BY i.inhrelid::regclass::text
	LOOP
		RETURN NEXT format('%s has inheritance child %s', relation, r.child);
	END LOOP;
	FOR r IN
		SELECT i.inhparent::regclass AS par FROM pg_inherits i WHERE i.inhrelid = relation ORDER BY i.inhparent::regclass::text
	LOOP
		RETURN NEXT format('%s inherits from %s', relation, r.par);
	END LOOP;
	FOR r IN
		SELECT rw.rulename FROM pg_rewrite rw
		WHERE rw.ev_class = relation AND rw.rulename <> '_RETURN' ORDER BY 1
	LOOP
		RETURN NEXT format('rule %I is defined on %s', r.rulename, relation);
	END LOOP;
	FOR r IN
		SELECT DISTINCT rw.ev_class::regclass::text AS v
		FROM pg_depend d
		JOIN pg_rewrite rw ON rw.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid = relation AND rw.ev_class <> relation
		ORDER BY 1
	LOOP
		RETURN NEXT format('view %s depends on %s; drop it and create it again after the conversion', r.v, relation);
	END LOOP;
	IF c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = relation) THEN
		RETURN NEXT format('%s has row-level security, which is not carried over', relation);
	END IF;
	FOR r IN
		SELECT p.pubname FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
		WHERE pr.prrelid = relation ORDER BY 1
	LOOP
		RETURN NEXT format('%s is in publication %I, which is not carried over', relation, r.pubname);
	END LOOP;
	FOR r IN
		SELECT t.tgname FROM pg_trigger t
		WHERE t.tgrelid = relation AND NOT t.tgisinternal
		  AND (t.tgconstraint <> 0 OR t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL)
		ORDER BY 1
	LOOP
		RETURN NEXT format('trigger %I is a constraint trigger or uses transition tables', r.tgname);
	END LOOP;
END
$$;

-- The steps of a conversion, as SQL.  phase: 'prepare' (add the CHECK
-- constraint NOT VALID), 'validate' (its own transaction), 'swap' (one
-- transaction: new parent, then the exclusive lock, rename and attach,
-- and the set registered), 'finish' (validate re-pointed foreign keys,
-- ANALYZE).  Phases
-- already done (the constraint exists) are left out.  Raises an error that
-- lists every blocker when the table cannot be converted.  run_as is the
-- table whose owner runs the statement (relation itself, or a table whose
-- foreign key is re-pointed); NULL for the registration, which runs as the
-- caller.  Only a caller that may maintain relation gets a plan.
CREATE OR REPLACE FUNCTION @extschema@.partition_table_plan(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL)
RETURNS TABLE (step integer, phase text, lock_mode text, statement text, run_as regclass)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blockers text[];
	c record;
	att record;
	r record;
	v_kind text;
	typ regtype;
	sch name;
	tbl name;
	qt text;
	qcol text;
	tmp name;
	qtmp text;
	hist name;
	dflt name;
	boundary numeric;
	b_lit text;
	mx numeric;
	margin numeric;
	conoid oid;
	convalid boolean;
	n integer := 0;
	k integer;
	x numeric;
	pname name;
	idxname name;
	tmpidx name;
	def text;
	seqname name;
	sq record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL OR part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name', MESSAGE = format('schema %I does not exist', archive_schema);
	END IF;

	SELECT cl.*, ns.nspname INTO c
	FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE cl.oid = relation;
	PERFORM @extschema@._pt_require_maintain(relation);
	run_as := relation;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF FOUND THEN
		typ := att.atttypid::regtype;
		v_kind := @extschema@._pt_kind(typ);
	END IF;
	blockers := ARRAY(SELECT @extschema@.partition_blockers(relation, column_name));
	IF cardinality(blockers) > 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	PERFORM @extschema@._pt_check_retention(v_kind, retention, retention_action);
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'retention_action archive needs a time partition column';
	END IF;

	sch := c.nspname;
	tbl := c.relname;
	qt := format('%I.%I', sch, tbl);
	qcol := quote_ident(column_name);

	-- an already partitioned table: a default partition if asked for and
	-- missing, then register the set
	IF c.relkind = 'p' THEN
		dflt := @extschema@._pt_name(tbl, 'default');
		IF default_partition AND NOT EXISTS (
			SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = relation AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT') THEN
			IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = dflt AND cl.relnamespace = c.relnamespace) THEN
				RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
					MESSAGE = format('cannot add a default partition to %s: relation %I.%I already exists', relation, c.nspname, dflt),
					HINT = 'Nothing was changed.  Rename it, or pass default_partition => false.';
			END IF;
			n := n + 1;
			step := n; phase := 'swap'; lock_mode := 'ACCESS EXCLUSIVE';
			statement := format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', c.nspname, dflt, c.nspname, c.relname);
			RETURN NEXT;
		END IF;
		-- (registered in the same transaction)
		n := n + 1;
		step := n; phase := 'swap'; lock_mode := NULL; run_as := NULL;
		statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
			retention, retention_action, archive_schema, lock_timeout, retries);
		RETURN NEXT;
		-- foreign keys a conversion re-pointed and could not validate yet
		-- (its finish step failed or was killed)
		FOR r IN
			SELECT con.conname, con.conrelid::regclass AS src
			FROM pg_constraint con
			WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
			  AND NOT con.convalidated
			  AND obj_description(con.oid, 'pg_constraint') = 'scale_advisor: validate after partitioning'
			ORDER BY con.conrelid::regclass::text, con.conname
		LOOP
			n := n + 1; step := n; phase := 'finish'; lock_mode := 'SHARE UPDATE EXCLUSIVE'; run_as := r.src;
			statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
			RETURN NEXT;
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
			RETURN NEXT;
		END LOOP;
		RETURN;
	END IF;

	-- the historical range ends at boundary
	SELECT con.oid, con.convalidated, obj_description(con.oid, 'pg_constraint')
	INTO conoid, convalid, def
	FROM pg_constraint con
	WHERE con.conrelid = relation AND con.conname = 'sa_partition_bound' AND con.contype = 'c';
	IF conoid IS NOT NULL THEN
		IF def IS NULL OR def NOT LIKE 'scale_advisor partition boundary: %' THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('%s has a constraint named sa_partition_bound that scale_advisor did not create', relation);
		END IF;
		b_lit := substr(def, length('scale_advisor partition boundary: ') + 1);
		boundary := @extschema@._pt_to_num(typ, b_lit);
	ELSE
		-- read as the owner (src/run_as.c), like every statement on the table
		b_lit := @extschema@._owner_exec(relation,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM ONLY %s', column_name, qt)) ->> 'v';
		mx := @extschema@._pt_to_num(typ, b_lit);
		IF v_kind = 'time' THEN
			-- rows keep arriving during the conversion: leave a quarter
			-- interval (at least an hour) of room after now()
			margin := greatest(extract(epoch FROM part_interval::interval) / 4, 3600);
			mx := greatest(coalesce(mx, 0), extract(epoch FROM now()) + margin);
		ELSE
			mx := coalesce(mx, 0);
			FOR sq IN
				SELECT s.seqrelid FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
				WHERE d.refobjid = relation AND d.refobjsubid = att.attnum
				  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			LOOP
				mx := greatest(mx, coalesce(pg_sequence_last_value(sq.seqrelid::regclass), 0));
			END LOOP;
			mx := mx + ceil(part_interval::numeric / 4);
		END IF;
		IF historical_until IS NOT NULL THEN
			x := @extschema@._pt_to_num(typ, historical_until);
			IF x <= mx THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = format('historical_until %L is not above the largest key the table will hold during the conversion (%s)',
									 historical_until, @extschema@._pt_from_num(typ, mx));
			END IF;
			mx := x - 1e-6;
		END IF;
		boundary := @extschema@._pt_slot(v_kind, part_interval, mx);
		IF boundary <= mx THEN
			boundary := @extschema@._pt_add(v_kind, part_interval, boundary, 1);
		END IF;
		b_lit := @extschema@._pt_from_num(typ, boundary);
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%s IS NOT NULL AND %s < %L::%s) NOT VALID',
							qt, qcol, qcol, b_lit, typ);
		RETURN NEXT;
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('COMMENT ON CONSTRAINT sa_partition_bound ON %s IS %L', qt,
							'scale_advisor partition boundary: ' || b_lit);
		RETURN NEXT;
	END IF;
	IF NOT coalesce(convalid, false) THEN
		n := n + 1;
		step := n; phase := 'validate'; lock_mode := 'SHARE UPDATE EXCLUSIVE';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT sa_partition_bound', qt);
		RETURN NEXT;
	END IF;

	-- the swap: build the new parent under a temporary name first
	tmp := @extschema@._pt_name(tbl, 'sa_new');
	qtmp := format('%I.%I', sch, tmp);
	hist := @extschema@._pt_name(tbl, 'history');
	dflt := @extschema@._pt_name(tbl, 'default');
	FOR pname IN
		SELECT x.nm FROM (VALUES (tmp), (hist), (dflt)) x(nm)
		UNION ALL
		SELECT @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval,
			@extschema@._pt_add(v_kind, part_interval, boundary, g)))
		FROM generate_series(0, premake - 1) g
	LOOP
		IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = pname AND cl.relnamespace = c.relnamespace) THEN
			RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
				MESSAGE = format('cannot partition %s: relation %I.%I already exists', relation, sch, pname),
				HINT = 'Nothing was changed.  Rename or drop it and call again.';
		END IF;
	END LOOP;

	n := n + 1;
	step := n; phase := 'swap'; lock_mode := NULL;
	statement := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%s)',
						qtmp, qt, qcol);
	RETURN NEXT;
	-- identity columns get a new sequence with the same options; its value
	-- is taken over under the lock
	FOR r IN
		SELECT a.attname, a.attidentity, s.*, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		JOIN pg_sequence s ON s.seqrelid = d.objid
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
							qtmp, r.attname, CASE r.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
							sch, seqname, r.seqincrement, r.seqmin, r.seqmax,
							r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
		RETURN NEXT;
	END LOOP;
	-- check constraints (ours stays on the old table)
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def, obj_description(con.oid, 'pg_constraint') AS cmt
		FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.conname <> 'sa_partition_bound'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- indexes, primary key and unique constraints under temporary names
	k := 0;
	FOR r IN
		SELECT i.indexrelid, ic.relname AS idxname, con.oid AS conoid, con.conname,
			   pg_get_indexdef(i.indexrelid) AS idxdef, i.indisunique,
			   obj_description(i.indexrelid, 'pg_class') AS cmt
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u')
		WHERE i.indrelid = relation
		ORDER BY ic.relname
	LOOP
		k := k + 1;
		tmpidx := @extschema@._pt_name('sa' || k, r.idxname);
		n := n + 1; step := n;
		IF r.conoid IS NOT NULL THEN
			statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, tmpidx, pg_get_constraintdef(r.conoid));
		ELSE
			def := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
						  r.idxname, qt);
			IF left(r.idxdef, length(def)) <> def THEN
				RAISE EXCEPTION USING ERRCODE = 'internal_error',
					MESSAGE = format('unexpected definition of index %I: %s', r.idxname, r.idxdef);
			END IF;
			statement := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
								tmpidx, qtmp) || substr(r.idxdef, length(def) + 1);
		END IF;
		RETURN NEXT;
		IF r.cmt IS NOT NULL THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON INDEX %I.%I IS %L', sch, tmpidx, r.cmt);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- foreign keys to other tables
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con WHERE con.conrelid = relation AND con.contype = 'f'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- comment and privileges
	IF obj_description(relation, 'pg_class') IS NOT NULL THEN
		n := n + 1; step := n;
		statement := format('COMMENT ON TABLE %s IS %L', qtmp, obj_description(relation, 'pg_class'));
		RETURN NEXT;
	END IF;
	FOR r IN
		SELECT a.privilege_type, a.grantee, a.is_grantable
		FROM aclexplode(c.relacl) a
		WHERE a.grantee <> c.relowner
		ORDER BY a.grantee, a.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s ON %s TO %s%s', r.privilege_type, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	FOR r IN
		SELECT a.attname, x.privilege_type, x.grantee, x.is_grantable
		FROM pg_attribute a, aclexplode(a.attacl) x
		WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		ORDER BY a.attnum, x.grantee, x.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	-- future partitions and the default partition (empty, attached to a
	-- parent nobody uses yet)
	FOR k IN 0 .. premake - 1 LOOP
		x := @extschema@._pt_add(v_kind, part_interval, boundary, k);
		pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval, x));
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', sch, pname, qtmp,
							@extschema@._pt_from_num(typ, x),
							@extschema@._pt_from_num(typ, @extschema@._pt_add(v_kind, part_interval, x, 1)));
		RETURN NEXT;
	END LOOP;
	IF default_partition THEN
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', sch, dflt, qtmp);
		RETURN NEXT;
	END IF;

	-- from here on the old table is locked
	n := n + 1; step := n; lock_mode := 'ACCESS EXCLUSIVE';
	statement := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', qt);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qt, hist);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qtmp, tbl);
	RETURN NEXT;
	-- identity: take over the sequence position, drop the old identity and
	-- give the new sequence the old name
	FOR r IN
		SELECT a.attname, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L, s.last_value, s.is_called)) FROM %s s',
							format('%I.%I', sch, seqname), r.oldseq);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %I.%I ALTER COLUMN %I DROP IDENTITY', sch, hist, r.attname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %I.%I RENAME TO %I', sch, seqname,
							(parse_ident(r.oldseq))[array_upper(parse_ident(r.oldseq), 1)]);
		RETURN NEXT;
	END LOOP;
	-- sequences owned by columns (serial): the new parent owns them now
	FOR r IN
		SELECT a.attname, d.objid::regclass AS seq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		WHERE a.attrelid = relation AND a.attidentity = '' ORDER BY a.attnum
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, qt, r.attname);
		RETURN NEXT;
	END LOOP;
	-- triggers move to the parent, which clones row triggers to every
	-- partition, the historical one included
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := format('DROP TRIGGER %I ON %I.%I', r.tgname, sch, hist);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (MINVALUE) TO (%L)', qt, sch, hist, b_lit);
	RETURN NEXT;
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := r.def;
		RETURN NEXT;
		IF r.tgenabled <> 'O' THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %s %s TRIGGER %I', qt,
								CASE r.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
								ELSE 'ENABLE ALWAYS' END, r.tgname);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- index names: the parent's indexes take the original names
	k := 0;
	FOR r IN
		SELECT ic.relname AS idxname
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = relation ORDER BY ic.relname
	LOOP
		k := k + 1;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, r.idxname,
							@extschema@._pt_name(hist, CASE WHEN left(r.idxname, length(tbl) + 1) = tbl || '_'
								THEN substr(r.idxname, length(tbl) + 2) ELSE r.idxname END));
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, @extschema@._pt_name('sa' || k, r.idxname), r.idxname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %I.%I DROP CONSTRAINT sa_partition_bound', sch, hist);
	RETURN NEXT;
	-- foreign keys that reference the table: re-pointed to the parent, NOT
	-- VALID here and validated after the lock is gone
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def,
			   con.convalidated
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		-- as the owner of the referencing table
		run_as := r.src;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s DROP CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', r.src, r.conname, r.def,
							CASE WHEN r.def LIKE '% NOT VALID' THEN '' ELSE ' NOT VALID' END);
		RETURN NEXT;
		-- marked until finish has validated it, so that a later call finds
		-- it if finish does not get there
		IF r.convalidated THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS %L', r.conname, r.src,
								'scale_advisor: validate after partitioning');
			RETURN NEXT;
		END IF;
	END LOOP;
	-- registered in the transaction of the swap: a partitioned table is
	-- never left without its set, whatever happens after
	n := n + 1; step := n; run_as := NULL;
	statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
		retention, retention_action, archive_schema, lock_timeout, retries);
	RETURN NEXT;
	run_as := relation;

	-- after the lock
	lock_mode := 'SHARE UPDATE EXCLUSIVE';
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0 AND con.convalidated
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n; phase := 'finish'; run_as := r.src;
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n; phase := 'finish'; run_as := relation;
	statement := format('ANALYZE %s', qt);
	RETURN NEXT;
END
$$;

-- Run statements in one subtransaction under lock_timeout, each as the
-- owner of the table run_as names at the same position (_owner_exec), or
-- as the caller where it is NULL (only our own configuration rows).  A
-- statement that is a LOCK TABLE starts the exclusive part: after it the
-- table's fingerprint must still be the planned one, and the time from
-- there to the end is returned as lock_ms.  Errors are returned, not raised
-- (a cancel too, as 57014).
CREATE OR REPLACE FUNCTION @extschema@._pt_run(stmts text[], run_as regclass[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	i integer;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	IF cardinality(stmts) <> coalesce(cardinality(run_as), 0) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'every statement needs the table whose owner runs it',
			HINT = 'Pass run_as with as many entries as stmts (NULL for the caller).';
	END IF;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOR i IN 1 .. coalesce(cardinality(stmts), 0) LOOP
			s := stmts[i];
			IF run_as[i] IS NULL THEN
				EXECUTE s;
			ELSE
				PERFORM @extschema@._owner_exec(run_as[i], s);
			END IF;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- a cancel (or statement_timeout) too: the caller must still undo what
	-- it committed before, then raise it
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;

-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done in one
-- line, or every statement run with verbose => true.  Only
-- a superuser or a role with the owner's privileges may call it; every
-- statement on the table runs as its owner.
--
-- Fail safe: each step (prepare, validate, swap, finish) runs in a
-- subtransaction of its own transaction, so that any failure in it (an
-- error, a lock timeout after the retries, a cancel or statement_timeout)
-- undoes all of that step; the CHECK constraint an earlier step of this
-- call committed is then dropped and the drop committed before the error
-- is raised: until the swap commits the table is left as it was.  From the
-- swap on (one transaction, which registers the set too) the table is
-- partitioned; a failure in finish (validating re-pointed foreign keys,
-- ANALYZE) leaves it so, working, and a new call completes it.  The call
-- holds the table's maintenance lock (_archive_lock: one conversion or
-- archiving run per table), so a session killed mid-way is recognised: its
-- lock is gone, the next partition_table resumes from the constraint, and
-- maintain_partitions() drops such a leftover constraint.
CREATE OR REPLACE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	step_lock_ms double precision;
	failed boolean;
	stop boolean;
	ran boolean;
	err_code pg_catalog.text;
	err_msg pg_catalog.text;
	holder pg_catalog.text;
	policy pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];	-- lock_not_available, serialization_failure, deadlock_detected
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();
	-- one conversion or archiving run per table at a time
	IF NOT @extschema@._archive_lock(relation) THEN
		SELECT pg_catalog.format('process %s of role %s', l.pid, coalesce(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'))
		INTO holder
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
		WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
		  AND l.objid OPERATOR(pg_catalog.=) relation::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.granted
		LIMIT 1;
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('%s is being converted or archived by another session (%s)', relation, coalesce(holder, '?')),
			HINT = 'Nothing was changed.  Call partition_table again when that session has finished.';
	END IF;
	-- an archive policy on the table goes on after the conversion (said
	-- to a caller that may read the policies)
	IF pg_catalog.has_table_privilege('@extschema@.archive_policies', 'SELECT') THEN
		SELECT ap.relation INTO policy FROM @extschema@.archive_policies ap
		WHERE ap.enabled AND pg_catalog.to_regclass(ap.relation) OPERATOR(pg_catalog.=) partition_table.relation LIMIT 1;
	END IF;

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		failed := false;
		stop := false;
		ran := false;
		err_code := NULL;
		err_msg := NULL;
		attempt := 0;
		step_lock_ms := NULL;
		BEGIN
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- planned together with the swap: the relation is a partition now
				stmts := finish;
				stmts_as := finish_as;
			ELSE
				IF ph OPERATOR(pg_catalog.=) 'swap' THEN
					fp := @extschema@._pt_fingerprint(relation);
				END IF;
				SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
				INTO stmts, stmts_as, finish, finish_as
				FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
					retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
			END IF;
			IF stmts IS NOT NULL AND NOT nonatomic THEN
				IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
					-- the constraint must be committed before it can be
					-- validated without ACCESS EXCLUSIVE: stop here, the
					-- next call goes on
					stop := true;
				ELSIF ph OPERATOR(pg_catalog.=) 'finish' THEN
					-- no scans while the caller's transaction holds the lock
					later := stmts;
					stmts := NULL;
				END IF;
			END IF;
			IF stmts IS NOT NULL AND NOT stop THEN
				ran := true;
				LOOP
					res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
						CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
					EXIT WHEN res.ok;
					IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
						failed := true;
						err_code := res.err_code;
						err_msg := res.message;
						EXIT;
					END IF;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF NOT failed THEN
					step_lock_ms := res.lock_ms;
					PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
						pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
				END IF;
			END IF;
		-- whatever fails in the step, the cancel of the call included,
		-- undoes all of it
		EXCEPTION WHEN others OR query_canceled THEN
			failed := true;
			GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
		END;
		IF stop THEN
			PERFORM @extschema@._archive_unlock(relation);
			RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
			steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
			RETURN;
		END IF;
		IF failed THEN
			BEGIN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, err_msg);
			EXCEPTION WHEN others OR query_canceled THEN
				NULL;	-- the log is not worth keeping the table changed
			END;
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			-- the table goes back to what it was before this call: the
			-- CHECK constraint this call added (or one that failed its
			-- validation) is dropped and the drop committed before the
			-- error rolls back the transaction it is raised in
			bound_left := false;
			IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN	-- check_violation
				IF nonatomic THEN
					BEGIN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					EXCEPTION WHEN others OR query_canceled THEN
						NULL;	-- said below: the constraint is looked for
					END;
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
					WHERE con.conrelid OPERATOR(pg_catalog.=) relation
					  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
			END IF;
			PERFORM @extschema@._archive_unlock(relation);
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN	-- check_violation
				RAISE EXCEPTION USING ERRCODE = 'check_violation',
					MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
						relation, column_name),
					DETAIL = err_msg,
					HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
						ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
			END IF;
			RAISE EXCEPTION USING ERRCODE = err_code,
				MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, err_msg),
				HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned and registered; calling partition_table again validates the foreign keys and analyzes it.'
					WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
					WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					WHEN ph OPERATOR(pg_catalog.=) 'prepare' THEN 'Nothing was changed.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					ELSE 'The table is unchanged apart from the CHECK constraint sa_partition_bound an earlier call left; calling partition_table again resumes, ALTER TABLE ... DROP CONSTRAINT sa_partition_bound removes it.' END;
		END IF;
		IF ran THEN
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				lock_ms := step_lock_ms;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
				prepared := true;
			END IF;
			done := done OPERATOR(pg_catalog.||) stmts;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	PERFORM @extschema@._archive_unlock(relation);
	IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'partition_table: run these after this transaction: %',
			pg_catalog.array_to_string(later, '; ');
	END IF;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	IF policy IS NOT NULL THEN
		RAISE NOTICE 'partition_table: the archive policy of % goes on: scale_advisor.run_archive_policies() archives each partition of it into the same archive', policy;
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
	-- what was done, in a line; every statement with verbose => true
	IF partition_table.verbose IS NOT TRUE THEN
		SELECT pg_catalog.format('%I.%I is partitioned by %I, %s a partition: %s%s%s; %s',
				sch, tbl, column_name, part_interval,
				@extschema@._n(pg_catalog.count(*), 'partition'),
				CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
					 THEN ' (' OPERATOR(pg_catalog.||) @extschema@._list(pg_catalog.array_agg(i.inhrelid::pg_catalog.regclass::pg_catalog.text
							ORDER BY i.inhrelid::pg_catalog.regclass::pg_catalog.text), ', ') OPERATOR(pg_catalog.||) ')'
					 ELSE '' END,
				CASE WHEN lock_ms IS NULL THEN ''
					 ELSE pg_catalog.format(', exclusive lock held %s ms', pg_catalog.round(lock_ms::numeric, 1)) END,
				'verbose => true lists the statements run')
		INTO steps
		FROM pg_catalog.pg_inherits i
		WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', sch, tbl)::pg_catalog.regclass;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._pm_tasks(sch name, tbl name)
RETURNS TABLE (action text, lo numeric, hi numeric, part oid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	cur numeric;
	lit text;
	target numeric;
	x numeric;
	dpart regclass;
	slots numeric[] := '{}';
	top numeric;
	cutoff numeric;
	r record;
	a numeric;
	b numeric;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := @extschema@._pt_rel(sch, tbl);
	IF parent IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table', MESSAGE = format('table %I.%I does not exist', sch, tbl);
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;

	-- the slot of "now": for time keys the clock, for integer keys the
	-- largest key value
	IF v_kind = 'time' THEN
		cur := extract(epoch FROM now());
	ELSE
		lit := @extschema@._owner_exec(parent,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
		cur := coalesce(@extschema@._pt_to_num(typ, lit), 0);
	END IF;
	cur := @extschema@._pt_slot(v_kind, s.part_interval, cur);
	target := @extschema@._pt_add(v_kind, s.part_interval, cur, s.premake + 1);
	-- premake: slots from the top of the existing partitions or from now
	SELECT max(p.hi) INTO top FROM @extschema@._pt_partitions(parent) p WHERE NOT p.is_default;
	-- (never behind the present: past slots get a partition only when rows
	-- for them wait in the default partition)
	x := CASE WHEN top IS NULL THEN cur ELSE greatest(cur, @extschema@._pt_slot(v_kind, s.part_interval, top)) END;
	WHILE x < target LOOP
		slots := slots || x;
		x := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
	END LOOP;
	-- slots of rows waiting in the default partition
	IF dpart IS NOT NULL AND s.move_default_rows THEN
		FOR r IN
			SELECT x.v FROM jsonb_array_elements_text(@extschema@._owner_exec(dpart,
				format('SELECT coalesce(jsonb_agg(v), ''[]'') FROM (SELECT DISTINCT %I::text AS v FROM ONLY %s WHERE %I IS NOT NULL LIMIT 1000) d',
					   s.control_column, dpart, s.control_column))) x(v)
		LOOP
			x := @extschema@._pt_slot(v_kind, s.part_interval, @extschema@._pt_to_num(typ, r.v));
			IF NOT x = ANY (slots) THEN
				slots := slots || x;
			END IF;
		END LOOP;
	END IF;
	FOR x IN SELECT DISTINCT u FROM unnest(slots) u ORDER BY u LOOP
		a := x;
		b := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
		-- clip to the gap: skip when covered
		SELECT max(coalesce(p.hi, 1e30)) INTO top FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND coalesce(p.lo, -1e30) <= a AND coalesce(p.hi, 1e30) > a;
		IF top IS NOT NULL THEN
			IF top >= b THEN
				CONTINUE;
			END IF;
			a := top;
		END IF;
		SELECT least(b, min(p.lo)) INTO b FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND p.lo > a AND p.lo < b;
		b := coalesce(b, @extschema@._pt_add(v_kind, s.part_interval, x, 1));
		action := 'create'; lo := a; hi := b; part := NULL;
		RETURN NEXT;
	END LOOP;

	-- retention
	IF s.retention IS NOT NULL THEN
		IF v_kind = 'time' THEN
			cutoff := extract(epoch FROM (now() AT TIME ZONE 'UTC') - s.retention::interval);
		ELSE
			lit := @extschema@._owner_exec(parent,
				format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
			cutoff := coalesce(@extschema@._pt_to_num(typ, lit), 0) - s.retention::numeric;
		END IF;
		FOR r IN
			SELECT p.part, p.lo, p.hi FROM @extschema@._pt_partitions(parent) p
			WHERE NOT p.is_default AND p.hi IS NOT NULL AND p.hi <= cutoff
			ORDER BY p.hi
		LOOP
			action := 'retire'; lo := r.lo; hi := r.hi; part := r.part;
			RETURN NEXT;
		END LOOP;
	END IF;
	-- partitions an earlier run detached for the archiving helper and did
	-- not empty (it was stopped or killed): handed to it again
	IF s.retention_action = 'archive' THEN
		FOR r IN
			SELECT c.oid FROM pg_class c
			JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
			WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = parent)
			  AND c.relkind = 'r' AND NOT c.relispartition
			  AND d.description = @extschema@._pm_pending_comment(sch, tbl)
			ORDER BY c.relname
		LOOP
			action := 'archive'; lo := NULL; hi := NULL; part := r.oid;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Create the partition [lo, hi) of a set without ACCESS EXCLUSIVE on the
-- parent: a standalone table with a CHECK constraint, the rows of that
-- range moved out of the default partition, then ATTACH (SHARE UPDATE
-- EXCLUSIVE on the parent).  Every statement runs as the parent's owner
-- (so the partition is the owner's, and the owner's triggers, constraints
-- and index expressions run with the owner's rights).  One transaction;
-- errors are returned.
CREATE OR REPLACE FUNCTION @extschema@._pm_create(sch name, tbl name, lo numeric, hi numeric,
	OUT ok boolean, OUT err_code text, OUT message text, OUT moved bigint, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	dpart regclass;
	pname name;
	q text;
	lo_lit text;
	hi_lit text;
	cols text;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	moved := 0;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;
	pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, s.part_interval, lo));
	part_name := format('%I.%I', sch, pname);
	q := part_name;
	lo_lit := @extschema@._pt_from_num(typ, lo);
	hi_lit := @extschema@._pt_from_num(typ, hi);
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF to_regclass(q) IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
				MESSAGE = format('relation %s already exists but is not a partition of %s', q, parent);
		END IF;
		st := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', q, parent);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%I IS NOT NULL AND %I >= %L::%s AND %I < %L::%s)',
					 q, s.control_column, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ);
		PERFORM @extschema@._owner_exec(parent, st);
		-- the parent's lock first (the one ATTACH takes): while it cannot
		-- be had, nothing else is held, and nobody waits on us
		st := format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
		PERFORM @extschema@._owner_exec(parent, st);
		IF dpart IS NOT NULL THEN
			-- writers that would land in the default partition wait for this
			-- transaction; readers do not
			st := format('LOCK TABLE %s IN EXCLUSIVE MODE', dpart);
			PERFORM @extschema@._owner_exec(parent, st);
			st := format('WITH m AS (DELETE FROM ONLY %s WHERE %I >= %L::%s AND %I < %L::%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM m',
						 dpart, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ, cols, q, cols, cols);
			moved := (@extschema@._owner_exec(parent, st) ->> 'processed')::bigint;
		END IF;
		st := format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', parent, q, lo_lit, hi_lit);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s DROP CONSTRAINT sa_partition_bound', q);
		PERFORM @extschema@._owner_exec(parent, st);
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- (a cancel too: the run records it before it stops)
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		moved := 0;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- The sets a maintenance run covers, checked: an error for a set that
-- does not exist, is not partitioned, or lost its column.
CREATE OR REPLACE FUNCTION @extschema@._pm_sets(parent regclass)
RETURNS TABLE (parent_schema name, parent_table name, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass;
BEGIN
	IF parent IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM @extschema@.partition_sets ps JOIN pg_class c ON c.relname = ps.parent_table
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ps.parent_schema
		WHERE c.oid = parent) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = format('%s is not in scale_advisor.partition_sets', parent),
			HINT = 'Register it with scale_advisor.partition_table.';
	END IF;
	FOR s IN
		SELECT ps.* FROM @extschema@.partition_sets ps
		WHERE ps.enabled
		ORDER BY ps.parent_schema, ps.parent_table
	LOOP
		rel := @extschema@._pt_rel(s.parent_schema, s.parent_table);
		CONTINUE WHEN parent IS NOT NULL AND rel IS DISTINCT FROM parent;
		parent_schema := s.parent_schema;
		parent_table := s.parent_table;
		problem := NULL;
		IF rel IS NULL THEN
			problem := format('table %I.%I does not exist', s.parent_schema, s.parent_table);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
						  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
						  WHERE pt.partrelid = rel AND pt.partstrat = 'r' AND a.attname = s.control_column) THEN
			problem := format('%s is not range-partitioned on column %I', rel, s.control_column);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- Set a threshold (NULL value: back to the default).
CREATE OR REPLACE FUNCTION @extschema@.set_threshold(p_name text, p_value numeric)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('set_threshold()');
	IF p_name IS NULL OR NOT @extschema@._threshold_known(p_name) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown threshold %L', p_name),
			HINT = 'SELECT name FROM scale_advisor.threshold_settings lists the thresholds.';
	END IF;
	IF p_value IS NULL THEN
		DELETE FROM @extschema@.thresholds WHERE name = p_name;
	ELSIF p_value < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('threshold %s must not be negative', p_name),
			HINT = 'Use 0 or a positive number.';
	ELSIF p_value IN ('NaN'::numeric, 'Infinity'::numeric) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('threshold %s must be a finite number, not %s', p_name, p_value),
			HINT = 'Use 0 or a positive number.';
	ELSE
		INSERT INTO @extschema@.thresholds (name, value) VALUES (p_name, p_value)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = pg_catalog.now();
	END IF;
	RETURN @extschema@._t(p_name);
END
$$;

-- Maintain every enabled set the caller sees, or only parent: premake,
-- retention, rows in the default partition.  Each DDL runs in its own
-- transaction as the table's owner under the set's lock_timeout, retried
-- ddl_retries times.  A set runs only when its creator and the caller
-- still have the privileges of the table's owner (else a WARNING and a
-- logged skip; for an explicit parent the caller's lack is an error), and
-- only in one session at a time (a run that finds the set claimed by a
-- running session skips it with a WARNING naming that session); meant to
-- be CALLed from cron.
--
-- Fail safe: each task (create a partition with the rows the default
-- partition holds for it, retire one) runs with its log line in a
-- subtransaction, so that whatever fails in it (an error, a lock timeout
-- after the retries, a cancel) undoes all of that task; the failure is
-- recorded in partition_set_state (a cancel after that ends the call).
-- Tasks done before stay done.  A run that could not record its end (the
-- session was killed) is recognised by the next one (_pm_claim).  A
-- partition detached for the archiving helper keeps a comment until the
-- helper has emptied it, so a stopped hand-over is taken up again.  Called
-- without parent, it also removes the CHECK constraint of a conversion
-- whose session is gone (_pt_leftover_bounds), which would otherwise
-- refuse the application's rows once they pass its boundary.
CREATE OR REPLACE PROCEDURE @extschema@.maintain_partitions(parent regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	s record;
	cfg record;
	t @extschema@._pm_task;
	pl record;
	res record;
	attempt integer;
	nonatomic boolean;
	err pg_catalog.text;
	refusal pg_catalog.text;
	holder pg_catalog.text;
	qname pg_catalog.text;
	created integer;
	retired integer;
	moved bigint;
	a_run bigint;
	a_rows bigint;
	a_status pg_catalog.text;
	a_err pg_catalog.text;
	a_part pg_catalog.text;
	t_ok boolean;
	t_moved bigint;
	t_code pg_catalog.text;
	t_msg pg_catalog.text;
	leftover pg_catalog.regclass;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];	-- lock_not_available, serialization_failure, deadlock_detected
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('maintain_partitions()');
	-- a parent the caller may not maintain, or an unknown one, is an error
	-- before anything is done
	IF parent IS NOT NULL THEN
		PERFORM @extschema@._pt_require_maintain(parent);
	END IF;
	PERFORM FROM @extschema@._pm_sets(parent) LIMIT 1;
	nonatomic := @extschema@._nonatomic();
	-- conversions whose session is gone: their constraint goes (a running
	-- one holds the table's maintenance lock and is left alone)
	IF parent IS NULL AND nonatomic THEN
		FOR leftover IN SELECT * FROM @extschema@._pt_leftover_bounds() LOOP
			CONTINUE WHEN NOT @extschema@._archive_lock(leftover);
			t_msg := NULL;
			BEGIN
				PERFORM @extschema@._pt_undo_bound(leftover, interval '1s', 0);
				IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
						   WHERE con.conrelid OPERATOR(pg_catalog.=) leftover
							 AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound') THEN
					t_msg := 'its CHECK constraint sa_partition_bound could not be removed now (the table is busy); the next run tries again';
				ELSE
					t_msg := 'its CHECK constraint sa_partition_bound was removed; call partition_table again to convert the table';
				END IF;
				PERFORM @extschema@._pt_log(n.nspname, c.relname, 'partition_table undo',
					t_msg OPERATOR(pg_catalog.~~) 'its CHECK constraint sa_partition_bound was removed%',
					'an interrupted conversion: ' OPERATOR(pg_catalog.||) t_msg)
				FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
				WHERE c.oid OPERATOR(pg_catalog.=) leftover;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS t_msg = MESSAGE_TEXT;
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			PERFORM @extschema@._archive_unlock(leftover);
			RAISE WARNING 'maintain_partitions: %: the conversion of this table was interrupted: %', leftover, t_msg
				USING HINT = 'A partition_table call that is killed leaves the constraint, which refuses rows beyond its boundary.';
		END LOOP;
	END IF;
	FOR s IN SELECT * FROM @extschema@._pm_sets(parent) LOOP
		qname := pg_catalog.format('%I.%I', s.parent_schema, s.parent_table);
		SELECT * INTO cfg FROM @extschema@.partition_sets ps
		WHERE ps.parent_schema OPERATOR(pg_catalog.=) s.parent_schema
		  AND ps.parent_table OPERATOR(pg_catalog.=) s.parent_table;
		-- the set's creator and the caller must still have the privileges
		-- of the table's owner
		refusal := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
		IF refusal IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: %', qname, refusal
				USING HINT = 'Maintenance runs as the owner of the table only for a set created by a role with the owner''s privileges; re-create the set as the owner.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: %s', refusal));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		-- one session at a time per set
		holder := @extschema@._pm_claim(s.parent_schema, s.parent_table, cfg.lock_timeout);
		IF holder IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: another run is in progress (%)', qname, holder
				USING HINT = 'If that session is not running maintenance, end it; the next run takes the set over.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: another run is in progress (%s)', holder));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
		err := s.problem;
		created := 0;
		retired := 0;
		moved := 0;
		IF err IS NULL THEN
			pl := @extschema@._pm_plan(s.parent_schema, s.parent_table);
			err := pl.err;
		END IF;
		IF err IS NULL THEN
			FOREACH t IN ARRAY pl.tasks LOOP
				t_ok := true;
				t_code := NULL;
				t_msg := NULL;
				t_moved := 0;
				a_part := NULL;
				IF t.action OPERATOR(pg_catalog.=) ANY (ARRAY['create', 'retire']) THEN
					-- the task and its log line: all or nothing
					BEGIN
						attempt := 0;
						LOOP
							IF t.action OPERATOR(pg_catalog.=) 'create' THEN
								res := @extschema@._pm_create(s.parent_schema, s.parent_table, t.lo, t.hi);
							ELSE
								res := @extschema@._pm_retire(s.parent_schema, s.parent_table, t.part);
							END IF;
							EXIT WHEN res.ok OR NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable)
								OR attempt OPERATOR(pg_catalog.>=) cfg.ddl_retries;
							attempt := attempt OPERATOR(pg_catalog.+) 1;
							PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
						END LOOP;
						IF res.ok AND t.action OPERATOR(pg_catalog.=) 'create' THEN
							t_moved := res.moved;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'create', true,
								pg_catalog.format('%s created%s%s', res.part_name,
									CASE WHEN res.moved OPERATOR(pg_catalog.>) 0
										THEN pg_catalog.format(', %s rows moved from the default partition', res.moved) ELSE '' END,
									CASE WHEN attempt OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format(' after %s retries', attempt) ELSE '' END));
						ELSIF res.ok THEN
							a_part := res.part_name;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'retire', true,
								pg_catalog.format('%s detached (%s)', res.part_name, cfg.retention_action));
						ELSE
							t_ok := false;
							t_code := res.err_code;
							t_msg := pg_catalog.format('%s failed after %s retries: %s', t.action, attempt, res.message);
						END IF;
					EXCEPTION WHEN others OR query_canceled THEN
						t_ok := false;
						GET STACKED DIAGNOSTICS t_code = RETURNED_SQLSTATE, t_msg = MESSAGE_TEXT;
						t_msg := pg_catalog.format('%s failed: %s', t.action, t_msg);
					END;
					IF t_ok THEN
						IF t.action OPERATOR(pg_catalog.=) 'create' THEN
							created := created OPERATOR(pg_catalog.+) 1;
							moved := moved OPERATOR(pg_catalog.+) t_moved;
						ELSE
							retired := retired OPERATOR(pg_catalog.+) 1;
						END IF;
					ELSE
						err := t_msg;
						BEGIN
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, t.action, false, t_msg);
						EXCEPTION WHEN others OR query_canceled THEN
							NULL;	-- the state below records it
						END;
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
					-- a cancel stops the run, once it is recorded
					IF t_code OPERATOR(pg_catalog.=) '57014' THEN	-- query_canceled
						PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
						IF nonatomic THEN
							COMMIT;
							PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						END IF;
						RAISE EXCEPTION USING ERRCODE = 'query_canceled',
							MESSAGE = pg_catalog.format('maintain_partitions: %s: %s', qname, t_msg),
							HINT = 'What this run did before is kept; the next run goes on.';
					END IF;
				ELSIF t.action OPERATOR(pg_catalog.=) 'archive' THEN
					-- detached by an earlier run, not emptied yet
					a_part := t.part::pg_catalog.regclass::pg_catalog.text;
				END IF;
				-- a detached partition goes to the archiving helper when the
				-- set asks for it
				IF a_part IS NOT NULL AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					a_err := NULL;
					IF nonatomic THEN
						-- the target must still be the owner's (checked again:
						-- it may have changed hands since the set was made)
						a_err := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
						IF a_err IS NULL THEN
							a_err := @extschema@._pm_archive_check(a_part, cfg.control_column,
								cfg.retention, cfg.archive_target, cfg.archive_batch_size);
						END IF;
					END IF;
					IF NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', a_part));
					ELSIF a_err IS NOT NULL THEN
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive refused it: %s',
								a_part, a_err));
						-- not handed over again: the comment says why
						BEGIN
							PERFORM @extschema@._owner_exec(a_part::pg_catalog.regclass,
								pg_catalog.format('COMMENT ON TABLE %s IS %L', a_part,
									pg_catalog.format('scale_advisor: detached from %s; scale_advisor.archive refused it: %s', qname, a_err)));
						EXCEPTION WHEN others THEN
							NULL;
						END;
					ELSE
						-- a static CALL (EXECUTE would make it atomic); the
						-- helper resolves the names itself
						a_run := NULL;
						a_rows := NULL;
						a_status := NULL;
						CALL @extschema@.archive(relation => a_part::pg_catalog.regclass,
							time_column => cfg.control_column,
							older_than => cfg.retention::interval,
							target => @extschema@._pt_target(cfg.archive_target),
							batch_size => cfg.archive_batch_size,
							run_id => a_run, rows_moved => a_rows, status => a_status);
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', a_status IS NOT DISTINCT FROM 'done',
							pg_catalog.format('scale_advisor.archive moved %s rows of %s (run %s, %s)',
								a_rows, a_part, a_run, a_status));
						-- a run that did not finish is a failure of this one (the
						-- partition stays detached and marked: the next run goes on)
						IF a_status IS DISTINCT FROM 'done' THEN
							err := pg_catalog.format('archiving %s did not finish: run %s %s (scale_advisor.archive_runs says why)',
								a_part, a_run, a_status);
						END IF;
						-- what the helper did is kept whatever becomes of
						-- the drop (a cancel there rolls back its transaction)
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(a_part, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
				END IF;
			END LOOP;
		ELSE
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'maintain', false, err);
		END IF;
		-- records the end and gives up the claim
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
		IF err IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: %: %', qname, err;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
END
$$;

-- Drop the sa_partition_bound constraint after a failed validate or swap
-- step (the caller commits the drop; it checks whether it is gone).
CREATE OR REPLACE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = pg_catalog.format('table %s does not exist', coalesce(relation::text, 'NULL')),
			HINT = 'Name the table whose sa_partition_bound constraint is to be removed.';
	END IF;
	-- each attempt waits at most lock_timeout; keep trying for a while
	-- longer than the step that failed, as its blocker may just be ending;
	-- only a lock that could not be had is worth another try
	FOR i IN 0 .. greatest(coalesce(retries, 0), 20) LOOP
		-- (at most a second per try: while the drop waits for its lock,
		-- the application's statements queue behind it)
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   ARRAY[relation], least(coalesce(lock_timeout, interval '1s'), interval '1s'));
		-- retried on lock_not_available (55P03) and deadlock_detected (40P01)
		EXIT WHEN res.ok OR res.err_code IS DISTINCT FROM '55P03' AND res.err_code IS DISTINCT FROM '40P01';
		PERFORM pg_sleep(least(0.1 * (i + 1), 1.0));
	END LOOP;
	-- the caller looks whether the constraint is still there and says so
END
$$;

-- Forget the history: the snapshots and the statement histograms.  Named
-- as the other resets (n_plus_one_reset, index_workload_reset): what, then
-- _reset.
CREATE OR REPLACE FUNCTION @extschema@.history_reset()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('history_reset()');
	DELETE FROM @extschema@.snapshots;
	PERFORM @extschema@._history_reset();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.history_reset() FROM PUBLIC;

-- The 1.0 name of history_reset(), kept for the scripts that call it (a
-- role needs EXECUTE on history_reset() too).
CREATE OR REPLACE FUNCTION @extschema@.reset_history()
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@.history_reset() $$;
COMMENT ON FUNCTION @extschema@.reset_history() IS
'old name of history_reset()';

-- history_reset() is the new name of reset_history() (which now calls it):
-- the roles that could run reset_history() get history_reset() too.
DO $sa_history_reset_grants$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT a.grantee, a.is_grantable
		FROM pg_catalog.pg_proc p,
			 LATERAL pg_catalog.aclexplode(p.proacl) a
		WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.reset_history()'::pg_catalog.regprocedure
		  AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
		  AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION @extschema@.history_reset() TO %s%s',
			CASE WHEN r.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE r.grantee::pg_catalog.regrole::pg_catalog.text END,
			CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$sa_history_reset_grants$;

-- security: _checklist() and _alerts() check their reader themselves (any role
-- could call them directly and bypass the views' check), and the per-check
-- functions they combine are executable by monitoring roles only

-- The readiness checklist: one row per check, in this order (the view
-- checklist puts the failing ones first).  Each check is a function of its
-- own, _check_<name>() (62_readiness_checks/1NN__check_*.sql), returning
-- its row(s) ("check", status pass/warn/fail, value, target, advice); the
-- statements are read once here for the checks that need them.
CREATE OR REPLACE FUNCTION @extschema@._checklist()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_stmts @extschema@._statement[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.checklist');
	-- the statements, read once for every check that needs them
	v_stmts := ARRAY(SELECT s FROM @extschema@._statements() s);
	RETURN QUERY
	SELECT * FROM @extschema@._check_slow_statements(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_missing_indexes()
	UNION ALL SELECT * FROM @extschema@._check_sequential_scans()
	UNION ALL SELECT * FROM @extschema@._check_n_plus_one()
	UNION ALL SELECT * FROM @extschema@._check_cacheable_queries(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_connections()
	UNION ALL SELECT * FROM @extschema@._check_idle_in_transaction()
	UNION ALL SELECT * FROM @extschema@._check_role_timeouts()
	UNION ALL SELECT * FROM @extschema@._check_slow_query_logging()
	UNION ALL SELECT * FROM @extschema@._check_wal_archiving()
	UNION ALL SELECT * FROM @extschema@._check_autovacuum()
	UNION ALL SELECT * FROM @extschema@._check_dead_tuples()
	UNION ALL SELECT * FROM @extschema@._check_stale_statistics()
	UNION ALL SELECT * FROM @extschema@._check_table_bloat()
	UNION ALL SELECT * FROM @extschema@._check_index_bloat()
	UNION ALL SELECT * FROM @extschema@._check_cache_hit_ratio()
	UNION ALL SELECT * FROM @extschema@._check_pagination(v_stmts)
	UNION ALL SELECT * FROM @extschema@._check_archiving_partitioning()
	UNION ALL SELECT * FROM @extschema@._check_unused_indexes()
	UNION ALL SELECT * FROM @extschema@._check_duplicate_indexes()
	UNION ALL SELECT * FROM @extschema@._check_invalid_indexes()
	UNION ALL SELECT * FROM @extschema@._check_fk_without_index()
	UNION ALL SELECT * FROM @extschema@._check_transaction_id_age()
	UNION ALL SELECT * FROM @extschema@._check_regressions()
	UNION ALL SELECT * FROM @extschema@._check_capacity_2x();
END
$$;

-- Alerts that fire now.
CREATE OR REPLACE FUNCTION @extschema@._alerts()
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

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_slow_statements(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_slow_statements(@extschema@._statement[]) TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_missing_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_missing_indexes() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_sequential_scans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_sequential_scans() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_n_plus_one() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_n_plus_one() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_cacheable_queries(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_cacheable_queries(@extschema@._statement[]) TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_connections() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_idle_in_transaction() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_idle_in_transaction() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_role_timeouts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_role_timeouts() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_slow_query_logging() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_slow_query_logging() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_wal_archiving() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_wal_archiving() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_autovacuum() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_autovacuum() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_dead_tuples() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_dead_tuples() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_stale_statistics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_stale_statistics() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_table_bloat() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_table_bloat() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_index_bloat() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_index_bloat() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_cache_hit_ratio() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_cache_hit_ratio() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_pagination(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_pagination(@extschema@._statement[]) TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_archiving_partitioning() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_archiving_partitioning() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_unused_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_unused_indexes() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_duplicate_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_duplicate_indexes() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_invalid_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_invalid_indexes() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_fk_without_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_fk_without_index() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_transaction_id_age() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_transaction_id_age() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_regressions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_regressions() TO pg_read_all_stats;
-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_capacity_2x() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_capacity_2x() TO pg_read_all_stats;
-- security: _partition_advice() checks its reader itself (called directly it
-- gave any role what the view partition_advice refuses)
CREATE OR REPLACE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := @extschema@._t('partition_min_bytes');
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.partition_advice');
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

-- C entry points: one per SQL API version (as pg_stat_statements has).  The
-- 1.1 definitions name the symbols ending in _1_1; the symbols the 1.0
-- definitions named stay in the library and keep working until this update
-- runs.  Same signatures, attributes and behaviour: CREATE OR REPLACE keeps
-- the grants, comments and dependent views.
CREATE OR REPLACE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded_1_1';

CREATE OR REPLACE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader_1_1';

CREATE OR REPLACE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait_1_1';

CREATE OR REPLACE FUNCTION @extschema@._owner_exec(rel regclass, query text,
	VARIADIC params text[] DEFAULT '{}')
RETURNS jsonb
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_owner_exec_1_1';

CREATE OR REPLACE FUNCTION @extschema@._may_maintain(rel regclass,
	who regrole DEFAULT current_user::regrole)
RETURNS boolean
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_may_maintain_1_1';

CREATE OR REPLACE FUNCTION @extschema@._query_stats(showtext boolean DEFAULT true,
    OUT dbid oid, OUT userid oid, OUT queryid bigint, OUT toplevel boolean,
    OUT query text, OUT calls bigint, OUT errors bigint, OUT rows bigint,
    OUT total_exec_ms double precision, OUT mean_exec_ms double precision,
    OUT min_exec_ms double precision, OUT max_exec_ms double precision,
    OUT stddev_exec_ms double precision,
    OUT p50_ms double precision, OUT p95_ms double precision,
    OUT p99_ms double precision, OUT p999_ms double precision,
    OUT plans bigint, OUT total_plan_ms double precision,
    OUT shared_blks_hit bigint, OUT shared_blks_read bigint,
    OUT shared_blks_dirtied bigint, OUT shared_blks_written bigint,
    OUT local_blks_hit bigint, OUT local_blks_read bigint,
    OUT local_blks_dirtied bigint, OUT local_blks_written bigint,
    OUT temp_blks_read bigint, OUT temp_blks_written bigint,
    OUT wal_records bigint, OUT wal_fpi bigint, OUT wal_bytes numeric,
    OUT first_seen timestamptz, OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_query_stats_1_1';

CREATE OR REPLACE FUNCTION @extschema@._info(
    OUT entries bigint, OUT max_entries bigint, OUT evictions bigint,
    OUT memory_bytes bigint, OUT entry_bytes bigint,
    OUT text_bytes_per_entry bigint, OUT stats_reset timestamptz,
    OUT last_save timestamptz, OUT saves bigint, OUT save_failures bigint,
    OUT loaded_entries bigint)
RETURNS record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_info_1_1';

CREATE OR REPLACE FUNCTION @extschema@.reset(userid oid DEFAULT 0, dbid oid DEFAULT 0,
                                  queryid bigint DEFAULT 0)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_reset_1_1';

CREATE OR REPLACE FUNCTION @extschema@._sketch_quantiles(vals double precision[],
                                              quantiles double precision[])
RETURNS double precision[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_sketch_quantiles_1_1';

CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_reset_1_1';

CREATE OR REPLACE FUNCTION @extschema@._index_workload(
    OUT queryid bigint, OUT userid oid, OUT relation pg_catalog.regclass,
    OUT scan text, OUT terms text, OUT executions bigint,
    OUT avg_rows_scanned double precision,
    OUT avg_rows_removed double precision, OUT row_counts_measured boolean,
    OUT captured_calls bigint, OUT mean_ms double precision,
    OUT statement text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_1_1';

CREATE OR REPLACE FUNCTION @extschema@.index_workload_reset()
RETURNS void
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_reset_1_1';

CREATE OR REPLACE FUNCTION @extschema@.index_whatif(
    statement text, index_sql text, params text[] DEFAULT NULL,
    search_path text DEFAULT pg_catalog.current_setting('search_path'),
    OUT cost_before double precision, OUT cost_after double precision,
    OUT improvement_pct double precision, OUT index_used boolean,
    OUT est_size_bytes bigint)
RETURNS record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_whatif_1_1';

CREATE OR REPLACE FUNCTION @extschema@._index_advice(skipped boolean)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_compute_1_1';

CREATE OR REPLACE FUNCTION @extschema@._archive_vacuum(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_archive_vacuum_1_1';

CREATE OR REPLACE FUNCTION @extschema@._archive_test_crash()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'scale_advisor_archive_test_crash_1_1';

CREATE OR REPLACE FUNCTION @extschema@._archive_lock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_lock_1_1';

CREATE OR REPLACE FUNCTION @extschema@._archive_unlock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_unlock_1_1';

CREATE OR REPLACE FUNCTION @extschema@._nonatomic()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_nonatomic_1_1';

CREATE OR REPLACE FUNCTION @extschema@._history(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT calls bigint,
	OUT rows bigint, OUT total_exec_ms double precision, OUT buckets bigint[],
	OUT first_seen timestamptz, OUT last_seen timestamptz,
	OUT sample_query text, OUT param_types regtype[], OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_1_1';

CREATE OR REPLACE FUNCTION @extschema@._history_examples(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT example integer,
	OUT taken_at timestamptz, OUT sample_query text, OUT param_types regtype[],
	OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_examples_1_1';

CREATE OR REPLACE FUNCTION @extschema@._history_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_history_reset_1_1';

CREATE OR REPLACE FUNCTION @extschema@._hist_quantile(buckets bigint[], q double precision)
RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_quantile_1_1';

CREATE OR REPLACE FUNCTION @extschema@._hist_count_above(buckets bigint[], ms double precision)
RETURNS bigint
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_count_above_1_1';

CREATE OR REPLACE FUNCTION @extschema@._host_cpus()
RETURNS integer
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_host_cpus_1_1';

CREATE OR REPLACE FUNCTION @extschema@._replay_refusal(statement text)
RETURNS text
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_replay_refusal_1_1';

CREATE OR REPLACE FUNCTION @extschema@._index_advice_outcome(
    OUT relid oid, OUT index_sql text, OUT indexrelid oid,
    OUT first_advised timestamptz, OUT last_advised timestamptz,
    OUT queryid bigint, OUT userid oid, OUT cost_before double precision,
    OUT cost_after double precision, OUT calls_before bigint,
    OUT exec_ms_before double precision, OUT buckets_before bigint[],
    OUT calls_after bigint, OUT exec_ms_after double precision,
    OUT buckets_after bigint[], OUT tracked boolean, OUT index_scans bigint)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_outcome_1_1';

-- security: an example's text (with its literals) only to its own role and
-- superusers; the alert windows leave the extension's own statements out by
-- their normalized text
CREATE OR REPLACE FUNCTION @extschema@._windows(p_window interval, p_baseline interval)
RETURNS TABLE (dbid oid, queryid bigint, window_start timestamptz,
			   window_calls bigint, window_exec_ms double precision,
			   window_buckets bigint[], baseline_calls bigint,
			   baseline_buckets bigint[], last_seen timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_w timestamptz;
	v_wid bigint;
	v_bid bigint;
	v_own bigint[];
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the extension's own statements (calls of its functions and reads of
	-- its views), known by their normalized text: an example's text is
	-- shown only to its own role
	v_own := ARRAY(SELECT st.queryid FROM @extschema@._statements() st
				   WHERE strpos(st.query, '@extschema@.') > 0);
	-- the window and baseline snapshots (ids grow with time)
	SELECT s.taken_at, s.snap_id INTO v_w, v_wid FROM @extschema@.snapshots s
	WHERE s.taken_at <= pg_catalog.now() - p_window
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	SELECT s.snap_id INTO v_bid FROM @extschema@.snapshots s
	WHERE s.taken_at <= v_w - p_baseline
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	-- a reading taken since the statement's history started (same
	-- first_seen, as many buckets, no fewer calls) is subtracted; without
	-- one, the window is everything since the history started
	RETURN QUERY
	SELECT h.dbid, h.queryid, v_w,
		   CASE WHEN w.calls IS NULL THEN h.calls ELSE h.calls - w.calls END,
		   CASE WHEN w.calls IS NULL THEN h.total_exec_ms
				ELSE h.total_exec_ms - w.total_exec_ms END,
		   CASE WHEN w.calls IS NULL THEN h.buckets
				ELSE @extschema@._hist_sub(h.buckets, w.buckets) END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint
				WHEN b.calls IS NULL THEN w.calls
				ELSE w.calls - b.calls END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint[]
				WHEN b.calls IS NULL THEN w.buckets
				ELSE @extschema@._hist_sub(w.buckets, b.buckets) END,
		   h.last_seen
	FROM @extschema@._history() h
	LEFT JOIN LATERAL (
		SELECT s.calls, s.total_exec_ms, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_wid
		ORDER BY s.snap_id DESC LIMIT 1) w0 ON true
	LEFT JOIN LATERAL (SELECT w0.* WHERE w0.first_seen = h.first_seen
						 AND cardinality(w0.buckets) = cardinality(h.buckets)
						 AND w0.calls <= h.calls) w ON true
	LEFT JOIN LATERAL (
		SELECT s.calls, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_bid
		ORDER BY s.snap_id DESC LIMIT 1) b0 ON true
	LEFT JOIN LATERAL (SELECT b0.* WHERE b0.first_seen = w.first_seen
						 AND cardinality(b0.buckets) = cardinality(w.buckets)
						 AND b0.calls <= w.calls) b ON true
	WHERE h.dbid = v_db
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0
	  AND h.queryid <> ALL (v_own);
END
$$;

-- security review: _growth() and _regressions() check their reader themselves
-- (called directly they failed on a table's grant, without the hint)
CREATE OR REPLACE FUNCTION @extschema@._growth()
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
	PERFORM @extschema@._require_stats_reader('scale_advisor.growth');
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
CREATE OR REPLACE FUNCTION @extschema@._regressions()
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
	PERFORM @extschema@._require_stats_reader('scale_advisor.regressions');
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

-- structure: internal helpers' parameters lose their p_/o_ prefixes
-- (docs/development.md, "Names").  CREATE OR REPLACE cannot rename an input
-- parameter, so each helper is dropped and created again as the install
-- script has it; the CHECK of thresholds.name (which holds
-- _threshold_known) goes first and comes back unchanged.  All of them are
-- executable by PUBLIC, so no grant needs carrying.  Those that keep their
-- names: _is_slow (the public view slow_queries holds it) and the archiving
-- steps an archiver role is granted (_archive_start, _archive_run,
-- _archive_exists), whose grants a DROP would lose from later dumps.
ALTER TABLE @extschema@.thresholds DROP CONSTRAINT thresholds_name_check;
DROP FUNCTION @extschema@._app_statement(text);
DROP FUNCTION @extschema@._cut(text, integer);
DROP FUNCTION @extschema@._threshold_known(text);
DROP FUNCTION @extschema@._t(text);
DROP FUNCTION @extschema@._windows(interval, interval);
DROP FUNCTION @extschema@._short(text);
DROP FUNCTION @extschema@._guc_ms(text);
DROP FUNCTION @extschema@._role_setting(oid, text);

-- True for a statement the application runs: a query or a change of rows
-- (SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE, CALL, also
-- as the text of a prepared statement), leading comments and parentheses
-- aside.  Not DDL (CREATE DATABASE, CREATE INDEX, ALTER ...), maintenance
-- (ANALYZE, VACUUM, REINDEX, CLUSTER, REFRESH), COPY (bulk loads),
-- transaction control or SET, and not scale_advisor's own reads (a
-- monitoring scrape, this checklist).  A text the reader may not see
-- counts as the application's.
CREATE FUNCTION @extschema@._app_statement(query text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN query IS NULL OR query = '<insufficient privilege>' THEN true
			WHEN strpos(lower(query), '@extschema@.') > 0 THEN false
			ELSE regexp_replace(
					regexp_replace(query, '^(\s|/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$)|\()*', ''),
					'^prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i')
				 ~* '^(select|with|values|table|insert|update|delete|merge|call)\M' END
$$;

-- A text on one line, cut at a word boundary to at most n characters, with
-- ' ...' when something was cut.
CREATE FUNCTION @extschema@._cut(s text, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN length(t) <= n THEN t
			ELSE coalesce(nullif(regexp_replace(left(t, n + 1), '\s*\S*$', ''), ''), left(t, n)) || ' ...' END
FROM (SELECT btrim(regexp_replace(coalesce(s, '?'), '\s+', ' ', 'g')) AS t) x
$$;

-- true when name is a known threshold (for the CHECK of thresholds)
CREATE FUNCTION @extschema@._threshold_known(name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@._threshold_defaults() d WHERE d.name = _threshold_known.name) $$;
ALTER TABLE @extschema@.thresholds
	ADD CONSTRAINT thresholds_name_check CHECK (@extschema@._threshold_known(name));

-- The value of a threshold: the user's (set_threshold), else the one its
-- 1.0 setting gives (_threshold_alias), else the default.
CREATE FUNCTION @extschema@._t(name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT t.value FROM @extschema@.thresholds t WHERE t.name = _t.name),
				@extschema@._threshold_alias(_t.name),
				(SELECT d.default_value FROM @extschema@._threshold_defaults() d WHERE d.name = _t.name))
$$;

-- Per statement of the current database: the histogram of the window (the
-- time since the latest snapshot at least window_length old) and of the
-- baseline (the baseline_length before that).
CREATE FUNCTION @extschema@._windows(window_length interval, baseline_length interval)
RETURNS TABLE (dbid oid, queryid bigint, window_start timestamptz,
			   window_calls bigint, window_exec_ms double precision,
			   window_buckets bigint[], baseline_calls bigint,
			   baseline_buckets bigint[], last_seen timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_w timestamptz;
	v_wid bigint;
	v_bid bigint;
	v_own bigint[];
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the extension's own statements (calls of its functions and reads of
	-- its views), known by their normalized text: an example's text is
	-- shown only to its own role
	v_own := ARRAY(SELECT st.queryid FROM @extschema@._statements() st
				   WHERE strpos(st.query, '@extschema@.') > 0);
	-- the window and baseline snapshots (ids grow with time)
	SELECT s.taken_at, s.snap_id INTO v_w, v_wid FROM @extschema@.snapshots s
	WHERE s.taken_at <= pg_catalog.now() - window_length
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	SELECT s.snap_id INTO v_bid FROM @extschema@.snapshots s
	WHERE s.taken_at <= v_w - baseline_length
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	-- a reading taken since the statement's history started (same
	-- first_seen, as many buckets, no fewer calls) is subtracted; without
	-- one, the window is everything since the history started
	RETURN QUERY
	SELECT h.dbid, h.queryid, v_w,
		   CASE WHEN w.calls IS NULL THEN h.calls ELSE h.calls - w.calls END,
		   CASE WHEN w.calls IS NULL THEN h.total_exec_ms
				ELSE h.total_exec_ms - w.total_exec_ms END,
		   CASE WHEN w.calls IS NULL THEN h.buckets
				ELSE @extschema@._hist_sub(h.buckets, w.buckets) END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint
				WHEN b.calls IS NULL THEN w.calls
				ELSE w.calls - b.calls END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint[]
				WHEN b.calls IS NULL THEN w.buckets
				ELSE @extschema@._hist_sub(w.buckets, b.buckets) END,
		   h.last_seen
	FROM @extschema@._history() h
	LEFT JOIN LATERAL (
		SELECT s.calls, s.total_exec_ms, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_wid
		ORDER BY s.snap_id DESC LIMIT 1) w0 ON true
	LEFT JOIN LATERAL (SELECT w0.* WHERE w0.first_seen = h.first_seen
						 AND cardinality(w0.buckets) = cardinality(h.buckets)
						 AND w0.calls <= h.calls) w ON true
	LEFT JOIN LATERAL (
		SELECT s.calls, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_bid
		ORDER BY s.snap_id DESC LIMIT 1) b0 ON true
	LEFT JOIN LATERAL (SELECT b0.* WHERE b0.first_seen = w.first_seen
						 AND cardinality(b0.buckets) = cardinality(w.buckets)
						 AND b0.calls <= w.calls) b ON true
	WHERE h.dbid = v_db
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0
	  AND h.queryid <> ALL (v_own);
END
$$;
-- A statement's text on one line, cut at a word boundary to 100
-- characters.
CREATE FUNCTION @extschema@._short(query text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._cut(query, 100) $$;

-- A duration setting ('30s', '5min', '250') in milliseconds.
CREATE FUNCTION @extschema@._guc_ms(value text)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT (m[1])::numeric * CASE lower(coalesce(nullif(m[2], ''), 'ms'))
		WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'min' THEN 60000
		WHEN 'h' THEN 3600000 WHEN 'd' THEN 86400000 END
FROM pg_catalog.regexp_match(pg_catalog.btrim(value, ' '''), '^(-?[0-9.]+)\s*([a-zA-Z]*)$') AS m
$$;

-- The value a setting has for sessions of a role in the current database:
-- ALTER ROLE ... IN DATABASE, ALTER ROLE, ALTER DATABASE, then the server.
CREATE FUNCTION @extschema@._role_setting(role oid, name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(
	(SELECT pg_catalog.split_part(c, '=', 2)
	 FROM (SELECT s.setconfig,
				  CASE WHEN s.setrole <> 0 AND s.setdatabase <> 0 THEN 1
					   WHEN s.setrole <> 0 THEN 2 ELSE 3 END AS prio
		   FROM pg_catalog.pg_db_role_setting s
		   WHERE (s.setrole = _role_setting.role OR s.setrole = 0)
			 AND (s.setdatabase = 0 OR s.setdatabase =
				  (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))
			 AND NOT (s.setrole = 0 AND s.setdatabase = 0)) x,
		  unnest(x.setconfig) c
	 WHERE pg_catalog.split_part(c, '=', 1) = _role_setting.name
	 ORDER BY x.prio LIMIT 1),
	(SELECT CASE WHEN g.source IN ('default', 'configuration file', 'command line',
								   'environment variable', 'override')
				 THEN g.setting ELSE g.boot_val END
	 FROM pg_catalog.pg_settings g WHERE g.name = _role_setting.name))
$$;
