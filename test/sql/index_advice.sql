-- Index advice on a planted schema with known answers.
--
-- Tables are filled from a fixed seed; every statement runs with plan
-- sampling on (scale_advisor.plan_sample_rate = 1), so its plan is walked
-- with row counts at ExecutorEnd.  The advice must name exactly the planted
-- indexes: precision and recall are reported at the end.
CREATE EXTENSION scale_advisor;
SET max_parallel_workers_per_gather = 0;
SET scale_advisor.index_write_cost_us = 0;
SELECT setseed(0.42);

-- equality on a high-cardinality column, and a sort under LIMIT
CREATE TABLE ia_orders (
    id int PRIMARY KEY,
    cust int NOT NULL,
    ts timestamptz NOT NULL,
    ref text NOT NULL,
    amount numeric NOT NULL
);
INSERT INTO ia_orders
SELECT i, (random() * 999)::int, '2024-01-01'::timestamptz + random() * interval '365 days',
       'R' || i, round((random() * 1000)::numeric, 2)
  FROM generate_series(1, 100000) i;

-- a foreign key used in joins
CREATE TABLE ia_order_lines (
    id int PRIMARY KEY,
    order_id int NOT NULL REFERENCES ia_orders (id),
    qty int NOT NULL
);
INSERT INTO ia_order_lines
SELECT i, 1 + (random() * 99999)::int, 1 + (random() * 9)::int
  FROM generate_series(1, 200000) i;

-- equality then range
CREATE TABLE ia_events (
    id bigint PRIMARY KEY,
    account int NOT NULL,
    ts timestamptz NOT NULL,
    kind int NOT NULL
);
INSERT INTO ia_events
SELECT i, (random() * 199)::int, '2024-01-01'::timestamptz + random() * interval '365 days',
       (random() * 9)::int
  FROM generate_series(1, 100000) i;

-- an expression, and a boolean column (negative)
CREATE TABLE ia_users (
    id int PRIMARY KEY,
    email text NOT NULL,
    active boolean NOT NULL
);
INSERT INTO ia_users
SELECT i, 'User' || i || '@Example.com', random() < 0.5
  FROM generate_series(1, 60000) i;

-- a partial index: a constant condition on a low-cardinality column
CREATE TABLE ia_jobs (
    id int NOT NULL,
    status text NOT NULL,
    created timestamptz NOT NULL,
    payload text
);
INSERT INTO ia_jobs
SELECT i, CASE WHEN random() < 0.01 THEN 'pending'
               WHEN random() < 0.5 THEN 'done' ELSE 'failed' END,
       '2024-01-01'::timestamptz + i * interval '1 minute', repeat('x', 50)
  FROM generate_series(1, 100000) i;

-- a small table (negative)
CREATE TABLE ia_small (id int, code int);
INSERT INTO ia_small SELECT i, i % 50 FROM generate_series(1, 300) i;

-- served by the prefix of a composite index (negative)
CREATE TABLE ia_served (a int, b int, c text);
INSERT INTO ia_served SELECT i % 5000, i, 'x' || i FROM generate_series(1, 100000) i;
CREATE INDEX ia_served_a_b ON ia_served (a, b);

-- no autovacuum on these tables: a vacuum sets the visibility map and the
-- planner then prefers covering indexes (the advice would depend on timing)
ALTER TABLE ia_orders SET (autovacuum_enabled = off);
ALTER TABLE ia_order_lines SET (autovacuum_enabled = off);
ALTER TABLE ia_events SET (autovacuum_enabled = off);
ALTER TABLE ia_users SET (autovacuum_enabled = off);
ALTER TABLE ia_jobs SET (autovacuum_enabled = off);
ALTER TABLE ia_small SET (autovacuum_enabled = off);
ALTER TABLE ia_served SET (autovacuum_enabled = off);
ANALYZE ia_orders, ia_order_lines, ia_events, ia_users, ia_jobs, ia_small, ia_served;
SELECT scale_advisor.index_workload_reset();

SET scale_advisor.plan_sample_rate = 1;
SELECT count(*) FROM ia_orders WHERE ref = 'R4242';
SELECT count(*) FROM ia_orders WHERE ref = 'R4243';
SELECT id FROM ia_orders WHERE cust = 42 ORDER BY ts DESC LIMIT 10 \g /dev/null
SELECT id FROM ia_orders WHERE cust = 43 ORDER BY ts DESC LIMIT 10 \g /dev/null
SELECT count(*) > 0 FROM ia_events
 WHERE account = 7 AND ts > '2024-12-20' AND ts < '2024-12-31';
SELECT count(*) FROM ia_users WHERE lower(email) = 'user777@example.com';
SELECT sum(l.qty) > 0 FROM ia_orders o JOIN ia_order_lines l ON l.order_id = o.id
 WHERE o.id BETWEEN 500 AND 510;
SELECT id FROM ia_jobs WHERE status = 'pending' ORDER BY created LIMIT 20 \g /dev/null
SELECT count(*) > 20000 FROM ia_users WHERE active;
SELECT count(*) FROM ia_small WHERE code = 5;
SELECT count(*) FROM ia_served WHERE a = 5;
-- prepared statement: bound parameter values are kept for the replanning
PREPARE ia_p(text) AS SELECT amount FROM ia_orders WHERE ref = $1;
EXECUTE ia_p('R99');
DEALLOCATE ia_p;
SET scale_advisor.plan_sample_rate = 0;

-- what the plans lacked
SELECT relation, scan, terms, row_counts_measured
  FROM scale_advisor.index_workload
 WHERE relation::text LIKE 'ia\_%'
 ORDER BY 1, 3;

-- the advice
SELECT relation, columns, index_sql, predicate, cardinality(queryids) AS statements,
       improvement_pct > 50 AS big_gain, est_size_bytes > 0 AS has_size
  FROM scale_advisor.index_advice
 WHERE relation::text LIKE 'ia\_%'
 ORDER BY 1, 2;

-- precision and recall against the planted answers
WITH expected(relation, columns) AS (
  VALUES ('ia_orders', '{ref}'::text[]),
         ('ia_orders', '{cust,ts}'),
         ('ia_events', '{account,ts}'),
         ('ia_users', '{(lower(email))}'),
         ('ia_order_lines', '{order_id}'),
         ('ia_jobs', '{created}')
), got AS (
  SELECT relation::text AS relation, columns
    FROM scale_advisor.index_advice
   WHERE relation::text LIKE 'ia\_%'
), tp AS (
  SELECT count(*) AS n FROM got JOIN expected USING (relation, columns)
)
SELECT (SELECT n FROM tp) AS true_positives,
       (SELECT count(*) FROM got) - (SELECT n FROM tp) AS false_positives,
       (SELECT count(*) FROM expected) - (SELECT n FROM tp) AS false_negatives,
       round((SELECT n FROM tp)::numeric / NULLIF((SELECT count(*) FROM got), 0), 2) AS precision,
       round((SELECT n FROM tp)::numeric / (SELECT count(*) FROM expected), 2) AS recall;

-- no advice for the negative cases
SELECT count(*) AS advice_on_negatives
  FROM scale_advisor.index_advice
 WHERE relation::text IN ('ia_small', 'ia_served')
    OR (relation::text = 'ia_users' AND 'active' = ANY (columns));

-- the reason explains the choice
SELECT reason LIKE 'sequential scan on ia_events using account =, ts >; equality columns first, then the range column; 1 statement, planner cost %' AS reason_ok,
       calls, est_ms_saved_per_hour > 0 AS saves_time
  FROM scale_advisor.index_advice WHERE relation = 'ia_events'::regclass;

-- once the advised index exists, the advice is gone
CREATE INDEX ia_events_account_ts ON ia_events (account, ts);
SELECT count(*) AS advice_on_events
  FROM scale_advisor.index_advice WHERE relation = 'ia_events'::regclass;
DROP INDEX ia_events_account_ts;

-- a statement whose table was dropped is skipped with a reason
CREATE TABLE ia_gone (x int, y int);
INSERT INTO ia_gone SELECT i, i FROM generate_series(1, 50000) i;
ANALYZE ia_gone;
SET scale_advisor.plan_sample_rate = 1;
SELECT count(*) FROM ia_gone WHERE x = 5;
SET scale_advisor.plan_sample_rate = 0;
DROP TABLE ia_gone;
SELECT reason FROM scale_advisor.index_advice_skipped
 WHERE reason LIKE '%ia_gone%';
SELECT count(*) AS advice_rows_still_there
  FROM scale_advisor.index_advice WHERE relation::text LIKE 'ia\_%';

-- the what-if function on its own
SELECT index_used, improvement_pct > 90 AS big_gain, est_size_bytes > 0 AS has_size
  FROM scale_advisor.index_whatif(
         'SELECT * FROM ia_orders WHERE ref = ''R5''',
         'CREATE INDEX ON ia_orders (ref)');
SELECT index_used, cost_after >= cost_before AS no_gain
  FROM scale_advisor.index_whatif(
         'SELECT * FROM ia_users WHERE active',
         'CREATE INDEX ON ia_users (active)');
SELECT index_used
  FROM scale_advisor.index_whatif(
         'SELECT id FROM ia_users WHERE lower(email) = $1',
         'CREATE INDEX ON ia_users (lower(email))', ARRAY['user5@example.com']);
-- a partial index is usable only when the statement implies its predicate
SELECT index_used
  FROM scale_advisor.index_whatif(
         'SELECT id FROM ia_orders WHERE cust = 5 ORDER BY ts DESC LIMIT 5',
         'CREATE INDEX ON ia_orders (cust, ts) WHERE amount > 900');
SELECT index_used
  FROM scale_advisor.index_whatif(
         'SELECT id FROM ia_orders WHERE cust = 5 AND amount > 900 ORDER BY ts DESC LIMIT 5',
         'CREATE INDEX ON ia_orders (cust, ts) WHERE amount > 900');
-- the statement's names resolve in the caller's search_path
CREATE SCHEMA ia_s;
CREATE TABLE ia_s.ia_other (k int, v int);
INSERT INTO ia_s.ia_other SELECT i, i FROM generate_series(1, 20000) i;
ANALYZE ia_s.ia_other;
SET search_path = ia_s, public;
SELECT index_used
  FROM scale_advisor.index_whatif('SELECT v FROM ia_other WHERE k = 7',
                                  'CREATE INDEX ON ia_other (k)');
RESET search_path;
SELECT * FROM scale_advisor.index_whatif('SELECT v FROM ia_other WHERE k = 7',
                                         'CREATE INDEX ON ia_other (k)');
DROP SCHEMA ia_s CASCADE;
-- a plan with a hypothetical index never reaches the executor: the same
-- statement runs normally right after
SELECT count(*) FROM ia_orders WHERE ref = 'R5';
-- bad input
SELECT * FROM scale_advisor.index_whatif(NULL, 'CREATE INDEX ON ia_orders (ref)');
SELECT * FROM scale_advisor.index_whatif('SELECT 1', 'CREATE INDEX ON ia_orders USING hash (ref)');
SELECT * FROM scale_advisor.index_whatif('SELECT 1', 'CREATE INDEX ON ia_orders (nosuchcol)');
SELECT * FROM scale_advisor.index_whatif('SELECT 1', 'DROP TABLE ia_orders');
SELECT * FROM scale_advisor.index_whatif('VACUUM ia_orders', 'CREATE INDEX ON ia_orders (ref)');
SELECT * FROM scale_advisor.index_whatif('SELECT * FROM ia_orders WHERE ref = $1', 'CREATE INDEX ON ia_orders (ref)');
SELECT count(*) FROM ia_orders;  -- the table is still there

DROP TABLE ia_order_lines, ia_orders, ia_events, ia_users, ia_jobs, ia_small, ia_served;
SELECT scale_advisor.index_workload_reset();
DROP EXTENSION scale_advisor;
