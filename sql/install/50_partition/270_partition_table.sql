
-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done in one
-- line, or every statement run with verbose => true.  Only
-- a superuser or a role with the owner's privileges may call it; every
-- statement on the table runs as its owner.
--
-- Fail safe: each step (prepare, validate, swap, finish) runs in a
-- subtransaction of its own transaction, so that any failure in it (an
-- error, a lock timeout after the retries, a cancel or statement_timeout)
-- undoes all of that step; the CHECK constraint an earlier step of this
-- call committed is then dropped and the drop committed before the error
-- is raised: until the swap commits the table is left as it was.  From the
-- swap on (one transaction, which registers the set too) the table is
-- partitioned; a failure in finish (validating re-pointed foreign keys,
-- ANALYZE) leaves it so, working, and a new call completes it.  The call
-- holds the table's maintenance lock (_archive_lock: one conversion or
-- archiving run per table), so a session killed mid-way is recognised: its
-- lock is gone, the next partition_table resumes from the constraint, and
-- maintain_partitions() drops such a leftover constraint.
CREATE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph pg_catalog.text;
	stmts pg_catalog.text[];
	stmts_as pg_catalog.regclass[];
	finish pg_catalog.text[];
	finish_as pg_catalog.regclass[];
	later pg_catalog.text[];
	res record;
	attempt integer;
	sch pg_catalog.name;
	tbl pg_catalog.name;
	fp pg_catalog.text;
	nonatomic boolean;
	done pg_catalog.text[] := '{}';
	prepared boolean := false;
	bound_left boolean;
	lock_ms double precision;
	step_lock_ms double precision;
	failed boolean;
	stop boolean;
	ran boolean;
	err_code pg_catalog.text;
	err_msg pg_catalog.text;
	holder pg_catalog.text;
	policy pg_catalog.text;
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];	-- lock_not_available, serialization_failure, deadlock_detected
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();
	-- one conversion or archiving run per table at a time
	IF NOT @extschema@._archive_lock(relation) THEN
		SELECT pg_catalog.format('process %s of role %s', l.pid, coalesce(pg_catalog.quote_ident(a.usename::pg_catalog.text), '?'))
		INTO holder
		FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
		WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory' AND l.classid OPERATOR(pg_catalog.=) 1399537989::pg_catalog.oid
		  AND l.objid OPERATOR(pg_catalog.=) relation::pg_catalog.oid AND l.objsubid OPERATOR(pg_catalog.=) 3 AND l.granted
		LIMIT 1;
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('%s is being converted or archived by another session (%s)', relation, coalesce(holder, '?')),
			HINT = 'Nothing was changed.  Call partition_table again when that session has finished.';
	END IF;
	-- an archive policy on the table goes on after the conversion (said
	-- to a caller that may read the policies)
	IF pg_catalog.has_table_privilege('@extschema@.archive_policies', 'SELECT') THEN
		SELECT ap.relation INTO policy FROM @extschema@.archive_policies ap
		WHERE ap.enabled AND pg_catalog.to_regclass(ap.relation) OPERATOR(pg_catalog.=) partition_table.relation LIMIT 1;
	END IF;

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		failed := false;
		stop := false;
		ran := false;
		err_code := NULL;
		err_msg := NULL;
		attempt := 0;
		step_lock_ms := NULL;
		BEGIN
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- planned together with the swap: the relation is a partition now
				stmts := finish;
				stmts_as := finish_as;
			ELSE
				IF ph OPERATOR(pg_catalog.=) 'swap' THEN
					fp := @extschema@._pt_fingerprint(relation);
				END IF;
				SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
					   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish'),
					   pg_catalog.array_agg(p.run_as ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
				INTO stmts, stmts_as, finish, finish_as
				FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
					retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
			END IF;
			IF stmts IS NOT NULL AND NOT nonatomic THEN
				IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
					-- the constraint must be committed before it can be
					-- validated without ACCESS EXCLUSIVE: stop here, the
					-- next call goes on
					stop := true;
				ELSIF ph OPERATOR(pg_catalog.=) 'finish' THEN
					-- no scans while the caller's transaction holds the lock
					later := stmts;
					stmts := NULL;
				END IF;
			END IF;
			IF stmts IS NOT NULL AND NOT stop THEN
				ran := true;
				LOOP
					res := @extschema@._pt_run(stmts, stmts_as, lock_timeout, relation,
						CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
					EXIT WHEN res.ok;
					IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
						failed := true;
						err_code := res.err_code;
						err_msg := res.message;
						EXIT;
					END IF;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF NOT failed THEN
					step_lock_ms := res.lock_ms;
					PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
						pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
				END IF;
			END IF;
		-- whatever fails in the step, the cancel of the call included,
		-- undoes all of it
		EXCEPTION WHEN others OR query_canceled THEN
			failed := true;
			GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
		END;
		IF stop THEN
			PERFORM @extschema@._archive_unlock(relation);
			RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
			steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
			RETURN;
		END IF;
		IF failed THEN
			BEGIN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, err_msg);
			EXCEPTION WHEN others OR query_canceled THEN
				NULL;	-- the log is not worth keeping the table changed
			END;
			IF nonatomic THEN
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
			END IF;
			-- the table goes back to what it was before this call: the
			-- CHECK constraint this call added (or one that failed its
			-- validation) is dropped and the drop committed before the
			-- error rolls back the transaction it is raised in
			bound_left := false;
			IF ph OPERATOR(pg_catalog.=) ANY (ARRAY['validate', 'swap'])
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN	-- check_violation
				IF nonatomic THEN
					BEGIN
						PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					EXCEPTION WHEN others OR query_canceled THEN
						NULL;	-- said below: the constraint is looked for
					END;
					COMMIT;
					PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				END IF;
				bound_left := EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
					WHERE con.conrelid OPERATOR(pg_catalog.=) relation
					  AND con.conname OPERATOR(pg_catalog.=) 'sa_partition_bound');
			END IF;
			PERFORM @extschema@._archive_unlock(relation);
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN	-- check_violation
				RAISE EXCEPTION USING ERRCODE = 'check_violation',
					MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
						relation, column_name),
					DETAIL = err_msg,
					HINT = CASE WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, fix those rows and call again.', relation)
						ELSE 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.' END;
			END IF;
			RAISE EXCEPTION USING ERRCODE = err_code,
				MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, err_msg),
				HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned and registered; calling partition_table again validates the foreign keys and analyzes it.'
					WHEN bound_left THEN pg_catalog.format('The CHECK constraint sa_partition_bound added by this call could not be removed: drop it with ALTER TABLE %s DROP CONSTRAINT sa_partition_bound, or call partition_table again to resume.', relation)
					WHEN prepared THEN 'Nothing was changed: the CHECK constraint this call added was removed again.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					WHEN ph OPERATOR(pg_catalog.=) 'prepare' THEN 'Nothing was changed.  Call partition_table again when the table is less busy, or with a longer lock_timeout.'
					ELSE 'The table is unchanged apart from the CHECK constraint sa_partition_bound an earlier call left; calling partition_table again resumes, ALTER TABLE ... DROP CONSTRAINT sa_partition_bound removes it.' END;
		END IF;
		IF ran THEN
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				lock_ms := step_lock_ms;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
				prepared := true;
			END IF;
			done := done OPERATOR(pg_catalog.||) stmts;
		END IF;
		IF nonatomic THEN
			COMMIT;
			PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		END IF;
	END LOOP;
	PERFORM @extschema@._archive_unlock(relation);
	IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'partition_table: run these after this transaction: %',
			pg_catalog.array_to_string(later, '; ');
	END IF;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	IF policy IS NOT NULL THEN
		RAISE NOTICE 'partition_table: the archive policy of % goes on: scale_advisor.run_archive_policies() archives each partition of it into the same archive', policy;
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
	-- what was done, in a line; every statement with verbose => true
	IF partition_table.verbose IS NOT TRUE THEN
		SELECT pg_catalog.format('%I.%I is partitioned by %I, %s a partition: %s%s%s; %s',
				sch, tbl, column_name, part_interval,
				@extschema@._n(pg_catalog.count(*), 'partition'),
				CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
					 THEN ' (' OPERATOR(pg_catalog.||) @extschema@._list(pg_catalog.array_agg(i.inhrelid::pg_catalog.regclass::pg_catalog.text
							ORDER BY i.inhrelid::pg_catalog.regclass::pg_catalog.text), ', ') OPERATOR(pg_catalog.||) ')'
					 ELSE '' END,
				CASE WHEN lock_ms IS NULL THEN ''
					 ELSE pg_catalog.format(', exclusive lock held %s ms', pg_catalog.round(lock_ms::numeric, 1)) END,
				'verbose => true lists the statements run')
		INTO steps
		FROM pg_catalog.pg_inherits i
		WHERE i.inhparent OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', sch, tbl)::pg_catalog.regclass;
	END IF;
END
$$;
REVOKE ALL ON PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, boolean, text) FROM PUBLIC;
