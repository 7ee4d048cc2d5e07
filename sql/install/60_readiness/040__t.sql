
-- The value of a threshold: the user's, or the default.
CREATE FUNCTION @extschema@._t(p_name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT t.value FROM @extschema@.thresholds t WHERE t.name = p_name),
				(SELECT d.default_value FROM @extschema@._threshold_defaults() d WHERE d.name = p_name))
$$;
