
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
