
-- slow-query logging
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_slow_query_logging()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_x numeric;
	v_t numeric;
BEGIN
	v_x := @extschema@._guc_ms(pg_catalog.current_setting('log_min_duration_statement'));
	v_t := (SELECT @extschema@._t('log_min_duration_max_ms'));
	"check" := 'slow_query_logging';
	status := CASE WHEN v_x < 0 THEN 'fail' WHEN v_x > v_t THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('log_min_duration_statement = %s', pg_catalog.current_setting('log_min_duration_statement'));
	target := pg_catalog.format('between 0 and %s ms', v_t);
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('ALTER SYSTEM SET log_min_duration_statement = ''%sms''; SELECT pg_reload_conf();', least(v_t, 500)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_slow_query_logging() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_slow_query_logging() TO pg_read_all_stats;
