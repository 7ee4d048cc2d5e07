
-- a number as a key literal, unquoted, independent of DateStyle/TimeZone
CREATE FUNCTION @extschema@._pt_from_num(typ regtype, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ = 'timestamptz'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'
	WHEN typ = 'timestamp'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
	WHEN typ = 'date'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
	ELSE x::text
END
$$;
