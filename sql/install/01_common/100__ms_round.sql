
-- A time in milliseconds rounded to what is meaningful: to the microsecond
-- (3 decimals), and to 4 significant digits above 10 seconds.
CREATE FUNCTION @extschema@._ms_round(ms double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN ms IS NULL OR ms = 'Infinity'::float8 OR ms = '-Infinity'::float8 OR ms = 'NaN'::float8 THEN ms
			WHEN abs(ms) < 10000 THEN round(ms::numeric, 3)::float8
			ELSE round(ms::numeric, 3 - floor(log(abs(ms)::numeric))::integer)::float8 END
$$;
