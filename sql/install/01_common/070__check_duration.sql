
-- Refuse a duration argument (or policy column) outside [lo, hi] (hi NULL:
-- no upper bound), or NULL unless nullable.  An interval reads a number
-- without a unit as seconds ('500' is 500 seconds, where lock_timeout = 500
-- in postgresql.conf means milliseconds), and once it is an interval the
-- unit can no longer be told apart: the bounds are set so that the usual
-- slips land outside them, and the hint names the unit.  why, when given,
-- is the DETAIL: what a value out of bounds would do.
CREATE FUNCTION @extschema@._check_duration(arg text, v interval, lo interval, hi interval,
	nullable boolean DEFAULT false, example text DEFAULT '2s', why text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	hint text := format('A number without a unit is read as seconds (%s => ''500'' is 500 seconds, not milliseconds as in postgresql.conf): write the unit, such as ''%s''.',
						arg, example);
BEGIN
	IF v IS NULL THEN
		IF nullable THEN
			RETURN;
		END IF;
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = format('%s must not be NULL', arg),
			HINT = format('Give %s with its unit, such as ''%s''.', arg, example);
	END IF;
	IF v < lo THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN lo <= interval '0' THEN format('%s must not be negative, not %s', arg, @extschema@._duration_text(v))
						   WHEN v <= interval '0' THEN format('%s must be positive, not %s', arg, @extschema@._duration_text(v))
						   ELSE format('%s of %s is shorter than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(lo)) END,
			DETAIL = why, HINT = hint;
	END IF;
	IF v > hi THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('%s of %s is longer than %s', arg, @extschema@._duration_text(v), @extschema@._duration_text(hi)),
			DETAIL = why, HINT = hint;
	END IF;
END
$$;
