
-- Is maintenance running as expected?  One row per set.
CREATE VIEW @extschema@.partition_maintenance_status AS
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
GRANT SELECT ON @extschema@.partition_maintenance_status TO PUBLIC;
