-- Archiving helpers: API, dry run, errors, restore, policies.
CREATE EXTENSION scale_advisor;
SET client_min_messages = notice;
SET timezone = 'UTC';

CREATE TABLE arch_ev (
	id bigint PRIMARY KEY,
	created_at timestamptz NOT NULL,
	kind text,
	doubled bigint GENERATED ALWAYS AS (id * 2) STORED
) WITH (autovacuum_enabled = false);
INSERT INTO arch_ev (id, created_at, kind)
SELECT g, now() - (1000 - g) * interval '1 hour' - interval '30 minutes', CASE WHEN g % 3 = 0 THEN 'a' ELSE NULL END
FROM generate_series(1, 1000) g;
-- rows older than 30 days: ids 1 .. 280
SELECT count(*) AS old_rows FROM arch_ev WHERE created_at < now() - interval '30 days';
CREATE TABLE arch_copy AS SELECT * FROM arch_ev;

-- dry run: says what it would do, changes nothing
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', batch_size => 100, dry_run => true);
SELECT to_regclass('arch_ev_archive') AS archive_table, count(*) AS runs FROM scale_advisor.archive_runs;

-- first run: creates public.arch_ev_archive, moves in batches of 100
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', batch_size => 100, max_batches => 2);
SELECT count(*) AS left_in_source FROM arch_ev;
SELECT count(*) AS archived, min(id), max(id) FROM arch_ev_archive;
\d arch_ev_archive
-- the rest
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', batch_size => 100);
SELECT operation, relation, target, time_column, batches, rows_moved, status, error,
	   finished_at >= started_at AS finished, duration IS NOT NULL AS has_duration
FROM scale_advisor.archive_runs ORDER BY run_id;
-- every row is in exactly one place, unchanged
SELECT (SELECT count(*) FROM arch_ev) + (SELECT count(*) FROM arch_ev_archive) AS total,
	   (SELECT count(*) FROM (SELECT id, created_at, kind, doubled FROM arch_ev
							 UNION ALL SELECT id, created_at, kind, doubled FROM arch_ev_archive
							 EXCEPT SELECT id, created_at, kind, doubled FROM arch_copy) d) AS differing,
	   (SELECT count(*) FROM arch_ev e JOIN arch_ev_archive a USING (id)) AS in_both;
SELECT max(created_at) < now() - interval '30 days' AS only_old_archived FROM arch_ev_archive;
-- nothing left to do
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');

-- restore: bring back the rows of the last 10 days before the cutoff
CALL scale_advisor.unarchive('arch_ev', 'created_at', since => '2000-01-01', before => '2100-01-01',
							 batch_size => 100, dry_run => true);
CALL scale_advisor.unarchive('arch_ev', 'created_at', since => now() - interval '40 days', batch_size => 100);
SELECT count(*) AS in_source, min(id) FROM arch_ev;
SELECT count(*) AS still_archived, max(id) FROM arch_ev_archive;
-- restore everything, then archive again: same rows as at the start
CALL scale_advisor.unarchive('arch_ev', 'created_at');
SELECT count(*) AS archived FROM arch_ev_archive;
SELECT count(*) AS differing FROM (SELECT * FROM arch_ev EXCEPT SELECT * FROM arch_copy) d;
SELECT count(*) AS source_rows FROM arch_ev;

-- a key already archived with the same contents is not copied twice
INSERT INTO arch_ev_archive (id, created_at, kind, doubled)
SELECT id, created_at, kind, doubled FROM arch_ev WHERE id <= 5;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
SELECT count(*) AS archived, count(DISTINCT id) AS distinct_ids FROM arch_ev_archive;
-- a key already archived with different contents stops the run; nothing moves
CALL scale_advisor.unarchive('arch_ev', 'created_at');
INSERT INTO arch_ev_archive (id, created_at, kind, doubled)
SELECT id, created_at, 'changed', doubled FROM arch_ev WHERE id = 7;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
SELECT status, rows_moved, error FROM scale_advisor.archive_runs ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS archived FROM arch_ev_archive;
DELETE FROM arch_ev_archive WHERE id = 7;

-- a target chosen by the caller, with an extra column filled by its default
CREATE TABLE arch_ev_old (
	id bigint PRIMARY KEY,
	created_at timestamptz NOT NULL,
	kind text,
	doubled bigint,
	archived_by text NOT NULL DEFAULT 'archiver'
);
CALL scale_advisor.archive('arch_ev', 'created_at', '35 days', target => 'arch_ev_old');
SELECT count(*), min(archived_by) FROM arch_ev_old;
CALL scale_advisor.unarchive('arch_ev', 'created_at', archive => 'arch_ev_old');
SELECT count(*) AS source_rows FROM arch_ev;

-- a date column works too; the policy run below uses it
CREATE TABLE arch_day (
	day date NOT NULL,
	shop integer NOT NULL,
	total numeric,
	PRIMARY KEY (shop, day)
) WITH (autovacuum_enabled = false);
INSERT INTO arch_day SELECT current_date - g, s, g * s FROM generate_series(0, 99) g, generate_series(1, 3) s;

-- policies: one cron entry runs them all
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size)
VALUES ('public.arch_ev', 'created_at', '20 days', 50),
	   ('public.arch_day', 'day', '60 days', 1000),
	   ('public.arch_gone', 'created_at', '1 day', 1000);
CALL scale_advisor.run_archive_policies();
SELECT relation, target, from_policy, rows_moved, status, error
FROM scale_advisor.archive_runs WHERE from_policy ORDER BY run_id;
SELECT count(*) AS old_days_left FROM arch_day WHERE day < current_date - 60;
SELECT count(*) AS archived_days, count(DISTINCT shop) AS shops FROM arch_day_archive;
SELECT 'scale_advisor.archive_policies'::regclass = ANY (extconfig) AS dumped_by_pg_dump FROM pg_extension WHERE extname = 'scale_advisor';
DELETE FROM scale_advisor.archive_policies;

-- bad input: a clear error, and nothing changes
CALL scale_advisor.unarchive('arch_ev', 'created_at');
CREATE TABLE arch_before AS SELECT count(*) AS n FROM arch_ev;
\set SHOW_CONTEXT never
CALL scale_advisor.archive('arch_nope', 'created_at', '30 days');
CALL scale_advisor.archive('arch_ev', 'nope', '30 days');
CALL scale_advisor.archive('arch_ev', 'kind', '30 days');
CALL scale_advisor.archive(NULL, 'created_at', '30 days');
CALL scale_advisor.archive('arch_ev', NULL, '30 days');
CALL scale_advisor.archive('arch_ev', 'created_at', NULL);
CALL scale_advisor.archive('arch_ev', 'created_at', '-1 day');
-- a number without a unit is read as seconds: refused, as is any age
-- under 1 hour (and in a policy too)
CALL scale_advisor.archive('arch_ev', 'created_at', '90', dry_run => true);
CALL scale_advisor.archive('arch_ev', 'created_at', '0', dry_run => true);
CALL scale_advisor.archive('arch_ev', 'created_at', '59 minutes', dry_run => true);
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than)
VALUES ('public.arch_ev', 'created_at', '180');
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, lock_timeout)
VALUES ('public.arch_ev', 'created_at', '90 days', '250');
-- archive() commits per batch: inside a transaction block it says so
BEGIN;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
ROLLBACK;
BEGIN;
CALL scale_advisor.unarchive('arch_ev', 'created_at');
ROLLBACK;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', batch_size => 0);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', batch_size => NULL);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', max_batches => -1);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', max_duration => '-1s');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', pause => '-1s');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', lock_timeout => '0');
-- a number without a unit is seconds: out of bounds for these, and said so
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', lock_timeout => '500');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', pause => '100');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', max_duration => '0.5');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', dry_run => NULL);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_ev');
CALL scale_advisor.unarchive('arch_ev', 'created_at', since => now(), before => now() - interval '1 day');
-- targets whose columns do not match
CREATE TABLE arch_bad1 (id bigint PRIMARY KEY, created_at timestamp, kind varchar(3));
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_bad1');
CREATE TABLE arch_bad2 (LIKE arch_ev, note text NOT NULL);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_bad2');
CREATE TABLE arch_bad3 (LIKE arch_ev);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_bad3');
CREATE VIEW arch_view AS SELECT * FROM arch_ev_archive;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_view');
-- tables without a key, partitioned tables, views
CREATE TABLE arch_nokey (created_at timestamptz);
CALL scale_advisor.archive('arch_nokey', 'created_at', '30 days');
CREATE TABLE arch_part (id int, created_at timestamptz, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CALL scale_advisor.archive('arch_part', 'created_at', '30 days');
CALL scale_advisor.archive('arch_view', 'created_at', '30 days');
-- a unique index on NOT NULL columns serves as the key when there is no primary key
CREATE TABLE arch_uniq (code text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
INSERT INTO arch_uniq VALUES ('a', now() - interval '1 year'), ('b', now());
CALL scale_advisor.archive('arch_uniq', 'created_at', '30 days');
SELECT code FROM arch_uniq_archive ORDER BY code;
SELECT indexdef FROM pg_indexes WHERE tablename = 'arch_uniq_archive' ORDER BY indexname;
-- names that need quoting, an identity column that is GENERATED ALWAYS
CREATE TABLE "Arch Odd" ("Id" int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "When" date NOT NULL);
INSERT INTO "Arch Odd" ("When") SELECT current_date - g FROM generate_series(1, 10) g;
CALL scale_advisor.archive('"Arch Odd"', 'When', '5 days');
SELECT count(*) AS archived FROM "Arch Odd_archive";
CALL scale_advisor.unarchive('"Arch Odd"', 'When');
SELECT count(*) AS back, sum("Id") FROM "Arch Odd";
DROP TABLE "Arch Odd", "Arch Odd_archive";
-- rows still referenced by other tables' foreign keys
CREATE TABLE arch_ref (id int PRIMARY KEY, ev bigint REFERENCES arch_ev (id) ON DELETE CASCADE);
CREATE TABLE arch_ref2 (id int PRIMARY KEY, ev bigint CONSTRAINT ev_fk REFERENCES arch_ev (id));
INSERT INTO arch_ref VALUES (1, 10);
INSERT INTO arch_ref2 VALUES (1, 11), (2, 999);
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
-- references to rows that stay are fine
DELETE FROM arch_ref; DELETE FROM arch_ref2 WHERE id = 1;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', dry_run => true);
DROP TABLE arch_ref, arch_ref2;
-- privileges: only a role with the privileges of the table's owner may
-- archive (the work runs as the owner); table grants are not enough
CREATE ROLE arch_owner;
CREATE ROLE arch_user;
ALTER TABLE arch_ev OWNER TO arch_owner;
GRANT USAGE ON SCHEMA scale_advisor TO arch_user;
GRANT EXECUTE ON PROCEDURE scale_advisor.archive, scale_advisor.unarchive,
	scale_advisor._archive_run TO arch_user;
GRANT EXECUTE ON FUNCTION scale_advisor._archive_start, scale_advisor._archive_batch,
	scale_advisor._archive_finish, scale_advisor._archive_vacuum TO arch_user;
GRANT SELECT, INSERT, UPDATE ON scale_advisor.archive_runs TO arch_user;
GRANT SELECT, UPDATE, DELETE ON arch_ev TO arch_user;
SET ROLE arch_user;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
CALL scale_advisor.unarchive('arch_ev', 'created_at');
RESET ROLE;
SELECT (SELECT n FROM arch_before) = (SELECT count(*) FROM arch_ev) AS nothing_changed;
-- the archive must belong to the owner of the table
GRANT arch_owner TO arch_user;
SET ROLE arch_user;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
RESET ROLE;
SELECT (SELECT n FROM arch_before) = (SELECT count(*) FROM arch_ev) AS nothing_changed;
-- with the owner's privileges it works, and the run records who ran it
ALTER TABLE arch_ev_archive OWNER TO arch_owner;
SET ROLE arch_user;
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days');
RESET ROLE;
SELECT count(*) AS archived FROM arch_ev_archive;
SELECT run_by, rows_moved, status FROM scale_advisor.archive_runs ORDER BY run_id DESC LIMIT 1;
-- each role sees only its own runs
SET ROLE arch_user;
SELECT run_by, count(*) FROM scale_advisor.archive_runs GROUP BY 1;
RESET ROLE;
ALTER TABLE arch_ev OWNER TO CURRENT_USER;
ALTER TABLE arch_ev_archive OWNER TO CURRENT_USER;
-- no other role may call them unless granted
SELECT p.oid::regprocedure::text ~ '^scale_advisor\.(archive|unarchive|run_archive_policies)\(' AS entry_point,
	   has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
FROM pg_proc p WHERE p.pronamespace = 'scale_advisor'::regnamespace AND p.proname LIKE '%archive%'
GROUP BY 1, 2 ORDER BY 1, 2;
-- unarchive from a foreign table is refused
CREATE EXTENSION postgres_fdw;
CREATE SERVER arch_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'nowhere');
CREATE FOREIGN TABLE arch_ev_remote (id bigint, created_at timestamptz, kind text, doubled bigint)
	SERVER arch_remote;
CALL scale_advisor.unarchive('arch_ev', 'created_at', archive => 'arch_ev_remote');
CALL scale_advisor.archive('arch_ev', 'created_at', '30 days', target => 'arch_ev_remote', dry_run => true);
DROP EXTENSION postgres_fdw CASCADE;

DROP TABLE arch_ev, arch_ev_archive, arch_copy, arch_ev_old, arch_day, arch_day_archive,
	arch_before, arch_bad1, arch_bad2, arch_bad3, arch_nokey, arch_part, arch_uniq,
	arch_uniq_archive CASCADE;
REVOKE ALL ON SCHEMA scale_advisor FROM arch_user;
DROP EXTENSION scale_advisor;
DROP ROLE arch_user, arch_owner;
