# A scheduled run through pg_cron: one cron entry runs every archive policy.
# pg_cron 1.4 schedules by the minute, so the test waits for the next minute.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor,pg_cron'
compute_query_id = on
cron.database_name = 'postgres'
cron.host = '} . $node->host . qq{'
cron.port = } . $node->port . qq{
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE EXTENSION pg_cron;
CREATE TABLE ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, payload text);
INSERT INTO ev SELECT g, now() - (10000 - g) * interval '1 hour' - interval '30 minutes', md5(g::text)
FROM generate_series(1, 10000) g;
CREATE TABLE ev_sessions (id int PRIMARY KEY, day date NOT NULL);
INSERT INTO ev_sessions SELECT g, current_date - g FROM generate_series(1, 500) g;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size)
VALUES ('public.ev', 'created_at', '90 days', 500),
	   ('public.ev_sessions', 'day', '1 year', 100);
-- an application role's table with a policy of its own, and a BEFORE
-- DELETE trigger that tries to make app a superuser: the superuser's cron
-- job must run it as app
CREATE ROLE app;
CREATE SCHEMA app AUTHORIZATION app;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.archive_policies TO app;
SET ROLE app;
CREATE TABLE app.seen (who name, sup boolean);
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.seen VALUES (current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = 'app'));
  BEGIN EXECUTE 'ALTER ROLE app SUPERUSER'; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
  RETURN OLD;
END $$;
CREATE TABLE app.events (id bigint PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO app.events SELECT g, now() - g * interval '1 day' FROM generate_series(1, 200) g;
CREATE TRIGGER esc BEFORE DELETE ON app.events FOR EACH ROW EXECUTE FUNCTION app.trg();
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size)
VALUES ('app.events', 'at', '100 days 12 hours', 50);
RESET ROLE;
SELECT cron.schedule('archive-policies', '* * * * *', 'CALL scale_advisor.run_archive_policies()');
});

ok($node->poll_query_until('postgres', q{
SELECT count(*) = 3 FROM scale_advisor.archive_runs WHERE from_policy AND status = 'done'}),
	'pg_cron ran the policies');
is($node->safe_psql('postgres', q{
SELECT status FROM cron.job_run_details ORDER BY runid LIMIT 1}), 'succeeded',
	'pg_cron reports the job as succeeded');
is($node->safe_psql('postgres', q{
SELECT string_agg(relation || ':' || rows_moved, ',' ORDER BY relation)
FROM scale_advisor.archive_runs WHERE from_policy AND rows_moved > 0}),
	'app.events:100,public.ev:7840,public.ev_sessions:136', 'the three tables were archived');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app'}), 'f',
	"app is not a superuser after the superuser's cron job ran its trigger");
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT who || '/' || sup, ',') || ' ' || count(*) FROM app.seen}),
	'app/false 100', "app's trigger ran as app for each of the 100 rows");
is($node->safe_psql('postgres', q{SELECT relowner::regrole FROM pg_class WHERE oid = 'app.events_archive'::regclass}),
	'app', "app's archive table belongs to app");
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ev) || '/' || (SELECT count(*) FROM ev_archive) || '/' ||
	   (SELECT count(*) FROM ev_sessions) || '/' || (SELECT count(*) FROM ev_sessions_archive)}),
	'2160/7840/364/136', 'rows are where they belong');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM ev WHERE created_at < now() - interval '90 days'}), '0', 'no old rows left');

$node->stop;
done_testing();
