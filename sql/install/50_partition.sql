-- Partitioning helpers (docs/partitioning.md).
--
-- partition_table converts a populated table into a range-partitioned table
-- of the same name without copying rows: the table itself becomes the
-- partition of the historical range.  A CHECK constraint matching that
-- range is added NOT VALID and validated in its own transaction (SHARE
-- UPDATE EXCLUSIVE: writers go on), so the ATTACH needs no scan and the
-- ACCESS EXCLUSIVE lock is held only for the rename and the attach.
--
-- partition_sets is the configuration that maintain_partitions works from:
-- premade future partitions, retention, rows left in the default partition.
--
-- The two procedures (partition_table, maintain_partitions) commit between
-- steps, so they cannot carry a SET search_path clause: they qualify every
-- name (declared types included), and pin search_path to pg_catalog,
-- pg_temp with a transaction-local set_config at the start of every
-- transaction they open.
--
-- Security (docs/security.md, "Partitioning"): only a superuser or a role
-- with the privileges of the table's owner may convert or maintain a table;
-- every statement on a user table runs through _owner_exec (src/run_as.c)
-- as the owner, in a security-restricted operation.  partition_sets rows
-- record their creator (a trigger checks the creator may maintain the table
-- and the archive target), row-level security shows each role only the sets
-- of roles whose privileges it has, and only its own partition_log rows.
-- One run per set at a time: a run claims the set in its
-- partition_set_state row (only roles that may write that row can claim).

-- true when the calling PL/pgSQL procedure may COMMIT (src/partition.c)
CREATE FUNCTION @extschema@._nonatomic()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_nonatomic';

---------------------------------------------------------------------------
-- Configuration and state
---------------------------------------------------------------------------

CREATE TABLE @extschema@.partition_sets (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	control_column name NOT NULL,
	part_interval text NOT NULL,
	premake integer NOT NULL DEFAULT 4 CHECK (premake BETWEEN 1 AND 1000),
	retention text,
	retention_action text NOT NULL DEFAULT 'detach'
		CHECK (retention_action IN ('detach', 'drop', 'archive_schema', 'archive')),
	archive_schema name,
	archive_target text,
	archive_batch_size integer NOT NULL DEFAULT 10000 CHECK (archive_batch_size > 0),
	move_default_rows boolean NOT NULL DEFAULT true,
	lock_timeout interval NOT NULL DEFAULT '1s'
		CHECK (lock_timeout > '0' AND lock_timeout <= '10min'),
	ddl_retries integer NOT NULL DEFAULT 5 CHECK (ddl_retries BETWEEN 0 AND 100),
	expected_every interval NOT NULL DEFAULT '1 hour' CHECK (expected_every > '0'),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (parent_schema, parent_table),
	CHECK (retention_action <> 'archive_schema' OR archive_schema IS NOT NULL),
	created_by regrole NOT NULL DEFAULT CURRENT_USER::regrole
);
COMMENT ON TABLE @extschema@.partition_sets IS
	'partitioned tables that scale_advisor.maintain_partitions keeps up';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.partition_sets', '');

-- What the last maintenance runs did, per set (not dumped: runtime state).
CREATE TABLE @extschema@.partition_set_state (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	last_started timestamptz,
	last_finished timestamptz,
	last_success timestamptz,
	last_error text,
	last_error_at timestamptz,
	consecutive_failures integer NOT NULL DEFAULT 0,
	partitions_created bigint NOT NULL DEFAULT 0,
	partitions_retired bigint NOT NULL DEFAULT 0,
	default_rows_moved bigint NOT NULL DEFAULT 0,
	default_rows_remaining bigint,
	PRIMARY KEY (parent_schema, parent_table),
	running_pid integer,
	running_backend_start timestamptz
);

-- One line per action of partition_table and maintain_partitions.
CREATE TABLE @extschema@.partition_log (
	id bigserial PRIMARY KEY,
	logged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	action text NOT NULL,
	ok boolean NOT NULL,
	detail text,
	exclusive_lock_ms double precision,
	run_by name NOT NULL DEFAULT CURRENT_USER
);

---------------------------------------------------------------------------
-- Who may do what (docs/security.md, "Partitioning")
---------------------------------------------------------------------------

-- The relation sch.tbl, or NULL; read from the catalogs, so that a schema
-- the caller may not use is no error (to_regclass raises one).
CREATE FUNCTION @extschema@._pt_rel(sch name, tbl name)
RETURNS regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = sch AND c.relname = tbl
$$;

-- An archive target named as schema.table, or NULL when there is no such
-- table; an unqualified or malformed name is an error.
CREATE FUNCTION @extschema@._pt_target(target text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[];
BEGIN
	IF target IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		parts := parse_ident(target);
	EXCEPTION WHEN others THEN
		parts := NULL;
	END;
	IF cardinality(parts) IS DISTINCT FROM 2 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_name',
			MESSAGE = format('archive target %L is not a schema-qualified table name', target),
			HINT = 'Name the table with its schema, such as ''app.logs_archive''.';
	END IF;
	RETURN @extschema@._pt_rel(parts[1], parts[2]);
END
$$;

-- Raise insufficient_privilege unless the current user is a superuser or
-- has the privileges of rel's owner (may convert or maintain it).
CREATE FUNCTION @extschema@._pt_require_maintain(rel regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner name;
BEGIN
	IF coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN;
	END IF;
	SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
	RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
		MESSAGE = format('role %I may not partition or maintain table %s', current_user, rel),
		DETAIL = format('scale_advisor does this work as the owner of the table (%I), so only a superuser or a role with the owner''s privileges may start it.', owner),
		HINT = format('Run it as the owner of the table, or GRANT %I TO %I.', owner, current_user);
END
$$;

-- Why a set must not be maintained now by the current user, or NULL: its
-- creator or the caller lacks the privileges of the table's owner, or its
-- archive target is owned by another role.
CREATE FUNCTION @extschema@._pm_refusal(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass := @extschema@._pt_rel(sch, tbl);
	tgt regclass;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps
	WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	IF rel IS NULL OR NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, s.created_by), false) THEN
		RETURN format('its creator %s does not have the privileges of the owner of %s (%s)',
					  s.created_by, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN format('role %I does not have the privileges of the owner of %s (%s)',
					  current_user, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF s.retention_action = 'archive' AND s.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(s.archive_target);
		IF tgt IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel) THEN
			RETURN format('its archive target %s is not owned by the owner of %s', tgt, rel);
		END IF;
	END IF;
	RETURN NULL;
END
$$;

-- BEFORE INSERT OR UPDATE on partition_sets: a non-superuser's row is
-- recorded as its own, and a row may name only a table (and an archive
-- target owned by the same role) whose owner's privileges its creator has.
CREATE FUNCTION @extschema@._partition_sets_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	tgt regclass;
	owner name;
	kind text;
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)
		OR NEW.created_by IS NULL THEN
		NEW.created_by := current_user::regrole;
	END IF;
	rel := @extschema@._pt_rel(NEW.parent_schema, NEW.parent_table);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not configure maintenance of table %s', NEW.created_by, rel),
			DETAIL = 'maintain_partitions works on a table as its owner, so a partition set may name only a table whose owner''s privileges its creator has.',
			HINT = format('Add the set as the owner of the table, or GRANT %I TO %s.', owner, NEW.created_by);
	END IF;
	-- the interval, retention and lock_timeout as partition_table checks
	-- them, in every row written enabled (a row the update from 1.0
	-- disabled is checked when it is enabled again); a row whose table
	-- does not exist yet is checked for its interval when it is maintained
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._check_duration('lock_timeout', NEW.lock_timeout, interval '1 millisecond', interval '1 minute',
			false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	END IF;
	IF rel IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.enabled
		OR NEW.part_interval IS DISTINCT FROM OLD.part_interval
		OR NEW.retention IS DISTINCT FROM OLD.retention
		OR NEW.retention_action IS DISTINCT FROM OLD.retention_action) THEN
		SELECT @extschema@._pt_kind(a.atttypid::regtype) INTO kind
		FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = NEW.control_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF kind IS NOT NULL THEN
			PERFORM @extschema@._pt_check_interval(kind, NEW.part_interval);
			PERFORM @extschema@._pt_check_retention(kind, NEW.retention, NEW.retention_action);
		END IF;
	END IF;
	IF NEW.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(NEW.archive_target);
		IF tgt IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_table',
				MESSAGE = format('archive target %s does not exist', NEW.archive_target),
				HINT = 'Create the table first and give its name with the schema, such as ''app.logs_archive''.';
		END IF;
		IF NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false)
			OR (rel IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel)) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive target %s is not owned by the owner of %I.%I', tgt, NEW.parent_schema, NEW.parent_table),
				HINT = 'Rows are archived as the owner of the table: use a target table owned by the same role.';
		END IF;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER partition_sets_check BEFORE INSERT OR UPDATE ON @extschema@.partition_sets
	FOR EACH ROW EXECUTE FUNCTION @extschema@._partition_sets_check();

-- Each role sees and changes the sets of roles whose privileges it has (a
-- superuser all), the state of the sets it sees, and its own log rows.
ALTER TABLE @extschema@.partition_sets ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_sets_creator ON @extschema@.partition_sets
	USING (pg_catalog.pg_has_role(created_by::oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::oid, 'USAGE'));
ALTER TABLE @extschema@.partition_set_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_set_state_follows_set ON @extschema@.partition_set_state
	USING (EXISTS (SELECT 1 FROM @extschema@.partition_sets s
				   WHERE s.parent_schema OPERATOR(pg_catalog.=) partition_set_state.parent_schema
					 AND s.parent_table OPERATOR(pg_catalog.=) partition_set_state.parent_table));
ALTER TABLE @extschema@.partition_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY partition_log_own ON @extschema@.partition_log
	USING (run_by OPERATOR(pg_catalog.=) CURRENT_USER)
	WITH CHECK (run_by OPERATOR(pg_catalog.=) CURRENT_USER);

---------------------------------------------------------------------------
-- Key arithmetic.  Keys are handled as numeric: integer keys as they are,
-- time keys as seconds since 1970-01-01 00:00 UTC (timestamp and date keys
-- are read as UTC wall-clock time), so that bounds do not depend on the
-- session's TimeZone.
---------------------------------------------------------------------------

-- 'time', 'int', or NULL for a type that cannot be a partition key here
CREATE FUNCTION @extschema@._pt_kind(typ regtype)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN 'time'
	WHEN typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'int'
END
$$;

-- Check a partition interval for a key kind; raises on bad input.
CREATE FUNCTION @extschema@._pt_check_interval(kind text, part_interval text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	n numeric;
BEGIN
	IF part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'partition interval must not be NULL';
	END IF;
	IF kind = 'time' THEN
		-- '180' would be read as 180 seconds: a time span needs its unit
		IF part_interval ~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('interval %L has no unit', part_interval),
				HINT = 'A number alone would be read as seconds: write the unit, such as ''90 days'' or ''1 month''.';
		END IF;
		BEGIN
			iv := part_interval::interval;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for a time column', part_interval),
				HINT = 'Give an interval such as ''1 day'', ''1 week'' or ''1 month''.';
		END;
		IF iv <= interval '0' OR iv < interval '1 minute' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L is too small', part_interval),
				HINT = 'Give an interval of at least one minute.';
		END IF;
		IF (extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0)
			AND iv <> make_interval(years => extract(year FROM iv)::integer,
									months => extract(month FROM iv)::integer) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L mixes months with days or hours', part_interval),
				HINT = 'Use whole months (''1 month'', ''3 months'', ''1 year'') or a fixed length (''1 day'', ''7 days'', ''6 hours'').';
		END IF;
	ELSE
		BEGIN
			n := part_interval::numeric;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give the number of key values per partition, such as ''1000000''.';
		END;
		IF n <= 0 OR n <> trunc(n) OR n > 9223372036854775807 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give a positive whole number of key values per partition.';
		END IF;
	END IF;
END
$$;

-- Check a retention for a key kind and retention action; raises on bad
-- input.  A time retention is at least 1 hour, and at least 1 day when
-- past partitions are dropped (no shorter retention is plausible, and a
-- bare number read as seconds would drop data at once).
CREATE FUNCTION @extschema@._pt_check_retention(kind text, retention text, action text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	minimum text := CASE WHEN action = 'drop' THEN '1 day' ELSE '1 hour' END;
BEGIN
	IF retention IS NULL THEN
		RETURN;
	END IF;
	PERFORM @extschema@._pt_check_interval(kind, retention);
	IF kind = 'time' AND retention::interval < minimum::interval THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('retention %L is shorter than %s', retention, minimum),
			HINT = format('With retention_action %s the retention must be at least %s, such as ''90 days''.',
						  coalesce(action, 'detach'), minimum);
	END IF;
END
$$;

-- a key literal (as the column's type prints it) as a number
CREATE FUNCTION @extschema@._pt_to_num(typ regtype, lit text)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN lit IS NULL THEN NULL
	WHEN typ = 'timestamptz'::regtype THEN extract(epoch FROM lit::timestamptz)
	WHEN typ = 'timestamp'::regtype THEN extract(epoch FROM lit::timestamp)
	WHEN typ = 'date'::regtype THEN extract(epoch FROM lit::date::timestamp)
	ELSE lit::numeric
END
$$;

-- a number as a key literal, unquoted, independent of DateStyle/TimeZone
CREATE FUNCTION @extschema@._pt_from_num(typ regtype, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ = 'timestamptz'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'
	WHEN typ = 'timestamp'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
	WHEN typ = 'date'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
	ELSE x::text
END
$$;

-- start of the partition slot that holds x (slots aligned in UTC: months
-- from January of year 0, fixed lengths from Monday 2000-01-03, integers
-- from 0)
CREATE FUNCTION @extschema@._pt_slot(kind text, part_interval text, x numeric)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	u timestamp;
	n integer;
	m integer;
	step numeric;
BEGIN
	IF kind = 'int' THEN
		step := part_interval::numeric;
		RETURN x - mod(mod(x, step) + step, step);
	END IF;
	iv := part_interval::interval;
	u := to_timestamp(x) AT TIME ZONE 'UTC';
	IF extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0 THEN
		n := (extract(year FROM iv) * 12 + extract(month FROM iv))::integer;
		m := (extract(year FROM u) * 12 + extract(month FROM u) - 1)::integer;
		m := m - m % n;
		RETURN extract(epoch FROM make_timestamp(m / 12, m % 12 + 1, 1, 0, 0, 0));
	END IF;
	RETURN extract(epoch FROM date_bin(iv, u, timestamp '2000-01-03'));
END
$$;

-- x plus k intervals
CREATE FUNCTION @extschema@._pt_add(kind text, part_interval text, x numeric, k integer)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE kind
	WHEN 'int' THEN x + k * part_interval::numeric
	ELSE extract(epoch FROM (to_timestamp(x) AT TIME ZONE 'UTC') + k * part_interval::interval)
END
$$;

-- a relation name made of base and suffix, cut to fit in 63 bytes: the
-- base is cut first, down to its first 8 characters (which keep names such
-- as sa1_, sa2_ apart), then the suffix (a long column or index name)
CREATE FUNCTION @extschema@._pt_name(base text, suffix text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b text := left(base, 63);
	s text := left(suffix, 63);
BEGIN
	WHILE octet_length(b || '_' || s) > 63 AND length(b) > 8 LOOP
		b := left(b, -1);
	END LOOP;
	WHILE octet_length(b || '_' || s) > 63 LOOP
		s := left(s, -1);
	END LOOP;
	RETURN (b || '_' || s)::name;
END
$$;

-- partition name suffix for the slot that starts at x
CREATE FUNCTION @extschema@._pt_suffix(kind text, part_interval text, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT 'p' || CASE
	WHEN kind = 'int' THEN replace(x::text, '-', 'm')
	WHEN extract(year FROM part_interval::interval) <> 0 OR extract(month FROM part_interval::interval) <> 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMM')
	WHEN part_interval::interval >= interval '1 day' AND mod(x, 86400) = 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD')
	ELSE to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI')
END
$$;

-- The direct partitions of a partitioned table with their bounds as
-- numbers (NULL for MINVALUE/MAXVALUE).
CREATE FUNCTION @extschema@._pt_partitions(parent regclass)
RETURNS TABLE (part oid, part_schema name, part_name name, is_default boolean,
			   lo numeric, hi numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	typ regtype;
	r record;
	m text[];
BEGIN
	SELECT a.atttypid::regtype INTO typ
	FROM pg_partitioned_table pt
	JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
	WHERE pt.partrelid = parent;
	FOR r IN
		SELECT c.oid, n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.inhparent = parent
	LOOP
		part := r.oid;
		part_schema := r.nspname;
		part_name := r.relname;
		IF r.bound = 'DEFAULT' THEN
			is_default := true;
			lo := NULL;
			hi := NULL;
		ELSE
			is_default := false;
			m := regexp_match(r.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$');
			lo := @extschema@._pt_to_num(typ, @extschema@._pt_unquote(m[1]));
			hi := @extschema@._pt_to_num(typ, @extschema@._pt_unquote(m[2]));
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- one bound value from pg_get_expr: NULL for MINVALUE/MAXVALUE
CREATE FUNCTION @extschema@._pt_unquote(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL OR v IN ('MINVALUE', 'MAXVALUE') THEN NULL
	WHEN left(v, 1) = '''' THEN replace(substr(v, 2, length(v) - 2), '''''', '''')
	ELSE v
END
$$;

---------------------------------------------------------------------------
-- Converting a table
---------------------------------------------------------------------------

-- Everything that stops relation from being converted, partitioned on
-- column_name.  Reads catalogs, and looks for rows whose key is NULL (as
-- the table's owner, for a caller with the owner's privileges only).
CREATE FUNCTION @extschema@.partition_blockers(relation regclass, column_name name)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	att record;
	r record;
	v_kind text;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation and column must not be NULL';
	END IF;
	SELECT cl.* INTO c FROM pg_class cl WHERE cl.oid = relation;
	IF c.relkind NOT IN ('r', 'p') THEN
		RETURN NEXT format('%s is not a table', relation);
		RETURN;
	END IF;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RETURN NEXT format('column %I does not exist in %s', column_name, relation);
		RETURN;
	END IF;
	v_kind := @extschema@._pt_kind(att.atttypid::regtype);
	IF v_kind IS NULL THEN
		RETURN NEXT format('column %I has type %s; the partition column must be timestamptz, timestamp, date, smallint, integer or bigint',
						   column_name, format_type(att.atttypid, att.atttypmod));
	END IF;
	IF att.attgenerated <> '' THEN
		RETURN NEXT format('column %I is a generated column, which cannot be a partition key', column_name);
	END IF;
	IF c.relkind = 'p' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
					   WHERE pt.partrelid = relation AND pt.partstrat = 'r'
						 AND pt.partnatts = 1 AND pt.partattrs[0] = att.attnum) THEN
			RETURN NEXT format('%s is already partitioned, but not by range on column %I alone', relation, column_name);
		END IF;
		RETURN;
	END IF;
	-- a row without a key fits no partition; looked for as the owner (a
	-- caller without the owner's privileges cannot convert the table anyway)
	IF NOT att.attnotnull AND coalesce(@extschema@._may_maintain(relation), false)
	   AND (@extschema@._owner_exec(relation,
			format('SELECT to_jsonb(EXISTS (SELECT 1 FROM ONLY %s WHERE %I IS NULL))', relation, column_name)))::boolean THEN
		RETURN NEXT format('column %I is NULL in some rows, which fit no partition; set a value in them (or delete them) first',
						   column_name);
	END IF;
	IF c.relpersistence = 't' THEN
		RETURN NEXT format('%s is a temporary table', relation);
	ELSIF c.relpersistence = 'u' THEN
		RETURN NEXT format('%s is unlogged; partitioned tables cannot be unlogged', relation);
	END IF;
	IF c.relispartition THEN
		RETURN NEXT format('%s is itself a partition', relation);
	END IF;
	IF c.reloftype <> 0 THEN
		RETURN NEXT format('%s is a typed table (OF %s)', relation, c.reloftype::regtype);
	END IF;
	-- primary keys, unique constraints, unique indexes, exclusion constraints
	FOR r IN
		SELECT i.indexrelid::regclass AS idx, con.conname, con.contype, i.indisunique
		FROM pg_index i
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u', 'x')
		WHERE i.indrelid = relation
		  AND (i.indisunique OR con.contype = 'x')
		ORDER BY i.indexrelid::regclass::text
	LOOP
		IF r.contype = 'x' THEN
			RETURN NEXT format('exclusion constraint %I cannot be carried over to a partitioned table', r.conname);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_index i
						  WHERE i.indexrelid = r.idx AND att.attnum = ANY (i.indkey::int2[])) THEN
			RETURN NEXT format('%s %s does not include the partition column %I',
							   CASE r.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
							   ELSE 'unique index' END,
							   coalesce(quote_ident(r.conname), r.idx::text), column_name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.connoinherit
	LOOP
		RETURN NEXT format('check constraint %I is NO INHERIT', r.conname);
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'f' AND NOT con.convalidated
	LOOP
		RETURN NEXT format('foreign key %I is NOT VALID; validate or drop it first', r.conname);
	END LOOP;
	-- foreign keys of other tables that reference this one
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, con.conkey, con.confkey,
			   src.relkind AS src_kind
		FROM pg_constraint con
		JOIN pg_class src ON src.oid = con.conrelid
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		IF r.src = relation THEN
			RETURN NEXT format('foreign key %I references the table itself', r.conname);
		ELSIF NOT att.attnum = ANY (r.confkey) THEN
			RETURN NEXT format('foreign key %I of %s references columns without the partition column %I; a foreign key to a partitioned table must reference a key that includes it',
							   r.conname, r.src, column_name);
		ELSIF r.src_kind = 'p' THEN
			RETURN NEXT format('foreign key %I of partitioned table %s cannot be re-created NOT VALID on PostgreSQL %s',
							   r.conname, r.src, current_setting('server_version_num')::int / 10000);
		END IF;
	END LOOP;
	FOR r IN
		SELECT i.inhrelid::regclass AS child FROM pg_inherits i WHERE i.inhparent = relation ORDER BY i.inhrelid::regclass::text
	LOOP
		RETURN NEXT format('%s has inheritance child %s', relation, r.child);
	END LOOP;
	FOR r IN
		SELECT i.inhparent::regclass AS par FROM pg_inherits i WHERE i.inhrelid = relation ORDER BY i.inhparent::regclass::text
	LOOP
		RETURN NEXT format('%s inherits from %s', relation, r.par);
	END LOOP;
	FOR r IN
		SELECT rw.rulename FROM pg_rewrite rw
		WHERE rw.ev_class = relation AND rw.rulename <> '_RETURN' ORDER BY 1
	LOOP
		RETURN NEXT format('rule %I is defined on %s', r.rulename, relation);
	END LOOP;
	FOR r IN
		SELECT DISTINCT rw.ev_class::regclass::text AS v
		FROM pg_depend d
		JOIN pg_rewrite rw ON rw.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid = relation AND rw.ev_class <> relation
		ORDER BY 1
	LOOP
		RETURN NEXT format('view %s depends on %s; drop it and create it again after the conversion', r.v, relation);
	END LOOP;
	IF c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = relation) THEN
		RETURN NEXT format('%s has row-level security, which is not carried over', relation);
	END IF;
	FOR r IN
		SELECT p.pubname FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
		WHERE pr.prrelid = relation ORDER BY 1
	LOOP
		RETURN NEXT format('%s is in publication %I, which is not carried over', relation, r.pubname);
	END LOOP;
	FOR r IN
		SELECT t.tgname FROM pg_trigger t
		WHERE t.tgrelid = relation AND NOT t.tgisinternal
		  AND (t.tgconstraint <> 0 OR t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL)
		ORDER BY 1
	LOOP
		RETURN NEXT format('trigger %I is a constraint trigger or uses transition tables', r.tgname);
	END LOOP;
END
$$;

-- What must match between planning and the exclusive step: if any of it
-- changes in between, the swap is retried with a new plan.
CREATE FUNCTION @extschema@._pt_fingerprint(relation regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT md5(concat_ws('|',
	(SELECT c.relname || ':' || c.relowner || ':' || coalesce(c.relacl::text, '')
	 FROM pg_class c WHERE c.oid = relation),
	(SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.attnotnull || ':' || a.attidentity::text
					   || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || coalesce(a.attacl::text, ''),
					   ',' ORDER BY a.attnum)
	 FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped),
	(SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY i.indexrelid)
	 FROM pg_index i WHERE i.indrelid = relation),
	(SELECT string_agg(con.conname || pg_get_constraintdef(con.oid), ',' ORDER BY con.oid)
	 FROM pg_constraint con WHERE con.conrelid = relation OR con.confrelid = relation),
	(SELECT string_agg(pg_get_triggerdef(t.oid) || t.tgenabled::text, ',' ORDER BY t.oid)
	 FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal)))
$$;

-- The steps of a conversion, as SQL.  phase: 'prepare' (add the CHECK
-- constraint NOT VALID), 'validate' (its own transaction), 'swap' (one
-- transaction: new parent, then the exclusive lock, rename and attach,
-- and the set registered), 'finish' (validate re-pointed foreign keys,
-- ANALYZE).  Phases
-- already done (the constraint exists) are left out.  Raises an error that
-- lists every blocker when the table cannot be converted.  run_as is the
-- table whose owner runs the statement (relation itself, or a table whose
-- foreign key is re-pointed); NULL for the registration, which runs as the
-- caller.  Only a caller that may maintain relation gets a plan.
CREATE FUNCTION @extschema@.partition_table_plan(
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
	historical_until text DEFAULT NULL)
RETURNS TABLE (step integer, phase text, lock_mode text, statement text, run_as regclass)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blockers text[];
	c record;
	att record;
	r record;
	v_kind text;
	typ regtype;
	sch name;
	tbl name;
	qt text;
	qcol text;
	tmp name;
	qtmp text;
	hist name;
	dflt name;
	boundary numeric;
	b_lit text;
	mx numeric;
	margin numeric;
	conoid oid;
	convalid boolean;
	n integer := 0;
	k integer;
	x numeric;
	pname name;
	idxname name;
	tmpidx name;
	def text;
	seqname name;
	sq record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL OR part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000', MESSAGE = format('schema %I does not exist', archive_schema);
	END IF;

	SELECT cl.*, ns.nspname INTO c
	FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE cl.oid = relation;
	PERFORM @extschema@._pt_require_maintain(relation);
	run_as := relation;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF FOUND THEN
		typ := att.atttypid::regtype;
		v_kind := @extschema@._pt_kind(typ);
	END IF;
	blockers := ARRAY(SELECT @extschema@.partition_blockers(relation, column_name));
	IF cardinality(blockers) > 0 THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	PERFORM @extschema@._pt_check_retention(v_kind, retention, retention_action);
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'retention_action archive needs a time partition column';
	END IF;

	sch := c.nspname;
	tbl := c.relname;
	qt := format('%I.%I', sch, tbl);
	qcol := quote_ident(column_name);

	-- an already partitioned table: a default partition if asked for and
	-- missing, then register the set
	IF c.relkind = 'p' THEN
		dflt := @extschema@._pt_name(tbl, 'default');
		IF default_partition AND NOT EXISTS (
			SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = relation AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT') THEN
			IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = dflt AND cl.relnamespace = c.relnamespace) THEN
				RAISE EXCEPTION USING ERRCODE = '42P07',
					MESSAGE = format('cannot add a default partition to %s: relation %I.%I already exists', relation, c.nspname, dflt),
					HINT = 'Nothing was changed.  Rename it, or pass default_partition => false.';
			END IF;
			n := n + 1;
			step := n; phase := 'swap'; lock_mode := 'ACCESS EXCLUSIVE';
			statement := format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', c.nspname, dflt, c.nspname, c.relname);
			RETURN NEXT;
		END IF;
		-- (registered in the same transaction)
		n := n + 1;
		step := n; phase := 'swap'; lock_mode := NULL; run_as := NULL;
		statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
			retention, retention_action, archive_schema, lock_timeout, retries);
		RETURN NEXT;
		-- foreign keys a conversion re-pointed and could not validate yet
		-- (its finish step failed or was killed)
		FOR r IN
			SELECT con.conname, con.conrelid::regclass AS src
			FROM pg_constraint con
			WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
			  AND NOT con.convalidated
			  AND obj_description(con.oid, 'pg_constraint') = 'scale_advisor: validate after partitioning'
			ORDER BY con.conrelid::regclass::text, con.conname
		LOOP
			n := n + 1; step := n; phase := 'finish'; lock_mode := 'SHARE UPDATE EXCLUSIVE'; run_as := r.src;
			statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
			RETURN NEXT;
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
			RETURN NEXT;
		END LOOP;
		RETURN;
	END IF;

	-- the historical range ends at boundary
	SELECT con.oid, con.convalidated, obj_description(con.oid, 'pg_constraint')
	INTO conoid, convalid, def
	FROM pg_constraint con
	WHERE con.conrelid = relation AND con.conname = 'sa_partition_bound' AND con.contype = 'c';
	IF conoid IS NOT NULL THEN
		IF def IS NULL OR def NOT LIKE 'scale_advisor partition boundary: %' THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('%s has a constraint named sa_partition_bound that scale_advisor did not create', relation);
		END IF;
		b_lit := substr(def, length('scale_advisor partition boundary: ') + 1);
		boundary := @extschema@._pt_to_num(typ, b_lit);
	ELSE
		-- read as the owner (src/run_as.c), like every statement on the table
		b_lit := @extschema@._owner_exec(relation,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM ONLY %s', column_name, qt)) ->> 'v';
		mx := @extschema@._pt_to_num(typ, b_lit);
		IF v_kind = 'time' THEN
			-- rows keep arriving during the conversion: leave a quarter
			-- interval (at least an hour) of room after now()
			margin := greatest(extract(epoch FROM part_interval::interval) / 4, 3600);
			mx := greatest(coalesce(mx, 0), extract(epoch FROM now()) + margin);
		ELSE
			mx := coalesce(mx, 0);
			FOR sq IN
				SELECT s.seqrelid FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
				WHERE d.refobjid = relation AND d.refobjsubid = att.attnum
				  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			LOOP
				mx := greatest(mx, coalesce(pg_sequence_last_value(sq.seqrelid::regclass), 0));
			END LOOP;
			mx := mx + ceil(part_interval::numeric / 4);
		END IF;
		IF historical_until IS NOT NULL THEN
			x := @extschema@._pt_to_num(typ, historical_until);
			IF x <= mx THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('historical_until %L is not above the largest key the table will hold during the conversion (%s)',
									 historical_until, @extschema@._pt_from_num(typ, mx));
			END IF;
			mx := x - 1e-6;
		END IF;
		boundary := @extschema@._pt_slot(v_kind, part_interval, mx);
		IF boundary <= mx THEN
			boundary := @extschema@._pt_add(v_kind, part_interval, boundary, 1);
		END IF;
		b_lit := @extschema@._pt_from_num(typ, boundary);
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%s IS NOT NULL AND %s < %L::%s) NOT VALID',
							qt, qcol, qcol, b_lit, typ);
		RETURN NEXT;
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('COMMENT ON CONSTRAINT sa_partition_bound ON %s IS %L', qt,
							'scale_advisor partition boundary: ' || b_lit);
		RETURN NEXT;
	END IF;
	IF NOT coalesce(convalid, false) THEN
		n := n + 1;
		step := n; phase := 'validate'; lock_mode := 'SHARE UPDATE EXCLUSIVE';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT sa_partition_bound', qt);
		RETURN NEXT;
	END IF;

	-- the swap: build the new parent under a temporary name first
	tmp := @extschema@._pt_name(tbl, 'sa_new');
	qtmp := format('%I.%I', sch, tmp);
	hist := @extschema@._pt_name(tbl, 'history');
	dflt := @extschema@._pt_name(tbl, 'default');
	FOR pname IN
		SELECT x.nm FROM (VALUES (tmp), (hist), (dflt)) x(nm)
		UNION ALL
		SELECT @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval,
			@extschema@._pt_add(v_kind, part_interval, boundary, g)))
		FROM generate_series(0, premake - 1) g
	LOOP
		IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = pname AND cl.relnamespace = c.relnamespace) THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('cannot partition %s: relation %I.%I already exists', relation, sch, pname),
				HINT = 'Nothing was changed.  Rename or drop it and call again.';
		END IF;
	END LOOP;

	n := n + 1;
	step := n; phase := 'swap'; lock_mode := NULL;
	statement := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%s)',
						qtmp, qt, qcol);
	RETURN NEXT;
	-- identity columns get a new sequence with the same options; its value
	-- is taken over under the lock
	FOR r IN
		SELECT a.attname, a.attidentity, s.*, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		JOIN pg_sequence s ON s.seqrelid = d.objid
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
							qtmp, r.attname, CASE r.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
							sch, seqname, r.seqincrement, r.seqmin, r.seqmax,
							r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
		RETURN NEXT;
	END LOOP;
	-- check constraints (ours stays on the old table)
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def, obj_description(con.oid, 'pg_constraint') AS cmt
		FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.conname <> 'sa_partition_bound'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- indexes, primary key and unique constraints under temporary names
	k := 0;
	FOR r IN
		SELECT i.indexrelid, ic.relname AS idxname, con.oid AS conoid, con.conname,
			   pg_get_indexdef(i.indexrelid) AS idxdef, i.indisunique,
			   obj_description(i.indexrelid, 'pg_class') AS cmt
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u')
		WHERE i.indrelid = relation
		ORDER BY ic.relname
	LOOP
		k := k + 1;
		tmpidx := @extschema@._pt_name('sa' || k, r.idxname);
		n := n + 1; step := n;
		IF r.conoid IS NOT NULL THEN
			statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, tmpidx, pg_get_constraintdef(r.conoid));
		ELSE
			def := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
						  r.idxname, qt);
			IF left(r.idxdef, length(def)) <> def THEN
				RAISE EXCEPTION USING ERRCODE = 'XX000',
					MESSAGE = format('unexpected definition of index %I: %s', r.idxname, r.idxdef);
			END IF;
			statement := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
								tmpidx, qtmp) || substr(r.idxdef, length(def) + 1);
		END IF;
		RETURN NEXT;
		IF r.cmt IS NOT NULL THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON INDEX %I.%I IS %L', sch, tmpidx, r.cmt);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- foreign keys to other tables
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con WHERE con.conrelid = relation AND con.contype = 'f'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- comment and privileges
	IF obj_description(relation, 'pg_class') IS NOT NULL THEN
		n := n + 1; step := n;
		statement := format('COMMENT ON TABLE %s IS %L', qtmp, obj_description(relation, 'pg_class'));
		RETURN NEXT;
	END IF;
	FOR r IN
		SELECT a.privilege_type, a.grantee, a.is_grantable
		FROM aclexplode(c.relacl) a
		WHERE a.grantee <> c.relowner
		ORDER BY a.grantee, a.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s ON %s TO %s%s', r.privilege_type, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	FOR r IN
		SELECT a.attname, x.privilege_type, x.grantee, x.is_grantable
		FROM pg_attribute a, aclexplode(a.attacl) x
		WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		ORDER BY a.attnum, x.grantee, x.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	-- future partitions and the default partition (empty, attached to a
	-- parent nobody uses yet)
	FOR k IN 0 .. premake - 1 LOOP
		x := @extschema@._pt_add(v_kind, part_interval, boundary, k);
		pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval, x));
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', sch, pname, qtmp,
							@extschema@._pt_from_num(typ, x),
							@extschema@._pt_from_num(typ, @extschema@._pt_add(v_kind, part_interval, x, 1)));
		RETURN NEXT;
	END LOOP;
	IF default_partition THEN
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', sch, dflt, qtmp);
		RETURN NEXT;
	END IF;

	-- from here on the old table is locked
	n := n + 1; step := n; lock_mode := 'ACCESS EXCLUSIVE';
	statement := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', qt);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qt, hist);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qtmp, tbl);
	RETURN NEXT;
	-- identity: take over the sequence position, drop the old identity and
	-- give the new sequence the old name
	FOR r IN
		SELECT a.attname, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('SELECT pg_catalog.to_jsonb(pg_catalog.setval(%L, s.last_value, s.is_called)) FROM %s s',
							format('%I.%I', sch, seqname), r.oldseq);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %I.%I ALTER COLUMN %I DROP IDENTITY', sch, hist, r.attname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %I.%I RENAME TO %I', sch, seqname,
							(parse_ident(r.oldseq))[array_upper(parse_ident(r.oldseq), 1)]);
		RETURN NEXT;
	END LOOP;
	-- sequences owned by columns (serial): the new parent owns them now
	FOR r IN
		SELECT a.attname, d.objid::regclass AS seq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		WHERE a.attrelid = relation AND a.attidentity = '' ORDER BY a.attnum
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, qt, r.attname);
		RETURN NEXT;
	END LOOP;
	-- triggers move to the parent, which clones row triggers to every
	-- partition, the historical one included
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := format('DROP TRIGGER %I ON %I.%I', r.tgname, sch, hist);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (MINVALUE) TO (%L)', qt, sch, hist, b_lit);
	RETURN NEXT;
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := r.def;
		RETURN NEXT;
		IF r.tgenabled <> 'O' THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %s %s TRIGGER %I', qt,
								CASE r.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
								ELSE 'ENABLE ALWAYS' END, r.tgname);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- index names: the parent's indexes take the original names
	k := 0;
	FOR r IN
		SELECT ic.relname AS idxname
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = relation ORDER BY ic.relname
	LOOP
		k := k + 1;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, r.idxname,
							@extschema@._pt_name(hist, CASE WHEN left(r.idxname, length(tbl) + 1) = tbl || '_'
								THEN substr(r.idxname, length(tbl) + 2) ELSE r.idxname END));
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, @extschema@._pt_name('sa' || k, r.idxname), r.idxname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %I.%I DROP CONSTRAINT sa_partition_bound', sch, hist);
	RETURN NEXT;
	-- foreign keys that reference the table: re-pointed to the parent, NOT
	-- VALID here and validated after the lock is gone
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def,
			   con.convalidated
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		-- as the owner of the referencing table
		run_as := r.src;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s DROP CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', r.src, r.conname, r.def,
							CASE WHEN r.def LIKE '% NOT VALID' THEN '' ELSE ' NOT VALID' END);
		RETURN NEXT;
		-- marked until finish has validated it, so that a later call finds
		-- it if finish does not get there
		IF r.convalidated THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON CONSTRAINT %I ON %s IS %L', r.conname, r.src,
								'scale_advisor: validate after partitioning');
			RETURN NEXT;
		END IF;
	END LOOP;
	-- registered in the transaction of the swap: a partitioned table is
	-- never left without its set, whatever happens after
	n := n + 1; step := n; run_as := NULL;
	statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
		retention, retention_action, archive_schema, lock_timeout, retries);
	RETURN NEXT;
	run_as := relation;

	-- after the lock
	lock_mode := 'SHARE UPDATE EXCLUSIVE';
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0 AND con.convalidated
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n; phase := 'finish'; run_as := r.src;
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('COMMENT ON CONSTRAINT %I ON %s IS NULL', r.conname, r.src);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n; phase := 'finish'; run_as := relation;
	statement := format('ANALYZE %s', qt);
	RETURN NEXT;
END
$$;

CREATE FUNCTION @extschema@._pt_register_sql(sch name, tbl name, col name, part_interval text,
	premake integer, retention text, retention_action text, archive_schema name,
	lock_timeout interval, retries integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('INSERT INTO @extschema@.partition_sets (parent_schema, parent_table, control_column, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, ddl_retries) VALUES (%L, %L, %L, %L, %s, %L, %L, %L, %L, %s) ON CONFLICT (parent_schema, parent_table) DO UPDATE SET control_column = excluded.control_column, part_interval = excluded.part_interval, premake = excluded.premake, retention = excluded.retention, retention_action = excluded.retention_action, archive_schema = excluded.archive_schema, lock_timeout = excluded.lock_timeout, ddl_retries = excluded.ddl_retries, enabled = true',
	sch, tbl, col, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, retries)
$$;

-- Run statements in one subtransaction under lock_timeout, each as the
-- owner of the table run_as names at the same position (_owner_exec), or
-- as the caller where it is NULL (only our own configuration rows).  A
-- statement that is a LOCK TABLE starts the exclusive part: after it the
-- table's fingerprint must still be the planned one, and the time from
-- there to the end is returned as lock_ms.  Errors are returned, not raised
-- (a cancel too, as 57014).
CREATE FUNCTION @extschema@._pt_run(stmts text[], run_as regclass[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	i integer;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	IF cardinality(stmts) <> coalesce(cardinality(run_as), 0) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'every statement needs the table whose owner runs it',
			HINT = 'Pass run_as with as many entries as stmts (NULL for the caller).';
	END IF;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOR i IN 1 .. coalesce(cardinality(stmts), 0) LOOP
			s := stmts[i];
			IF run_as[i] IS NULL THEN
				EXECUTE s;
			ELSE
				PERFORM @extschema@._owner_exec(run_as[i], s);
			END IF;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = '40001',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- a cancel (or statement_timeout) too: the caller must still undo what
	-- it committed before, then raise it
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;

CREATE FUNCTION @extschema@._pt_log(sch name, tbl name, action text, ok boolean, detail text,
	lock_ms double precision DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO @extschema@.partition_log (parent_schema, parent_table, action, ok, detail, exclusive_lock_ms)
VALUES (sch, tbl, action, ok, detail, lock_ms);
-- (row-level security: the caller's own rows)
DELETE FROM @extschema@.partition_log
WHERE id <= (SELECT max(id) - 10000 FROM @extschema@.partition_log);
$$;

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
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	-- every transaction this procedure opens starts here or after a COMMIT
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
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
			   AND (prepared OR err_code OPERATOR(pg_catalog.=) '23514') THEN
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
			IF ph OPERATOR(pg_catalog.=) 'validate' AND err_code OPERATOR(pg_catalog.=) '23514' THEN
				RAISE EXCEPTION USING ERRCODE = '23514',
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

-- Drop the sa_partition_bound constraint after a failed validate or swap
-- step (the caller commits the drop; it checks whether it is gone).
CREATE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = pg_catalog.format('table %s does not exist', coalesce(relation::text, 'NULL')),
			HINT = 'Name the table whose sa_partition_bound constraint is to be removed.';
	END IF;
	-- each attempt waits at most lock_timeout; keep trying for a while
	-- longer than the step that failed, as its blocker may just be ending;
	-- only a lock that could not be had is worth another try
	FOR i IN 0 .. greatest(coalesce(retries, 0), 20) LOOP
		-- (at most a second per try: while the drop waits for its lock,
		-- the application's statements queue behind it)
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   ARRAY[relation], least(coalesce(lock_timeout, interval '1s'), interval '1s'));
		EXIT WHEN res.ok OR res.err_code IS DISTINCT FROM '55P03' AND res.err_code IS DISTINCT FROM '40P01';
		PERFORM pg_sleep(least(0.1 * (i + 1), 1.0));
	END LOOP;
	-- the caller looks whether the constraint is still there and says so
END
$$;

---------------------------------------------------------------------------
-- Maintenance
---------------------------------------------------------------------------

-- What a set needs now: 'create' a partition for [lo, hi) (moving rows
-- of that range out of the default partition), 'retire' a partition past
-- retention.  Ranges are clipped to the gaps between existing partitions.
CREATE TYPE @extschema@._pm_task AS (action text, lo numeric, hi numeric, part oid);

CREATE FUNCTION @extschema@._pm_tasks(sch name, tbl name)
RETURNS TABLE (action text, lo numeric, hi numeric, part oid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	cur numeric;
	lit text;
	target numeric;
	x numeric;
	dpart regclass;
	slots numeric[] := '{}';
	top numeric;
	cutoff numeric;
	r record;
	a numeric;
	b numeric;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := @extschema@._pt_rel(sch, tbl);
	IF parent IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('table %I.%I does not exist', sch, tbl);
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;

	-- the slot of "now": for time keys the clock, for integer keys the
	-- largest key value
	IF v_kind = 'time' THEN
		cur := extract(epoch FROM now());
	ELSE
		lit := @extschema@._owner_exec(parent,
			format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
		cur := coalesce(@extschema@._pt_to_num(typ, lit), 0);
	END IF;
	cur := @extschema@._pt_slot(v_kind, s.part_interval, cur);
	target := @extschema@._pt_add(v_kind, s.part_interval, cur, s.premake + 1);
	-- premake: slots from the top of the existing partitions or from now
	SELECT max(p.hi) INTO top FROM @extschema@._pt_partitions(parent) p WHERE NOT p.is_default;
	-- (never behind the present: past slots get a partition only when rows
	-- for them wait in the default partition)
	x := CASE WHEN top IS NULL THEN cur ELSE greatest(cur, @extschema@._pt_slot(v_kind, s.part_interval, top)) END;
	WHILE x < target LOOP
		slots := slots || x;
		x := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
	END LOOP;
	-- slots of rows waiting in the default partition
	IF dpart IS NOT NULL AND s.move_default_rows THEN
		FOR r IN
			SELECT x.v FROM jsonb_array_elements_text(@extschema@._owner_exec(dpart,
				format('SELECT coalesce(jsonb_agg(v), ''[]'') FROM (SELECT DISTINCT %I::text AS v FROM ONLY %s WHERE %I IS NOT NULL LIMIT 1000) d',
					   s.control_column, dpart, s.control_column))) x(v)
		LOOP
			x := @extschema@._pt_slot(v_kind, s.part_interval, @extschema@._pt_to_num(typ, r.v));
			IF NOT x = ANY (slots) THEN
				slots := slots || x;
			END IF;
		END LOOP;
	END IF;
	FOR x IN SELECT DISTINCT u FROM unnest(slots) u ORDER BY u LOOP
		a := x;
		b := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
		-- clip to the gap: skip when covered
		SELECT max(coalesce(p.hi, 1e30)) INTO top FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND coalesce(p.lo, -1e30) <= a AND coalesce(p.hi, 1e30) > a;
		IF top IS NOT NULL THEN
			IF top >= b THEN
				CONTINUE;
			END IF;
			a := top;
		END IF;
		SELECT least(b, min(p.lo)) INTO b FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND p.lo > a AND p.lo < b;
		b := coalesce(b, @extschema@._pt_add(v_kind, s.part_interval, x, 1));
		action := 'create'; lo := a; hi := b; part := NULL;
		RETURN NEXT;
	END LOOP;

	-- retention
	IF s.retention IS NOT NULL THEN
		IF v_kind = 'time' THEN
			cutoff := extract(epoch FROM (now() AT TIME ZONE 'UTC') - s.retention::interval);
		ELSE
			lit := @extschema@._owner_exec(parent,
				format('SELECT jsonb_build_object(''v'', max(%I)::text) FROM %s', s.control_column, parent)) ->> 'v';
			cutoff := coalesce(@extschema@._pt_to_num(typ, lit), 0) - s.retention::numeric;
		END IF;
		FOR r IN
			SELECT p.part, p.lo, p.hi FROM @extschema@._pt_partitions(parent) p
			WHERE NOT p.is_default AND p.hi IS NOT NULL AND p.hi <= cutoff
			ORDER BY p.hi
		LOOP
			action := 'retire'; lo := r.lo; hi := r.hi; part := r.part;
			RETURN NEXT;
		END LOOP;
	END IF;
	-- partitions an earlier run detached for the archiving helper and did
	-- not empty (it was stopped or killed): handed to it again
	IF s.retention_action = 'archive' THEN
		FOR r IN
			SELECT c.oid FROM pg_class c
			JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
			WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = parent)
			  AND c.relkind = 'r' AND NOT c.relispartition
			  AND d.description = @extschema@._pm_pending_comment(sch, tbl)
			ORDER BY c.relname
		LOOP
			action := 'archive'; lo := NULL; hi := NULL; part := r.oid;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Create the partition [lo, hi) of a set without ACCESS EXCLUSIVE on the
-- parent: a standalone table with a CHECK constraint, the rows of that
-- range moved out of the default partition, then ATTACH (SHARE UPDATE
-- EXCLUSIVE on the parent).  Every statement runs as the parent's owner
-- (so the partition is the owner's, and the owner's triggers, constraints
-- and index expressions run with the owner's rights).  One transaction;
-- errors are returned.
CREATE FUNCTION @extschema@._pm_create(sch name, tbl name, lo numeric, hi numeric,
	OUT ok boolean, OUT err_code text, OUT message text, OUT moved bigint, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	dpart regclass;
	pname name;
	q text;
	lo_lit text;
	hi_lit text;
	cols text;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	moved := 0;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;
	pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, s.part_interval, lo));
	part_name := format('%I.%I', sch, pname);
	q := part_name;
	lo_lit := @extschema@._pt_from_num(typ, lo);
	hi_lit := @extschema@._pt_from_num(typ, hi);
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF to_regclass(q) IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('relation %s already exists but is not a partition of %s', q, parent);
		END IF;
		st := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', q, parent);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%I IS NOT NULL AND %I >= %L::%s AND %I < %L::%s)',
					 q, s.control_column, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ);
		PERFORM @extschema@._owner_exec(parent, st);
		-- the parent's lock first (the one ATTACH takes): while it cannot
		-- be had, nothing else is held, and nobody waits on us
		st := format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
		PERFORM @extschema@._owner_exec(parent, st);
		IF dpart IS NOT NULL THEN
			-- writers that would land in the default partition wait for this
			-- transaction; readers do not
			st := format('LOCK TABLE %s IN EXCLUSIVE MODE', dpart);
			PERFORM @extschema@._owner_exec(parent, st);
			st := format('WITH m AS (DELETE FROM ONLY %s WHERE %I >= %L::%s AND %I < %L::%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM m',
						 dpart, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ, cols, q, cols, cols);
			moved := (@extschema@._owner_exec(parent, st) ->> 'processed')::bigint;
		END IF;
		st := format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', parent, q, lo_lit, hi_lit);
		PERFORM @extschema@._owner_exec(parent, st);
		st := format('ALTER TABLE %s DROP CONSTRAINT sa_partition_bound', q);
		PERFORM @extschema@._owner_exec(parent, st);
		PERFORM set_config('lock_timeout', old_timeout, true);
	-- (a cancel too: the run records it before it stops)
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		moved := 0;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- The comment of a partition detached for the archiving helper and not
-- yet emptied by it (retention_action archive).
CREATE FUNCTION @extschema@._pm_pending_comment(sch name, tbl name)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('scale_advisor: detached from %I.%I for archiving', sch, tbl)
$$;

-- Detach a partition past retention, then drop it or move it to the
-- archive schema as the set says, as the parent's owner (a partition owned
-- by another role cannot be dropped or moved: the whole step fails).  One
-- transaction; errors are returned.
CREATE FUNCTION @extschema@._pm_retire(sch name, tbl name, part oid,
	OUT ok boolean, OUT err_code text, OUT message text, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	part_name := part::regclass::text;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF (SELECT relowner FROM pg_class WHERE oid = part)
			<> (SELECT relowner FROM pg_class WHERE oid = parent) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('partition %s is not owned by the owner of %s; it is left attached', part::regclass, parent),
				HINT = 'Retire it by hand, or give it to the owner of the partitioned table.';
		END IF;
		st := format('ALTER TABLE %s DETACH PARTITION %s', parent, part::regclass);
		PERFORM @extschema@._owner_exec(parent, st);
		IF s.retention_action = 'archive' THEN
			-- in the same transaction: a detached partition whose rows the
			-- archiving helper has not taken yet is found again by the
			-- next run, whatever stops this one
			st := format('COMMENT ON TABLE %s IS %L', part::regclass, @extschema@._pm_pending_comment(sch, tbl));
			PERFORM @extschema@._owner_exec(parent, st);
		END IF;
		IF s.retention_action = 'drop' THEN
			st := format('DROP TABLE %s', part::regclass);
			PERFORM @extschema@._owner_exec(parent, st);
		ELSIF s.retention_action = 'archive_schema' THEN
			st := format('ALTER TABLE %s SET SCHEMA %I', part::regclass, s.archive_schema);
			PERFORM @extschema@._owner_exec(parent, st);
			part_name := part::regclass::text;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others OR query_canceled THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Record the start or the end of a set's maintenance.
CREATE FUNCTION @extschema@._pm_state(sch name, tbl name, started boolean, err text,
	created integer DEFAULT 0, retired integer DEFAULT 0, moved bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dpart regclass;
	remaining bigint;
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	IF started THEN
		-- (maintain_partitions claims the set with _pm_claim instead)
		UPDATE @extschema@.partition_set_state
		SET last_started = clock_timestamp()
		WHERE parent_schema = sch AND parent_table = tbl;
		RETURN;
	END IF;
	IF @extschema@._pt_rel(sch, tbl) IS NOT NULL THEN
		SELECT p.part::regclass INTO dpart
		FROM @extschema@._pt_partitions(format('%I.%I', sch, tbl)::regclass) p WHERE p.is_default;
	END IF;
	IF dpart IS NOT NULL THEN
		remaining := (@extschema@._owner_exec(dpart,
			format('SELECT jsonb_build_object(''n'', count(*)) FROM (SELECT 1 FROM ONLY %s LIMIT 10000000) x', dpart)) ->> 'n')::bigint;
		IF remaining > 0 THEN
			RAISE WARNING '% rows are in the default partition % of %.%', remaining, dpart, sch, tbl
				USING HINT = 'Maintenance moves rows whose key is set into new partitions; rows with a NULL key stay there.';
		END IF;
	END IF;
	UPDATE @extschema@.partition_set_state
	SET last_finished = clock_timestamp(),
		last_success = CASE WHEN err IS NULL THEN clock_timestamp() ELSE last_success END,
		last_error = CASE WHEN err IS NULL THEN last_error ELSE err END,
		last_error_at = CASE WHEN err IS NULL THEN last_error_at ELSE clock_timestamp() END,
		consecutive_failures = CASE WHEN err IS NULL THEN 0 ELSE consecutive_failures + 1 END,
		partitions_created = partitions_created + created,
		partitions_retired = partitions_retired + retired,
		default_rows_moved = default_rows_moved + moved,
		default_rows_remaining = remaining,
		running_pid = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_pid END,
		running_backend_start = CASE WHEN running_pid = pg_backend_pid() THEN NULL ELSE running_backend_start END
	WHERE parent_schema = sch AND parent_table = tbl;
END
$$;

-- The sets a maintenance run covers, checked: an error for a set that
-- does not exist, is not partitioned, or lost its column.
CREATE FUNCTION @extschema@._pm_sets(parent regclass)
RETURNS TABLE (parent_schema name, parent_table name, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass;
BEGIN
	IF parent IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM @extschema@.partition_sets ps JOIN pg_class c ON c.relname = ps.parent_table
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ps.parent_schema
		WHERE c.oid = parent) THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('%s is not in scale_advisor.partition_sets', parent),
			HINT = 'Register it with scale_advisor.partition_table.';
	END IF;
	FOR s IN
		SELECT ps.* FROM @extschema@.partition_sets ps
		WHERE ps.enabled
		ORDER BY ps.parent_schema, ps.parent_table
	LOOP
		rel := @extschema@._pt_rel(s.parent_schema, s.parent_table);
		CONTINUE WHEN parent IS NOT NULL AND rel IS DISTINCT FROM parent;
		parent_schema := s.parent_schema;
		parent_table := s.parent_table;
		problem := NULL;
		IF rel IS NULL THEN
			problem := format('table %I.%I does not exist', s.parent_schema, s.parent_table);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
						  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
						  WHERE pt.partrelid = rel AND pt.partstrat = 'r' AND a.attname = s.control_column) THEN
			problem := format('%s is not range-partitioned on column %I', rel, s.control_column);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- The tasks of a set, or the error that stopped planning them.
CREATE FUNCTION @extschema@._pm_plan(sch name, tbl name,
	OUT tasks @extschema@._pm_task[], OUT err text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	tasks := ARRAY(SELECT ROW(x.action, x.lo, x.hi, x.part)::@extschema@._pm_task
				   FROM @extschema@._pm_tasks(sch, tbl) x);
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
	tasks := '{}';
END
$$;

-- NULL when the archiving helper accepts the partition (its dry run
-- passes), else its error: the real run raises errors that would end the
-- maintenance run, and cannot be caught where it commits.
CREATE FUNCTION @extschema@._pm_archive_check(part_name text, col name, retention text,
	target text, batch_size integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	CALL @extschema@.archive(relation => part_name::regclass, time_column => col,
		older_than => retention::interval, target => @extschema@._pt_target(target),
		batch_size => batch_size, dry_run => true,
		run_id => r, rows_moved => n, status => st);
	RETURN NULL;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
	RETURN msg;
END
$$;

-- Drop a detached partition that the archiving helper emptied.
CREATE FUNCTION @extschema@._pm_drop_if_empty(part_name text, lock_timeout interval,
	OUT ok boolean, OUT message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(part_name);
	left_rows boolean;
	res record;
BEGIN
	ok := true;
	IF rel IS NULL THEN
		message := format('%s handed to scale_advisor.archive', part_name);
		RETURN;
	END IF;
	left_rows := (@extschema@._owner_exec(rel,
		format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s))', rel)) #>> '{}')::boolean;
	IF left_rows THEN
		ok := false;
		message := format('%s handed to scale_advisor.archive; rows are left in it, so it stays (detached)', part_name);
		RETURN;
	END IF;
	res := @extschema@._pt_run(ARRAY[format('DROP TABLE %s', rel)], ARRAY[rel], lock_timeout);
	ok := res.ok;
	message := CASE WHEN res.ok THEN format('%s handed to scale_advisor.archive, then dropped (empty)', part_name)
		ELSE format('%s handed to scale_advisor.archive; dropping it failed: %s', part_name, res.message) END;
END
$$;

-- Claim a set for this session's maintenance run: NULL when claimed, else
-- who holds it.  The claim is the set's partition_set_state row (its
-- running_pid), which only roles that may write that row can set, unlike
-- an advisory lock, which any role can take.  A claim whose session has
-- gone, or is not running a statement, is stale and taken over; the run it
-- belonged to did not finish (killed, cancelled or failed where it could
-- not record it), which is recorded as a failure of the set and logged.
CREATE FUNCTION @extschema@._pm_claim(sch name, tbl name, wait interval)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st record;
	act record;
	msg text;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM wait) * 1000)::bigint::text, true);
		SELECT s.running_pid, s.running_backend_start, s.last_started INTO st
		FROM @extschema@.partition_set_state s
		WHERE s.parent_schema = sch AND s.parent_table = tbl
		FOR UPDATE;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN lock_not_available THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		RETURN format('another transaction holds its state row (%s)', msg);
	END;
	IF st.running_pid IS NOT NULL AND st.running_pid <> pg_backend_pid() THEN
		SELECT a.usename, a.backend_start, a.state INTO act
		FROM pg_stat_activity a WHERE a.pid = st.running_pid;
		-- (backend_start and state are NULL for a session the caller may
		-- not see in full: taken as running)
		IF FOUND AND (act.backend_start IS NULL OR act.backend_start = st.running_backend_start)
			AND coalesce(act.state, 'active') NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)') THEN
			RETURN format('process %s of role %s, started %s', st.running_pid,
						  coalesce(quote_ident(act.usename::text), '?'), st.last_started);
		END IF;
	END IF;
	IF st.running_pid IS NOT NULL THEN
		msg := format('the run of process %s started %s did not finish (its session ended, or it was cancelled or failed before it could record it)',
					  st.running_pid, st.last_started);
		UPDATE @extschema@.partition_set_state
		SET last_error = msg, last_error_at = clock_timestamp(),
			consecutive_failures = consecutive_failures + 1
		WHERE parent_schema = sch AND parent_table = tbl;
		PERFORM @extschema@._pt_log(sch, tbl, 'interrupted', false, msg);
	END IF;
	UPDATE @extschema@.partition_set_state
	SET running_pid = pg_backend_pid(),
		running_backend_start = (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()),
		last_started = clock_timestamp()
	WHERE parent_schema = sch AND parent_table = tbl;
	RETURN NULL;
END
$$;

-- Tables a conversion left its CHECK constraint sa_partition_bound on (a
-- partition_table that was killed, or a first call inside a transaction
-- block), among those the caller may maintain.
CREATE FUNCTION @extschema@._pt_leftover_bounds()
RETURNS SETOF regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT con.conrelid::regclass
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
WHERE con.conname = 'sa_partition_bound' AND con.contype = 'c'
  AND c.relkind = 'r' AND NOT c.relispartition
  AND obj_description(con.oid, 'pg_constraint') LIKE 'scale_advisor partition boundary: %'
  AND coalesce(@extschema@._may_maintain(con.conrelid::regclass), false)
ORDER BY 1::text
$$;

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
	helper boolean;
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
	retryable pg_catalog.text[] := ARRAY['55P03', '40001', '40P01'];
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
					IF t_code OPERATOR(pg_catalog.=) '57014' THEN
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
				-- set asks for it and the helper is installed
				IF a_part IS NOT NULL AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
						JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
						WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@'
						  AND p.proname OPERATOR(pg_catalog.=) 'archive'
						  AND p.prokind OPERATOR(pg_catalog.=) 'p') INTO helper;
					a_err := NULL;
					IF helper AND nonatomic THEN
						-- the target must still be the owner's (checked again:
						-- it may have changed hands since the set was made)
						a_err := @extschema@._pm_refusal(s.parent_schema, s.parent_table);
						IF a_err IS NULL THEN
							a_err := @extschema@._pm_archive_check(a_part, cfg.control_column,
								cfg.retention, cfg.archive_target, cfg.archive_batch_size);
						END IF;
					END IF;
					IF helper AND NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', a_part));
					ELSIF helper AND a_err IS NOT NULL THEN
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
					ELSIF helper THEN
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
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(a_part, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					ELSE
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive is not installed', a_part));
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

-- The upper end of the partitions of a set, as the column's type prints it.
CREATE FUNCTION @extschema@._pm_covered_until(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := @extschema@._pt_rel(sch, tbl);
	typ regtype;
BEGIN
	IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = rel) THEN
		RETURN NULL;
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_partitioned_table pt
	JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] WHERE pt.partrelid = rel;
	RETURN (SELECT @extschema@._pt_from_num(typ, max(p.hi))
			FROM @extschema@._pt_partitions(rel) p WHERE NOT p.is_default);
END
$$;

-- Is maintenance running as expected?  One row per set.
CREATE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN @extschema@._pt_rel(s.parent_schema, s.parent_table) IS NULL THEN 'table does not exist'
		 -- a run that holds the set but whose session is gone or idle was
		 -- killed or stopped before it could record its end
		 WHEN st.running_pid IS NOT NULL AND NOT EXISTS (
				SELECT 1 FROM pg_stat_activity a
				WHERE a.pid = st.running_pid AND a.backend_start IS NOT DISTINCT FROM st.running_backend_start
				  AND a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'))
			THEN format('last run was interrupted: process %s, started %s, stopped before it finished; the next run takes over',
						st.running_pid, date_trunc('second', st.last_started))
		 -- (a set restored from a dump has no state: not "ok" until a run
		 -- succeeds here, and a failure is said as such)
		 WHEN st.last_success IS NULL AND st.consecutive_failures > 0 THEN 'no run has succeeded yet; last run failed: ' || st.last_error
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'no successful run recorded (maintenance is overdue)'
		 WHEN st.last_success IS NULL THEN 'not maintained yet'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status')
-- failing sets first, then overdue ones
ORDER BY coalesce(st.consecutive_failures, 0) > 0 DESC,
	 s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every DESC,
	 s.parent_schema, s.parent_table;

---------------------------------------------------------------------------
-- Advice
---------------------------------------------------------------------------

CREATE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := pg_size_bytes(coalesce(current_setting('scale_advisor.partition_advice_min_size', true), '1GB'));
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

CREATE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice() a
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_advice')
ORDER BY a.total_bytes DESC NULLS LAST, a.relation::text;

-- For monitoring: superusers and roles with the privileges of
-- pg_read_all_stats (pg_monitor); other roles get an error naming the grant.
GRANT SELECT ON @extschema@.partition_advice,
  @extschema@.partition_maintenance_status TO PUBLIC;

REVOKE ALL ON FUNCTION @extschema@._nonatomic() FROM PUBLIC;
-- (only tells the calling procedure whether it may COMMIT: archive() and
-- unarchive(), which run with their caller's rights, need it too)
GRANT EXECUTE ON FUNCTION @extschema@._nonatomic() TO PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, boolean, text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.maintain_partitions(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_run(text[], regclass[], interval, regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_undo_bound(regclass, interval, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_create(name, name, numeric, numeric) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_retire(name, name, oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_state(name, name, boolean, text, integer, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_log(name, name, text, boolean, text, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_tasks(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_plan(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_drop_if_empty(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_archive_check(text, name, text, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_claim(name, name, interval) FROM PUBLIC;
-- (_pt_leftover_bounds, which maintain_partitions calls, only reads the
-- catalogs, and lists only tables the caller may maintain)
REVOKE ALL ON FUNCTION @extschema@._pm_refusal(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._partition_sets_check() FROM PUBLIC;
