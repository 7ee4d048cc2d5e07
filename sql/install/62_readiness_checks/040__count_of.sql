
-- Count the rows of another part's view, or NULL when it is not installed.
CREATE FUNCTION @extschema@._count_of(p_name text, p_where text DEFAULT 'true')
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF NOT @extschema@._has(p_name) THEN
		RETURN NULL;
	END IF;
	EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I WHERE %s', '@extschema@', p_name, p_where) INTO n;
	RETURN n;
END
$$;
