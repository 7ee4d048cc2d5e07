
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
