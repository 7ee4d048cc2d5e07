
-- true when the extension schema has a relation of that name (another part
-- of scale_advisor that may not be installed yet)
CREATE FUNCTION @extschema@._has(p_name text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', '@extschema@', p_name)) IS NOT NULL $$;
