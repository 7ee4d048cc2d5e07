
-- slow statements: the rule of slow_queries (_is_slow)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_slow_statements(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_x numeric;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('slow_statement_ms'));
	SELECT count(*), max(s.p95_ms),
		   string_agg(pg_catalog.format('%s (%s: %s)', s.queryid, @extschema@._ms_pretty(s.p95_ms), @extschema@._short(s.query)), '; '
					  ORDER BY s.p95_ms DESC) FILTER (WHERE s.rn <= 3)
	INTO v_n, v_x, v_txt
	FROM (SELECT s.*, row_number() OVER (ORDER BY s.p95_ms DESC) AS rn
		  FROM unnest(stmts) s
		  WHERE @extschema@._is_slow(s.query, s.calls, s.p95_ms)) s;
	"check" := 'slow_statements';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= (SELECT @extschema@._t('alert_p95_ms')) THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement over the target'
				  ELSE pg_catalog.format('%s over the target, worst: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('p95 under %s ms (application statements run at least %s)', v_t,
		@extschema@._n((SELECT @extschema@._t('slow_statement_min_calls')), 'time'));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'EXPLAIN (ANALYZE, BUFFERS) the statements named; read scale_advisor.slow_queries and scale_advisor.index_advice for their plans and missing indexes' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_slow_statements(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_slow_statements(@extschema@._statement[]) TO pg_read_all_stats;
