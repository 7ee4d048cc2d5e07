
-- The one rule of a slow statement (slow_queries, the checklist's
-- slow_statements, the statement alerts and capacity() use it): an
-- application statement (_app_statement) that ran at least
-- slow_statement_min_calls times with a p95 over slow_statement_ms.
CREATE FUNCTION @extschema@._is_slow(p_query text, p_calls bigint, p_p95_ms double precision)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p_calls >= @extschema@._t('slow_statement_min_calls')
	   AND p_p95_ms > @extschema@._t('slow_statement_ms')
	   AND @extschema@._app_statement(p_query)
$$;
