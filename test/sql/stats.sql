-- Statement timings: query_stats, slow_queries, info, reset.
CREATE EXTENSION scale_advisor;
SET search_path = public;
SELECT scale_advisor.reset() >= 0 AS reset_ok;

CREATE TABLE stats_t (a int PRIMARY KEY, b text);
INSERT INTO stats_t SELECT g, 'row ' || g FROM generate_series(1, 100) g;
SELECT b FROM stats_t WHERE a = 5;
SELECT b FROM stats_t WHERE a = 6;
SELECT b FROM stats_t WHERE a = 7;
SELECT count(*) FROM stats_t WHERE a > 90;
UPDATE stats_t SET b = 'changed' WHERE a <= 10;

-- normalized text, calls, rows, buffers, planning
SELECT query, calls, rows, errors, toplevel,
       total_exec_ms >= 0 AS t_ok, min_exec_ms <= max_exec_ms AS minmax_ok,
       p50_ms BETWEEN min_exec_ms AND max_exec_ms AS p50_ok,
       p99_ms BETWEEN p50_ms AND max_exec_ms AS p99_ok,
       plans, shared_blks_hit > 0 AS hits, first_seen <= last_seen AS seen_ok
FROM scale_advisor.query_stats
WHERE query LIKE '%stats_t%' AND query NOT LIKE '%query_stats%'
ORDER BY query;

-- writes produce WAL
SELECT wal_bytes > 0 AS wal, wal_records > 0 AS records
FROM scale_advisor.query_stats WHERE query LIKE 'UPDATE stats_t%';

-- errors count against their statement, also inside a caught subtransaction
SELECT 1 / (a - a) FROM stats_t WHERE a = 1;
INSERT INTO stats_t VALUES (1, 'duplicate');
DO $$ BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN NULL; END $$;
SELECT query, calls, errors FROM scale_advisor.query_stats
WHERE query LIKE '%(a - a)%' OR query LIKE 'INSERT INTO stats_t VALUES%'
ORDER BY query;

-- utility statements are tracked, EXECUTE is counted as its statement
PREPARE stats_p(int) AS SELECT b FROM stats_t WHERE a = $1;
EXECUTE stats_p(1);
EXECUTE stats_p(2);
SELECT query, calls FROM scale_advisor.query_stats
WHERE query LIKE 'PREPARE stats_p%' OR query LIKE 'EXECUTE%' OR query LIKE 'CREATE TABLE stats_t%'
ORDER BY query;

-- nested statements: only with scale_advisor.track = 'all'
CREATE FUNCTION stats_f(int) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RETURN (SELECT b FROM stats_t WHERE a = $1 + 1000); END $$;
SELECT stats_f(1);
SELECT count(*) AS nested_with_top FROM scale_advisor.query_stats
WHERE query LIKE '%$1 + 1000%';
SET scale_advisor.track = 'all';
SELECT stats_f(2);
SELECT stats_f(3);
RESET scale_advisor.track;
SELECT toplevel, calls FROM scale_advisor.query_stats
WHERE query LIKE '%$1 + 1000%' ORDER BY toplevel;

-- errors and nesting: a nested statement's error is counted at its level,
-- an error raised while planning is counted, and the level is right after
-- a caught error, an uncaught one, and a procedure's ROLLBACK (no error)
CREATE TABLE stats_n (x int);
INSERT INTO stats_n VALUES (1);
CREATE FUNCTION stats_err() RETURNS int LANGUAGE plpgsql AS
$$ BEGIN PERFORM x / 0 FROM stats_n; RETURN 1; END $$;
CREATE FUNCTION stats_catch() RETURNS int LANGUAGE plpgsql AS
$$ BEGIN
	BEGIN PERFORM 1 / (SELECT 0); EXCEPTION WHEN division_by_zero THEN NULL; END;
	PERFORM count(*) FROM stats_n;
	RETURN 2;
END $$;
CREATE PROCEDURE stats_rb() LANGUAGE plpgsql AS
$$ BEGIN
	INSERT INTO stats_n VALUES (2);
	ROLLBACK;
	INSERT INTO stats_n VALUES (3);
	COMMIT;
	PERFORM count(*) FROM stats_n;
END $$;
SET scale_advisor.track = 'all';
SELECT stats_err();
SELECT stats_catch();
CALL stats_rb();
SELECT 1 / 0 AS planner_error;
SELECT 2 AS after_errors, 3 AS other_column;
RESET scale_advisor.track;
SELECT toplevel, calls, errors, query FROM scale_advisor.query_stats
WHERE query ~ '(stats_n|stats_err|stats_catch|stats_rb|planner_error|after_errors|\(SELECT \$2\))'
  AND query NOT LIKE 'CREATE%' AND query NOT LIKE '%query_stats%'
ORDER BY query, toplevel;
DROP PROCEDURE stats_rb;
DROP FUNCTION stats_err, stats_catch;
DROP TABLE stats_n;

-- text is cut at scale_advisor.max_query_length (1024 in the tests),
-- at a character boundary
SELECT repeat('é', 1100) AS long_name \gset
SET client_min_messages = warning;
SELECT 1 AS :"long_name" \gset
RESET client_min_messages;
SELECT octet_length(query) AS bytes, length(query) AS chars,
       query LIKE 'SELECT $1 AS "ééé%' AS starts
FROM scale_advisor.query_stats WHERE query LIKE 'SELECT $1 AS "é%';

-- slow_queries follows the one rule of slow statements (the checklist and
-- the alerts use it too): application statements run at least
-- slow_statement_min_calls times with a p95 over slow_statement_ms; not
-- utility statements (ANALYZE, CREATE ...), nor one-off ones
SELECT scale_advisor.set_threshold('slow_statement_ms', 0) AS ms,
       scale_advisor.set_threshold('slow_statement_min_calls', 3) AS min_calls;
SELECT count(*) FROM stats_t WHERE a > 0;
SELECT count(*) FROM stats_t WHERE a > 0;
SELECT count(*) FROM stats_t WHERE a > 0;
SELECT count(*) FROM stats_t WHERE a < 0;
ANALYZE stats_t;
ANALYZE stats_t;
ANALYZE stats_t;
SELECT query, calls FROM scale_advisor.slow_queries
WHERE query LIKE '%stats_t%' ORDER BY query;
SELECT scale_advisor.set_threshold('slow_statement_ms', 3600000) AS ms;
SELECT count(*) AS none_slow FROM scale_advisor.slow_queries;
DELETE FROM scale_advisor.thresholds;
-- times are rounded to the microsecond; the costliest statements first
SELECT count(*) AS unrounded FROM scale_advisor.query_stats
WHERE total_exec_ms::numeric <> round(total_exec_ms::numeric, 3) AND total_exec_ms < 10000;
SELECT bool_and(t >= coalesce(n, t)) AS worst_first
FROM (SELECT total_exec_ms AS t, lead(total_exec_ms) OVER () AS n FROM scale_advisor.query_stats) x;
-- a statement being parsed or run has no row (calls 0) until it ends
SELECT count(*) AS running FROM scale_advisor.query_stats WHERE calls = 0 AND errors = 0;

-- info
SELECT entries > 0 AS entries, max_entries, evictions, memory_bytes > 0 AS mem,
       entry_bytes < 4096 AS entry_under_4kb, text_bytes_per_entry,
       stats_reset <= now() AS reset_ok
FROM scale_advisor.info;

-- reset one query id, then one user, then bad arguments
SELECT scale_advisor.reset(0, 0, queryid) AS removed
FROM scale_advisor.query_stats WHERE query LIKE 'UPDATE stats_t%';
SELECT count(*) FROM scale_advisor.query_stats WHERE query LIKE 'UPDATE stats_t%';
SELECT scale_advisor.reset(0, 0, 12345) AS unknown_queryid_removes_nothing;
SELECT scale_advisor.reset(NULL, 0, 0);
SELECT scale_advisor.reset(userid => (SELECT oid FROM pg_roles WHERE rolname = current_user)) > 0 AS removed_mine;
SELECT count(*) AS left_after_user_reset FROM scale_advisor.query_stats
WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND query NOT LIKE '%query_stats%';

-- privileges: another role sees its own text, not ours, and cannot reset
CREATE ROLE stats_other;
GRANT SELECT ON stats_t TO stats_other;
SELECT b FROM stats_t WHERE a = 42;
SET ROLE stats_other;
SELECT b FROM stats_t WHERE a = 43;
SELECT query, queryid IS NULL AS id_hidden FROM scale_advisor.query_stats
WHERE query = '<insufficient privilege>' OR query LIKE 'SELECT b FROM stats_t%'
GROUP BY 1, 2 ORDER BY 1;
SELECT scale_advisor.reset();
RESET ROLE;
GRANT pg_read_all_stats TO stats_other;
SET ROLE stats_other;
SELECT count(*) AS hidden FROM scale_advisor.query_stats
WHERE query = '<insufficient privilege>';
RESET ROLE;

DROP FUNCTION stats_f(int);
DEALLOCATE stats_p;
DROP TABLE stats_t;
DROP ROLE stats_other;
DROP EXTENSION scale_advisor;
