
-- missing indexes, from index_advice
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_missing_indexes()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	v_n := (SELECT count(*) FROM @extschema@.index_advice);
	"check" := 'missing_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := @extschema@._n(v_n, 'index suggestion');
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_missing_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_missing_indexes() TO pg_read_all_stats;
