
-- invalid indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_invalid_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(v.index::text ORDER BY v.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.invalid_indexes v;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'invalid index', 'invalid indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 invalid indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'an interrupted CREATE INDEX CONCURRENTLY left them: REINDEX INDEX CONCURRENTLY, or drop and create again' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_invalid_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_invalid_indexes() TO pg_read_all_stats;
