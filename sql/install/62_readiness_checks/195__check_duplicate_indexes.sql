
-- duplicate indexes
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_duplicate_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(d.index::text ORDER BY d.index::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.duplicate_indexes d;
	"check" := 'duplicate_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'duplicate index', 'duplicate indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_duplicate_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_duplicate_indexes() TO pg_read_all_stats;
