
-- Set a threshold (NULL value: back to the default).
CREATE FUNCTION @extschema@.set_threshold(p_name text, p_value numeric)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('set_threshold()');
	IF p_name IS NULL OR NOT @extschema@._threshold_known(p_name) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown threshold %L', p_name),
			HINT = 'SELECT name FROM scale_advisor.threshold_settings lists the thresholds.';
	END IF;
	IF p_value IS NULL THEN
		DELETE FROM @extschema@.thresholds WHERE name = p_name;
	ELSIF p_value < 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('threshold %s must not be negative', p_name),
			HINT = 'Use 0 or a positive number.';
	ELSIF p_value IN ('NaN'::numeric, 'Infinity'::numeric) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('threshold %s must be a finite number, not %s', p_name, p_value),
			HINT = 'Use 0 or a positive number.';
	ELSE
		INSERT INTO @extschema@.thresholds (name, value) VALUES (p_name, p_value)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = pg_catalog.now();
	END IF;
	RETURN @extschema@._t(p_name);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.set_threshold(text, numeric) FROM PUBLIC;
