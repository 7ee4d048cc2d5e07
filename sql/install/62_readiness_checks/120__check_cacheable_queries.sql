
-- cacheable repeated reads
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_cacheable_queries(stmts @extschema@._statement[])
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
BEGIN
	SELECT sum(s.calls) INTO v_m FROM unnest(stmts) s;
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s%% of calls: %s)', s.queryid,
								round(s.calls * 100.0 / v_m, 1), @extschema@._short(s.query)) ORDER BY s.calls DESC), '; ')
	INTO v_n, v_txt
	FROM unnest(stmts) s
	WHERE s.calls >= (SELECT @extschema@._t('cacheable_min_calls'))
	  AND s.calls * 100.0 / greatest(v_m, 1) >= (SELECT @extschema@._t('cacheable_share_pct'))
	  AND s.rows <= s.calls * 100
	  AND s.query ~* '^\s*select\M'
	  AND s.query !~* '\m(now|random|clock_timestamp|current_timestamp|nextval|txid_current|pg_sleep)\M'
	  AND s.query !~* '\mfor\s+(update|share)\M'
	  -- an N+1 loop reads other keys at each call: batching is its fix,
	  -- not a cache
	  AND NOT EXISTS (SELECT 1 FROM @extschema@._n_plus_one_entries() n
					  WHERE n.kind = 'n_plus_one' AND n.queryid = s.queryid
						AND n.dbid = s.dbid AND n.userid = s.userid);
	"check" := 'cacheable_queries';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read dominates the statement mix'
				  ELSE pg_catalog.format('%s: %s', @extschema@._n(v_n, 'repeated read'), v_txt) END;
	target := pg_catalog.format('no read over %s%% of all calls', (SELECT @extschema@._t('cacheable_share_pct')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'cache these results in the application (with a TTL or invalidation on write), or precompute them in a materialized view' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_cacheable_queries(@extschema@._statement[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_cacheable_queries(@extschema@._statement[]) TO pg_read_all_stats;
