
-- Maintain every enabled set the caller sees, or only parent: premake,
-- retention, rows in the default partition.  Each DDL runs in its own
-- transaction as the table's owner under the set's lock_timeout, retried
-- ddl_retries times.  A set runs only when its creator and the caller
-- still have the privileges of the table's owner (else a WARNING and a
-- logged skip; for an explicit parent the caller's lack is an error), and
-- only in one session at a time (a run that finds the set claimed by a
-- running session skips it with a WARNING naming that session); meant to
-- be CALLed from cron.
--
-- Fail safe: each task (create a partition with the rows the default
-- partition holds for it, retire one) runs with its log line in a
-- subtransaction, so that whatever fails in it (an error, a lock timeout
-- after the retries, a cancel) undoes all of that task; the failure is
-- recorded in partition_set_state (a cancel after that ends the call).
-- Tasks done before stay done.  A run that could not record its end (the
-- session was killed) is recognised by the next one (_pm_claim).  A
-- partition detached for the archiving helper keeps a comment until the
-- helper has emptied it, so a stopped hand-over is taken up again.  Called
-- without parent, it also removes the CHECK constraint of a conversion
-- whose session is gone (_pt_leftover_bounds), which would otherwise
-- refuse the application's rows once they pass its boundary.
CREATE PROCEDURE @extschema@.maintain_partitions(parent regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	s record;
	cfg record;
	t @extschema@._pm_task;
	pl record;
	res record;
	attempt integer;
	nonatomic boolean;
	err pg_catalog.text;
	refusal pg_catalog.text;
	holder pg_catalog.text;
	qname pg_catalog.text;
	created integer;
	retired integer;
	moved bigint;
	a_run bigint;
	a_rows bigint;
	a_status pg_catalog.text;
	a_err pg_catalog.text;
	a_part pg_catalog.text;
	t_ok boolean;
	t_moved bigint;
	t_code pg_catalog.text;
	t_msg pg_catalog.text;
	leftover pg_catalog.regclass;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];	-- lock_not_available, serialization_failure, deadlock_detected
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('maintain_partitions()');
	-- a parent the caller may not maintain, or an unknown one, is an error
	-- before anything is done
	IF parent IS NOT NULL THEN
		PERFORM @extschema@._pt_require_maintain(parent);
	END IF;
	PERFORM FROM @extschema@._pm_sets(parent) LIMIT 1;
	nonatomic := @extschema@._nonatomic();
	-- conversions whose session is gone: their constraint goes (a running
	-- one holds the table's maintenance lock and is left alone)
	IF parent IS NULL AND nonatomic THEN
		FOR leftover IN SELECT * FROM @extschema@._pt_leftover_bounds() LOOP
			CONTINUE WHEN NOT @extschema@._archive_lock(leftover);
			t_msg := NULL;
			BEGIN
				PERFORM @extschema@._pt_undo_bound(leftover, interval '1s', 0);
				IF EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
						   WHERE con.conrelid OPERATOR(pg_catalog.=) leftover
							 AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound') THEN
					t_msg := 'its CHECK constraint sa_partition_bound could not be removed now (the table is busy); the next run tries again';
				ELSE
					t_msg := 'its CHECK constraint sa_partition_bound was removed; call partition_table again to convert the table';
				END IF;
				PERFORM @extschema@._pt_log(n.nspname, c.relname, 'partition_table undo',
					t_msg OPERATOR(pg_catalog.~~) 'its CHECK constraint sa_partition_bound was removed%',
					'an interrupted conversion: ' OPERATOR(pg_catalog.||) t_msg)
				FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
				WHERE c.oid OPERATOR(pg_catalog.=) leftover;
			EXCEPTION WHEN others THEN
				GET STACKED DIAGNOSTICS t_msg = MESSAGE_TEXT;
			END;
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			PERFORM @extschema@._archive_unlock(leftover);
			RAISE WARNING 'maintain_partitions: %: the conversion of this table was interrupted: %', leftover, t_msg
				USING HINT = 'A partition_table call that is killed leaves the constraint, which refuses rows beyond its boundary.';
		END LOOP;
	END IF;
	FOR s IN SELECT * FROM @extschema@._pm_sets(parent) LOOP
		qname := pg_catalog.format('%I.%I', s.parent_schema, s.parent_table);
		SELECT * INTO cfg FROM @extschema@.partition_sets ps
		WHERE ps.parent_schema OPERATOR(pg_catalog.=) s.parent_schema
		  AND ps.parent_table OPERATOR(pg_catalog.=) s.parent_table;
		-- the set's creator and the caller must still have the privileges
		-- of the table's owner
		refusal := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
		IF refusal IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: %', qname, refusal
				USING HINT = 'Maintenance runs as the owner of the table only for a set created by a role with the owner''s privileges; re-create the set as the owner.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: %s', refusal));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		-- one session at a time per set
		holder := @extschema@._pm_claim(s.parent_schema, s.parent_table, cfg.lock_timeout);
		IF holder IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: % skipped: another run is in progress (%)', qname, holder
				USING HINT = 'If that session is not running maintenance, end it; the next run takes the set over.';
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'skip', false,
				pg_catalog.format('skipped: another run is in progress (%s)', holder));
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			CONTINUE;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
		err := s.problem;
		created := 0;
		retired := 0;
		moved := 0;
		IF err IS NULL THEN
			pl := @extschema@._pm_plan(s.parent_schema, s.parent_table);
			err := pl.err;
		END IF;
		IF err IS NULL THEN
			FOREACH t IN ARRAY pl.tasks LOOP
				t_ok := true;
				t_code := NULL;
				t_msg := NULL;
				t_moved := 0;
				a_part := NULL;
				IF t.action OPERATOR(pg_catalog.=) ANY (ARRAY['create', 'retire']) THEN
					-- the task and its log line: all or nothing
					BEGIN
						attempt := 0;
						LOOP
							IF t.action OPERATOR(pg_catalog.=) 'create' THEN
								res := @extschema@._pm_create(s.parent_schema, s.parent_table, t.lo, t.hi);
							ELSE
								res := @extschema@._pm_retire(s.parent_schema, s.parent_table, t.part);
							END IF;
							EXIT WHEN res.ok OR NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable)
								OR attempt OPERATOR(pg_catalog.>=) cfg.ddl_retries;
							attempt := attempt OPERATOR(pg_catalog.+) 1;
							PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
						END LOOP;
						IF res.ok AND t.action OPERATOR(pg_catalog.=) 'create' THEN
							t_moved := res.moved;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'create', true,
								pg_catalog.format('%s created%s%s', res.part_name,
									CASE WHEN res.moved OPERATOR(pg_catalog.>) 0
										THEN pg_catalog.format(', %s rows moved from the default partition', res.moved) ELSE '' END,
									CASE WHEN attempt OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format(' after %s retries', attempt) ELSE '' END));
						ELSIF res.ok THEN
							a_part := res.part_name;
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'retire', true,
								pg_catalog.format('%s detached (%s)', res.part_name, cfg.retention_action));
						ELSE
							t_ok := false;
							t_code := res.err_code;
							t_msg := pg_catalog.format('%s failed after %s retries: %s', t.action, attempt, res.message);
						END IF;
					EXCEPTION WHEN others OR query_canceled THEN
						t_ok := false;
						GET STACKED DIAGNOSTICS t_code = RETURNED_SQLSTATE, t_msg = MESSAGE_TEXT;
						t_msg := pg_catalog.format('%s failed: %s', t.action, t_msg);
					END;
					IF t_ok THEN
						IF t.action OPERATOR(pg_catalog.=) 'create' THEN
							created := created OPERATOR(pg_catalog.+) 1;
							moved := moved OPERATOR(pg_catalog.+) t_moved;
						ELSE
							retired := retired OPERATOR(pg_catalog.+) 1;
						END IF;
					ELSE
						err := t_msg;
						BEGIN
							PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, t.action, false, t_msg);
						EXCEPTION WHEN others OR query_canceled THEN
							NULL;	-- the state below records it
						END;
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
					-- a cancel stops the run, once it is recorded
					IF t_code OPERATOR(pg_catalog.=) '57014' THEN	-- query_canceled
						PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
						IF nonatomic THEN
							COMMIT;
							PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						END IF;
						RAISE EXCEPTION USING ERRCODE = 'query_canceled',
							MESSAGE = pg_catalog.format('maintain_partitions: %s: %s', qname, t_msg),
							HINT = 'What this run did before is kept; the next run goes on.';
					END IF;
				ELSIF t.action OPERATOR(pg_catalog.=) 'archive' THEN
					-- detached by an earlier run, not emptied yet
					a_part := t.part::pg_catalog.regclass::pg_catalog.text;
				END IF;
				-- a detached partition goes to the archiving helper when the
				-- set asks for it
				IF a_part IS NOT NULL AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					a_err := NULL;
					IF nonatomic THEN
						-- the target must still be the owner's (checked again:
						-- it may have changed hands since the set was made)
						a_err := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
						IF a_err IS NULL THEN
							a_err := @extschema@._pm_archive_check(a_part, cfg.control_column,
								cfg.retention, cfg.archive_target, cfg.archive_batch_size);
						END IF;
					END IF;
					IF NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', a_part));
					ELSIF a_err IS NOT NULL THEN
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive refused it: %s',
								a_part, a_err));
						-- not handed over again: the comment says why
						BEGIN
							PERFORM @extschema@._owner_exec(a_part::pg_catalog.regclass,
								pg_catalog.format('COMMENT ON TABLE %s IS %L', a_part,
									pg_catalog.format('scale_advisor: detached from %s; scale_advisor.archive refused it: %s', qname, a_err)));
						EXCEPTION WHEN others THEN
							NULL;
						END;
					ELSE
						-- a static CALL (EXECUTE would make it atomic); the
						-- helper resolves the names itself
						a_run := NULL;
						a_rows := NULL;
						a_status := NULL;
						CALL @extschema@.archive(relation => a_part::pg_catalog.regclass,
							time_column => cfg.control_column,
							older_than => cfg.retention::interval,
							target => @extschema@._pt_target(cfg.archive_target),
							batch_size => cfg.archive_batch_size,
							run_id => a_run, rows_moved => a_rows, status => a_status);
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', a_status IS NOT DISTINCT FROM 'done',
							pg_catalog.format('scale_advisor.archive moved %s rows of %s (run %s, %s)',
								a_rows, a_part, a_run, a_status));
						-- a run that did not finish is a failure of this one (the
						-- partition stays detached and marked: the next run goes on)
						IF a_status IS DISTINCT FROM 'done' THEN
							err := pg_catalog.format('archiving %s did not finish: run %s %s (scale_advisor.archive_runs says why)',
								a_part, a_run, a_status);
						END IF;
						-- what the helper did is kept whatever becomes of
						-- the drop (a cancel there rolls back its transaction)
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(a_part, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					END IF;
					IF nonatomic THEN
						COMMIT;
						PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
					END IF;
				END IF;
			END LOOP;
		ELSE
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'maintain', false, err);
		END IF;
		-- records the end and gives up the claim
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
		IF err IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: %: %', qname, err;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
END
$$;
REVOKE ALL ON PROCEDURE @extschema@.maintain_partitions(regclass) FROM PUBLIC;
