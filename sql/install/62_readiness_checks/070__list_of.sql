
-- Rows of another part's view and a list of one of its columns (the first
-- five, and how many more), or NULLs when the view (or the column) is not
-- installed.
CREATE FUNCTION @extschema@._list_of(p_name text, p_col text, p_where text DEFAULT 'true',
									 OUT n bigint, OUT names text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._has_col(p_name, p_col) THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('SELECT count(*), %I._list(array_agg(%I::text ORDER BY %I::text), '', '') FROM %I.%I WHERE %s',
							  '@extschema@', p_col, p_col, '@extschema@', p_name, p_where)
		INTO n, names;
	names := coalesce(names, '');
END
$$;
