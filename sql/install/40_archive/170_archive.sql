
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
	IF archive.dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	PERFORM @extschema@._archive_check_age(archive.older_than);
	-- (parameters qualified by the procedure's name: some of their names
	-- are SQL keywords)
	CALL @extschema@._archive_run(
		p_operation => 'archive',
		p_relation => archive.relation,
		p_time_column => archive.time_column,
		p_from => '-infinity',
		p_to => pg_catalog.now() - archive.older_than,
		p_other => archive.target,
		p_batch_size => archive.batch_size,
		p_max_batches => archive.max_batches,
		p_max_duration => archive.max_duration,
		p_pause => archive.pause,
		p_lock_timeout => archive.lock_timeout,
		p_dry_run => archive.dry_run,
		p_verbose => archive.verbose,
		p_vacuum => archive.vacuum,
		p_policy => false,
		p_raise => true,
		o_run_id => archive.run_id,
		o_rows => archive.rows_moved,
		o_status => archive.status);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

REVOKE ALL ON PROCEDURE @extschema@.archive FROM PUBLIC;
