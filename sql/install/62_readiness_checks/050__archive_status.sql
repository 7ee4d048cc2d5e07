
-- Per enabled archive policy: the status of its latest finished run, the
-- time of its latest successful one and the number of runs that failed
-- (or were interrupted) since.  Monitoring must see every
-- policy's state, while row-level security shows a role only its own
-- policies and runs: so this reads them as the extension's owner, only
-- these columns of the extension's own tables (no error text: a failed
-- run's error may quote the rows it failed on), and runs no other code.
-- Granted to pg_read_all_stats (pg_monitor) only.
CREATE FUNCTION @extschema@._archive_status()
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
