
-- old rows: archiving or partitioning candidates
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_archiving_partitioning()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('partition_min_bytes'));
	v_m := (SELECT count(*) FROM @extschema@.partition_advice);
	-- sizes read without waiting for locks (a locked table is left out)
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s)', x.nspname, x.relname,
								pg_catalog.pg_size_pretty(x.bytes))
								ORDER BY x.bytes DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname, @extschema@._relation_size_nowait(c.oid) AS bytes
		  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relkind = 'r' AND NOT c.relispartition
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND n.nspname <> '@extschema@'
			AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
						WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
						  AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype))) x
	WHERE x.bytes >= v_t;
	"check" := 'archiving_partitioning';
	status := CASE WHEN v_n = 0 AND v_m = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s over %s with a time column%s; %s',
		@extschema@._n(v_n, 'table'), pg_catalog.pg_size_pretty(v_t), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END,
		@extschema@._n(v_m, 'partitioning suggestion'));
	target := pg_catalog.format('no unpartitioned table over %s with a time column', pg_catalog.pg_size_pretty(v_t));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'move old rows out with an archive policy (scale_advisor.archive_policies) or partition by time (SELECT * FROM scale_advisor.partition_advice)' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_archiving_partitioning() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_archiving_partitioning() TO pg_read_all_stats;
