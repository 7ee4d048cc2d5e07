
-- An archive target named as schema.table, or NULL when there is no such
-- table; an unqualified or malformed name is an error.
CREATE FUNCTION @extschema@._pt_target(target text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[];
BEGIN
	IF target IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		parts := parse_ident(target);
	EXCEPTION WHEN others THEN
		parts := NULL;
	END;
	IF cardinality(parts) IS DISTINCT FROM 2 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_name',
			MESSAGE = format('archive target %L is not a schema-qualified table name', target),
			HINT = 'Name the table with its schema, such as ''app.logs_archive''.';
	END IF;
	RETURN @extschema@._pt_rel(parts[1], parts[2]);
END
$$;
