
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
	v_n := @extschema@._count_of('index_advice');
	"check" := 'missing_indexes';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.index_advice is not installed)'
				  ELSE @extschema@._n(v_n, 'index suggestion') END;
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;
END
$$;
