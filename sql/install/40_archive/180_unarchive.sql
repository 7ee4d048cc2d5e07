
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
	IF unarchive.dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('unarchive()');
	END IF;
	-- (parameters qualified by the procedure's name: some of their names
	-- are SQL keywords)
	CALL @extschema@._archive_run(
		p_operation => 'unarchive',
		p_relation => unarchive.relation,
		p_time_column => unarchive.time_column,
		p_from => unarchive.since,
		p_to => unarchive.before,
		p_other => unarchive.archive,
		p_batch_size => unarchive.batch_size,
		p_max_batches => unarchive.max_batches,
		p_max_duration => unarchive.max_duration,
		p_pause => unarchive.pause,
		p_lock_timeout => unarchive.lock_timeout,
		p_dry_run => unarchive.dry_run,
		p_verbose => unarchive.verbose,
		p_vacuum => false,
		p_policy => false,
		p_raise => true,
		o_run_id => unarchive.run_id,
		o_rows => unarchive.rows_moved,
		o_status => unarchive.status);
END $$;
COMMENT ON PROCEDURE @extschema@.unarchive IS
'moves archived rows whose time_column is in [since, before) back into the table, in committed batches';
REVOKE ALL ON PROCEDURE @extschema@.unarchive FROM PUBLIC;
