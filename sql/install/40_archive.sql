-- Archiving: move old rows out of hot tables in small committed batches.
--
-- Entry points (procedures, so that they can COMMIT after every batch):
--   archive(relation, time_column, older_than, ...)   source -> archive
--   unarchive(relation, time_column, ...)              archive -> source
--   run_archive_policies()                             every enabled policy
-- State: archive_policies (configuration, kept by pg_dump) and archive_runs
-- (one row per run, updated in the same transaction as each batch, so it
-- always agrees with the data).
--
-- Security (docs/security.md, "Archiving"): only a superuser or a role with
-- the privileges of the table's owner may archive a table; every statement
-- that reads or writes rows of the table, of its archive or of a foreign
-- archive runs through _owner_exec() as the table's owner, in a
-- security-restricted operation with search_path pinned, so the owner's
-- triggers, defaults, rules and index expressions never run with the
-- caller's rights.  The archive must belong to the table's owner.  A policy
-- records its creator (created_by) and may name only tables whose owner's
-- privileges the creator has; row-level security shows each role only the
-- policies of creators whose privileges it has, and only its own runs.
-- One run per table at a time: a session lock that only _archive_lock()
-- (src/archive.c) can take, never a plain advisory lock.
--
-- A procedure that runs COMMIT cannot carry a SET clause, so the procedures
-- below have no pinned search_path: they schema-qualify everything, set
-- search_path locally (set_config(..., true)) as the first statement of
-- every transaction they open (at their start and right after every COMMIT
-- and CALL), and leave the real work to the helper functions, which do pin
-- it.  See docs/archiving.md.
--
-- Batch protocol (one transaction per batch, all in one subtransaction):
--   1. lock up to batch_size eligible rows in key order, FOR UPDATE SKIP
--      LOCKED, continuing after the last key of the previous batch;
--   2. DELETE them and INSERT them into the target; steps 1 and 2 are one
--      statement (fast_sql) unless foreign keys point at the table, whose
--      references are then checked between the lock and the delete; if the
--      target already had some keys (unique violation: e.g. after a crash
--      between the remote and the local commit of a postgres_fdw target),
--      or fewer rows moved than were locked, the batch is rolled back and
--      redone carefully: insert ON CONFLICT DO NOTHING, check that every key
--      already in the target holds an identical row, then delete;
--   3. record the batch in archive_runs; COMMIT.
-- A local target commits with the source in one transaction.  A
-- postgres_fdw target commits remotely just before the local commit, so a
-- crash in between leaves identical rows in both places, which the next run
-- resolves in step 2.

CREATE TABLE @extschema@.archive_policies (
	relation text PRIMARY KEY,
	time_column name NOT NULL,
	older_than interval NOT NULL CHECK (older_than >= interval '0'),
	target text,
	batch_size integer NOT NULL DEFAULT 1000 CHECK (batch_size > 0),
	max_batches integer CHECK (max_batches > 0),
	max_duration interval CHECK (max_duration > interval '0'),
	pause interval NOT NULL DEFAULT '0' CHECK (pause >= interval '0'),
	lock_timeout interval NOT NULL DEFAULT '1s' CHECK (lock_timeout > interval '0'),
	vacuum boolean NOT NULL DEFAULT false,
	enabled boolean NOT NULL DEFAULT true,
	comment text,
	created_by regrole NOT NULL DEFAULT current_user::regrole
);
COMMENT ON TABLE @extschema@.archive_policies IS
'archiving policies run by scale_advisor.run_archive_policies(); relation and target are table names as written in SQL (schema-qualified)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archive_policies', '');

-- Refuse an archiving age under 1 hour: interval input reads a bare number
-- as seconds ('90' is 90 seconds), so such an age is almost surely a
-- missing unit, and archiving rows younger than an hour is not archiving.
CREATE FUNCTION @extschema@._archive_check_age(older_than interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF older_than < interval '1 hour' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN older_than <= interval '0'
						THEN format('older_than must be positive, not %s', older_than)
						ELSE format('older_than %s is less than 1 hour', older_than) END,
			HINT = 'A number without a unit is read as seconds: write the age with its unit, such as ''90 days''.';
	END IF;
END $$;

-- Refuse a run's durations out of bounds (_check_duration): max_duration
-- NULL or at least a second, pause up to a minute, lock_timeout from 1 ms
-- (0 would wait forever) up to a minute.
CREATE FUNCTION @extschema@._archive_check_timing(max_duration interval, pause interval,
	lock_timeout interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_duration('max_duration', max_duration, interval '1 second', NULL,
		true, '10min', 'A run stops starting batches after max_duration; NULL runs until every row is moved.');
	PERFORM @extschema@._check_duration('pause', pause, interval '0', interval '1 minute',
		false, '100ms', 'The run keeps the table''s archiving lock while it pauses between batches; to archive less often, schedule the runs less often.');
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
END $$;

-- A policy may name only tables whose owner's privileges its creator has
-- (checked again at every run); created_by is the role that wrote the row,
-- except that a superuser may write a row on another role's behalf.
CREATE FUNCTION @extschema@._archive_policy_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me regrole := current_user::regrole;
	super boolean := (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = current_user::regrole);
	rel regclass;
	tgt regclass;
BEGIN
	IF NOT super THEN
		IF NEW.created_by IS DISTINCT FROM me
		   AND (TG_OP = 'INSERT' OR NEW.created_by IS DISTINCT FROM OLD.created_by) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('role %s may not write an archive policy on behalf of role %s',
								 me, coalesce(NEW.created_by::text, 'NULL')),
				HINT = 'Leave created_by at its default: a policy belongs to the role that writes it.';
		END IF;
		-- whoever changes a policy answers for it from then on
		NEW.created_by := me;
	END IF;
	IF NEW.created_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
			MESSAGE = 'created_by of an archive policy must not be NULL',
			HINT = 'Leave it at its default, the current role.';
	END IF;
	-- the age and the durations: every enabled row, whatever changed (a
	-- row disabled by the update from 1.0 is checked when it is enabled)
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._archive_check_age(NEW.older_than);
		PERFORM @extschema@._archive_check_timing(NEW.max_duration, NEW.pause, NEW.lock_timeout);
	END IF;
	-- names resolve as at run time (search_path pg_catalog, pg_temp); a
	-- table that does not exist yet is checked when the policy runs
	rel := to_regclass(NEW.relation);
	tgt := to_regclass(NEW.target);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive table %s, owned by role %s',
							 NEW.created_by, rel,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel)),
			HINT = format('Create the policy as the owner of the table, or GRANT %s TO %s.',
						  (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel), NEW.created_by);
	END IF;
	IF tgt IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive into table %s, owned by role %s',
							 NEW.created_by, tgt,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = tgt)),
			HINT = 'The archive must belong to the owner of the table.';
	END IF;
	IF rel IS NOT NULL AND tgt IS NOT NULL
	   AND (SELECT c.relowner FROM pg_class c WHERE c.oid = rel)
		   <> (SELECT c.relowner FROM pg_class c WHERE c.oid = tgt) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('archive table %s is not owned by the owner of table %s', tgt, rel),
			HINT = 'The archive must belong to the owner of the table: ALTER TABLE ... OWNER TO ..., or name another target.';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER archive_policies_check
	BEFORE INSERT OR UPDATE ON @extschema@.archive_policies
	FOR EACH ROW EXECUTE FUNCTION @extschema@._archive_policy_check();
-- each role sees and changes the policies of the roles whose privileges it
-- has (its own among them); superusers see all
ALTER TABLE @extschema@.archive_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_policies_creator ON @extschema@.archive_policies
	USING (pg_catalog.pg_has_role(created_by, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by, 'USAGE'));

CREATE TABLE @extschema@.archive_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation text NOT NULL CHECK (operation IN ('archive', 'unarchive')),
	relation text NOT NULL,
	target text,
	time_column name,
	cutoff_from timestamptz,
	cutoff_to timestamptz,
	from_policy boolean NOT NULL DEFAULT false,
	run_by name NOT NULL DEFAULT CURRENT_USER,
	pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
	started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	last_batch_at timestamptz,
	finished_at timestamptz,
	duration interval,
	batches integer NOT NULL DEFAULT 0,
	rows_moved bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'done', 'stopped', 'failed', 'interrupted', 'skipped')),
	error text,
	vacuum_advice text
);
CREATE INDEX ON @extschema@.archive_runs (relation, started_at);
COMMENT ON TABLE @extschema@.archive_runs IS
'one row per archive/unarchive run, updated after every batch (status running, done, stopped, failed, interrupted or skipped)';
-- each role sees and changes only the runs it made (run_by); an error of a
-- run can hold row values.  Superusers see all.
ALTER TABLE @extschema@.archive_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY archive_runs_own ON @extschema@.archive_runs
	USING (run_by = CURRENT_USER)
	WITH CHECK (run_by = CURRENT_USER);

-- C helpers (src/archive.c): VACUUM in a background worker (as the table's
-- owner), the lock of the runs on a table, and the crash point the tests
-- use.
CREATE FUNCTION @extschema@._archive_vacuum(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_archive_vacuum';

CREATE FUNCTION @extschema@._archive_test_crash()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'scale_advisor_archive_test_crash';

-- One run per table: a session lock no SQL advisory lock function can take
-- (src/archive.c), only for roles that may maintain the table.  True when
-- this session holds it now.
CREATE FUNCTION @extschema@._archive_lock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_lock';

-- Releases this session's lock of the runs on the table.
CREATE FUNCTION @extschema@._archive_unlock(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_archive_unlock';

-- The key the batches walk and the archive must enforce: the primary key,
-- else the narrowest valid, non-partial unique index on NOT NULL columns.
CREATE FUNCTION @extschema@._archive_key(rel regclass)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k name[];
BEGIN
	SELECT array_agg(a.attname ORDER BY c.ord) INTO k
	FROM (SELECT i.indexrelid, i.indkey
		  FROM pg_index i
		  WHERE i.indrelid = rel AND i.indisunique AND i.indisvalid
			AND i.indpred IS NULL AND i.indexprs IS NULL
			AND NOT EXISTS (SELECT 1 FROM pg_attribute na
							WHERE na.attrelid = rel
							  AND na.attnum = ANY (i.indkey::int2[])
							  AND NOT na.attnotnull)
		  ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid
		  LIMIT 1) ix,
		 unnest(ix.indkey::int2[]) WITH ORDINALITY AS c(attnum, ord),
		 pg_attribute a
	WHERE a.attrelid = rel AND a.attnum = c.attnum;
	IF k IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('table %s has no primary key', rel),
			HINT = 'Archiving needs a primary key (or a unique index on NOT NULL columns) to move every row exactly once; add one, for example ALTER TABLE ... ADD PRIMARY KEY (id).';
	END IF;
	RETURN k;
END $$;

-- Checks that the archive table matches the main table: every column of
-- the main table exists in the archive with the same type; extra archive
-- columns must be nullable, have a default or be generated.  Returns the
-- columns to copy in the given direction.
CREATE FUNCTION @extschema@._archive_columns(main regclass, arch regclass, operation text)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	problems text;
	cols name[];
BEGIN
	SELECT string_agg(p, '; ' ORDER BY n) INTO problems
	FROM (SELECT m.attnum AS n,
				 CASE WHEN a.attname IS NULL
					  THEN format('column %I (%s) is missing', m.attname,
								  format_type(m.atttypid, m.atttypmod))
					  ELSE format('column %I is %s, not %s', m.attname,
								  format_type(a.atttypid, a.atttypmod),
								  format_type(m.atttypid, m.atttypmod))
				 END AS p
		  FROM pg_attribute m
		  LEFT JOIN pg_attribute a
			ON a.attrelid = arch AND a.attname = m.attname
		   AND a.attnum > 0 AND NOT a.attisdropped
		  WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
			AND (a.attname IS NULL OR a.atttypid <> m.atttypid
				 OR (a.atttypmod <> m.atttypmod AND a.atttypmod <> -1))
		  UNION ALL
		  SELECT 10000 + a.attnum,
				 format('extra column %I is NOT NULL without a default', a.attname)
		  FROM pg_attribute a
		  WHERE a.attrelid = arch AND a.attnum > 0 AND NOT a.attisdropped
			AND a.attnotnull AND NOT a.atthasdef AND a.attgenerated = ''
			AND operation = 'archive'
			AND NOT EXISTS (SELECT 1 FROM pg_attribute m
							WHERE m.attrelid = main AND m.attname = a.attname
							  AND m.attnum > 0 AND NOT m.attisdropped)) x;
	IF problems IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('archive table %s does not match table %s', arch, main),
			DETAIL = problems || '.',
			HINT = 'The archive needs every column of the table, with the same types.';
	END IF;
	-- copy the columns the receiving side does not generate itself
	SELECT array_agg(m.attname ORDER BY m.attnum) INTO cols
	FROM pg_attribute m
	JOIN pg_attribute a ON a.attrelid = arch AND a.attname = m.attname
	WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
	  AND CASE WHEN operation = 'archive' THEN a.attgenerated = ''
			   ELSE m.attgenerated = '' END;
	RETURN cols;
END $$;

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
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	PERFORM @extschema@._archive_check_timing(p_max_duration, p_pause, p_lock_timeout);
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind, c.relowner INTO rel_ns, rel_name, rel_kind, owner
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
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
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
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
				RAISE EXCEPTION USING ERRCODE = '42P01',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = '42622',
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
					RAISE EXCEPTION USING ERRCODE = '42501',
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
			RAISE EXCEPTION USING ERRCODE = '22023',
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
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = '0A000',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
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
			RAISE EXCEPTION USING ERRCODE = '55000',
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
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = format('Archiving runs as the owner of the table (%s), who needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.', owner);
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(owner, dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = format('Archiving runs as the owner of the table (%s), who needs INSERT on the table the rows go to.', owner);
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
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
			RAISE EXCEPTION USING ERRCODE = '23503',
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

-- EXECUTE helper of 1.0 for the foreign key checks, which now run as the
-- owner through _owner_exec(); kept unchanged (it runs with the caller's
-- rights, and PUBLIC may not execute it) so that the grant scripts written
-- for 1.0 keep working.
CREATE FUNCTION @extschema@._archive_exists(q text, p_from timestamptz, p_to timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r boolean;
BEGIN
	EXECUTE q INTO r USING p_from, NULL::int, NULL::jsonb, p_to;
	RETURN r;
END $$;

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
					RAISE EXCEPTION USING ERRCODE = '23503',
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
						RAISE EXCEPTION USING ERRCODE = '23505',
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

-- Ends a run: status, duration, VACUUM advice; releases the lock.
CREATE FUNCTION @extschema@._archive_finish(plan jsonb, state jsonb, final_status text, message text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved bigint := (state->>'rows')::bigint;
	tuples double precision;
	advice text;
BEGIN
	-- the rows the table had when the run started, from the statistics
	-- collector's live count (fresh, unlike pg_class.reltuples, which only
	-- VACUUM and ANALYZE update, so that it still counts rows earlier runs
	-- moved out).  This session's own deletes are reported when the CALL
	-- ends, so the count still holds them, unless a VACUUM or ANALYZE
	-- recounted the table during the run: then they are added back.
	SELECT greatest(s.n_live_tup, 0)
		   + CASE WHEN greatest(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze)
					   >= (SELECT ar.started_at FROM @extschema@.archive_runs ar
						   WHERE ar.run_id = (plan->>'run_id')::bigint)
				  THEN moved ELSE 0 END
	INTO tuples
	FROM pg_catalog.pg_stat_all_tables s WHERE s.relid = (plan->>'src')::regclass;
	IF moved >= 1000 AND moved >= 0.1 * greatest(coalesce(tuples, 0), moved) THEN
		advice := format('VACUUM (ANALYZE) %s', plan->>'src');
		RAISE NOTICE '%', format('%s rows were moved out of %s%s: %s',
			moved, plan->>'src',
			CASE WHEN tuples > 0 THEN format(' (about %s%% of its rows)', round(100 * moved / greatest(tuples, moved))) ELSE '' END,
			CASE WHEN (plan->>'vacuum')::boolean THEN 'vacuuming it now'
				 ELSE 'run ' || advice || ' to make the space reusable and refresh the planner statistics, or let autovacuum do it' END);
	END IF;
	UPDATE @extschema@.archive_runs AS ar
	SET status = final_status, error = message, finished_at = clock_timestamp(),
		duration = clock_timestamp() - ar.started_at, vacuum_advice = advice
	WHERE ar.run_id = (plan->>'run_id')::bigint;
	PERFORM @extschema@._archive_unlock((plan->>'relation')::oid::regclass);
	IF final_status = 'failed' THEN
		RAISE WARNING '%', format('%s of %s failed after %s rows: %s', plan->>'operation',
								  plan->>'relation_name', moved, message);
	END IF;
	RETURN advice;
END $$;

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
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown archiving operation %L', p_operation),
			HINT = 'Use ''archive'' or ''unarchive''.';
	END IF;
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
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
	IF $10 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	PERFORM @extschema@._archive_check_age($3);
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('archive', $1, $2,
		'-infinity', pg_catalog.now() - $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		false, true, $13, $14, $15);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

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
					CALL @extschema@._archive_run('archive', leaf.part, p.time_column,
						'-infinity', cutoff, tgt, p.batch_size, p.max_batches, budget, p.pause, p.lock_timeout,
						false, $1, p.vacuum, true, false, run, n, st);
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
			IF $1 OR fin OPERATOR(pg_catalog.<>) 'done' THEN
				RAISE NOTICE '%', pg_catalog.format('archive policy for %s (partitioned): %s, %s rows moved from %s partitions (run %s)%s',
					p.relation, fin, total, parts, run, coalesce(': ' OPERATOR(pg_catalog.||) msg, ''));
			END IF;
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run('archive', rel, p.time_column,
			'-infinity', pg_catalog.now() - p.older_than, tgt, p.batch_size, p.max_batches,
			p.max_duration, p.pause, p.lock_timeout, false, $1, p.vacuum, true, false,
			run, n, st);
		-- a new transaction (the run committed): pin search_path first
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF $1 THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.run_archive_policies IS
'runs every enabled archive policy, one table after the other';

REVOKE ALL ON PROCEDURE @extschema@.archive FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.unarchive FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.run_archive_policies FROM PUBLIC;
-- The helpers that change data are not executable by PUBLIC either (the
-- procedures run with the caller's rights, so a caller needs EXECUTE on
-- them too: docs/archiving.md shows the GRANT).  The read-only ones
-- (_archive_key, _archive_columns) stay executable, and so do
-- _archive_lock/_archive_unlock (only a role that may maintain the table
-- can take its lock; a session releases only its own).
REVOKE ALL ON FUNCTION @extschema@._archive_test_crash FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_vacuum(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_start FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_exists FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_batch FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_finish FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@._archive_run FROM PUBLIC;
-- (a trigger fires whatever the EXECUTE privilege: nobody needs to call it)
REVOKE ALL ON FUNCTION @extschema@._archive_policy_check() FROM PUBLIC;
