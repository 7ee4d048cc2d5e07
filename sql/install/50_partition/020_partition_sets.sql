
---------------------------------------------------------------------------
-- Configuration and state
---------------------------------------------------------------------------

CREATE TABLE @extschema@.partition_sets (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	control_column name NOT NULL,
	part_interval text NOT NULL,
	premake integer NOT NULL DEFAULT 4 CHECK (premake BETWEEN 1 AND 1000),
	retention text,
	retention_action text NOT NULL DEFAULT 'detach'
		CHECK (retention_action IN ('detach', 'drop', 'archive_schema', 'archive')),
	archive_schema name,
	archive_target text,
	archive_batch_size integer NOT NULL DEFAULT 10000 CHECK (archive_batch_size > 0),
	move_default_rows boolean NOT NULL DEFAULT true,
	lock_timeout interval NOT NULL DEFAULT '1s'
		CHECK (lock_timeout > '0' AND lock_timeout <= '10min'),
	ddl_retries integer NOT NULL DEFAULT 5 CHECK (ddl_retries BETWEEN 0 AND 100),
	expected_every interval NOT NULL DEFAULT '1 hour' CHECK (expected_every > '0'),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (parent_schema, parent_table),
	CHECK (retention_action <> 'archive_schema' OR archive_schema IS NOT NULL),
	created_by regrole NOT NULL DEFAULT CURRENT_USER::regrole
);
COMMENT ON TABLE @extschema@.partition_sets IS
	'partitioned tables that scale_advisor.maintain_partitions keeps up';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.partition_sets', '');

-- Each role sees and changes the sets of roles whose privileges it has (a
-- superuser all), the state of the sets it sees, and its own log rows.
ALTER TABLE @extschema@.partition_sets ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_sets_creator ON @extschema@.partition_sets
	USING (pg_catalog.pg_has_role(created_by::oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::oid, 'USAGE'));
