
-- The value a threshold gets from the server setting that was its name in
-- 1.0, or NULL when that setting is not set (-1, its default): the setting
-- scale_advisor.slow_query_ms (ms) for slow_statement_ms, and
-- scale_advisor.partition_advice_min_size (MB) for partition_min_bytes.
-- A value given with set_threshold() takes precedence (_t), and the
-- threshold's default is written once, in _threshold_defaults().
CREATE FUNCTION @extschema@._threshold_alias(name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN s.v >= 0 THEN s.v END
FROM (SELECT CASE _threshold_alias.name
			 WHEN 'slow_statement_ms'
			 THEN pg_catalog.current_setting('scale_advisor.slow_query_ms', true)::numeric
			 WHEN 'partition_min_bytes'
			 THEN pg_catalog.pg_size_bytes(pg_catalog.current_setting('scale_advisor.partition_advice_min_size', true))::numeric
			 END AS v) s
$$;
