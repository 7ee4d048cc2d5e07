-- What a DBA reads in the first week (issue 16): alerts judge the
-- statements slow_queries judges, the statement_timeout check tells the
-- application's roles from monitoring and maintenance roles, archiving
-- says how much of the table moved from fresh counts, errors written for
-- the caller come without our internal frames, partition_table answers in
-- a line, texts read well, and DROP EXTENSION takes the schema with it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scale_advisor;
SET scale_advisor.track = none;
SELECT scale_advisor.history_reset();

-- alerts: a one-off slow statement fires nothing; one the application
-- runs again and again fires slow_statement
SELECT scale_advisor.set_threshold('alert_slow_statement_ms', 50) AS slow_ms,
       scale_advisor.set_threshold('slow_statement_min_calls', 5) AS min_calls;
SET scale_advisor.track = top;
SELECT pg_sleep(0.06), 'a one-off';
SELECT pg_sleep(0.06), 1, 2;
SELECT pg_sleep(0.06), 1, 2;
SELECT pg_sleep(0.06), 1, 2;
SELECT pg_sleep(0.06), 1, 2;
SELECT pg_sleep(0.06), 1, 2;
SET scale_advisor.track = none;
SELECT alert, detail ~ '^queryid -?\d+: 5 of 5 executions slower than 50 ms$' AS five_of_five
FROM scale_advisor.alerts WHERE alert IN ('slow_statement', 'statement_p95');
DELETE FROM scale_advisor.thresholds;

-- statement_timeout: monitoring and maintenance roles are not application
-- roles; the advice names every application role without one
CREATE ROLE dba_app LOGIN;
CREATE ROLE dba_app2 LOGIN;
CREATE ROLE dba_mon LOGIN;
GRANT pg_monitor TO dba_mon;
CREATE ROLE dba_arch LOGIN;
GRANT EXECUTE ON PROCEDURE scale_advisor.run_archive_policies TO dba_arch;
SELECT status,
       advice LIKE '%ALTER ROLE dba_app SET statement_timeout = ''30s'';%' AS names_app,
       advice LIKE '%ALTER ROLE dba_app2 SET statement_timeout = ''30s'';%' AS names_app2,
       advice LIKE '%dba_mon%' OR value LIKE '%dba_mon%' AS names_monitoring,
       advice LIKE '%dba_arch%' OR value LIKE '%dba_arch%' AS names_archiver
FROM scale_advisor.checklist WHERE "check" = 'statement_timeout';
ALTER ROLE dba_app SET statement_timeout = '20s';
SELECT advice LIKE '%dba_app %' AS still_names_app, advice LIKE '%dba_app2%' AS names_app2
FROM scale_advisor.checklist WHERE "check" = 'statement_timeout';
REVOKE EXECUTE ON PROCEDURE scale_advisor.run_archive_policies FROM dba_arch;
DROP ROLE dba_app, dba_app2, dba_mon, dba_arch;

-- archiving: the share of the table moved comes from the live count, not
-- from reltuples, which the last ANALYZE left at 2000 of today's 12000
CREATE TABLE dba_ev (id int PRIMARY KEY, at timestamptz NOT NULL) WITH (autovacuum_enabled = off);
INSERT INTO dba_ev SELECT g, now() - interval '1 year' FROM generate_series(1, 2000) g;
SELECT pg_stat_force_next_flush();
ANALYZE dba_ev;
INSERT INTO dba_ev SELECT g, now() FROM generate_series(2001, 12000) g;
SELECT pg_stat_force_next_flush();
SELECT reltuples FROM pg_class WHERE oid = 'dba_ev'::regclass;
SET client_min_messages = notice;
CALL scale_advisor.archive('dba_ev', 'at', '30 days');
SET client_min_messages = warning;
SELECT vacuum_advice FROM scale_advisor.archive_runs WHERE relation = 'public.dba_ev';

-- an error written for the caller: message and hint, no CONTEXT lines of
-- the extension's internal functions (their 13-argument signatures)
CALL scale_advisor.archive('dba_ev', 'at', '90');
CALL scale_advisor.partition_table('dba_ev', 'nope', '1 month');

-- partition_table answers in one line; verbose => true lists the statements
CREATE TABLE dba_orders (id int, at timestamptz NOT NULL, PRIMARY KEY (id, at));
INSERT INTO dba_orders SELECT g, now() - g * interval '1 day' FROM generate_series(1, 100) g;
CREATE TABLE dba_orders2 (LIKE dba_orders INCLUDING ALL);
CALL scale_advisor.partition_table('dba_orders', 'at', '1 month', premake => 1) \gset
SELECT :'steps' ~ '^public\.dba_orders is partitioned by at, 1 month a partition: \d+ partitions \(public\.dba_orders_\w+(, public\.dba_orders_\w+)*( and \d+ more)?\), exclusive lock held [0-9.]+ ms; verbose => true lists the statements run$' AS one_line;
CALL scale_advisor.partition_table('dba_orders2', 'at', '1 month', premake => 1, verbose => true) \gset
SELECT :'steps' ~ 'ALTER TABLE public\.dba_orders2 ADD CONSTRAINT sa_partition_bound' AS lists_statements;
DELETE FROM scale_advisor.partition_sets WHERE parent_table IN ('dba_orders', 'dba_orders2');
DROP TABLE dba_orders, dba_orders2;
DROP TABLE dba_ev, dba_ev_archive;
DELETE FROM scale_advisor.archive_runs WHERE relation = 'public.dba_ev';

-- texts: '1 call', words not cut, times as a person reads them, rounded
SELECT scale_advisor._n(1, 'call') AS one, scale_advisor._n(2, 'call') AS two,
       scale_advisor._n(3, 'index', 'indexes') AS three;
SELECT scale_advisor._cut('SELECT name FROM accounts WHERE id = $1', 20) AS cut,
       scale_advisor._cut('short', 20) AS kept;
SELECT scale_advisor._ms_pretty(x) AS pretty, scale_advisor._ms_round(x) AS rounded
FROM unnest(ARRAY[0.15878299999999998, 1.5, 12.34, 1372.55, 65000, 7200000]::float8[]) x;
SELECT scale_advisor._list(ARRAY['a', 'b', 'c', 'd', 'e', 'f', 'g'], ', ') AS capped,
       scale_advisor._list(ARRAY['a', 'b'], '; ') AS short;

-- DROP EXTENSION takes the schema CREATE EXTENSION made
CREATE DATABASE dba_drop;
\c dba_drop
SET client_min_messages = warning;
CREATE EXTENSION scale_advisor;
SELECT count(*) AS schema_made FROM pg_namespace WHERE nspname = 'scale_advisor';
DROP EXTENSION scale_advisor;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'scale_advisor';
-- a schema holding something else stays
CREATE EXTENSION scale_advisor;
CREATE TABLE scale_advisor.mine (x int);
DROP EXTENSION scale_advisor;
SELECT count(*) AS schema_kept FROM pg_namespace WHERE nspname = 'scale_advisor';
\c contrib_regression
DROP DATABASE dba_drop;
-- leave the database as the next test expects it
DROP EXTENSION scale_advisor;
