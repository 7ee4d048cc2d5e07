
-- foreign keys without an index
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_fk_without_index()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), coalesce(@extschema@._list(array_agg(f.constraint_name::text ORDER BY f.constraint_name::text), ', '), '')
	INTO v_n, v_txt
	FROM @extschema@.fk_without_index f;
	"check" := 'fk_without_index';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s without an index%s', @extschema@._n(v_n, 'foreign key'), CASE WHEN v_txt <> '' THEN ': ' || v_txt ELSE '' END);
	target := '0 foreign keys without an index';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.fk_without_index; index the referencing columns, or deletes on the parent scan the child' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_fk_without_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_fk_without_index() TO pg_read_all_stats;
