
CREATE FUNCTION @extschema@._pt_register_sql(sch name, tbl name, col name, part_interval text,
	premake integer, retention text, retention_action text, archive_schema name,
	lock_timeout interval, retries integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('INSERT INTO @extschema@.partition_sets (parent_schema, parent_table, control_column, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, ddl_retries) VALUES (%L, %L, %L, %L, %s, %L, %L, %L, %L, %s) ON CONFLICT (parent_schema, parent_table) DO UPDATE SET control_column = excluded.control_column, part_interval = excluded.part_interval, premake = excluded.premake, retention = excluded.retention, retention_action = excluded.retention_action, archive_schema = excluded.archive_schema, lock_timeout = excluded.lock_timeout, ddl_retries = excluded.ddl_retries, enabled = true',
	sch, tbl, col, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, retries)
$$;
