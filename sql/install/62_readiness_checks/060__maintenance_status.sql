
-- Archiving policies and partition sets whose maintenance is failing or
-- overdue; failures: the runs that failed since the last success (for a
-- partition set, its consecutive failures).
-- The error of a failed archive run is not repeated here (it may quote
-- rows): scale_advisor.archive_runs shows it to the role that ran it.
CREATE FUNCTION @extschema@._maintenance_status()
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
