
-- N+1 patterns
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_n_plus_one()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
BEGIN
	v_n := (SELECT count(*) FROM @extschema@.n_plus_one);
	"check" := 'n_plus_one';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := @extschema@._n(v_n, 'N+1 pattern');
	target := '0 patterns';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.n_plus_one; load the rows in one statement (WHERE id = ANY($1), a JOIN, or the ORM''s eager loading)' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_n_plus_one() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_n_plus_one() TO pg_read_all_stats;
