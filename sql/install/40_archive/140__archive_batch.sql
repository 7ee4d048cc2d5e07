
-- One batch, in the caller's transaction, inside a subtransaction: an error
-- undoes the batch and is returned in the state instead of raised.  Every
-- statement on the tables runs as the owner of the table the rows leave.
-- state: {"last_key": ..., "sweep": bool, "rows": n, "batches": n}
CREATE FUNCTION @extschema@._archive_batch(plan jsonb, state jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	src regclass := (plan->>'src')::regclass;
	res jsonb;
	tids text;
	last_key jsonb;
	n bigint;
	ins bigint;
	same bigint;
	keys text;
	careful boolean := false;
	found_ref boolean;
	r jsonb;
	t0 timestamptz := clock_timestamp();
	e_state text;
	e_msg text;
	e_detail text;
	e_hint text;
BEGIN
	PERFORM set_config('lock_timeout', plan->>'lock_timeout', true);
	LOOP
		BEGIN
			IF NOT careful AND jsonb_array_length(plan->'refs') = 0 THEN
				-- one statement: lock, delete, insert
				res := @extschema@._owner_exec(src, plan->>'fast_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				ins := (res->>'ins')::bigint;
				last_key := nullif(res->'last_key', 'null'::jsonb);
				IF n > 0 AND ins <> n THEN
					-- a locked row had changed since the statement's snapshot:
					-- redo the batch step by step
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				res := @extschema@._owner_exec(src, plan->>'lock_sql', plan->>'from', plan->>'batch_size',
					nullif(state->'last_key', 'null'::jsonb)::text, plan->>'to');
				n := (res->>'n')::bigint;
				tids := res->>'tids';
				last_key := nullif(res->'last_key', 'null'::jsonb);
			END IF;
			IF n = 0 THEN
				IF nullif(state->'last_key', 'null'::jsonb) IS NOT NULL THEN
					-- end of the walk: sweep once more from the start for rows
					-- that were locked by others when we passed them
					RETURN state || jsonb_build_object('last_key', NULL, 'sweep', true,
													   'status', 'continue', 'moved', 0);
				END IF;
				RETURN state || jsonb_build_object('status', 'done', 'moved', 0);
			END IF;
			FOR r IN SELECT * FROM jsonb_array_elements(plan->'refs') LOOP
				-- (only on the step-by-step path: fast_sql is not used when
				-- foreign keys point at the table)
				found_ref := (@extschema@._owner_exec(src, r->>'batch', tids))::boolean;
				IF found_ref THEN
					RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
						MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', plan->>'src'),
						DETAIL = format('Referencing constraint: %s.', r->>'name'),
						HINT = 'Archive or delete the referencing rows first.';
				END IF;
			END LOOP;
			IF tids IS NULL THEN
				NULL;		-- moved by fast_sql above (or nothing locked)
			ELSIF NOT careful THEN
				-- a plain INSERT: a key already in the target raises
				-- unique_violation and the batch is redone carefully
				ins := (@extschema@._owner_exec(src, plan->>'move_sql', tids)->>'processed')::bigint;
				IF ins <> n THEN
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				ins := (@extschema@._owner_exec(src, plan->>'insert_sql', tids)->>'processed')::bigint;
				IF ins < n THEN
					keys := @extschema@._owner_exec(src, plan->>'keys_sql', tids) #>> '{}';
					same := (@extschema@._owner_exec(src, format(plan->>'verify_sql', keys), tids))::bigint;
					IF same < n THEN
						RAISE EXCEPTION USING ERRCODE = 'unique_violation',
							MESSAGE = format('%s rows of %s have a key that %s already holds with different contents',
											 n - same, plan->>'src', plan->>'dst'),
							HINT = 'Compare the rows with the same key in both tables and delete the wrong copy; nothing was moved in this batch.';
					END IF;
				END IF;
				PERFORM @extschema@._owner_exec(src, plan->>'delete_sql', tids);
			END IF;
			IF coalesce(current_setting('scale_advisor.archive_test_crash', true), 'off') = 'on' THEN
				PERFORM @extschema@._archive_test_crash();
			END IF;
			UPDATE @extschema@.archive_runs AS ar
			SET batches = ar.batches + 1, rows_moved = ar.rows_moved + n,
				last_batch_at = clock_timestamp(), duration = clock_timestamp() - ar.started_at
			WHERE ar.run_id = (plan->>'run_id')::bigint;
			IF (plan->>'verbose')::boolean THEN
				RAISE NOTICE '%', format('batch %s: moved %s rows from %s to %s in %s ms%s',
					(state->>'batches')::int + 1, n, plan->>'src', plan->>'dst',
					round(extract(epoch FROM clock_timestamp() - t0) * 1000),
					CASE WHEN careful THEN ' (some were already there, identical)' ELSE '' END);
			END IF;
			RETURN state || jsonb_build_object('last_key', last_key, 'status', 'continue', 'moved', n,
											   'rows', (state->>'rows')::bigint + n,
											   'batches', (state->>'batches')::int + 1);
		EXCEPTION
			WHEN SQLSTATE 'SA001' OR unique_violation THEN
				IF careful THEN
					GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
						e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
					RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
						'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
						'hint', nullif(e_hint, ''));
				END IF;
				careful := true;
			WHEN lock_not_available THEN
				RETURN state || jsonb_build_object('status', 'lock_timeout', 'moved', 0,
					'error', format('lock_timeout (%s) expired: %s', plan->>'lock_timeout', SQLERRM));
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
					e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
				RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
					'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
					'hint', nullif(e_hint, ''));
		END;
	END LOOP;
END $$;
REVOKE ALL ON FUNCTION @extschema@._archive_batch FROM PUBLIC;
