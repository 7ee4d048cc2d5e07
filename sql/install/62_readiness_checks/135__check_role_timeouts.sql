
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

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_role_timeouts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_role_timeouts() TO pg_read_all_stats;
