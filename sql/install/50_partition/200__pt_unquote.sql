
-- one bound value from pg_get_expr: NULL for MINVALUE/MAXVALUE
CREATE FUNCTION @extschema@._pt_unquote(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL OR v IN ('MINVALUE', 'MAXVALUE') THEN NULL
	WHEN left(v, 1) = '''' THEN replace(substr(v, 2, length(v) - 2), '''''', '''')
	ELSE v
END
$$;
