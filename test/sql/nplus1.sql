-- N+1 detection: loops of one statement with different keys, identical
-- repeats, INSERT loops, and the rewrites suggested for them.
CREATE EXTENSION scale_advisor;
SET scale_advisor.n_plus_one_min_calls = 10;
CREATE TABLE np_authors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE np_posts (id int PRIMARY KEY,
                       author_id int NOT NULL REFERENCES np_authors,
                       title text NOT NULL);
CREATE TABLE np_comments (id int PRIMARY KEY,
                          post_id int NOT NULL REFERENCES np_posts,
                          body text NOT NULL);
CREATE TABLE np_events (id int, kind text);
INSERT INTO np_authors SELECT g, 'author ' || g FROM generate_series(1, 4) g;
INSERT INTO np_posts SELECT g, g % 4 + 1, 'post ' || g FROM generate_series(1, 30) g;
INSERT INTO np_comments SELECT g, g % 25 + 1, 'comment ' || g FROM generate_series(1, 75) g;

-- The loops of this file, generated once here: each psql variable holds
-- one statement a line, and :name sends them one by one, as if typed, so
-- that no other statement runs between a loop's parent and the loop (a
-- \gexec's own query would become the statement before the loop).
SELECT string_agg(format('SELECT id, body FROM np_comments WHERE post_id = %s ORDER BY id;', g),
                  E'\n' ORDER BY g) AS np_comments_1_20
  FROM generate_series(1, 20) g \gset
SELECT string_agg('SELECT name FROM np_authors WHERE id = 3;', E'\n') AS np_same_key
  FROM generate_series(1, 20) g \gset
SELECT string_agg(format('INSERT INTO np_events (id, kind) VALUES (%s, ''click'');', g),
                  E'\n' ORDER BY g) AS np_inserts
  FROM generate_series(1, 15) g \gset
SELECT string_agg(format('UPDATE np_events SET kind = ''seen'' WHERE id = %s;', g),
                  E'\n' ORDER BY g) AS np_updates
  FROM generate_series(1, 12) g \gset
-- the LIMIT goes 2, 3, 1, 2, 3, 1, ...
SELECT string_agg(format('SELECT body FROM np_comments WHERE post_id = %s ORDER BY id LIMIT %s;',
                         g, g % 3 + 1), E'\n' ORDER BY g) AS np_limits
  FROM generate_series(1, 12) g \gset
-- per post its comments, then its author (2, 3, 4, 1, 2, ...)
SELECT string_agg(format(E'SELECT id, body FROM np_comments WHERE post_id = %s ORDER BY id;\n'
                         'SELECT id, name FROM np_authors WHERE id = %s;', g, g % 4 + 1),
                  E'\n' ORDER BY g) AS np_interleaved
  FROM generate_series(1, 12) g \gset
SELECT string_agg(format('SELECT title FROM np_posts WHERE id = %s;', g), E'\n' ORDER BY g) AS np_titles
  FROM generate_series(1, 12) g \gset
SELECT scale_advisor.n_plus_one_reset();

-- 1. A loop of 20 selects with different keys in one transaction.
BEGIN;
SELECT id, author_id FROM np_posts WHERE id <= 20 ORDER BY id;
\o /dev/null
:np_comments_1_20
\o
COMMIT;
\x on
SELECT kind, query, parent_query, parent_rows, last_run, detections,
       repeated_calls, max_run, avg_run, suggestion, batched_query, join_query
  FROM scale_advisor.n_plus_one;
\x off

-- The batched statement runs and returns exactly what the loop fetched.
SELECT format('PREPARE np_batched AS %s', batched_query)
  FROM scale_advisor.n_plus_one WHERE kind = 'n_plus_one' \gexec
EXECUTE np_batched('{1,2}');
CREATE TEMP TABLE np_batched_result AS EXECUTE np_batched('{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20}');
SELECT (SELECT count(*) FROM np_batched_result) AS batched_rows,
       (SELECT count(*) FROM (SELECT id, body FROM np_comments WHERE post_id <= 20
                              EXCEPT SELECT id, body FROM np_batched_result) d) AS missing;
DEALLOCATE np_batched;
-- The JOIN runs too: one row per comment, plus posts without comments.
SELECT format('PREPARE np_join AS %s', join_query)
  FROM scale_advisor.n_plus_one WHERE kind = 'n_plus_one' \gexec
CREATE TEMP TABLE np_join_result AS EXECUTE np_join;
SELECT count(*) AS join_rows, count(DISTINCT id) AS posts,
       count(*) FILTER (WHERE np_comments_id IS NULL) AS posts_without_comments
  FROM np_join_result;
DEALLOCATE np_join;
DROP TABLE np_batched_result, np_join_result;

-- 2. Three executions are not a loop.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
SELECT id, author_id FROM np_posts WHERE id <= 3 ORDER BY id;
\o /dev/null
SELECT id, body FROM np_comments WHERE post_id = 1 ORDER BY id;
SELECT id, body FROM np_comments WHERE post_id = 2 ORDER BY id;
SELECT id, body FROM np_comments WHERE post_id = 3 ORDER BY id;
\o
COMMIT;
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;

-- 3. The same key 20 times: a cacheable repeat, not an N+1.
BEGIN;
\o /dev/null
:np_same_key
\o
COMMIT;
SELECT kind, query, max_run, batched_query, suggestion
  FROM scale_advisor.n_plus_one;

-- 4. An INSERT loop, and the INSERT that replaces it.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
:np_inserts
COMMIT;
SELECT kind, query, max_run, suggestion FROM scale_advisor.n_plus_one;
SELECT format('PREPARE np_insert AS %s', batched_query)
  FROM scale_advisor.n_plus_one WHERE kind = 'insert_loop' \gexec
EXECUTE np_insert('{100,101,102}', '{view,view,buy}');
SELECT * FROM np_events WHERE id >= 100 ORDER BY id;
DEALLOCATE np_insert;

-- An UPDATE loop by key becomes one UPDATE (each new value a column of
-- unnest: written as a constant, it is taken as a value of each row); when
-- the LIMIT varies too, the
-- loop's statement runs once per key and LIMIT (LATERAL), with what varied
-- in front of each row.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
:np_updates
COMMIT;
BEGIN;
\o /dev/null
:np_limits
\o
COMMIT;
SELECT kind, query, max_run, batched_query FROM scale_advisor.n_plus_one ORDER BY query;
SELECT format('PREPARE np_update AS %s', batched_query)
  FROM scale_advisor.n_plus_one WHERE query LIKE '%seen%' \gexec
EXECUTE np_update('{seen,seen}', '{100,101}');
SELECT * FROM np_events WHERE id >= 100 ORDER BY id;
DEALLOCATE np_update;
SELECT format('PREPARE np_lateral AS %s', batched_query)
  FROM scale_advisor.n_plus_one WHERE query LIKE '%LIMIT%' \gexec
CREATE TEMP TABLE np_lateral_result AS EXECUTE np_lateral('{1,2,3}', '{2,3,1}');
SELECT * FROM np_lateral_result;
SELECT count(*) AS differences FROM (
  (SELECT body FROM np_lateral_result
   EXCEPT ALL (SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 1 ORDER BY id LIMIT 2) a
               UNION ALL SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 2 ORDER BY id LIMIT 3) b
               UNION ALL SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 3 ORDER BY id LIMIT 1) c))
  UNION ALL
  ((SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 1 ORDER BY id LIMIT 2) a
    UNION ALL SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 2 ORDER BY id LIMIT 3) b
    UNION ALL SELECT * FROM (SELECT body FROM np_comments WHERE post_id = 3 ORDER BY id LIMIT 1) c)
   EXCEPT ALL SELECT body FROM np_lateral_result)) d;
DEALLOCATE np_lateral;
DROP TABLE np_lateral_result;

-- 5. Interleaved lookups (comments, then the author, per post) do not hide
-- the loops; both get the list of posts as parent.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
SELECT id, author_id FROM np_posts WHERE id BETWEEN 1 AND 12 ORDER BY id;
\o /dev/null
:np_interleaved
\o
COMMIT;
\x on
SELECT kind, query, parent_query, parent_rows, max_run, join_query
  FROM scale_advisor.n_plus_one ORDER BY query;
\x off
SELECT format('PREPARE np_join2 AS %s', join_query)
  FROM scale_advisor.n_plus_one WHERE query LIKE '%np_authors%' \gexec
CREATE TEMP TABLE np_join2_result AS EXECUTE np_join2;
SELECT count(*) AS rows, count(*) FILTER (WHERE name IS NULL) AS without_author
  FROM np_join2_result;
DEALLOCATE np_join2;
DROP TABLE np_join2_result;

-- 6. Autocommit: a loop outside any transaction block is one run while
-- its executions come within scale_advisor.n_plus_one_window_ms.
SELECT scale_advisor.n_plus_one_reset();
SET scale_advisor.n_plus_one_window_ms = '10s';
SELECT id FROM np_posts WHERE id <= 12 ORDER BY id;
\o /dev/null
:np_titles
\o
SELECT kind, query, max_run FROM scale_advisor.n_plus_one;
-- with no window, every autocommit statement starts a new run
SELECT scale_advisor.n_plus_one_reset();
SET scale_advisor.n_plus_one_window_ms = 0;
\o /dev/null
:np_titles
\o
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
-- nor is a stream of lookups with no parent that returned the keys (one
-- request after another on a pooled connection, a benchmark)
SET scale_advisor.n_plus_one_window_ms = '10s';
SELECT 1;
\o /dev/null
:np_titles
\o
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
RESET scale_advisor.n_plus_one_window_ms;

-- 7. Statements nested in a PL/pgSQL loop are left out by default, even
-- when scale_advisor.track records them.
SELECT scale_advisor.n_plus_one_reset();
CREATE FUNCTION np_render() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	p record;
	n bigint := 0;
	c record;
BEGIN
	FOR p IN SELECT id FROM np_posts ORDER BY id LOOP
		FOR c IN SELECT id FROM np_comments WHERE post_id = p.id LOOP
			n := n + 1;
		END LOOP;
	END LOOP;
	RETURN n;
END $$;
SELECT np_render();
SET scale_advisor.track = 'all';
SELECT np_render();
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
-- scale_advisor.n_plus_one_nested turns them on
SET scale_advisor.n_plus_one_nested = on;
SELECT np_render();
SELECT kind, query, max_run, batched_query, suggestion FROM scale_advisor.n_plus_one;
RESET scale_advisor.n_plus_one_nested;
RESET scale_advisor.track;

-- 8. Silencing: a query id, an application_name, or the whole session.
SELECT scale_advisor.n_plus_one_reset();
SET application_name = 'np_regress';
BEGIN;
\o /dev/null
:np_titles
\o
COMMIT;
SELECT application_name, kind, max_run FROM scale_advisor.n_plus_one;
SELECT scale_advisor.n_plus_one_ignore(queryid, note => 'admin page, 12 rows at most')
  FROM scale_advisor.n_plus_one;
SELECT count(*) AS shown FROM scale_advisor.n_plus_one;
SELECT scale_advisor.n_plus_one_unignore(queryid)
  FROM scale_advisor._n_plus_one_entries();
SELECT count(*) AS shown FROM scale_advisor.n_plus_one;
SELECT scale_advisor.n_plus_one_ignore_application('np_regress');
SELECT scale_advisor.n_plus_one_ignore_application('np_regress');
SELECT count(*) AS shown FROM scale_advisor.n_plus_one;
SELECT scale_advisor.n_plus_one_unignore(application_name => 'np_regress');
SELECT count(*) AS shown FROM scale_advisor.n_plus_one;
RESET application_name;
-- a batch job that loops on purpose turns detection off for itself
SELECT scale_advisor.n_plus_one_reset();
SET scale_advisor.n_plus_one = off;
BEGIN;
\o /dev/null
:np_titles
\o
COMMIT;
RESET scale_advisor.n_plus_one;
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;

-- 9. Bad input is refused.
SELECT scale_advisor.n_plus_one_ignore(NULL);
SELECT scale_advisor.n_plus_one_ignore_application(NULL);
SELECT scale_advisor.n_plus_one_unignore();
SET scale_advisor.n_plus_one_min_calls = 1;

DROP FUNCTION np_render();
DROP TABLE np_comments, np_posts, np_authors, np_events;
SELECT scale_advisor.n_plus_one_reset();
DROP EXTENSION scale_advisor;
