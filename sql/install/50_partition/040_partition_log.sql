
-- One line per action of partition_table and maintain_partitions.
CREATE TABLE @extschema@.partition_log (
	id bigserial PRIMARY KEY,
	logged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	action text NOT NULL,
	ok boolean NOT NULL,
	detail text,
	exclusive_lock_ms double precision,
	run_by name NOT NULL DEFAULT CURRENT_USER
);
ALTER TABLE @extschema@.partition_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_log_own ON @extschema@.partition_log
	USING (run_by OPERATOR(pg_catalog.=) CURRENT_USER)
	WITH CHECK (run_by OPERATOR(pg_catalog.=) CURRENT_USER);
