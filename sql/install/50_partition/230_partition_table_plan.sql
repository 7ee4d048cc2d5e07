
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
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_schema_name', MESSAGE = format('schema %I does not exist', archive_schema);
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
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	PERFORM @extschema@._pt_check_retention(v_kind, retention, retention_action);
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
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
				RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
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
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
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
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
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
			RAISE EXCEPTION USING ERRCODE = 'duplicate_table',
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
				RAISE EXCEPTION USING ERRCODE = 'internal_error',
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
