
-- The run loop shared by archive, unarchive and run_archive_policies.  No
-- SET clause (it commits): search_path is set locally per transaction.
CREATE PROCEDURE @extschema@._archive_run(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean, p_raise boolean,
	INOUT o_run_id bigint, INOUT o_rows bigint, INOUT o_status text)
LANGUAGE plpgsql
AS $$
DECLARE
	plan jsonb;
	state jsonb := jsonb_build_object('last_key', NULL, 'sweep', false, 'rows', 0, 'batches', 0);
	final_status text;
	message text;
	lock_failures integer := 0;
	started timestamptz := pg_catalog.clock_timestamp();
	advice text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- a failed start is logged as a run of this operation on this relation:
	-- without them there is nothing to log
	IF p_operation IS NULL OR p_operation NOT IN ('archive', 'unarchive') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown archiving operation %L', p_operation),
			HINT = 'Use ''archive'' or ''unarchive''.';
	END IF;
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation must not be NULL';
	END IF;
	BEGIN
		plan := @extschema@._archive_start(p_operation, p_relation, p_time_column, p_from, p_to,
			p_other, p_batch_size, p_max_batches, p_max_duration, p_pause, p_lock_timeout,
			p_dry_run, p_verbose, p_vacuum, p_policy);
	EXCEPTION WHEN OTHERS THEN
		IF p_raise THEN
			RAISE;
		END IF;
		GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
		RAISE WARNING '%', format('%s of %s not started: %s', p_operation, p_relation, message);
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, time_column, from_policy, finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, p_time_column, coalesce(p_policy, false),
				pg_catalog.clock_timestamp(), interval '0', 'failed', message)
		RETURNING r.run_id INTO o_run_id;
		o_rows := 0;
		o_status := 'failed';
		RETURN;
	END;
	o_run_id := (plan->>'run_id')::bigint;
	o_rows := (plan->>'rows')::bigint;
	o_status := plan->>'status';
	IF o_status <> 'running' THEN
		RETURN;
	END IF;
	-- each batch commits on its own: that needs a CALL outside a
	-- transaction block (else COMMIT fails with a bare "invalid
	-- transaction termination")
	IF NOT @extschema@._nonatomic() THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_termination',
			MESSAGE = pg_catalog.format('%s() cannot run inside a transaction block', p_operation),
			DETAIL = 'It commits after every batch so that locks stay short and a failure keeps the batches already done.',
			HINT = pg_catalog.format('CALL scale_advisor.%s(...) on its own in autocommit mode (not after BEGIN, nor from a function or a DO block); dry_run => true works anywhere.', p_operation);
	END IF;
	COMMIT;
	-- first statement of every transaction: pin search_path
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

	LOOP
		IF (state->>'batches')::int >= (plan->>'max_batches')::int THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_batches (%s) reached', plan->>'max_batches');
			EXIT;
		END IF;
		IF pg_catalog.clock_timestamp() - started >= (plan->>'max_duration')::interval THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_duration (%s) reached', plan->>'max_duration');
			EXIT;
		END IF;
		-- A batch is atomic, so its commit need not wait for the disk: a
		-- crash can only undo the last batches, whose rows are then still
		-- in the table and move again next time.  The run's final commit
		-- (in _archive_finish) is synchronous and flushes them all.
		PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
		state := @extschema@._archive_batch(plan, state);
		COMMIT;
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		CASE state->>'status'
			WHEN 'done' THEN
				final_status := 'done';
				EXIT;
			WHEN 'failed' THEN
				final_status := 'failed';
				message := pg_catalog.concat_ws(E'\n', state->>'error',
					'DETAIL: ' || (state->>'detail'), 'HINT: ' || (state->>'hint'));
				EXIT;
			WHEN 'lock_timeout' THEN
				lock_failures := lock_failures + 1;
				IF lock_failures >= 3 THEN
					final_status := 'failed';
					message := (state->>'error') || ' (3 times in a row)';
					EXIT;
				END IF;
				IF (plan->>'verbose')::boolean THEN
					RAISE NOTICE '%', (state->>'error') || '; retrying';
				END IF;
			ELSE
				lock_failures := 0;
		END CASE;
		IF (plan->>'pause')::float8 > 0
		   AND ((state->>'moved')::bigint > 0 OR state->>'status' = 'lock_timeout') THEN
			PERFORM pg_catalog.pg_sleep((plan->>'pause')::float8);
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	advice := @extschema@._archive_finish(plan, state, final_status, message);
	o_rows := (state->>'rows')::bigint;
	o_status := final_status;
	COMMIT;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- the VACUUM runs as the owner of the table; a WARNING says why when it
	-- was not done
	IF advice IS NOT NULL AND (plan->>'vacuum')::boolean THEN
		IF @extschema@._archive_vacuum((plan->>'src')::regclass) THEN
			RAISE NOTICE '%', pg_catalog.format('%s finished', advice);
		END IF;
	END IF;
END $$;
REVOKE ALL ON PROCEDURE @extschema@._archive_run FROM PUBLIC;
