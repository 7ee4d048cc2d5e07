
CREATE PROCEDURE @extschema@.archive(
	relation regclass,
	time_column name,
	older_than interval,
	target regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	vacuum boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF $10 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	PERFORM @extschema@._archive_check_age($3);
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('archive', $1, $2,
		'-infinity', pg_catalog.now() - $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		false, true, $13, $14, $15);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

REVOKE ALL ON PROCEDURE @extschema@.archive FROM PUBLIC;
