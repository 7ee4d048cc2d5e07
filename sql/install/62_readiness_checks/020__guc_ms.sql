
-- A duration setting ('30s', '5min', '250') in milliseconds.
CREATE FUNCTION @extschema@._guc_ms(value text)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT (m[1])::numeric * CASE lower(coalesce(nullif(m[2], ''), 'ms'))
		WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'min' THEN 60000
		WHEN 'h' THEN 3600000 WHEN 'd' THEN 86400000 END
FROM pg_catalog.regexp_match(pg_catalog.btrim(value, ' '''), '^(-?[0-9.]+)\s*([a-zA-Z]*)$') AS m
$$;
