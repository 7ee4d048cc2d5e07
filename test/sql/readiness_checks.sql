-- Scale readiness checklist and alerts against server states this test
-- creates.  Only this test's own objects are looked at (the database is
-- shared with the other tests), through the value text of each check.
-- keep the statement store as the statement-store tests expect it
SET scale_advisor.track = none;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scale_advisor;
CREATE SCHEMA readiness_t;
SET search_path = readiness_t, public;

-- every check is there once, with a valid status
SELECT "check", status IN ('pass', 'warn', 'fail') AS valid,
	   target IS NOT NULL AND advice IS NOT NULL AND value IS NOT NULL AS filled
FROM scale_advisor.checklist;

-- thresholds: unknown name, negative value, set and back to the default
SELECT scale_advisor.set_threshold('no_such_threshold', 1);
SELECT scale_advisor.set_threshold('slow_statement_ms', -1);
SELECT scale_advisor.set_threshold(NULL, 1);
\set VERBOSITY terse
INSERT INTO scale_advisor.thresholds VALUES ('bogus', 1);
\set VERBOSITY default
SELECT scale_advisor.set_threshold('slow_statement_ms', 250);
SELECT name, value, default_value FROM scale_advisor.threshold_settings WHERE name = 'slow_statement_ms';
SELECT target FROM scale_advisor.checklist WHERE "check" = 'slow_statements';
SELECT scale_advisor.set_threshold('slow_statement_ms', NULL);
SELECT count(*) FROM scale_advisor.thresholds;
-- the 1.0 settings are the old names of two thresholds: not set by default
-- (-1); when set they give the threshold's value where set_threshold has
-- not, and set_threshold takes precedence
SELECT current_setting('scale_advisor.slow_query_ms') AS slow_query_ms,
	   current_setting('scale_advisor.partition_advice_min_size') AS partition_advice_min_size;
SET scale_advisor.slow_query_ms = 250;
SET scale_advisor.partition_advice_min_size = '2GB';
SELECT name, value, default_value FROM scale_advisor.threshold_settings
WHERE name IN ('slow_statement_ms', 'partition_min_bytes') ORDER BY name;
SELECT target FROM scale_advisor.checklist WHERE "check" = 'slow_statements';
SELECT scale_advisor.set_threshold('slow_statement_ms', 300);
RESET scale_advisor.slow_query_ms;
RESET scale_advisor.partition_advice_min_size;
SELECT name, value FROM scale_advisor.threshold_settings
WHERE name IN ('slow_statement_ms', 'partition_min_bytes') ORDER BY name;
SELECT scale_advisor.set_threshold('slow_statement_ms', NULL);

-- slow-query logging: off, too high, on
SET log_min_duration_statement = -1;
SELECT status, value, advice FROM scale_advisor.checklist WHERE "check" = 'slow_query_logging';
SET log_min_duration_statement = '5s';
SELECT status, value FROM scale_advisor.checklist WHERE "check" = 'slow_query_logging';
SET log_min_duration_statement = '250ms';
SELECT status, value FROM scale_advisor.checklist WHERE "check" = 'slow_query_logging';
RESET log_min_duration_statement;

-- WAL archiving is off on the test server: no point-in-time recovery
SELECT "check", status, value FROM scale_advisor.checklist
WHERE "check" IN ('wal_archiving', 'point_in_time_recovery') ORDER BY 1;

-- timeouts for application roles
CREATE ROLE regress_readiness_app LOGIN;
SELECT "check", status, value ~ 'regress_readiness_app' AS names_role
FROM scale_advisor.checklist
WHERE "check" IN ('statement_timeout', 'idle_in_transaction_session_timeout') ORDER BY 1;
ALTER ROLE regress_readiness_app SET statement_timeout = '10min';
SELECT value ~ 'regress_readiness_app' AS names_role FROM scale_advisor.checklist WHERE "check" = 'statement_timeout';
ALTER ROLE regress_readiness_app SET statement_timeout = '5s';
ALTER ROLE regress_readiness_app IN DATABASE contrib_regression SET idle_in_transaction_session_timeout = 30000;
SELECT "check", value ~ 'regress_readiness_app' AS names_role
FROM scale_advisor.checklist
WHERE "check" IN ('statement_timeout', 'idle_in_transaction_session_timeout') ORDER BY 1;
DROP ROLE regress_readiness_app;

-- autovacuum disabled on a table
CREATE TABLE readiness_novac (id int) WITH (autovacuum_enabled = false);
SELECT status, value ~ 'readiness_novac' AS names_table, advice
FROM scale_advisor.checklist WHERE "check" = 'autovacuum';
ALTER TABLE readiness_novac RESET (autovacuum_enabled);
SELECT value ~ 'readiness_novac' AS names_table FROM scale_advisor.checklist WHERE "check" = 'autovacuum';

-- dead tuples, stale statistics, bloat: a table that lost most of its rows
CREATE TABLE readiness_dead (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false);
INSERT INTO readiness_dead SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
DELETE FROM readiness_dead WHERE id % 10 <> 0;
SELECT pg_stat_force_next_flush();
SELECT status, value ~ 'readiness_dead \(90\.0% dead, last vacuum never\)' AS names_table
FROM scale_advisor.checklist WHERE "check" = 'dead_tuples';
SELECT status, value ~ 'readiness_dead' AS names_table FROM scale_advisor.checklist WHERE "check" = 'stale_statistics';
VACUUM ANALYZE readiness_dead;
SELECT pg_stat_force_next_flush();
SELECT value ~ 'readiness_dead' AS names_table FROM scale_advisor.checklist WHERE "check" = 'dead_tuples';
SELECT value ~ 'readiness_dead' AS names_table FROM scale_advisor.checklist WHERE "check" = 'stale_statistics';
-- the pages stay: the table and its index are bloated now
SELECT scale_advisor.set_threshold('bloat_min_bytes', 0);
SELECT value ~ 'readiness_dead \(' AS names_table FROM scale_advisor.checklist WHERE "check" = 'table_bloat';
SELECT value ~ 'readiness_dead_pkey' AS names_index FROM scale_advisor.checklist WHERE "check" = 'index_bloat';
VACUUM FULL readiness_dead;
REINDEX TABLE readiness_dead;
ANALYZE readiness_dead;
SELECT value ~ 'readiness_dead \(' AS names_table FROM scale_advisor.checklist WHERE "check" = 'table_bloat';
SELECT value ~ 'readiness_dead_pkey' AS names_index FROM scale_advisor.checklist WHERE "check" = 'index_bloat';
SELECT scale_advisor.set_threshold('bloat_min_bytes', NULL);

-- a large table read by sequential scans, then indexed
CREATE TABLE readiness_scan (id int, v int);
INSERT INTO readiness_scan SELECT g, g % 100 FROM generate_series(1, 20000) g;
SELECT count(*) FROM readiness_scan WHERE id = 5;
SELECT count(*) FROM readiness_scan WHERE id = 6;
SELECT pg_stat_force_next_flush();
SELECT value ~ 'readiness_scan \(2 seq scans\)' AS names_table
FROM scale_advisor.checklist WHERE "check" = 'sequential_scans';
CREATE INDEX readiness_scan_id ON readiness_scan (id);
SELECT count(*) FROM readiness_scan WHERE id = 5;
SELECT count(*) FROM readiness_scan WHERE id = 6;
SELECT count(*) FROM readiness_scan WHERE id = 7;
SELECT pg_stat_force_next_flush();
SELECT value ~ 'readiness_scan' AS names_table
FROM scale_advisor.checklist WHERE "check" = 'sequential_scans';

-- unused, duplicate and invalid indexes
SELECT scale_advisor.set_threshold('unused_index_min_bytes', 0);
CREATE INDEX readiness_scan_v ON readiness_scan (v);
CREATE INDEX readiness_scan_v2 ON readiness_scan (v);
SELECT "check", status, value ~ 'readiness_scan_v' AS names_index
FROM scale_advisor.checklist WHERE "check" IN ('unused_indexes', 'duplicate_indexes') ORDER BY 1;
DROP INDEX readiness_scan_v2;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM readiness_scan WHERE v = 5;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT "check", value ~ 'readiness_scan_v' AS names_index
FROM scale_advisor.checklist WHERE "check" IN ('unused_indexes', 'duplicate_indexes') ORDER BY 1;
SELECT scale_advisor.set_threshold('unused_index_min_bytes', NULL);
SET max_parallel_maintenance_workers = 0;
\set VERBOSITY terse
CREATE UNIQUE INDEX CONCURRENTLY readiness_scan_bad ON readiness_scan (v);
\set VERBOSITY default
SELECT status, value ~ 'readiness_scan_bad' AS names_index, advice
FROM scale_advisor.checklist WHERE "check" = 'invalid_indexes';
DROP INDEX readiness_scan_bad;
SELECT value ~ 'readiness_scan_bad' AS names_index FROM scale_advisor.checklist WHERE "check" = 'invalid_indexes';

-- large tables with a time column: archiving or partitioning candidates
CREATE TABLE readiness_events (id int, created_at timestamptz DEFAULT now());
INSERT INTO readiness_events (id) SELECT generate_series(1, 1000);
SELECT value ~ 'readiness_events' AS names_table FROM scale_advisor.checklist WHERE "check" = 'archiving_partitioning';
SELECT scale_advisor.set_threshold('partition_min_bytes', 1);
SELECT status, value ~ 'readiness_events' AS names_table FROM scale_advisor.checklist WHERE "check" = 'archiving_partitioning';
SELECT scale_advisor.set_threshold('partition_min_bytes', NULL);

-- connections and transaction ID age, judged against lowered thresholds
SELECT status FROM scale_advisor.checklist WHERE "check" = 'connections';
SELECT scale_advisor.set_threshold('connections_warning_pct', 0);
SELECT status FROM scale_advisor.checklist WHERE "check" = 'connections';
SELECT severity, alert, threshold FROM scale_advisor.alerts WHERE alert = 'connections';
SELECT scale_advisor.set_threshold('connections_critical_pct', 0);
SELECT status FROM scale_advisor.checklist WHERE "check" = 'connections';
SELECT severity, alert, threshold FROM scale_advisor.alerts WHERE alert = 'connections';
SELECT scale_advisor.set_threshold('connections_warning_pct', NULL);
SELECT scale_advisor.set_threshold('connections_critical_pct', NULL);
SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'connections';
SELECT status FROM scale_advisor.checklist WHERE "check" = 'transaction_id_age';
SELECT scale_advisor.set_threshold('xid_age_warning', 1);
SELECT status FROM scale_advisor.checklist WHERE "check" = 'transaction_id_age';
SELECT severity, alert FROM scale_advisor.alerts WHERE alert = 'transaction_id_age';
SELECT scale_advisor.set_threshold('xid_age_warning', NULL);
SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'transaction_id_age';

-- internal helpers
SELECT scale_advisor._guc_ms(v) FROM unnest(ARRAY['0', '250', '5s', '10min', '1h', '-1', '1500us']) v;

RESET search_path;
DROP SCHEMA readiness_t CASCADE;
-- leave the server as the next test expects it
SELECT scale_advisor.history_reset();
DROP EXTENSION scale_advisor;
