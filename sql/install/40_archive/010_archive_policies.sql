CREATE TABLE @extschema@.archive_policies (
	relation text PRIMARY KEY,
	time_column name NOT NULL,
	older_than interval NOT NULL CHECK (older_than >= interval '0'),
	target text,
	batch_size integer NOT NULL DEFAULT 1000 CHECK (batch_size > 0),
	max_batches integer CHECK (max_batches > 0),
	max_duration interval CHECK (max_duration > interval '0'),
	pause interval NOT NULL DEFAULT '0' CHECK (pause >= interval '0'),
	lock_timeout interval NOT NULL DEFAULT '1s' CHECK (lock_timeout > interval '0'),
	vacuum boolean NOT NULL DEFAULT false,
	enabled boolean NOT NULL DEFAULT true,
	comment text,
	created_by regrole NOT NULL DEFAULT current_user::regrole
);
COMMENT ON TABLE @extschema@.archive_policies IS
'archiving policies run by scale_advisor.run_archive_policies(); relation and target are table names as written in SQL (schema-qualified)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archive_policies', '');
-- each role sees and changes the policies of the roles whose privileges it
-- has (its own among them); superusers see all
ALTER TABLE @extschema@.archive_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_policies_creator ON @extschema@.archive_policies
	USING (pg_catalog.pg_has_role(created_by, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by, 'USAGE'));
