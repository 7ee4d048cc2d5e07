
CREATE TABLE @extschema@.archive_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation text NOT NULL CHECK (operation IN ('archive', 'unarchive')),
	relation text NOT NULL,
	target text,
	time_column name,
	cutoff_from timestamptz,
	cutoff_to timestamptz,
	from_policy boolean NOT NULL DEFAULT false,
	run_by name NOT NULL DEFAULT CURRENT_USER,
	pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
	started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	last_batch_at timestamptz,
	finished_at timestamptz,
	duration interval,
	batches integer NOT NULL DEFAULT 0,
	rows_moved bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'done', 'stopped', 'failed', 'interrupted', 'skipped')),
	error text,
	vacuum_advice text
);
CREATE INDEX ON @extschema@.archive_runs (relation, started_at);
COMMENT ON TABLE @extschema@.archive_runs IS
'one row per archive/unarchive run, updated after every batch (status running, done, stopped, failed, interrupted or skipped)';
-- each role sees and changes only the runs it made (run_by); an error of a
-- run can hold row values.  Superusers see all.
ALTER TABLE @extschema@.archive_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_runs_own ON @extschema@.archive_runs
	USING (run_by = CURRENT_USER)
	WITH CHECK (run_by = CURRENT_USER);
