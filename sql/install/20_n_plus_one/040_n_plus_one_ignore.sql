
-- Keep a statement (optionally only for one application_name) out of the
-- view.
CREATE FUNCTION @extschema@.n_plus_one_ignore(
	queryid bigint,
	application_name text DEFAULT NULL,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore()');
	IF n_plus_one_ignore.queryid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'queryid must not be null',
			HINT = 'Pass the queryid shown in scale_advisor.n_plus_one, or use n_plus_one_ignore_application() to ignore an application.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid = n_plus_one_ignore.queryid
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore(bigint, text, text) FROM PUBLIC;
