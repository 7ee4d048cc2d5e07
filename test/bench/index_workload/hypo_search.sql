-- A hypothetical-index search in the style of dexter, with hypopg: the
-- baseline scale_advisor's advice is compared with (test/t/204, test/bench/
-- index_compare.sh).  For each statement (with its constants), as dexter
-- does: the columns its plan filters, joins or sorts on (from EXPLAIN
-- VERBOSE), a hypothetical btree index on each of them, then one on each
-- ordered pair of columns of a table; the cheaper of the two plans counts,
-- and the hypothetical indexes it uses are advised when it costs at most
-- half of the plan without them.  hypopg makes btree indexes only from
-- plain columns here, as dexter does.
CREATE FUNCTION hypo_search(stmts text[], min_savings float8 DEFAULT 0.5)
RETURNS TABLE (index_sql text, statements bigint)
LANGUAGE plpgsql AS $$
DECLARE
	s text;
	plan jsonb;
	cost0 float8;
	cost1 float8;
	cost2 float8;
	used1 text[];
	used2 text[];
	r record;
	p record;
	names jsonb;
	found text[] := '{}';
BEGIN
	FOREACH s IN ARRAY stmts LOOP
		PERFORM hypopg_reset();
		EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || s INTO plan;
		cost0 := (plan->0->'Plan'->>'Total Cost')::float8;
		-- table scans: alias -> table
		CREATE TEMP TABLE IF NOT EXISTS hs_cols (nsp name, rel name, col name);
		TRUNCATE hs_cols;
		WITH nodes AS (
			SELECT n FROM jsonb_path_query(plan, 'strict $.**') n
			 WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type'),
		scans AS (
			SELECT n->>'Schema' AS nsp, n->>'Relation Name' AS rel, n->>'Alias' AS alias
			  FROM nodes WHERE n ? 'Relation Name'),
		texts AS (
			SELECT e.value #>> '{}' AS t
			  FROM nodes, jsonb_each(n) e
			 WHERE e.key IN ('Filter', 'Index Cond', 'Recheck Cond', 'Hash Cond',
							 'Merge Cond', 'Join Filter')
			UNION ALL
			SELECT k #>> '{}' FROM nodes, jsonb_array_elements(n->'Sort Key') k
			 WHERE n ? 'Sort Key'),
		refs AS (
			SELECT DISTINCT m[1] AS alias, m[2] AS col
			  FROM texts, regexp_matches(t, '([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)', 'g') m)
		INSERT INTO hs_cols
		SELECT DISTINCT sc.nsp, sc.rel, a.attname
		  FROM refs JOIN scans sc ON sc.alias = refs.alias
		  JOIN pg_attribute a ON a.attrelid = format('%I.%I', sc.nsp, sc.rel)::regclass
		   AND a.attname = refs.col AND a.attnum > 0 AND NOT a.attisdropped;
		-- one column
		CREATE TEMP TABLE IF NOT EXISTS hs_hypo (round int, name text, sql text);
		TRUNCATE hs_hypo;
		FOR r IN SELECT * FROM hs_cols LOOP
			INSERT INTO hs_hypo
			SELECT 1, h.indexname, format('CREATE INDEX ON %I.%I (%I)', r.nsp, r.rel, r.col)
			  FROM hypopg_create_index(format('CREATE INDEX ON %I.%I (%I)', r.nsp, r.rel, r.col)) h;
		END LOOP;
		EXECUTE 'EXPLAIN (FORMAT JSON) ' || s INTO plan;
		cost1 := (plan->0->'Plan'->>'Total Cost')::float8;
		SELECT array_agg(DISTINCT h.sql) INTO used1
		  FROM jsonb_path_query(plan, 'strict $.**."Index Name"') n
		  JOIN hs_hypo h ON h.name = n #>> '{}';
		PERFORM hypopg_reset();
		-- ordered pairs of columns of one table
		FOR r IN SELECT a.nsp, a.rel, a.col AS c1, b.col AS c2
				   FROM hs_cols a JOIN hs_cols b ON a.nsp = b.nsp AND a.rel = b.rel
				  WHERE a.col <> b.col LOOP
			INSERT INTO hs_hypo
			SELECT 2, h.indexname, format('CREATE INDEX ON %I.%I (%I, %I)', r.nsp, r.rel, r.c1, r.c2)
			  FROM hypopg_create_index(format('CREATE INDEX ON %I.%I (%I, %I)', r.nsp, r.rel, r.c1, r.c2)) h;
		END LOOP;
		EXECUTE 'EXPLAIN (FORMAT JSON) ' || s INTO plan;
		cost2 := (plan->0->'Plan'->>'Total Cost')::float8;
		SELECT array_agg(DISTINCT h.sql) INTO used2
		  FROM jsonb_path_query(plan, 'strict $.**."Index Name"') n
		  JOIN hs_hypo h ON h.name = n #>> '{}' AND h.round = 2;
		PERFORM hypopg_reset();
		IF used2 IS NOT NULL AND cost2 < cost1 AND cost2 <= cost0 * (1 - min_savings) THEN
			found := found || used2;
		ELSIF used1 IS NOT NULL AND cost1 <= cost0 * (1 - min_savings) THEN
			found := found || used1;
		END IF;
	END LOOP;
	RETURN QUERY SELECT f, count(*) FROM unnest(found) f GROUP BY f ORDER BY f;
END
$$;
