
CREATE PROCEDURE @extschema@.run_archive_policies(verbose boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	p record;
	rel regclass;
	tgt regclass;
	run bigint;
	n bigint;
	st text;
	msg text;
	leaf record;
	dst_name text;
	key name[];
	started timestamptz;
	cutoff timestamptz;
	total bigint;
	parts integer;
	bad text[];
	fin text;
	budget interval;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('run_archive_policies()');
	-- the policies this role may see (row-level security), read once: the
	-- loop commits
	FOR p IN
		SELECT * FROM @extschema@.archive_policies ap
		WHERE ap.enabled ORDER BY ap.relation
	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		rel := pg_catalog.to_regclass(p.relation);
		tgt := pg_catalog.to_regclass(p.target);
		msg := CASE WHEN rel IS NULL THEN pg_catalog.format('table %s does not exist', p.relation)
					WHEN p.target IS NOT NULL AND tgt IS NULL
					THEN pg_catalog.format('target %s does not exist', p.target) END;
		st := 'failed';
		-- a policy runs only while its creator may still maintain the table
		IF msg IS NULL AND NOT coalesce(@extschema@._may_maintain(rel, p.created_by), false) THEN
			msg := pg_catalog.format('its creator, role %s, does not have the privileges of the owner of the table, role %s',
				p.created_by, (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = rel));
			st := 'skipped';
		END IF;
		IF msg IS NOT NULL THEN
			IF st = 'skipped' THEN
				RAISE WARNING USING
					MESSAGE = pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg),
					HINT = 'Recreate the policy as the owner of the table, or grant the owner''s role to its creator.';
			ELSE
				RAISE WARNING '%', pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg);
			END IF;
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, from_policy, finished_at, duration, status, error)
			VALUES ('archive', p.relation, p.target, p.time_column, true,
					pg_catalog.clock_timestamp(), interval '0', st, msg);
			COMMIT;
			CONTINUE;
		END IF;
		IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) rel) OPERATOR(pg_catalog.=) 'p' THEN
			-- Partitioned since the policy was made (partition_table): it
			-- goes on.  Every leaf partition holding rows older than the
			-- policy's age is archived on its own (its own run and run lock)
			-- into one archive, the policy's target or else the table's
			-- default archive <table>_archive (made as the table's owner with
			-- the table's key, as a first run would), and one run row for
			-- the policy's relation sums it up, so that its status reads as
			-- before.  max_duration is shared by the partitions, max_batches
			-- applies to each.
			started := pg_catalog.clock_timestamp();
			cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) p.older_than;
			total := 0; parts := 0; bad := '{}'; fin := 'done'; msg := NULL;
			BEGIN
				IF tgt IS NULL THEN
					SELECT pg_catalog.format('%I.%I', ns.nspname, c.relname OPERATOR(pg_catalog.||) '_archive') INTO dst_name
					FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace
					WHERE c.oid OPERATOR(pg_catalog.=) rel;
					tgt := pg_catalog.to_regclass(dst_name);
					IF tgt IS NULL THEN
						key := @extschema@._archive_key(rel);
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE TABLE %s (LIKE %s)', dst_name, rel));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('ALTER TABLE %s ADD PRIMARY KEY (%s)', dst_name,
							(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') FROM pg_catalog.unnest(key) k)));
						PERFORM @extschema@._owner_exec(rel, pg_catalog.format('CREATE INDEX ON %s (%I)', dst_name, p.time_column));
						tgt := pg_catalog.to_regclass(dst_name);
						RAISE NOTICE '%', pg_catalog.format('created archive table %s', dst_name);
					END IF;
				END IF;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
				fin := 'failed';
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			IF fin OPERATOR(pg_catalog.=) 'done' THEN
				FOR leaf IN
					SELECT t.relid::regclass AS part
					FROM pg_catalog.pg_partition_tree(rel) t
					JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.relid
					WHERE t.isleaf AND c.relkind OPERATOR(pg_catalog.=) 'r'
					ORDER BY t.relid::regclass::pg_catalog.text
				LOOP
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					-- only the partitions that hold rows to move get a run
					CONTINUE WHEN pg_catalog.to_regclass(leaf.part::pg_catalog.text) IS NULL
						OR NOT (@extschema@._owner_exec(leaf.part,
							pg_catalog.format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I < $1::timestamptz))', leaf.part, p.time_column),
							cutoff::pg_catalog.text) #>> '{}')::boolean;
					budget := p.max_duration OPERATOR(pg_catalog.-) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started);
					IF budget OPERATOR(pg_catalog.<) interval '1 second' THEN
						fin := 'stopped';
						msg := pg_catalog.format('max_duration (%s) reached', p.max_duration);
						EXIT;
					END IF;
					run := NULL; n := NULL; st := NULL;
					CALL @extschema@._archive_run(
						p_operation => 'archive', p_relation => leaf.part,
						p_time_column => p.time_column,
						p_from => '-infinity', p_to => cutoff, p_other => tgt,
						p_batch_size => p.batch_size, p_max_batches => p.max_batches,
						p_max_duration => budget, p_pause => p.pause,
						p_lock_timeout => p.lock_timeout, p_dry_run => false,
						p_verbose => run_archive_policies.verbose,
						p_vacuum => p.vacuum, p_policy => true, p_raise => false,
						o_run_id => run, o_rows => n, o_status => st);
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					parts := parts OPERATOR(pg_catalog.+) 1;
					total := total OPERATOR(pg_catalog.+) coalesce(n, 0);
					IF st IS DISTINCT FROM 'done' THEN
						bad := bad OPERATOR(pg_catalog.||) pg_catalog.format('%s %s (run %s)', leaf.part, coalesce(st, '?'), coalesce(run::pg_catalog.text, '-'));
						fin := CASE WHEN st OPERATOR(pg_catalog.=) 'failed' OR fin OPERATOR(pg_catalog.=) 'failed' THEN 'failed' ELSE 'stopped' END;
					END IF;
					COMMIT;
				END LOOP;
				IF pg_catalog.cardinality(bad) OPERATOR(pg_catalog.>) 0 THEN
					msg := 'partitions not finished: ' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(bad, '; ');
				END IF;
			END IF;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
				 last_batch_at, finished_at, duration, rows_moved, status, error)
			VALUES ('archive', p.relation, coalesce(tgt::pg_catalog.text, p.target), p.time_column, NULL, cutoff, true,
					CASE WHEN total OPERATOR(pg_catalog.>) 0 THEN pg_catalog.clock_timestamp() END,
					pg_catalog.clock_timestamp(), pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started, total,
					fin, msg)
			RETURNING r.run_id INTO run;
			IF run_archive_policies.verbose OR fin OPERATOR(pg_catalog.<>) 'done' THEN
				RAISE NOTICE '%', pg_catalog.format('archive policy for %s (partitioned): %s, %s rows moved from %s partitions (run %s)%s',
					p.relation, fin, total, parts, run, coalesce(': ' OPERATOR(pg_catalog.||) msg, ''));
			END IF;
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run(
			p_operation => 'archive', p_relation => rel,
			p_time_column => p.time_column,
			p_from => '-infinity', p_to => pg_catalog.now() - p.older_than,
			p_other => tgt, p_batch_size => p.batch_size,
			p_max_batches => p.max_batches, p_max_duration => p.max_duration,
			p_pause => p.pause, p_lock_timeout => p.lock_timeout,
			p_dry_run => false, p_verbose => run_archive_policies.verbose,
			p_vacuum => p.vacuum, p_policy => true, p_raise => false,
			o_run_id => run, o_rows => n, o_status => st);
		-- a new transaction (the run committed): pin search_path first
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF run_archive_policies.verbose THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.run_archive_policies IS
'runs every enabled archive policy, one table after the other';
REVOKE ALL ON PROCEDURE @extschema@.run_archive_policies FROM PUBLIC;
