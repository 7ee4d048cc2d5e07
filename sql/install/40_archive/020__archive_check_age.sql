
-- Refuse an archiving age under 1 hour: interval input reads a bare number
-- as seconds ('90' is 90 seconds), so such an age is almost surely a
-- missing unit, and archiving rows younger than an hour is not archiving.
CREATE FUNCTION @extschema@._archive_check_age(older_than interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF older_than < interval '1 hour' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN older_than <= interval '0'
						THEN format('older_than must be positive, not %s', older_than)
						ELSE format('older_than %s is less than 1 hour', older_than) END,
			HINT = 'A number without a unit is read as seconds: write the age with its unit, such as ''90 days''.';
	END IF;
END $$;
