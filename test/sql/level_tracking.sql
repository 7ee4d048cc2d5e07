-- Statement level tracking: which statements are top level and which are
-- nested, with every combination of scale_advisor.track, track_utility and
-- track_planning (the cases of pg_stat_statements' level_tracking test),
-- and statements run by deferred triggers at COMMIT and at SET CONSTRAINTS.
CREATE EXTENSION scale_advisor;
SET search_path = public;
-- what the test looks at: everything but its own bookkeeping
CREATE VIEW lt_stats AS
  SELECT toplevel, calls, rows, query FROM scale_advisor.query_stats
  WHERE query NOT LIKE '%scale_advisor%' AND query NOT LIKE '%lt_stats%'
    AND query NOT LIKE 'RESET%' AND calls > 0;
SET scale_advisor.track_utility = on;
SELECT scale_advisor.reset() >= 0 AS t;

-- DO block, top-level tracking
CREATE TABLE stats_track_tab (x int);
SET scale_advisor.track = 'top';
DELETE FROM stats_track_tab;
DO $$
BEGIN
  DELETE FROM stats_track_tab;
END;
$$ LANGUAGE plpgsql;
SELECT toplevel, calls, query FROM lt_stats
  WHERE query LIKE '%DELETE%' ORDER BY query COLLATE "C", toplevel;
SELECT scale_advisor.reset() >= 0 AS t;

-- DO block, all-level tracking
SET scale_advisor.track = 'all';
DELETE FROM stats_track_tab;
DO $$
BEGIN
  DELETE FROM stats_track_tab;
END; $$;
DO LANGUAGE plpgsql $$
BEGIN
  -- this is a SELECT
  PERFORM 'hello world'::TEXT;
END; $$;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- procedure with utility statements, all-level and top-level tracking
CREATE OR REPLACE PROCEDURE proc_with_utility_stmt()
LANGUAGE SQL
AS $$
  SHOW work_mem;
  show work_mem;
  SHOW search_path;
$$;
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
CALL proc_with_utility_stmt();
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
CALL proc_with_utility_stmt();
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- EXPLAIN, all-level and top-level tracking
CREATE TABLE test_table (x int);
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
EXPLAIN (COSTS OFF) SELECT 1;
EXPLAIN (COSTS OFF) (SELECT 1, 2);
EXPLAIN (COSTS OFF) TABLE stats_track_tab;
EXPLAIN (COSTS OFF) VALUES (1);
EXPLAIN (COSTS OFF) UPDATE stats_track_tab SET x = 1 WHERE x = 1;
EXPLAIN (COSTS OFF) DELETE FROM stats_track_tab;
EXPLAIN (COSTS OFF) INSERT INTO stats_track_tab VALUES ((1));
EXPLAIN (COSTS OFF) MERGE INTO stats_track_tab
  USING (SELECT id FROM generate_series(1, 10) id) AS s ON x = s.id
  WHEN MATCHED THEN UPDATE SET x = s.id
  WHEN NOT MATCHED THEN INSERT (x) VALUES (s.id);
EXPLAIN (COSTS OFF) SELECT 1 UNION SELECT 2;
EXPLAIN (COSTS OFF) SELECT 1\; EXPLAIN (COSTS OFF) SELECT 1, 2;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
EXPLAIN (COSTS OFF) SELECT 1;
EXPLAIN (COSTS OFF) DELETE FROM stats_track_tab;
EXPLAIN (COSTS OFF) SELECT 1\; EXPLAIN (COSTS OFF) SELECT 1, 2;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- EXPLAIN ANALYZE, all-level and top-level tracking
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING OFF) SELECT 100;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING OFF)
  DECLARE foocur CURSOR FOR SELECT * FROM stats_track_tab;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING OFF) SELECT 100;
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF, TIMING OFF)
  DECLARE foocur CURSOR FOR SELECT * FROM stats_track_tab;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- CREATE / REFRESH MATERIALIZED VIEW, all-level and top-level tracking
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
CREATE MATERIALIZED VIEW lt_matview AS
  SELECT * FROM generate_series(1, 5) AS id;
REFRESH MATERIALIZED VIEW lt_matview;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
CREATE MATERIALIZED VIEW lt_matview_2 AS
  SELECT * FROM generate_series(1, 5) AS id;
REFRESH MATERIALIZED VIEW lt_matview;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- CREATE TABLE AS (also of a prepared statement), all-level and top-level
SET scale_advisor.track = 'all';
PREPARE test_prepare_lt AS SELECT generate_series(1, 10);
SELECT scale_advisor.reset() >= 0 AS t;
CREATE TEMPORARY TABLE lt_ctas_1 AS SELECT 1;
CREATE TEMPORARY TABLE lt_ctas_2 AS EXECUTE test_prepare_lt;
EXPLAIN (COSTS OFF) CREATE TEMPORARY TABLE lt_explain_ctas AS SELECT 1;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
CREATE TEMPORARY TABLE lt_ctas_3 AS SELECT 1;
CREATE TEMPORARY TABLE lt_ctas_4 AS EXECUTE test_prepare_lt;
EXECUTE test_prepare_lt;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- DECLARE CURSOR, all-level and top-level tracking
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
BEGIN;
DECLARE foocur CURSOR FOR SELECT * FROM stats_track_tab;
FETCH FORWARD 1 FROM foocur;
CLOSE foocur;
COMMIT;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
BEGIN;
DECLARE foocur CURSOR FOR SELECT * FROM stats_track_tab;
FETCH FORWARD 1 FROM foocur;
CLOSE foocur;
COMMIT;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- COPY, all-level and top-level tracking
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
COPY (SELECT 1) TO stdout;
COPY (INSERT INTO stats_track_tab (x) VALUES (1) RETURNING x) TO stdout;
COPY (DELETE FROM stats_track_tab WHERE x = 1 RETURNING x) TO stdout;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
COPY (SELECT 1) TO stdout;
COPY (INSERT INTO stats_track_tab (x) VALUES (1) RETURNING x) TO stdout;
COPY (DELETE FROM stats_track_tab WHERE x = 1 RETURNING x) TO stdout;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- DO block without utility tracking: its statements stay nested
SET scale_advisor.track = 'top';
SET scale_advisor.track_utility = off;
SELECT scale_advisor.reset() >= 0 AS t;
DELETE FROM stats_track_tab;
DO $$
BEGIN
  DELETE FROM stats_track_tab;
END; $$;
DO LANGUAGE plpgsql $$
BEGIN
  -- this is a SELECT
  PERFORM 'hello world'::TEXT;
END; $$;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
DELETE FROM stats_track_tab;
DO $$
BEGIN
  DELETE FROM stats_track_tab;
END; $$;
DO LANGUAGE plpgsql $$
BEGIN
  -- this is a SELECT
  PERFORM 'hello world'::TEXT;
END; $$;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- procedures without utility tracking: CALL raises the level
CREATE PROCEDURE lt_proc(n int) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stats_track_tab VALUES (n);
  COMMIT;
  DELETE FROM stats_track_tab WHERE x = n;
END $$;
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
CALL lt_proc(7);
CALL lt_proc(8);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track_utility = on;
SELECT scale_advisor.reset() >= 0 AS t;
CALL lt_proc(9);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- DO block with several statements in one EXECUTE string
SET scale_advisor.track = 'all';
SET scale_advisor.track_utility = on;
CREATE TABLE lt_do_util_tab_1 (a int);
CREATE TABLE lt_do_util_tab_2 (a int);
SELECT scale_advisor.reset() >= 0 AS t;
DO $$
DECLARE BEGIN
  EXECUTE 'CREATE TABLE lt_do_table (id INT); DROP TABLE lt_do_table';
  EXECUTE 'SELECT a FROM lt_do_util_tab_1; SELECT a FROM lt_do_util_tab_2';
END $$;
SELECT toplevel, calls, rows, query FROM lt_stats
  WHERE toplevel IS FALSE
  ORDER BY query COLLATE "C";
DROP TABLE lt_do_util_tab_1, lt_do_util_tab_2;

-- utility statements inside a function
CREATE FUNCTION lt_util_fn() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  CREATE TEMPORARY TABLE lt_fn_tab (a int);
  INSERT INTO lt_fn_tab VALUES (1);
  DROP TABLE lt_fn_tab;
  RETURN 1;
END $$;
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
SELECT lt_util_fn();
SET scale_advisor.track_utility = off;
SELECT lt_util_fn();
SET scale_advisor.track_utility = on;
SELECT toplevel, calls, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- PL/pgSQL and SQL functions, top-level tracking without utility
SET scale_advisor.track = 'top';
SET scale_advisor.track_utility = off;
SELECT scale_advisor.reset() >= 0 AS t;
CREATE FUNCTION PLUS_TWO(i INTEGER) RETURNS INTEGER AS $$
DECLARE
  r INTEGER;
BEGIN
  SELECT (i + 1 + 1.0)::INTEGER INTO r;
  RETURN r;
END; $$ LANGUAGE plpgsql;
SELECT PLUS_TWO(3);
SELECT PLUS_TWO(7);
-- SQL function: LIMIT keeps it from being inlined
CREATE FUNCTION PLUS_ONE(i INTEGER) RETURNS INTEGER AS
$$ SELECT (i + 1.0)::INTEGER LIMIT 1 $$ LANGUAGE SQL;
SELECT PLUS_ONE(8);
SELECT PLUS_ONE(10);
-- immutable SQL function: evaluated by the planner
CREATE FUNCTION PLUS_THREE(i INTEGER) RETURNS INTEGER AS
$$ SELECT i + 3 LIMIT 1 $$ IMMUTABLE LANGUAGE SQL;
SELECT PLUS_THREE(8);
SELECT PLUS_THREE(10);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- the same, all-level tracking
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
DROP FUNCTION PLUS_ONE(INTEGER);
DROP FUNCTION PLUS_TWO(INTEGER);
DROP FUNCTION PLUS_THREE(INTEGER);
CREATE FUNCTION PLUS_TWO(i INTEGER) RETURNS INTEGER AS $$
DECLARE
  r INTEGER;
BEGIN
  SELECT (i + 1 + 1.0)::INTEGER INTO r;
  RETURN r;
END; $$ LANGUAGE plpgsql;
SELECT PLUS_TWO(-1);
SELECT PLUS_TWO(2);
CREATE FUNCTION PLUS_ONE(i INTEGER) RETURNS INTEGER AS
$$ SELECT (i + 1.0)::INTEGER LIMIT 1 $$ LANGUAGE SQL;
SELECT PLUS_ONE(3);
SELECT PLUS_ONE(1);
CREATE FUNCTION PLUS_THREE(i INTEGER) RETURNS INTEGER AS
$$ SELECT i + 3 LIMIT 1 $$ IMMUTABLE LANGUAGE SQL;
SELECT PLUS_THREE(8);
SELECT PLUS_THREE(10);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- a function folded at plan time, without recording planning time
-- (on PostgreSQL 18 the function's statement stays parsed in the session's
-- function cache, so after the reset its entry is made when it runs, with
-- the text as written: SELECT i + 3 LIMIT 1, as pg_stat_statements 18 shows
-- it too; docs/versions.md)
SET scale_advisor.track_planning = off;
SELECT scale_advisor.reset() >= 0 AS t;
SELECT PLUS_THREE(11);
SELECT PLUS_THREE(12);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
SELECT PLUS_THREE(13);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
SET scale_advisor.track_planning = on;
SET scale_advisor.track_utility = on;

-- deferred foreign keys: the checks run at COMMIT, at SET CONSTRAINTS and
-- at the end of an autocommit statement, nested in the statement that
-- ended the transaction, never top level
CREATE TABLE lt_author (id int PRIMARY KEY);
CREATE TABLE lt_book (id int, author_id int
  REFERENCES lt_author DEFERRABLE INITIALLY DEFERRED);
INSERT INTO lt_author SELECT g FROM generate_series(1, 60) g;
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
INSERT INTO lt_book SELECT g, g FROM generate_series(1, 60) g;
COMMIT;
BEGIN;
INSERT INTO lt_book SELECT g, g FROM generate_series(1, 5) g;
SET CONSTRAINTS ALL IMMEDIATE;
COMMIT;
INSERT INTO lt_book VALUES (100, 1);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
-- top-level tracking records none of the checks
SET scale_advisor.track = 'top';
SELECT scale_advisor.reset() >= 0 AS t;
BEGIN;
INSERT INTO lt_book SELECT g, g FROM generate_series(1, 60) g;
COMMIT;
INSERT INTO lt_book VALUES (101, 2);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
-- the N+1 detector sees no loop in them
SELECT count(*) AS loops_on_fk_checks FROM scale_advisor.n_plus_one
  WHERE query LIKE '%lt_author%';
-- a check that fails at COMMIT leaves the level right: the next
-- statements are top level
BEGIN;
INSERT INTO lt_book VALUES (102, 999);
COMMIT;
SELECT scale_advisor.reset() >= 0 AS t;
SELECT 1 AS after_failed_commit;
BEGIN;
INSERT INTO lt_book VALUES (103, 3);
SELECT 1, 2 AS in_block;
COMMIT;
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;
-- a deferred constraint trigger in PL/pgSQL: its statements are nested
CREATE TABLE lt_audit (n int);
CREATE FUNCTION lt_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lt_audit VALUES (NEW.id);
  PERFORM count(*) FROM lt_audit;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lt_audit_trg AFTER INSERT ON lt_book
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lt_audit_fn();
SET scale_advisor.track = 'all';
SELECT scale_advisor.reset() >= 0 AS t;
BEGIN;
INSERT INTO lt_book VALUES (104, 4), (105, 5);
COMMIT;
INSERT INTO lt_book VALUES (106, 6);
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

-- the statements after an autocommit statement in the same message stay
-- top level: the next statements of a multi-statement string (one implicit
-- transaction, whose deferred checks at its end are nested), and the second
-- query of a statement a rule made two
CREATE TABLE lt_rule_src (a int);
CREATE TABLE lt_rule_log (a int);
CREATE RULE lt_rule AS ON INSERT TO lt_rule_src
  DO ALSO INSERT INTO lt_rule_log VALUES (NEW.a);
SELECT scale_advisor.reset() >= 0 AS t;
INSERT INTO lt_book VALUES (107, 7)\; SELECT 1, 2, 3 AS multi;
INSERT INTO lt_rule_src VALUES (1);
INSERT INTO lt_rule_src VALUES (2);
SELECT toplevel, calls, rows, query FROM lt_stats
  WHERE query NOT LIKE '%lt_audit%'
  ORDER BY query COLLATE "C", toplevel;
DROP TABLE lt_rule_src, lt_rule_log;

-- scale_advisor.track = 'none'
SET scale_advisor.track = 'none';
SELECT scale_advisor.reset() >= 0 AS t;
SELECT 1 AS "one";
SELECT 1 + 1 AS "two";
SELECT toplevel, calls, rows, query FROM lt_stats
  ORDER BY query COLLATE "C", toplevel;

RESET scale_advisor.track;
RESET scale_advisor.track_utility;
RESET scale_advisor.track_planning;
DROP TABLE lt_book, lt_author, lt_audit, stats_track_tab, test_table;
DROP MATERIALIZED VIEW lt_matview, lt_matview_2;
DROP FUNCTION lt_audit_fn, lt_util_fn, PLUS_ONE, PLUS_TWO, PLUS_THREE;
DROP PROCEDURE lt_proc, proc_with_utility_stmt;
DEALLOCATE test_prepare_lt;
DROP VIEW lt_stats;
DROP EXTENSION scale_advisor;
