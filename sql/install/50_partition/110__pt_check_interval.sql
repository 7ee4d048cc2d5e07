
-- Check a partition interval for a key kind; raises on bad input.
CREATE FUNCTION @extschema@._pt_check_interval(kind text, part_interval text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	n numeric;
BEGIN
	IF part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'partition interval must not be NULL';
	END IF;
	IF kind = 'time' THEN
		-- '180' would be read as 180 seconds: a time span needs its unit
		IF part_interval ~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('interval %L has no unit', part_interval),
				HINT = 'A number alone would be read as seconds: write the unit, such as ''90 days'' or ''1 month''.';
		END IF;
		BEGIN
			iv := part_interval::interval;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for a time column', part_interval),
				HINT = 'Give an interval such as ''1 day'', ''1 week'' or ''1 month''.';
		END;
		IF iv <= interval '0' OR iv < interval '1 minute' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('partition interval %L is too small', part_interval),
				HINT = 'Give an interval of at least one minute.';
		END IF;
		IF (extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0)
			AND iv <> make_interval(years => extract(year FROM iv)::integer,
									months => extract(month FROM iv)::integer) THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('partition interval %L mixes months with days or hours', part_interval),
				HINT = 'Use whole months (''1 month'', ''3 months'', ''1 year'') or a fixed length (''1 day'', ''7 days'', ''6 hours'').';
		END IF;
	ELSE
		BEGIN
			n := part_interval::numeric;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give the number of key values per partition, such as ''1000000''.';
		END;
		IF n <= 0 OR n <> trunc(n) OR n > 9223372036854775807 THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give a positive whole number of key values per partition.';
		END IF;
	END IF;
END
$$;
