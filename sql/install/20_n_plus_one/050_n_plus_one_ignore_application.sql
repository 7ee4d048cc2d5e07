
-- Keep every statement of an application (a batch job that loops on
-- purpose) out of the view.
CREATE FUNCTION @extschema@.n_plus_one_ignore_application(
	application_name text,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore_application()');
	IF n_plus_one_ignore_application.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'application_name must not be null',
			HINT = 'Pass the application_name shown in scale_advisor.n_plus_one.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid IS NULL
				  AND i.application_name = n_plus_one_ignore_application.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore_application(text, text) FROM PUBLIC;
