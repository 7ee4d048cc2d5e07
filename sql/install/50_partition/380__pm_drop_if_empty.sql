
-- Drop a detached partition that the archiving helper emptied.  A failed
-- drop is reported (ok false), but a cancel (or statement_timeout), which
-- _pt_run() returns as 57014, is raised again: the run stops.
CREATE FUNCTION @extschema@._pm_drop_if_empty(part_name text, lock_timeout interval,
	OUT ok boolean, OUT message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(part_name);
	left_rows boolean;
	res record;
BEGIN
	ok := true;
	IF rel IS NULL THEN
		message := format('%s handed to scale_advisor.archive', part_name);
		RETURN;
	END IF;
	left_rows := (@extschema@._owner_exec(rel,
		format('SELECT to_jsonb(EXISTS (SELECT 1 FROM %s))', rel)) #>> '{}')::boolean;
	IF left_rows THEN
		ok := false;
		message := format('%s handed to scale_advisor.archive; rows are left in it, so it stays (detached)', part_name);
		RETURN;
	END IF;
	res := @extschema@._pt_run(ARRAY[format('DROP TABLE %s', rel)], ARRAY[rel], lock_timeout);
	IF res.err_code = '57014' THEN	-- query_canceled
		RAISE EXCEPTION USING ERRCODE = 'query_canceled',
			MESSAGE = format('dropping %s: %s', part_name, res.message),
			HINT = 'The partition stays detached, its rows archived; the next run drops it.';
	END IF;
	ok := res.ok;
	message := CASE WHEN res.ok THEN format('%s handed to scale_advisor.archive, then dropped (empty)', part_name)
		ELSE format('%s handed to scale_advisor.archive; dropping it failed: %s', part_name, res.message) END;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_drop_if_empty(text, interval) FROM PUBLIC;
