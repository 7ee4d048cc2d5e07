
-- Validates a run, refuses a caller who may not maintain the table or an
-- archive owned by another role, takes the table's run lock, creates the
-- default archive table (as the table's owner) when needed, records the run
-- and returns its plan (the SQL of each batch step, run as the owner through
-- _owner_exec: parameters are text and cast in the statements; each returns
-- one jsonb value).  Raises on bad input, having changed nothing.
CREATE FUNCTION @extschema@._archive_start(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel_ns name;
	rel_name name;
	rel_kind "char";
	owner regrole;
	other_owner regrole;
	other regclass := p_other;
	other_kind "char";
	other_name text;
	create_sql text[] := '{}';
	tcol record;
	key name[];
	cols name[];
	src regclass;			-- rows are deleted here
	dst regclass;			-- and inserted here
	dst_text text;
	src_kind "char";
	dst_kind "char";
	klist text;
	kdesc text;
	kcast text;
	kjson text;
	klit text;
	clist text;
	slist text;
	tlist text;
	cond text;
	overriding text := '';
	refs jsonb := '[]';
	fk record;
	n bigint;
	holder integer;
	holder_role name;
	run bigint;
	plan jsonb;
	sqls text;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- a dry run only reads: it may run on a standby
	IF p_dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary(p_operation || '()');
	END IF;

	-- arguments
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	PERFORM @extschema@._archive_check_timing(p_max_duration, p_pause, p_lock_timeout);
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind, c.relowner INTO rel_ns, rel_name, rel_kind, owner
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = format('relation with OID %s does not exist', p_relation::oid);
	END IF;
	-- the work runs as the owner: only the owner's equals may start it
	IF NOT coalesce(@extschema@._may_maintain(p_relation), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not %s table %s', current_user::regrole, p_operation, p_relation),
			DETAIL = format('Archiving runs as the owner of the table (%s), so only a superuser or a role with the owner''s privileges may start it.', owner),
			HINT = format('Run it as the owner of the table, or GRANT %s TO %s.', owner, current_user::regrole);
	END IF;
	IF rel_kind = 'p' THEN
		RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_column',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
			MESSAGE = format('column %I of relation %s is of type %s, not a timestamp or date',
							 p_time_column, p_relation, tcol.typ),
			HINT = 'The time column must be of type timestamp with time zone, timestamp or date.';
	END IF;
	key := @extschema@._archive_key(p_relation);

	-- the archive table
	IF other IS NULL THEN
		IF p_operation = 'unarchive' THEN
			other := to_regclass(format('%I.%I', rel_ns, rel_name || '_archive'));
			IF other IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'undefined_table',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = 'name_too_long',
					MESSAGE = format('default archive table name for %s would be longer than 63 bytes', p_relation),
					HINT = 'Create an archive table and name it with target => ''...''.';
			END IF;
			other_name := format('%I.%I', rel_ns, rel_name || '_archive');
			other := to_regclass(other_name);
			IF other IS NULL THEN
				create_sql := ARRAY[
					format('CREATE TABLE %s (LIKE %s)', other_name, p_relation),
					format('ALTER TABLE %s ADD PRIMARY KEY (%s)', other_name,
						   (SELECT string_agg(quote_ident(k), ', ') FROM unnest(key) k)),
					format('CREATE INDEX ON %s (%I)', other_name, p_time_column)];
				IF NOT has_schema_privilege(owner, rel_ns, 'CREATE') THEN
					RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
						MESSAGE = format('permission denied to create archive table %s', other_name),
						HINT = format('The first run creates the archive table as the owner of the table (%s), who needs CREATE on the schema; or create it as %s and name it with target => ''...''.', owner, owner);
				END IF;
			END IF;
		END IF;
	END IF;
	IF other IS NOT NULL THEN
		SELECT c.relkind, c.relowner INTO other_kind, other_owner FROM pg_class c WHERE c.oid = other;
		other_name := other::text;
		IF other = p_relation THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'a table cannot be its own archive';
		END IF;
		-- rows go only where their owner keeps them
		IF other_owner <> owner THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive table %s is owned by role %s, not by %s, the owner of table %s',
								 other, other_owner, owner, p_relation),
				HINT = format('The archive must belong to the owner of the table: create it as %s (or ALTER TABLE %s OWNER TO %s), or name another one.',
							  owner, other, owner);
		END IF;
		-- and so must every partition of a partitioned archive (rows are
		-- routed there, and their triggers fire)
		IF other_kind = 'p' THEN
			SELECT string_agg(format('%s (owned by %s)', t.relid, c.relowner::regrole), ', ') INTO sqls
			FROM pg_partition_tree(other) t JOIN pg_class c ON c.oid = t.relid
			WHERE c.relowner <> owner;
			IF sqls IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
					MESSAGE = format('partitions of archive table %s are not owned by %s, the owner of table %s',
									 other, owner, p_relation),
					DETAIL = format('Partitions: %s.', sqls),
					HINT = 'Every partition of the archive must belong to the owner of the table.';
			END IF;
		END IF;
		IF p_operation = 'archive' AND other_kind NOT IN ('r', 'p', 'f') THEN
			RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
				MESSAGE = format('archive %s is not a table', other);
		END IF;
		cols := @extschema@._archive_columns(p_relation, other, p_operation);
		-- a unique index on the key, or on some of its columns (stricter:
		-- an archive made while the key was (id) stays usable once the
		-- table's key is (id, created_at), as partitioning needs)
		IF other_kind IN ('r', 'p') AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = other AND i.indisunique AND i.indisvalid
				  AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND (SELECT array_agg(a.attname)
					   FROM pg_attribute a
					   WHERE a.attrelid = other AND a.attnum = ANY (i.indkey::int2[]))
					  <@ key) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('archive table %s has no unique index on (%s)', other,
								 array_to_string(key, ', ')),
				HINT = 'The archive needs the key of the table (or some of its columns) as a primary key or unique index, so that a batch can never be copied twice.';
		END IF;
	ELSE
		SELECT array_agg(a.attname ORDER BY a.attnum) INTO cols
		FROM pg_attribute a
		WHERE a.attrelid = p_relation AND a.attnum > 0 AND NOT a.attisdropped;
	END IF;

	IF p_operation = 'archive' THEN
		src := p_relation; dst := other; dst_text := other_name; src_kind := 'r'; dst_kind := coalesce(other_kind, 'r');
	ELSE
		src := other; dst := p_relation; dst_text := p_relation::text; src_kind := 'r'; dst_kind := 'r';
	END IF;

	-- privileges: the owner does the work and needs them (an owner may have
	-- revoked some of its own)
	IF NOT has_table_privilege(owner, src, 'SELECT') OR NOT has_table_privilege(owner, src, 'DELETE')
	   OR NOT has_table_privilege(owner, src, 'UPDATE') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = format('Archiving runs as the owner of the table (%s), who needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.', owner);
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(owner, dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = format('Archiving runs as the owner of the table (%s), who needs INSERT on the table the rows go to.', owner);
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = 'permission denied for table @extschema@.archive_runs',
			HINT = 'Grant SELECT, INSERT, UPDATE on @extschema@.archive_runs to the roles that archive.';
	END IF;
	-- rules: the batches use data-modifying WITH and ON CONFLICT, which
	-- rules do not support (and a rule's functions would run as the caller)
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = dst AND r.ev_type = '3') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has INSERT rules', CASE p_operation WHEN 'archive' THEN 'archive table' ELSE 'table' END, dst),
			HINT = 'Archiving moves rows with INSERT ... ON CONFLICT and data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = src AND r.ev_type = '4') THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = format('%s %s has DELETE rules', CASE p_operation WHEN 'unarchive' THEN 'archive table' ELSE 'table' END, src),
			HINT = 'Archiving deletes rows in a data-modifying WITH, which rules do not support; use a trigger instead.';
	END IF;
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = dst AND a.attidentity = 'a' AND a.attname = ANY (cols)) THEN
		overriding := ' OVERRIDING SYSTEM VALUE';
	END IF;

	-- SQL of the batch steps, run as the owner by _owner_exec, which passes
	-- parameters as text: $1, $4: time range, $2: batch size, $3: last key
	-- of the previous batch (jsonb array of text) or NULL; in the
	-- step-by-step statements $1 is the batch's row ids (tid[]).
	klist := (SELECT string_agg(format('s.%I', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kdesc := (SELECT string_agg(format('b.%I DESC', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kjson := (SELECT string_agg(format('b.%I::text', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kcast := (SELECT string_agg(format('($3::jsonb->>%s)::%s', o - 1, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
			  FROM unnest(key) WITH ORDINALITY u(k, o)
			  JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	klit := (SELECT string_agg(format('t.%I = %%L::%s', k, format_type(a.atttypid, a.atttypmod)), ' AND ' ORDER BY o)
			 FROM unnest(key) WITH ORDINALITY u(k, o)
			 JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	clist := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
	slist := (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(cols) c);
	tlist := (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(cols) c);
	IF p_operation = 'archive' THEN
		cond := format('s.%I < $4::timestamptz', p_time_column);
	ELSE
		cond := format('s.%I >= $1::timestamptz AND s.%I < $4::timestamptz', p_time_column, p_time_column);
	END IF;

	-- foreign keys that point at the rows we delete
	FOR fk IN
		SELECT con.conname, con.conrelid::regclass AS child,
			   (SELECT string_agg(format('c.%I = s.%I', ca.attname, pa.attname), ' AND ')
				FROM unnest(con.conkey, con.confkey) AS u(ck, pk)
				JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = u.ck
				JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = u.pk) AS j
		FROM pg_constraint con
		WHERE con.contype = 'f' AND con.confrelid = src
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		refs := refs || jsonb_build_object(
			'name', format('%I on %s', fk.conname, fk.child),
			'all', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE %s))', fk.child, src, fk.j, cond),
			'batch', format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE s.ctid = ANY ($1::tid[])))', fk.child, src, fk.j));
	END LOOP;
	IF jsonb_array_length(refs) > 0 THEN
		SELECT string_agg(r->>'name', ', ') INTO sqls
		FROM jsonb_array_elements(refs) r
		WHERE (@extschema@._owner_exec(src, r->>'all', p_from::text, NULL, NULL, p_to::text))::boolean;
		IF sqls IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
				MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', src),
				DETAIL = format('Referencing constraints: %s.', sqls),
				HINT = 'Archive or delete the referencing rows first.';
		END IF;
	END IF;

	plan := jsonb_build_object(
		'operation', p_operation,
		'relation', p_relation::oid,
		'relation_name', p_relation::text,
		'src', src::text,
		'dst', dst_text,
		'remote', dst_kind = 'f',
		'from', p_from, 'to', p_to,
		'batch_size', p_batch_size,
		'max_batches', p_max_batches,
		'max_duration', p_max_duration,
		'pause', extract(epoch FROM p_pause),
		'lock_timeout', format('%sms', ceil(extract(epoch FROM p_lock_timeout) * 1000)),
		'verbose', p_verbose,
		'vacuum', p_vacuum,
		'refs', refs,
		'lock_sql', format('SELECT jsonb_build_object(''n'', count(*), ''tids'', array_agg(b.ctid)::text, ''last_key'', %s) '
						   'FROM (SELECT s.ctid, %s FROM ONLY %s s WHERE %s AND ($3 IS NULL OR (%s) > (%s)) '
						   'ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED) b',
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END,
						   klist, src, cond, klist, kcast, klist),
		'fast_sql', format('WITH batch AS MATERIALIZED (SELECT s.ctid, %s FROM ONLY %s s '
						   'WHERE %s AND ($3 IS NULL OR (%s) > (%s)) ORDER BY %s LIMIT $2::integer FOR UPDATE OF s SKIP LOCKED), '
						   'moved AS (DELETE FROM ONLY %s d WHERE d.ctid = ANY (ARRAY(SELECT b.ctid FROM batch b)) RETURNING %s), '
						   'ins AS (INSERT INTO %s AS t (%s)%s SELECT %s FROM moved RETURNING 1) '
						   'SELECT jsonb_build_object(''n'', (SELECT count(*) FROM batch), ''ins'', (SELECT count(*) FROM ins), '
						   '''last_key'', (SELECT %s FROM batch b))',
						   klist, src, cond, klist, kcast, klist,
						   src, clist, dst_text, clist, overriding, clist,
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END),
		'move_sql', format('WITH moved AS (DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[]) RETURNING %s) '
						   'INSERT INTO %s AS t (%s)%s SELECT %s FROM moved',
						   src, clist, dst_text, clist, overriding, clist),
		'insert_sql', format('INSERT INTO %s AS t (%s)%s SELECT %s FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]) ON CONFLICT DO NOTHING',
							 dst_text, clist, overriding, slist, src),
		'keys_sql', format('SELECT to_jsonb(string_agg(format(%L, %s), '' OR '')) FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[])',
						   '(' || klit || ')',
						   (SELECT string_agg(format('s.%I::text', k), ', ') FROM unnest(key) k), src),
		'verify_sql', format('SELECT to_jsonb(count(*)) FROM (SELECT ROW(%s)::text AS r FROM %s t WHERE %%s) x '
							 'WHERE x.r IN (SELECT ROW(%s)::text FROM ONLY %s s WHERE s.ctid = ANY ($1::tid[]))',
							 tlist, dst_text, slist, src),
		'delete_sql', format('DELETE FROM ONLY %s WHERE ctid = ANY ($1::tid[])', src));

	IF p_dry_run THEN
		n := (@extschema@._owner_exec(src, format('SELECT to_jsonb(count(*)) FROM ONLY %s s WHERE %s', src, cond),
									  p_from::text, NULL, NULL, p_to::text))::bigint;
		RAISE NOTICE '%', format('dry run: %s rows of %s would move to %s%s, in about %s batches of %s',
			n, src, dst_text, CASE WHEN dst IS NULL THEN ' (created on the first run)' ELSE '' END,
			ceil(n::numeric / p_batch_size), p_batch_size);
		sqls := array_to_string(create_sql || ARRAY[
			format(E'-- each batch, in its own transaction (%s$2 = %s, $3 = last key of the previous batch or NULL, $4 = %s)\n',
				   CASE WHEN p_operation = 'unarchive' THEN format('$1 = %L, ', p_from) ELSE '' END,
				   p_batch_size,
				   CASE WHEN p_operation = 'unarchive' THEN quote_literal(p_to) ELSE 'now() - older_than at the start of the run' END)
			|| CASE WHEN jsonb_array_length(refs) = 0 THEN plan->>'fast_sql'
					ELSE (plan->>'lock_sql') || E';\n-- (the foreign keys that point at the table are checked here)\n'
						 || (plan->>'move_sql') END,
			'COMMIT'], E';\n');
		RAISE NOTICE '%', E'statements:\n' || sqls;
		RETURN plan || jsonb_build_object('status', 'dry_run', 'rows', n);
	END IF;

	-- one run per table at a time, under a lock that only a run can take
	-- (src/archive.c); a lock this session still holds is left over from a
	-- run that was cancelled, and is taken over
	IF NOT @extschema@._archive_lock(p_relation) THEN
		SELECT l.pid, a.usename INTO holder, holder_role
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.classid = 1399537989::oid
		  AND l.objid = p_relation::oid AND l.objsubid = 3 AND l.granted
		  AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
		LIMIT 1;
		RAISE NOTICE USING
			MESSAGE = format('another archiving run on %s is in progress (process %s); nothing done',
							 p_relation, coalesce(holder::text, '?')),
			DETAIL = format('The running one was started by role %s.', coalesce(quote_ident(holder_role), '?'));
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
			 finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy,
				clock_timestamp(), interval '0', 'skipped',
				format('another run (process %s, role %s) was in progress',
					   coalesce(holder::text, '?'), coalesce(quote_ident(holder_role), '?')))
		RETURNING r.run_id INTO run;
		RETURN plan || jsonb_build_object('status', 'skipped', 'run_id', run, 'rows', 0);
	END IF;

	BEGIN
		-- runs of this table still marked running died without finishing
		-- (those of other roles are not visible here: row-level security)
		UPDATE @extschema@.archive_runs r
		SET status = 'interrupted',
			error = coalesce(r.error, 'the run ended without finishing (server crash, cancel or terminated connection)')
		WHERE r.relation = p_relation::text AND r.status = 'running';
		-- created as the owner of the table, so that it owns its archive
		FOR i IN 1 .. coalesce(array_length(create_sql, 1), 0) LOOP
			PERFORM @extschema@._owner_exec(p_relation, create_sql[i]);
		END LOOP;
		IF dst IS NULL THEN
			dst := to_regclass(other_name);
		END IF;
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy)
		RETURNING r.run_id INTO run;
	EXCEPTION WHEN OTHERS THEN
		PERFORM @extschema@._archive_unlock(p_relation);
		RAISE;
	END;
	IF array_length(create_sql, 1) > 0 THEN
		RAISE NOTICE '%', format('created archive table %s', other_name);
	END IF;
	RETURN plan || jsonb_build_object('status', 'running', 'run_id', run, 'rows', 0);
END $$;
REVOKE ALL ON FUNCTION @extschema@._archive_start FROM PUBLIC;
