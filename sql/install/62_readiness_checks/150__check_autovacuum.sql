
-- autovacuum on
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_autovacuum()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
BEGIN
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I', n.nspname, c.relname)), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm') AND c.reloptions @> ARRAY['autovacuum_enabled=false']
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema');
	"check" := 'autovacuum';
	status := CASE WHEN pg_catalog.current_setting('autovacuum') = 'off' OR pg_catalog.current_setting('track_counts') = 'off' THEN 'fail'
				   WHEN v_n > 0 THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('autovacuum = %s, track_counts = %s, %s tables with autovacuum disabled%s',
		pg_catalog.current_setting('autovacuum'), pg_catalog.current_setting('track_counts'), v_n,
		CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := 'autovacuum on for every table';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   WHEN pg_catalog.current_setting('autovacuum') = 'off' THEN 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'
				   ELSE pg_catalog.format('ALTER TABLE %s RESET (autovacuum_enabled);', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_autovacuum() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_autovacuum() TO pg_read_all_stats;
