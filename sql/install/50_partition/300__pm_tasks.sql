
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
		RAISE EXCEPTION USING ERRCODE = 'undefined_table', MESSAGE = format('table %I.%I does not exist', sch, tbl);
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
REVOKE ALL ON FUNCTION @extschema@._pm_tasks(name, name) FROM PUBLIC;
