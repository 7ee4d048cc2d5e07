
CREATE FUNCTION @extschema@._regressions()
RETURNS SETOF @extschema@._regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_found @extschema@._regression[];
	v_min_calls numeric := (SELECT @extschema@._t('regression_min_calls'));
	v_ratio numeric := (SELECT @extschema@._t('regression_ratio'));
	v_min_ms numeric := (SELECT @extschema@._t('regression_min_ms'));
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.regressions');
	SELECT array_agg(ROW(x.queryid, NULL, x.baseline_calls, round(x.bp::numeric, 2),
						 x.window_calls, round(x.wp::numeric, 2),
						 round((x.wp / nullif(x.bp, 0))::numeric, 2), x.window_start)::@extschema@._regression
					 ORDER BY x.wp / nullif(x.bp, 0) DESC)
	INTO v_found
	FROM (SELECT w.*, @extschema@._hist_quantile(w.window_buckets, 0.95) AS wp,
				 @extschema@._hist_quantile(w.baseline_buckets, 0.95) AS bp
		  FROM @extschema@._windows(
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_window_s'))::float8),
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_baseline_s'))::float8)) w
		  WHERE w.window_calls >= v_min_calls AND w.baseline_calls >= v_min_calls) x
	WHERE x.wp > x.bp * v_ratio AND x.wp - x.bp >= v_min_ms;
	IF v_found IS NULL THEN
		RETURN;
	END IF;
	-- the statements' text, only when there is something to report
	RETURN QUERY
	SELECT f.queryid, q.query, f.baseline_calls, f.baseline_p95_ms, f.window_calls,
		   f.window_p95_ms, f.ratio, f.since
	FROM unnest(v_found) WITH ORDINALITY AS f
	LEFT JOIN (SELECT DISTINCT ON (s.queryid) s.queryid, s.query
			   FROM @extschema@._statements() s ORDER BY s.queryid, s.calls DESC) q
		ON q.queryid = f.queryid
	ORDER BY f.ordinality;
END
$$;
