
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
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('invalid_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(i.indexrelid::regclass::text ORDER BY i.indexrelid::regclass::text), ', '), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_index i WHERE NOT i.indisvalid;
	END IF;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'invalid index', 'invalid indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 invalid indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'an interrupted CREATE INDEX CONCURRENTLY left them: REINDEX INDEX CONCURRENTLY, or drop and create again' END;
	RETURN NEXT;
END
$$;
