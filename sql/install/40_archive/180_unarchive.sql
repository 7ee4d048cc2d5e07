
CREATE PROCEDURE @extschema@.unarchive(
	relation regclass,
	time_column name,
	since timestamptz DEFAULT '-infinity',
	before timestamptz DEFAULT 'infinity',
	archive regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF $11 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('unarchive()');
	END IF;
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('unarchive', $1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, false, false, true, $13, $14, $15);
END $$;
COMMENT ON PROCEDURE @extschema@.unarchive IS
'moves archived rows whose time_column is in [since, before) back into the table, in committed batches';
REVOKE ALL ON PROCEDURE @extschema@.unarchive FROM PUBLIC;
