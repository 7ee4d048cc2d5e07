-- Partitioning helpers: API, dry run, refusals, conversion, maintenance.
SELECT NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'scale_advisor') AS sa_created \gset
CREATE EXTENSION IF NOT EXISTS scale_advisor;
SET client_min_messages = warning;
\set SHOW_CONTEXT never
CREATE SCHEMA pt;
SET search_path = pt, public;
CREATE ROLE regress_pt_reader;

-- bad input: every call below fails and changes nothing
CREATE TABLE pt.plain (id bigint, at timestamptz NOT NULL, f float8, note text, PRIMARY KEY (id, at));
CALL scale_advisor.partition_table(NULL, 'id', '100');
CALL scale_advisor.partition_table('pt.plain', NULL, '100');
CALL scale_advisor.partition_table('pt.plain', 'id', NULL);
CALL scale_advisor.partition_table('pt.nosuch', 'id', '100');
CALL scale_advisor.partition_table('pt.plain', 'nosuch', '100');
CALL scale_advisor.partition_table('pt.plain', 'id', 'lots');
CALL scale_advisor.partition_table('pt.plain', 'id', '-5');
CALL scale_advisor.partition_table('pt.plain', 'id', '1.5');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', premake => 0);
CALL scale_advisor.partition_table('pt.plain', 'id', '100', retries => -1);
CALL scale_advisor.partition_table('pt.plain', 'id', '100', lock_timeout => '-1s');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', lock_timeout => '500');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', retention_action => 'shred');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', retention_action => 'archive_schema');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', archive_schema => 'nosuch');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', retention => 'soon');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', retention => '100', retention_action => 'archive');
-- a time interval or retention without a unit (it would be seconds), and a
-- retention under 1 hour (1 day with drop)
CALL scale_advisor.partition_table('pt.plain', 'at', '180');
CALL scale_advisor.partition_table('pt.plain', 'at', '1 day', retention => '180', retention_action => 'drop');
CALL scale_advisor.partition_table('pt.plain', 'at', '1 day', retention => '12 hours', retention_action => 'drop');
CALL scale_advisor.partition_table('pt.plain', 'at', '1 day', retention => '30 minutes');
CALL scale_advisor.partition_table('pt.plain', 'f', '1 day');
CALL scale_advisor.partition_table('pt.plain', 'note', '1 day');
CALL scale_advisor.partition_table('pt.plain', 'at', '1 month 2 days');
CALL scale_advisor.partition_table('pt.plain', 'at', '10 seconds');
CALL scale_advisor.partition_table('pt.plain', 'at', 'weekly');
CALL scale_advisor.partition_table('pt.plain', 'id', '100', historical_until => '5');
SELECT relkind, (SELECT count(*) FROM pg_constraint WHERE conrelid = 'pt.plain'::regclass) AS constraints
FROM pg_class WHERE oid = 'pt.plain'::regclass;

-- refusals: one error lists every blocker, nothing changes
CREATE TABLE pt.blocked (id bigint PRIMARY KEY, at timestamptz NOT NULL, code text UNIQUE,
	slot int, EXCLUDE USING btree (slot WITH =));
CREATE UNIQUE INDEX blocked_code_lower ON pt.blocked (lower(code));
CREATE TABLE pt.blocked_child () INHERITS (pt.blocked);
CREATE RULE blocked_rule AS ON DELETE TO pt.blocked DO INSTEAD NOTHING;
CREATE VIEW pt.blocked_view AS SELECT id, at FROM pt.blocked;
CREATE TABLE pt.blocked_ref (blocked_id bigint REFERENCES pt.blocked (id));
CALL scale_advisor.partition_table('pt.blocked', 'at', '1 month');
SELECT * FROM scale_advisor.partition_blockers('pt.blocked', 'at');
-- partitioning by id clears the key blockers but not the others
SELECT * FROM scale_advisor.partition_blockers('pt.blocked', 'id');
SELECT relkind, (SELECT count(*) FROM pg_constraint WHERE conrelid = 'pt.blocked'::regclass) AS constraints
FROM pg_class WHERE oid = 'pt.blocked'::regclass;
DROP TABLE pt.blocked CASCADE;
CREATE UNLOGGED TABLE pt.unlogged (id bigint, at timestamptz, g bigint GENERATED ALWAYS AS (id * 2) STORED);
SELECT * FROM scale_advisor.partition_blockers('pt.unlogged', 'id');
SELECT * FROM scale_advisor.partition_blockers('pt.unlogged', 'g');
DROP TABLE pt.unlogged;
CREATE TABLE pt.lp (id int) PARTITION BY LIST (id);
SELECT * FROM scale_advisor.partition_blockers('pt.lp', 'id');
DROP TABLE pt.lp;
CREATE TABLE pt.ownfk (id int PRIMARY KEY, parent_id int REFERENCES pt.ownfk (id));
SELECT * FROM scale_advisor.partition_blockers('pt.ownfk', 'id');
DROP TABLE pt.ownfk;

-- an integer key: orders, with a serial id, foreign keys both ways, a
-- trigger, grants and comments
CREATE TABLE pt.customers (id int PRIMARY KEY);
INSERT INTO pt.customers SELECT generate_series(1, 10);
CREATE TABLE pt.orders (
	id serial PRIMARY KEY,
	customer_id int NOT NULL REFERENCES pt.customers,
	total numeric NOT NULL DEFAULT 0 CHECK (total >= 0),
	updated_at timestamptz);
CREATE INDEX orders_customer ON pt.orders (customer_id) WHERE total > 0;
CREATE FUNCTION pt.touch() RETURNS trigger LANGUAGE plpgsql
AS $$BEGIN NEW.updated_at := '2030-01-01'; RETURN NEW; END$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON pt.orders FOR EACH ROW EXECUTE FUNCTION pt.touch();
CREATE TABLE pt.items (order_id int REFERENCES pt.orders (id), n int);
COMMENT ON TABLE pt.orders IS 'customer orders';
COMMENT ON COLUMN pt.orders.total IS 'in cents';
COMMENT ON INDEX pt.orders_customer IS 'orders with money';
GRANT SELECT, INSERT ON pt.orders TO regress_pt_reader;
GRANT UPDATE (total) ON pt.orders TO regress_pt_reader;
INSERT INTO pt.orders (customer_id, total) SELECT 1 + g % 10, g FROM generate_series(1, 2500) g;
INSERT INTO pt.items SELECT g, 1 FROM generate_series(1, 2500, 100) g;

-- the dry run shows every step and changes nothing
SELECT * FROM scale_advisor.partition_table_plan('pt.orders', 'id', '1000', premake => 2);
CALL scale_advisor.partition_table('pt.orders', 'id', '1000', premake => 2, dry_run => true) \g /dev/null
SELECT relkind, (SELECT count(*) FROM pg_constraint WHERE conrelid = 'pt.orders'::regclass) AS constraints
FROM pg_class WHERE oid = 'pt.orders'::regclass;

-- inside a transaction block the call does one step per transaction
BEGIN;
CALL scale_advisor.partition_table('pt.orders', 'id', '1000', premake => 2);
COMMIT;
SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'pt.orders'::regclass AND contype = 'c' ORDER BY 1;
CALL scale_advisor.partition_table('pt.orders', 'id', '1000', premake => 2) \g /dev/null
\d+ pt.orders
\d pt.orders_history
\d pt.items
SELECT relname, relacl FROM pg_class WHERE oid = 'pt.orders'::regclass;
SELECT attname, attacl FROM pg_attribute WHERE attrelid = 'pt.orders'::regclass AND attacl IS NOT NULL;
SELECT obj_description('pt.orders_customer'::regclass, 'pg_class');
SELECT pg_get_serial_sequence('pt.orders', 'id'),
	   (SELECT refobjid::regclass FROM pg_depend WHERE objid = 'pt.orders_id_seq'::regclass AND deptype = 'a');
SELECT action, ok FROM scale_advisor.partition_log WHERE parent_table = 'orders' ORDER BY id;
SELECT count(*), sum(total) FROM pt.orders;
SELECT tableoid::regclass, count(*) FROM pt.orders GROUP BY 1 ORDER BY 1;
-- writes after the conversion
INSERT INTO pt.orders (customer_id, total) VALUES (1, 5) RETURNING id, tableoid::regclass;
UPDATE pt.orders SET total = 7 WHERE id = 5 RETURNING updated_at;
INSERT INTO pt.items VALUES (99999, 1);
SELECT parent_table, control_column, part_interval, premake, retention FROM scale_advisor.partition_sets ORDER BY 1;
-- converting again is refused: the history table is a partition now
CALL scale_advisor.partition_table('pt.orders_history', 'id', '1000');

-- maintenance: premake follows the largest id, rows in the default
-- partition move into partitions of their own, NULL keys are reported
INSERT INTO pt.orders (id, customer_id, total) VALUES (9500, 1, 1), (9501, 2, 2);
SELECT count(*) FROM pt.orders_default;
CALL scale_advisor.maintain_partitions('pt.orders');
SELECT count(*) FROM pt.orders_default;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pt.orders'::regclass ORDER BY 1;
SELECT action, ok, detail FROM scale_advisor.partition_log WHERE parent_table = 'orders' AND action IN ('create', 'retire') ORDER BY id;
-- idempotent: a second run changes nothing
CREATE TEMP TABLE before AS
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pt.orders'::regclass;
CALL scale_advisor.maintain_partitions('pt.orders');
SELECT (SELECT count(*) FROM before) AS before,
	   (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pt.orders'::regclass) AS after;
SELECT parent_table, partitions_created, default_rows_moved, default_rows_remaining, covered_until, overdue, status
FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'orders';

-- retention by id: detach everything more than 3000 below the largest id
ALTER TABLE pt.items DROP CONSTRAINT items_order_id_fkey;
UPDATE scale_advisor.partition_sets SET retention = '3000', retention_action = 'drop'
WHERE parent_table = 'orders';
CALL scale_advisor.maintain_partitions('pt.orders');
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pt.orders'::regclass ORDER BY 1;
SELECT to_regclass('pt.orders_history') AS history_dropped;
SELECT parent_table, partitions_retired, status FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'orders';


-- a time key, converted with an explicit end of the historical range
CREATE TABLE pt.events (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL, payload text,
	PRIMARY KEY (id, at));
CREATE INDEX events_at ON pt.events (at);
INSERT INTO pt.events (at, payload) SELECT timestamptz '2020-01-01 00:00+00' + g * interval '1 day', 'x'
FROM generate_series(0, 999) g;
SELECT step, phase, lock_mode, statement
FROM scale_advisor.partition_table_plan('pt.events', 'at', '1 month', premake => 1, historical_until => '2099-12-15',
	default_partition => false)
WHERE phase IN ('prepare', 'validate') OR statement LIKE '%PARTITION%';
CALL scale_advisor.partition_table('pt.events', 'at', '1 month', premake => 1, historical_until => '2099-12-15',
	default_partition => false) \g /dev/null
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pt.events'::regclass
  AND c.relname IN ('events_history', 'events_p210001') ORDER BY 1;
INSERT INTO pt.events (at, payload) VALUES ('2024-06-01', 'y') RETURNING id;
SELECT pg_get_serial_sequence('pt.events', 'id');
SELECT attidentity FROM pg_attribute WHERE attrelid = 'pt.events_history'::regclass AND attname = 'id';

-- a table owned by another role: the work runs as that role, so it needs
-- the rights on the schema that creating the new tables takes; the parent,
-- its partitions and its identity sequence are that role's
CREATE ROLE regress_pt_owner;
CREATE TABLE pt.owned (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v int);
ALTER TABLE pt.owned OWNER TO regress_pt_owner;
INSERT INTO pt.owned (v) SELECT g FROM generate_series(1, 150) g;
\set VERBOSITY terse
CALL scale_advisor.partition_table('pt.owned', 'id', '100', premake => 1) \g /dev/null
\set VERBOSITY default
GRANT USAGE, CREATE ON SCHEMA pt TO regress_pt_owner;
CALL scale_advisor.partition_table('pt.owned', 'id', '100', premake => 1) \g /dev/null
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'pt' AND c.relname LIKE 'owned%' AND c.relkind IN ('r', 'p', 'S') ORDER BY 1;
INSERT INTO pt.owned (v) VALUES (0) RETURNING id;

-- an already partitioned table is registered and gets its partitions;
-- retention moves old ones to an archive schema
CREATE SCHEMA pt_archive;
CREATE TABLE pt.metrics (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE pt.metrics_old PARTITION OF pt.metrics FOR VALUES FROM ('2000-01-01') TO ('2000-02-01');
CALL scale_advisor.partition_table('pt.metrics', 'at', '1 day', premake => 3, retention => '30 days',
	retention_action => 'archive_schema', archive_schema => 'pt_archive') \g /dev/null
SELECT count(*) >= 4 AS has_current_partitions,
	   bool_and(c.relname ~ '^metrics_p\d{8}$' OR c.relname = 'metrics_default') AS named_by_day
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'pt.metrics'::regclass;
SELECT to_regclass('pt_archive.metrics_old') AS archived;
INSERT INTO pt.metrics VALUES (current_date, 1);
SELECT status FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'metrics';
-- the same refusals for a set's row
UPDATE scale_advisor.partition_sets SET lock_timeout = '300' WHERE parent_table = 'metrics';
UPDATE scale_advisor.partition_sets SET retention = '180' WHERE parent_table = 'metrics';
UPDATE scale_advisor.partition_sets SET retention = '12 hours', retention_action = 'drop' WHERE parent_table = 'metrics';
UPDATE scale_advisor.partition_sets SET part_interval = '86400' WHERE parent_table = 'metrics';
-- a set restored without its state (never maintained here) is not "ok"
DELETE FROM scale_advisor.partition_set_state WHERE parent_table = 'metrics';
SELECT status, last_success FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'metrics';
-- nor after a first run that was killed (its claim is left, its process
-- gone), or that failed
INSERT INTO scale_advisor.partition_set_state (parent_schema, parent_table, running_pid, last_started)
VALUES ('pt', 'metrics', 999999, now());
SELECT status ~ '^last run was interrupted: process 999999, started .*, stopped before it finished' AS interrupted, last_success
FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'metrics';
UPDATE scale_advisor.partition_set_state SET running_pid = NULL, consecutive_failures = 1, last_error = 'lock timeout'
WHERE parent_table = 'metrics';
SELECT status, last_success FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'metrics';
UPDATE scale_advisor.partition_set_state SET running_pid = 999999, consecutive_failures = 0 WHERE parent_table = 'metrics';
-- the next run takes the stale claim over and records it
CALL scale_advisor.maintain_partitions('pt.metrics');
SELECT action, ok, detail ~ '^the run of process 999999 started .* did not finish' AS says_so
FROM scale_advisor.partition_log WHERE parent_table = 'metrics' AND action = 'interrupted';
SELECT status, last_success IS NOT NULL AS succeeded FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'metrics';

-- retention_action archive: retired partitions go to scale_advisor.archive;
-- one it refuses (no primary key) stays detached, and the log says why
CREATE TABLE pt.logs (at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE pt.logs_2001 PARTITION OF pt.logs FOR VALUES FROM ('2001-01-01 00:00+00') TO ('2001-02-01 00:00+00');
CALL scale_advisor.partition_table('pt.logs', 'at', '1 month', retention => '1 year', retention_action => 'archive') \g /dev/null
SELECT to_regclass('pt.logs_2001') IS NOT NULL AS kept,
	   EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = 'pt.logs_2001'::regclass) AS still_attached;
SELECT action, ok, detail FROM scale_advisor.partition_log
WHERE parent_table = 'logs' AND action IN ('retire', 'archive') ORDER BY id;
-- with a primary key the helper takes the rows, and the emptied
-- partition is dropped
CREATE TABLE pt.hits (id bigint, at timestamptz, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE pt.hits_2001 PARTITION OF pt.hits FOR VALUES FROM ('2001-01-01 00:00+00') TO ('2001-02-01 00:00+00');
INSERT INTO pt.hits SELECT g, timestamptz '2001-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, 500) g;
CALL scale_advisor.partition_table('pt.hits', 'at', '1 month', retention => '1 year', retention_action => 'archive') \g /dev/null
SELECT to_regclass('pt.hits_2001') AS dropped, (SELECT count(*) FROM pt.hits_2001_archive) AS archived_rows;
SELECT action, ok, regexp_replace(detail, 'run \d+', 'run N') AS detail FROM scale_advisor.partition_log
WHERE parent_table = 'hits' AND action IN ('retire', 'archive') ORDER BY id;
-- a NULL key cannot move anywhere: reported until fixed
INSERT INTO pt.logs VALUES (NULL);
CALL scale_advisor.maintain_partitions('pt.logs');
SELECT default_rows_remaining, status FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'logs';
DELETE FROM pt.logs WHERE at IS NULL;

-- maintenance that has not run for longer than expected is visible
UPDATE scale_advisor.partition_set_state SET last_success = now() - interval '3 hours'
WHERE parent_table = 'logs';
SELECT overdue, status LIKE 'maintenance has not succeeded for %' AS says_so
FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'logs';
-- a set whose table went away is an error, recorded and reported
CREATE TABLE pt.gone (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CALL scale_advisor.partition_table('pt.gone', 'at', '1 month') \g /dev/null
DROP TABLE pt.gone;
CALL scale_advisor.maintain_partitions();
SELECT parent_table, consecutive_failures, last_error, status
FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'gone';
DELETE FROM scale_advisor.partition_sets WHERE parent_table = 'gone';
CALL scale_advisor.maintain_partitions('pt.plain');

-- advice: a large-enough table with an indexed time column in insert order
SET scale_advisor.partition_advice_min_size = 0;
CREATE TABLE pt.clicks (id bigserial PRIMARY KEY, at timestamptz NOT NULL, url text);
CREATE INDEX clicks_at ON pt.clicks (at);
INSERT INTO pt.clicks (at, url) SELECT timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', 'u'
FROM generate_series(1, 20000) g;
ANALYZE pt.clicks;
SELECT relation, column_name, column_type, suggested_interval, blockers, suggested_call
FROM scale_advisor.partition_advice WHERE relation = 'pt.clicks'::regclass;
RESET scale_advisor.partition_advice_min_size;
SELECT count(*) FROM scale_advisor.partition_advice WHERE relation = 'pt.clicks'::regclass;

-- clean up
DELETE FROM scale_advisor.partition_sets WHERE parent_schema = 'pt';
DELETE FROM scale_advisor.partition_set_state WHERE parent_schema = 'pt';
DELETE FROM scale_advisor.partition_log WHERE parent_schema = 'pt';
DELETE FROM scale_advisor.archive_runs WHERE relation LIKE 'pt.%';
DROP SCHEMA pt CASCADE;
DROP SCHEMA pt_archive CASCADE;
DROP ROLE regress_pt_reader;
DROP ROLE regress_pt_owner;
RESET search_path;
RESET client_min_messages;
\if :sa_created
DROP EXTENSION scale_advisor;
\endif
