
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
			RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
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
REVOKE ALL ON FUNCTION @extschema@._pm_create(name, name, numeric, numeric) FROM PUBLIC;
