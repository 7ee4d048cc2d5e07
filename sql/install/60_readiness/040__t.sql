
-- The value of a threshold: the user's (set_threshold), else the one its
-- 1.0 setting gives (_threshold_alias), else the default.
CREATE FUNCTION @extschema@._t(name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT t.value FROM @extschema@.thresholds t WHERE t.name = _t.name),
				@extschema@._threshold_alias(_t.name),
				(SELECT d.default_value FROM @extschema@._threshold_defaults() d WHERE d.name = _t.name))
$$;
