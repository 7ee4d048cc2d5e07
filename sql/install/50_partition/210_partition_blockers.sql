
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
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'relation and column must not be NULL';
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
