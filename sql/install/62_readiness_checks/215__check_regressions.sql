
-- regressions
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_regressions()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%s (%s -> %s ms)', g.queryid, g.baseline_p95_ms, g.window_p95_ms)), '; ')
	INTO v_n, v_txt FROM @extschema@._regressions() g;
	"check" := 'regressions';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement slower than its baseline'
				  ELSE pg_catalog.format('%s slower than the baseline: %s', @extschema@._n(v_n, 'statement'), v_txt) END;
	target := pg_catalog.format('p95 of the last window under %s x the baseline', (SELECT @extschema@._t('regression_ratio')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.regressions; compare the plans (a new plan, a grown table, a dropped index)' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_regressions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_regressions() TO pg_read_all_stats;
