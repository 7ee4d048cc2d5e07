
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
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('duplicate_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(@extschema@._list(array_agg(x.names ORDER BY x.names), '; '), '')
		INTO v_n, v_txt
		FROM (SELECT string_agg(i.indexrelid::regclass::text, ' = ' ORDER BY i.indexrelid::regclass::text) AS names
			  FROM pg_catalog.pg_index i
			  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
			  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
				AND i.indisvalid
			  GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
					   coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
					   coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
			  HAVING count(*) > 1) x;
	END IF;
	"check" := 'duplicate_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s%s', @extschema@._n(v_n, 'duplicate index', 'duplicate indexes'), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;
END
$$;
