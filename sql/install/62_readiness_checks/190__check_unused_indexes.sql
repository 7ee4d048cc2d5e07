
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
	SELECT count(*), coalesce(@extschema@._list(array_agg(u.index::text ORDER BY u.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.unused_indexes u
	WHERE u.index_size_bytes >= v_t;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'unused index', 'unused indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_unused_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_unused_indexes() TO pg_read_all_stats;
