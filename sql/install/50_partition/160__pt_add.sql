
-- x plus k intervals
CREATE FUNCTION @extschema@._pt_add(kind text, part_interval text, x numeric, k integer)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE kind
	WHEN 'int' THEN x + k * part_interval::numeric
	ELSE extract(epoch FROM (to_timestamp(x) AT TIME ZONE 'UTC') + k * part_interval::interval)
END
$$;
