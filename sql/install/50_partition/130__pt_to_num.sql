
-- a key literal (as the column's type prints it) as a number
CREATE FUNCTION @extschema@._pt_to_num(typ regtype, lit text)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN lit IS NULL THEN NULL
	WHEN typ = 'timestamptz'::regtype THEN extract(epoch FROM lit::timestamptz)
	WHEN typ = 'timestamp'::regtype THEN extract(epoch FROM lit::timestamp)
	WHEN typ = 'date'::regtype THEN extract(epoch FROM lit::date::timestamp)
	ELSE lit::numeric
END
$$;
