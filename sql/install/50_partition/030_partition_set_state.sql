
-- What the last maintenance runs did, per set (not dumped: runtime state).
CREATE TABLE @extschema@.partition_set_state (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	last_started timestamptz,
	last_finished timestamptz,
	last_success timestamptz,
	last_error text,
	last_error_at timestamptz,
	consecutive_failures integer NOT NULL DEFAULT 0,
	partitions_created bigint NOT NULL DEFAULT 0,
	partitions_retired bigint NOT NULL DEFAULT 0,
	default_rows_moved bigint NOT NULL DEFAULT 0,
	default_rows_remaining bigint,
	PRIMARY KEY (parent_schema, parent_table),
	running_pid integer,
	running_backend_start timestamptz
);
ALTER TABLE @extschema@.partition_set_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_set_state_follows_set ON @extschema@.partition_set_state
	USING (EXISTS (SELECT 1 FROM @extschema@.partition_sets s
				   WHERE s.parent_schema OPERATOR(pg_catalog.=) partition_set_state.parent_schema
					 AND s.parent_table OPERATOR(pg_catalog.=) partition_set_state.parent_table));
