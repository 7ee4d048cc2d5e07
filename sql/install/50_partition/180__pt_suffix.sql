
-- partition name suffix for the slot that starts at x
CREATE FUNCTION @extschema@._pt_suffix(kind text, part_interval text, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT 'p' || CASE
	WHEN kind = 'int' THEN replace(x::text, '-', 'm')
	WHEN extract(year FROM part_interval::interval) <> 0 OR extract(month FROM part_interval::interval) <> 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMM')
	WHEN part_interval::interval >= interval '1 day' AND mod(x, 86400) = 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD')
	ELSE to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI')
END
$$;
