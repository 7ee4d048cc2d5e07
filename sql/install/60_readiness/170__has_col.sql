
-- true when relation p_name of the extension schema has column p_col
CREATE FUNCTION @extschema@._has_col(p_name text, p_col text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
			   WHERE a.attrelid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', '@extschema@', p_name))
				 AND a.attname = p_col AND a.attnum > 0 AND NOT a.attisdropped)
$$;
