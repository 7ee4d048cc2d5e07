
-- The scans that cost the most time first.
CREATE VIEW @extschema@.index_workload AS
SELECT * FROM @extschema@._index_workload() w
 WHERE @extschema@._require_loaded()
 ORDER BY w.captured_calls * w.mean_ms DESC NULLS LAST, w.executions DESC, w.queryid;

-- Statement views: any role reads them, and sees only its own statements
-- unless it may read all statistics (as pg_stat_statements).
GRANT SELECT ON @extschema@.index_workload TO PUBLIC;
