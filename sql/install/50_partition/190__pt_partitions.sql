
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
