
-- index bloat (B-tree, plain columns)
-- (one of the checks _checklist() combines; returns its row)
CREATE FUNCTION @extschema@._check_index_bloat()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_txt text;
	v_t numeric;
BEGIN
	v_t := (SELECT @extschema@._t('index_bloat_pct'));
	WITH widths AS MATERIALIZED (
		SELECT s.schemaname, s.tablename, s.attname, s.avg_width
		FROM pg_catalog.pg_stats s
		WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema'))
	SELECT count(*), @extschema@._list(array_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)) ORDER BY x.waste DESC), ', ')
	INTO v_n, v_txt
	FROM (SELECT n.nspname, ic.relname,
				 greatest(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_index i
		  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		  JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
		  JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
		  JOIN pg_catalog.pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
		  CROSS JOIN LATERAL (
			SELECT (ceil(ic.reltuples::numeric * (8 + 4 + sum(s.avg_width) + 4)
						 / ((pg_catalog.current_setting('block_size')::integer - 24 - 16) * 0.9)) + 1)
				   * pg_catalog.current_setting('block_size')::integer AS expected,
				   count(*) AS ncols
			FROM pg_catalog.pg_attribute a
			JOIN widths s ON s.schemaname = n.nspname AND s.tablename = tc.relname
						  AND s.attname = a.attname
			WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) e
		  WHERE i.indexprs IS NULL AND e.ncols = i.indnatts AND ic.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'index_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no B-tree index over the bloat threshold'
				  ELSE pg_catalog.format('%s, estimated: %s', @extschema@._n(v_n, 'index', 'indexes'), v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (indexes over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('REINDEX INDEX CONCURRENTLY %s;', pg_catalog.split_part(v_txt, ' ', 1)) END;
	RETURN NEXT;
END
$$;

-- called by _checklist() for monitoring roles only
REVOKE ALL ON FUNCTION @extschema@._check_index_bloat() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._check_index_bloat() TO pg_read_all_stats;
