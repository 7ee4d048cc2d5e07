
CREATE FUNCTION @extschema@._statements()
RETURNS SETOF @extschema@._statement
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
BEGIN
	PERFORM @extschema@._require_loaded();
	IF @extschema@._has('query_stats') THEN
		RETURN QUERY EXECUTE pg_catalog.format(
			'SELECT q.dbid, q.userid, q.queryid, q.query, q.calls::bigint, q.errors::bigint,'
			'       q.rows::bigint, q.total_exec_ms::float8, q.mean_exec_ms::float8,'
			'       q.p95_ms::float8, q.max_exec_ms::float8, q.first_seen, q.last_seen'
			'  FROM %I.query_stats q WHERE q.dbid = $1'
			'   AND strpos(coalesce(q.query, ''''), $2) = 0', '@extschema@')
			USING v_db, '@extschema@.';
	ELSE
		RETURN QUERY
		SELECT h.dbid, h.userid, h.queryid, h.sample_query, h.calls, NULL::bigint,
			   h.rows, h.total_exec_ms, h.total_exec_ms / greatest(h.calls, 1),
			   @extschema@._hist_quantile(h.buckets, 0.95), NULL::float8,
			   h.first_seen, h.last_seen
		FROM @extschema@._history() h
		WHERE h.dbid = v_db AND h.calls > 0
		  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0;
	END IF;
END
$$;
