
-- A time in milliseconds as a person reads it: '850 us', '12.3 ms',
-- '4.56 s', '2.1 min', '3.5 h' (three significant digits at most).
CREATE FUNCTION @extschema@._ms_pretty(ms double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL THEN NULL
			WHEN ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms::text
			WHEN abs(ms) < 1 THEN trim_scale(round((ms * 1000)::numeric, greatest(0, 2 - floor(log(greatest(abs(ms) * 1000, 1e-9)::numeric))::integer))) || ' us'
			WHEN abs(ms) < 1000 THEN trim_scale(round(ms::numeric, greatest(0, 2 - floor(log(abs(ms)::numeric))::integer))) || ' ms'
			WHEN abs(ms) < 60000 THEN trim_scale(round((ms / 1000)::numeric, greatest(0, 2 - floor(log(abs(ms / 1000)::numeric))::integer))) || ' s'
			WHEN abs(ms) < 3600000 THEN trim_scale(round((ms / 60000)::numeric, 1)) || ' min'
			ELSE trim_scale(round((ms / 3600000)::numeric, 1)) || ' h' END
$$;
