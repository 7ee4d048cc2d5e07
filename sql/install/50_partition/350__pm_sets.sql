
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
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
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
