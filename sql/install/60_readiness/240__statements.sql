
CREATE FUNCTION @extschema@._statements()
RETURNS SETOF @extschema@._statement
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
		SELECT q.dbid, q.userid, q.queryid, q.query, q.calls::bigint, q.errors::bigint,
			   q.rows::bigint, q.total_exec_ms::float8, q.mean_exec_ms::float8,
			   q.p95_ms::float8, q.max_exec_ms::float8, q.first_seen, q.last_seen
		FROM @extschema@.query_stats q
		WHERE q.dbid = v_db
		  AND strpos(coalesce(q.query, ''), '@extschema@.') = 0;
END
$$;
