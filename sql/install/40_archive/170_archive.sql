
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
		operation => 'archive',
		relation => archive.relation,
		time_column => archive.time_column,
		cutoff_from => '-infinity',
		cutoff_to => pg_catalog.now() - archive.older_than,
		archive_table => archive.target,
		batch_size => archive.batch_size,
		max_batches => archive.max_batches,
		max_duration => archive.max_duration,
		pause => archive.pause,
		lock_timeout => archive.lock_timeout,
		dry_run => archive.dry_run,
		verbose => archive.verbose,
		vacuum => archive.vacuum,
		from_policy => false,
		raise_errors => true,
		run_id => archive.run_id,
		rows_moved => archive.rows_moved,
		status => archive.status);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

REVOKE ALL ON PROCEDURE @extschema@.archive FROM PUBLIC;
