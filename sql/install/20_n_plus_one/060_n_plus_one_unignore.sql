
-- Undo n_plus_one_ignore / n_plus_one_ignore_application; returns the number
-- of entries removed.
CREATE FUNCTION @extschema@.n_plus_one_unignore(
	queryid bigint DEFAULT NULL,
	application_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_unignore()');
	IF n_plus_one_unignore.queryid IS NULL
	   AND n_plus_one_unignore.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'queryid and application_name must not both be null',
			HINT = 'Pass the queryid, the application_name, or both, as given to n_plus_one_ignore.';
	END IF;
	DELETE FROM @extschema@.n_plus_one_ignore_list AS i
	 WHERE i.queryid IS NOT DISTINCT FROM n_plus_one_unignore.queryid
	   AND i.application_name IS NOT DISTINCT FROM n_plus_one_unignore.application_name;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_unignore(bigint, text) FROM PUBLIC;
