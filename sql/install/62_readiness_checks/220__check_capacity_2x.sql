
-- headroom for twice the load
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_capacity_2x()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
BEGIN
	SELECT count(*) FILTER (WHERE c.status = 'fail'), count(*) FILTER (WHERE c.status = 'warn'),
		   string_agg(c.item || ': ' || coalesce(c.projected::text, '?') || ' ' || c.unit, '; ')
			 FILTER (WHERE c.status <> 'pass')
	INTO v_n, v_m, v_txt
	FROM @extschema@.capacity(2) c;
	"check" := 'capacity_2x';
	status := CASE WHEN v_n > 0 THEN 'fail' WHEN v_m > 0 THEN 'warn' ELSE 'pass' END;
	value := CASE WHEN v_n + v_m = 0 THEN 'twice the load fits'
				  ELSE pg_catalog.format('at twice the load: %s', v_txt) END;
	target := 'twice today''s load fits the CPUs, connections and storage';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.capacity(2); load-test with scale_advisor.workload_script()' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_capacity_2x() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_capacity_2x() TO pg_read_all_stats;
