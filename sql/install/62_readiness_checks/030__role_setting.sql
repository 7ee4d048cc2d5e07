
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
