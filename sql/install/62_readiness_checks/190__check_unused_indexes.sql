
-- unused indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_unused_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('unused_index_min_bytes'));
	SELECT l.n, l.names INTO v_n, v_txt
	FROM @extschema@._list_of('unused_indexes', 'index',
		CASE WHEN @extschema@._has_col('unused_indexes', 'index_size_bytes')
			 THEN pg_catalog.format('index_size_bytes >= %s', v_t) ELSE 'true' END) l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(pg_catalog.format('%I.%I', s.schemaname, s.indexrelname)
											 ORDER BY s.schemaname, s.indexrelname), ', '), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_stat_user_indexes s
		JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
		WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
		  AND @extschema@._relation_size_nowait(s.indexrelid, true) >= v_t;
	END IF;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'unused index', 'unused indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;
END
$$;
