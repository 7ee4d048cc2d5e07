
-- A duration given as an interval, for a message: '500 ms', '2 s', '5 min',
-- or the interval's own text from an hour up.
CREATE FUNCTION @extschema@._duration_text(v interval)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL THEN 'NULL'
	WHEN v >= interval '1 hour' OR v <= interval '-1 hour' THEN v::text
	WHEN abs(extract(epoch FROM v)) < 1 THEN round(extract(epoch FROM v) * 1000, 3)::float8 || ' ms'
	WHEN abs(extract(epoch FROM v)) >= 60 AND mod(extract(epoch FROM v), 60) = 0
		THEN (extract(epoch FROM v) / 60)::float8 || ' min'
	ELSE round(extract(epoch FROM v), 3)::float8 || ' s'
END
$$;
