
-- large tables read by sequential scans
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_sequential_scans()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('seq_scan_min_rows'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s seq scans)', t.schemaname, t.relname, t.seq_scan)
								 ORDER BY t.seq_tup_read DESC), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_live_tup >= v_t AND t.seq_scan > coalesce(t.idx_scan, 0)
	  AND t.seq_tup_read / greatest(t.seq_scan, 1) >= v_t;
	"check" := 'sequential_scans';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no large table is read mostly by sequential scans'
				  ELSE pg_catalog.format('%s read mostly by sequential scans: %s', @extschema@._n(v_n, 'large table'), v_txt) END;
	target := pg_catalog.format('tables over %s rows read through indexes', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'find the statements scanning them (scale_advisor.slow_queries) and index the columns of their WHERE clauses' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_sequential_scans() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_sequential_scans() TO pg_read_all_stats;
