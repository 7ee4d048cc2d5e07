
-- table bloat (estimate from row counts and average widths)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_table_bloat()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('table_bloat_pct'));
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)) ORDER BY x.waste DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname,
				 (c.relpages::numeric * pg_catalog.current_setting('block_size')::integer) AS bytes,
				 greatest(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  JOIN (SELECT s.schemaname, s.tablename, sum(s.avg_width) AS width
				FROM pg_catalog.pg_stats s
				WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
				GROUP BY s.schemaname, s.tablename) w
			ON w.schemaname = n.nspname AND w.tablename = c.relname
		  CROSS JOIN LATERAL (
			SELECT ceil(c.reltuples::numeric * (24 + 4 + w.width + 8)
						/ (pg_catalog.current_setting('block_size')::integer - 24)
						/ coalesce((SELECT (pg_catalog.regexp_match(o, 'fillfactor=([0-9]+)'))[1]::numeric
									FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 100) * 100)
				   * pg_catalog.current_setting('block_size')::integer AS expected) e
		  WHERE c.relkind = 'r' AND c.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND c.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'table_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no table over the bloat threshold'
				  ELSE pg_catalog.format('%s, estimated: %s', @extschema@._n(v_n, 'table'), v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (tables over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'rewrite the table online with pg_repack (or VACUUM FULL in a maintenance window), then tune autovacuum so that dead rows are reused' END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_table_bloat() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_table_bloat() TO pg_read_all_stats;
