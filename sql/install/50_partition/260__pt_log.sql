
CREATE FUNCTION @extschema@._pt_log(sch name, tbl name, action text, ok boolean, detail text,
	lock_ms double precision DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO @extschema@.partition_log (parent_schema, parent_table, action, ok, detail, exclusive_lock_ms)
VALUES (sch, tbl, action, ok, detail, lock_ms);
-- (row-level security: the caller's own rows)
DELETE FROM @extschema@.partition_log
WHERE id <= (SELECT max(id) - 10000 FROM @extschema@.partition_log);
$$;
REVOKE ALL ON FUNCTION @extschema@._pt_log(name, name, text, boolean, text, double precision) FROM PUBLIC;
