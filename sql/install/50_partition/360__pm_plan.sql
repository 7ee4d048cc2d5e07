
-- The tasks of a set, or the error that stopped planning them.
CREATE FUNCTION @extschema@._pm_plan(sch name, tbl name,
	OUT tasks @extschema@._pm_task[], OUT err text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	tasks := ARRAY(SELECT ROW(x.action, x.lo, x.hi, x.part)::@extschema@._pm_task
				   FROM @extschema@._pm_tasks(sch, tbl) x);
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
	tasks := '{}';
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_plan(name, name) FROM PUBLIC;
