
-- History: one row per snapshot, with the database totals.  dbid: the
-- database it was taken in (a database copied with CREATE DATABASE ...
-- TEMPLATE holds the history of its template, whose tables have the same
-- OIDs but other counters).
CREATE TABLE @extschema@.snapshots (
	snap_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	taken_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	db_bytes bigint,
	numbackends integer,
	active_sessions integer,
	active_time_ms double precision,
	xact_commit bigint,
	xact_rollback bigint,
	stmt_calls bigint,
	stmt_errors bigint,
	stmt_exec_ms double precision,
	-- tables whose size could not be read without waiting for a lock
	-- another session held (they are missing from snapshot_tables)
	locked_tables text[],
	dbid pg_catalog.oid DEFAULT @extschema@._current_dbid()
);
CREATE INDEX ON @extschema@.snapshots (taken_at);

-- Monitoring: superusers and roles with the privileges of pg_read_all_stats
-- (pg_monitor) read the history and the thresholds (the growth, regressions,
-- capacity, checklist and alerts functions run as the caller and read
-- them); threshold_settings refuses other roles with a hint.  The
-- thresholds themselves are no secret: every role may read them, so that
-- the functions reach their privilege check.
GRANT SELECT ON @extschema@.snapshots TO pg_read_all_stats;
