
-- Check a retention for a key kind and retention action; raises on bad
-- input.  A time retention is at least 1 hour, and at least 1 day when
-- past partitions are dropped (no shorter retention is plausible, and a
-- bare number read as seconds would drop data at once).
CREATE FUNCTION @extschema@._pt_check_retention(kind text, retention text, action text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	minimum text := CASE WHEN action = 'drop' THEN '1 day' ELSE '1 hour' END;
BEGIN
	IF retention IS NULL THEN
		RETURN;
	END IF;
	PERFORM @extschema@._pt_check_interval(kind, retention);
	IF kind = 'time' AND retention::interval < minimum::interval THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('retention %L is shorter than %s', retention, minimum),
			HINT = format('With retention_action %s the retention must be at least %s, such as ''90 days''.',
						  coalesce(action, 'detach'), minimum);
	END IF;
END
$$;
