# Security of archiving (docs/security.md, "Archiving"): the attacks of
# issue 12 on archive(), unarchive(), run_archive_policies(), the policies
# and the run log, with an application role (app), a second tenant
# (tenant2), an archiver role (GRANT app TO archiver), a monitoring role and
# a superuser.  Every check asserts an outcome: role attributes (rolsuper),
# the role the owner's code ran as, row counts and sums of both tables
# before and after, and what text each role can read.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SaTest;

my $node = sa_node('secarch', conf => q{
max_worker_processes = 16
});

# The grants docs/archiving.md gives a role that archives.
my $grants = q{
GRANT EXECUTE ON PROCEDURE scale_advisor.archive, scale_advisor.unarchive,
      scale_advisor.run_archive_policies, scale_advisor._archive_run TO %1$s;
GRANT EXECUTE ON FUNCTION scale_advisor._archive_start, scale_advisor._archive_batch,
      scale_advisor._archive_finish, scale_advisor._archive_vacuum TO %1$s;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.archive_runs TO %1$s;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.archive_policies TO %1$s;
};

$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE ROLE tenant2 LOGIN;
CREATE ROLE archiver LOGIN;
CREATE ROLE plain LOGIN;
CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
GRANT app TO archiver;
CREATE EXTENSION scale_advisor;
GRANT SELECT ON scale_advisor.archive_runs TO monitor;
CREATE SCHEMA app AUTHORIZATION app;
CREATE SCHEMA tenant2 AUTHORIZATION tenant2;
CREATE SCHEMA shared;
GRANT USAGE, CREATE ON SCHEMA shared TO app, tenant2;
GRANT USAGE ON SCHEMA app TO plain, tenant2;
} . join('', map { sprintf($grants, $_) } qw(app tenant2 archiver plain)));

# app's tables, with code of app's that tries to make app a superuser
# whenever it runs with a superuser's rights: a BEFORE DELETE trigger, an
# index expression (IMMUTABLE function) and a column default on the archive,
# a rule on the archive.  Each records the role it ran as.
$node->safe_psql('postgres', q{
SET ROLE app;
CREATE TABLE app.seen (tag text, who name);
GRANT INSERT, SELECT ON app.seen TO PUBLIC;
CREATE FUNCTION app.esc(tag text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO app.seen VALUES (tag, current_user);
  BEGIN
    EXECUTE 'ALTER ROLE app SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN 1;
END $$;
CREATE FUNCTION app.esc_imm(x bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN PERFORM app.esc('index'); RETURN x; END $$;
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM app.esc(TG_ARGV[0]); RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END; END $$;
CREATE TABLE app.events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, v text);
INSERT INTO app.events SELECT g, now() - g * interval '1 hour', md5(g::text) FROM generate_series(1, 3000) g;
CREATE TRIGGER esc BEFORE DELETE ON app.events FOR EACH ROW EXECUTE FUNCTION app.trg('delete trigger');
CREATE INDEX ON app.events ((app.esc_imm(id)));
CREATE TABLE app.events_archive (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, v text,
  archived_by int DEFAULT app.esc('default'));
CREATE INDEX ON app.events_archive ((app.esc_imm(id)));
CREATE TABLE app.rule_log (id bigint);
CREATE TABLE app.events_ruled (LIKE app.events_archive INCLUDING ALL);
CREATE RULE log_insert AS ON INSERT TO app.events_ruled DO ALSO
  INSERT INTO app.rule_log SELECT NEW.id WHERE app.esc('rule') = 1;
GRANT SELECT, UPDATE, DELETE ON app.events TO plain, tenant2;
GRANT SELECT, INSERT ON app.events_archive TO plain, tenant2;
TRUNCATE app.seen;
});

my $counts = q{SELECT (SELECT count(*) || '/' || coalesce(sum(id), 0) FROM app.events) || ' ' ||
  (SELECT count(*) || '/' || coalesce(sum(id), 0) FROM app.events_archive)};
my $total = 3000 * 3001 / 2;
sub rolsuper { return sa_rolsuper($node, $_[0]); }
sub seen
{
	$node->safe_psql('postgres',
		"SELECT coalesce(string_agg(DISTINCT who, ','), '-') FROM app.seen WHERE tag = '$_[0]'");
}

# 1. A caller without the owner's privileges is refused up front, with the
# grant in the hint; table grants are not enough.
for my $who (qw(plain tenant2))
{
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET ROLE $who; CALL scale_advisor.archive('app.events', 'created_at', '30 days')");
	like($err, qr/may not archive table app\.events.*HINT:  Run it as the owner of the table, or GRANT app TO $who\./s,
		"$who, with table grants only, is refused with the grant in the hint");
	is($node->safe_psql('postgres', $counts), "3000/$total 0/0", "... and no row moved ($who)");
}

# 2. A superuser's scheduled run of app's policy: app's trigger, index
# expressions, default and rule run as app, never as the superuser.
$node->safe_psql('postgres', q{
SET ROLE app;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target, batch_size)
VALUES ('app.events', 'created_at', '100 days', 'app.events_archive', 200);
});
$node->safe_psql('postgres', 'CALL scale_advisor.run_archive_policies()');
is(rolsuper('app'), 'f', "app is not a superuser after a superuser's run_archive_policies()");
is(seen('delete trigger'), 'app', "app's BEFORE DELETE trigger ran as app");
is(seen('index'), 'app', "app's index expressions ran as app");
is(seen('default'), 'app', "the archive's column default ran as app");
my $moved = $node->safe_psql('postgres', q{SELECT count(*) FROM app.events WHERE created_at < now() - interval '100 days'});
is($moved, '0', 'the policy moved every old row');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM app.events) + (SELECT count(*) FROM app.events_archive)
  || ' ' || ((SELECT sum(id) FROM app.events) + (SELECT sum(id) FROM app.events_archive))}),
	"3000 $total", 'no row lost or doubled');

# an archive with a rule (whose function would run as the caller) is
# refused before anything runs
my ($rc, $out, $err) = $node->psql('postgres',
	q{CALL scale_advisor.archive('app.events', 'created_at', '50 days', target => 'app.events_ruled')});
like($err, qr/archive table app\.events_ruled has INSERT rules/, 'an archive table with a rule is refused');
is(seen('rule'), '-', "the rule's function never ran");
is($node->safe_psql('postgres', q{SELECT count(*) FROM app.events_ruled}), '0', '... and nothing moved there');

# unarchive by the superuser: the table's index expression runs as app
$node->safe_psql('postgres', 'TRUNCATE app.seen');
$node->safe_psql('postgres', q{ALTER TABLE app.events_archive DROP COLUMN archived_by;
  CALL scale_advisor.unarchive('app.events', 'created_at', since => now() - interval '110 days', archive => 'app.events_archive')});
is(rolsuper('app'), 'f', 'app is not a superuser after a superuser unarchive()');
is(seen('index'), 'app', "app's index expression ran as app during unarchive");

# 3. The archiver (GRANT app TO archiver) works with the documented grants;
# the VACUUM it asks for runs as app and really happens.
$node->safe_psql('postgres', 'TRUNCATE app.seen');
my $vac0 = $node->safe_psql('postgres', q{SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'app.events'::regclass});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE archiver;
  CALL scale_advisor.archive('app.events', 'created_at', '20 days', target => 'app.events_archive', vacuum => true)});
like($out, qr/\|done$/, 'the archiver archives app.events');
like($err, qr/VACUUM \(ANALYZE\) app\.events finished/, '... and says the VACUUM finished');
$node->poll_query_until('postgres', qq{SELECT vacuum_count > $vac0 FROM pg_stat_user_tables WHERE relid = 'app.events'::regclass});
cmp_ok($node->safe_psql('postgres', q{SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'app.events'::regclass}),
	'>', $vac0, '... and the VACUUM did happen');
is(seen('delete trigger'), 'app', "app's trigger ran as app, not as archiver");
is(rolsuper('app'), 'f', "app is not a superuser after the archiver's run and its VACUUM");
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT who, ',') FROM app.seen}), 'app',
	"every piece of app's code ran as app (during the run and the VACUUM's ANALYZE)");
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM app.events) + (SELECT count(*) FROM app.events_archive)
  || ' ' || ((SELECT sum(id) FROM app.events) + (SELECT sum(id) FROM app.events_archive))}),
	"3000 $total", 'no row lost or doubled');

# a VACUUM that fails is reported as failed, not as finished: ANALYZE
# evaluates an index expression of app's that raises while a flag is set
$node->safe_psql('postgres', q{SET ROLE app;
  CREATE TABLE app.flag (on_ boolean);
  CREATE FUNCTION app.fragile(x bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM app.flag) THEN RAISE EXCEPTION 'fragile index expression refused'; END IF;
    RETURN x;
  END $$;
  CREATE TABLE app.logs (id bigint PRIMARY KEY, at timestamptz NOT NULL);
  INSERT INTO app.logs SELECT g, now() - interval '1 year' FROM generate_series(1, 3000) g;
  INSERT INTO app.logs SELECT g, now() FROM generate_series(3001, 3100) g;
  CREATE INDEX ON app.logs ((app.fragile(id)));
  INSERT INTO app.flag VALUES (true);});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE archiver;
  CALL scale_advisor.archive('app.logs', 'at', '1 day', vacuum => true)});
like($out, qr/\|3000\|done$/, 'the rows of app.logs moved');
like($err, qr/WARNING:  VACUUM \(ANALYZE\) app\.logs failed: fragile index expression refused/,
	'a VACUUM that failed is reported as failed, with its error');
unlike($err, qr/finished/, '... and not as finished');

# a VACUUM reported as finished was done: a role with table grants only
# must never be told so when the server skipped it
$vac0 = $node->safe_psql('postgres', q{SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'app.events'::regclass});
$node->safe_psql('postgres', q{SET ROLE app;
  INSERT INTO app.events SELECT g, now() - interval '1 year', 'x' FROM generate_series(10001, 12000) g;});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE plain;
  CALL scale_advisor.archive('app.events', 'created_at', '20 days', target => 'app.events_archive', vacuum => true)});
sleep 1;
my $vac1 = $node->safe_psql('postgres', q{SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'app.events'::regclass});
ok($err !~ /finished/ || $vac1 > $vac0, 'no "VACUUM finished" for a VACUUM that did not happen');
$node->safe_psql('postgres', q{SET ROLE app; DELETE FROM app.events WHERE id > 10000; DELETE FROM app.events_archive WHERE id > 10000;});

# 4. Finding 6: the archive must belong to the owner of the table.  app
# pre-creates tenant2's default archive in a schema both can write.
$node->safe_psql('postgres', q{
SET ROLE tenant2;
CREATE TABLE shared.t2_payments (id int PRIMARY KEY, paid_at timestamptz NOT NULL, card text);
INSERT INTO shared.t2_payments SELECT g, now() - g * interval '1 day', '4111111111111111' FROM generate_series(1, 100) g;
RESET ROLE;
SET ROLE app;
CREATE TABLE shared.t2_payments_archive (id int PRIMARY KEY, paid_at timestamptz NOT NULL, card text);
GRANT INSERT, SELECT ON shared.t2_payments_archive TO tenant2;
CREATE TABLE shared.app_evil (id int PRIMARY KEY, paid_at timestamptz NOT NULL, card text);
GRANT INSERT, SELECT ON shared.app_evil TO tenant2;
});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE tenant2;
  CALL scale_advisor.archive('shared.t2_payments', 'paid_at', '10 days')});
like($err, qr/archive table shared\.t2_payments_archive is owned by role app, not by tenant2/,
	"tenant2's archive into app's pre-created default archive is refused");
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE tenant2;
  CALL scale_advisor.archive('shared.t2_payments', 'paid_at', '10 days', target => 'shared.app_evil')});
like($err, qr/is owned by role app, not by tenant2/, '... and so is an explicit target owned by app');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM shared.t2_payments) || ' ' ||
  (SELECT count(*) FROM shared.t2_payments_archive) || ' ' || (SELECT count(*) FROM shared.app_evil)}),
	'100 0 0', "no row of tenant2's reached app's tables");
is(rolsuper('app') . rolsuper('tenant2'), 'ff', 'neither app nor tenant2 is a superuser');

# a partitioned archive of app's with a partition that tenant2 owns (whose
# triggers would fire as app) is refused too
$node->safe_psql('postgres', q{
SET ROLE app;
CREATE TABLE app.parch (id bigint, created_at timestamptz NOT NULL, v text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE app.parch_1 PARTITION OF app.parch FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
RESET ROLE;
ALTER TABLE app.parch_1 OWNER TO tenant2;
SET ROLE app;
INSERT INTO app.events SELECT g, now() - interval '1 year', 'p' FROM generate_series(30001, 30010) g;
});
($rc, $out, $err) = $node->psql('postgres',
	q{CALL scale_advisor.archive('app.events', 'created_at', '20 days', target => 'app.parch')});
like($err, qr/partitions of archive table app\.parch are not owned by app.*app\.parch_1 \(owned by tenant2\)/s,
	'a partitioned archive with a partition of another owner is refused');
is($node->safe_psql('postgres', q{SELECT (SELECT count(*) FROM app.parch) || ' ' || (SELECT count(*) FROM app.events WHERE id > 30000)}),
	'0 10', '... and nothing moved');
$node->safe_psql('postgres', q{SET ROLE app; DELETE FROM app.events WHERE id > 30000});

# 5. Policies: a row may name only tables whose owner's privileges its
# creator has; created_by cannot be forged; each role sees only rows of
# creators whose privileges it has.
my $npol = q{SELECT count(*) FROM scale_advisor.archive_policies};
my $np0 = $node->safe_psql('postgres', $npol);
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than)
  VALUES ('shared.t2_payments', 'paid_at', '1 day')});
like($err, qr/role app may not archive table shared\.t2_payments, owned by role tenant2/,
	"app's policy naming tenant2's table is refused");
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, created_by)
  VALUES ('shared.t2_payments', 'paid_at', '1 day', 'tenant2')});
like($err, qr/may not write an archive policy on behalf of role tenant2/, '... and so is the same row forged as created by tenant2');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target)
  VALUES ('app.later', 'paid_at', '1 day', 'shared.app_evil')});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE tenant2;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target)
  VALUES ('shared.t2_payments', 'paid_at', '1 day', 'shared.app_evil')});
like($err, qr/may not archive into table shared\.app_evil/, "tenant2's policy into app's table is refused");
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  UPDATE scale_advisor.archive_policies SET relation = 'shared.t2_payments', time_column = 'paid_at'
  WHERE relation = 'app.events'});
like($err, qr/role app may not archive table shared\.t2_payments/, "app cannot turn its policy onto tenant2's table");
is($node->safe_psql('postgres', "SELECT string_agg(relation || ':' || created_by, ',' ORDER BY relation) FROM scale_advisor.archive_policies"),
	'app.events:app,app.later:app', 'only the allowed policies exist');
$node->safe_psql('postgres', q{SET ROLE tenant2;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, comment)
  VALUES ('shared.t2_payments', 'paid_at', '50 days', 'secret plan of tenant2')});
is($node->safe_psql('postgres', q{SET ROLE app; SELECT string_agg(relation, ',' ORDER BY relation) FROM scale_advisor.archive_policies}),
	'app.events,app.later', "app sees only its own policies");
is($node->safe_psql('postgres', q{SET ROLE archiver; SELECT string_agg(relation, ',' ORDER BY relation) FROM scale_advisor.archive_policies}),
	'app.events,app.later', "the archiver sees app's policies (it has app's privileges), not tenant2's");
$node->safe_psql('postgres', q{SET ROLE app; UPDATE scale_advisor.archive_policies SET enabled = false;
  DELETE FROM scale_advisor.archive_policies});
is($node->safe_psql('postgres', q{SELECT string_agg(relation || ':' || enabled, ',' ORDER BY relation) FROM scale_advisor.archive_policies}),
	'shared.t2_payments:true', "app's UPDATE and DELETE of every policy touched only its own");

# A policy whose creator lost the owner's privileges is skipped with a
# warning and a logged skip, and moves nothing.
$node->safe_psql('postgres', q{SET ROLE archiver;
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target)
  VALUES ('app.events', 'created_at', '5 days', 'app.events_archive')});
$node->safe_psql('postgres', 'REVOKE app FROM archiver');
my $c0 = $node->safe_psql('postgres', $counts);
($rc, $out, $err) = $node->psql('postgres', 'CALL scale_advisor.run_archive_policies()');
like($err, qr/WARNING:  archive policy for app\.events skipped: its creator, role archiver, does not have the privileges of the owner of the table, role app/,
	"a policy whose creator lost app's privileges is skipped with a warning");
is($node->safe_psql('postgres', $counts), $c0, '... and moved nothing of app.events');
is($node->safe_psql('postgres', q{SELECT status FROM scale_advisor.archive_runs WHERE relation = 'app.events' ORDER BY run_id DESC LIMIT 1}),
	'skipped', '... and the skip is logged');
$node->safe_psql('postgres', 'GRANT app TO archiver; DELETE FROM scale_advisor.archive_policies');

# 6. The run log: each role sees and changes only its own runs.  tenant2's
# failed run has a row's values (a card number) in its error.
$node->safe_psql('postgres', q{SET ROLE tenant2;
  CREATE TABLE tenant2.cards (id int PRIMARY KEY, at timestamptz NOT NULL, card text);
  INSERT INTO tenant2.cards VALUES (1, now() - interval '1 year', '5500000000000004');
  CREATE TABLE tenant2.cards_archive (id int PRIMARY KEY, at timestamptz NOT NULL, card text CHECK (card NOT LIKE '55%'));
  CALL scale_advisor.archive('tenant2.cards', 'at', '1 day');
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.archive_runs WHERE run_by = 'tenant2' AND error LIKE '%5500000000000004%'}),
	'1', "tenant2's failed run holds the card number in its error");
is($node->safe_psql('postgres', q{SET ROLE app; SELECT count(*) FROM scale_advisor.archive_runs WHERE error LIKE '%5500000000000004%' OR run_by <> 'app'}),
	'0', "app cannot read tenant2's runs or their errors");
is($node->safe_psql('postgres', q{SET ROLE monitor; SELECT count(*) FROM scale_advisor.archive_runs}), '0',
	'a monitoring role reads no run');
$node->psql('postgres', q{SET ROLE app;
  UPDATE scale_advisor.archive_runs SET status = 'done', error = NULL WHERE run_by = 'tenant2';
  DELETE FROM scale_advisor.archive_runs WHERE run_by = 'tenant2';
  UPDATE scale_advisor.archive_runs SET run_by = 'tenant2';});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  INSERT INTO scale_advisor.archive_runs (operation, relation, status, run_by) VALUES ('archive', 'tenant2.cards', 'done', 'tenant2')});
isnt($rc, 0, 'app cannot log a run in the name of tenant2');
is($node->safe_psql('postgres', q{SELECT string_agg(status, ',') FROM scale_advisor.archive_runs WHERE run_by = 'tenant2'}),
	'failed', "app could not mark tenant2's run done, delete it, or take it over");
is($node->safe_psql('postgres', q{SET ROLE tenant2; SELECT count(*) FROM scale_advisor.archive_runs WHERE error LIKE '%5500000000000004%'}),
	'1', 'tenant2 reads its own run');

# 7. The run lock cannot be taken by another role to make archiving skip.
my $key = $node->safe_psql('postgres', q{SELECT (1399537989::bigint << 32) | 'app.events'::regclass::oid::bigint});
my $oid = $node->safe_psql('postgres', q{SELECT 'app.events'::regclass::oid});
my ($hout, $herr) = ('', '');
my $holder = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres') . ' user=monitor application_name=lockholder', '-c',
	  "SELECT pg_advisory_lock($key), pg_advisory_lock(1399537989, $oid), pg_advisory_lock($oid); SELECT pg_sleep(120)" ],
	'>', \$hout, '2>', \$herr);
$node->poll_query_until('postgres', q{SELECT count(*) = 3 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
  WHERE a.application_name = 'lockholder' AND l.locktype = 'advisory' AND l.granted});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  INSERT INTO app.events SELECT g, now() - interval '1 year', 'x' FROM generate_series(20001, 20050) g;
  CALL scale_advisor.archive('app.events', 'created_at', '20 days', target => 'app.events_archive')});
like($out, qr/\|50\|done$/, "monitor holding every advisory lock key of the table does not make archiving skip");
($rc, $out, $err) = $node->psql('postgres', "SET ROLE monitor; SELECT scale_advisor._archive_lock($oid)");
like($err, qr/may not do maintenance work on table app\.events/, "monitor cannot take the run lock itself");
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockholder'});
$holder->finish;

# a run lock held by a real run is reported with who holds it
my ($h2out, $h2err) = ('', '');
my $run2 = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $node->connstr('postgres') . ' user=archiver application_name=lockholder2', '-c',
	  "SELECT scale_advisor._archive_lock('app.events'); SELECT pg_sleep(120)" ],
	'>', \$h2out, '2>', \$h2err);
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
  WHERE a.application_name = 'lockholder2' AND l.locktype = 'advisory' AND l.objsubid = 3 AND l.granted});
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE app;
  CALL scale_advisor.archive('app.events', 'created_at', '20 days', target => 'app.events_archive')});
like($err, qr/another archiving run on app\.events is in progress \(process \d+\); nothing done\nDETAIL:  The running one was started by role archiver\./,
	'a run in progress is reported with its process and role');
like($out, qr/\|0\|skipped$/, '... and the second run is skipped');
$node->safe_psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockholder2'});
$run2->finish;

# 8. search_path after the procedures' COMMITs (finding 8).  app owns a
# database, sets its search_path to look in public (which app owns) before
# pg_catalog, and plants a ->> operator there.  A superuser archives app's
# table in that database: the planted function must never run.
$node->safe_psql('postgres', q{CREATE DATABASE appdb OWNER app});
$node->safe_psql('appdb', q{
CREATE EXTENSION scale_advisor;
CREATE SCHEMA app AUTHORIZATION app;
} . sprintf($grants, 'app') . q{
SET ROLE app;
CREATE TABLE public.side (who name, what text);
GRANT INSERT ON public.side TO PUBLIC;
CREATE FUNCTION public.planted(j jsonb, k text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.side VALUES (current_user, k);
  BEGIN EXECUTE 'ALTER ROLE app SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN pg_catalog.jsonb_extract_path_text(j, k);
END $$;
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.planted);
CREATE FUNCTION public.planted_eq(a bigint, b integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.side VALUES (current_user, 'bigint >= integer'); RETURN pg_catalog.int84ge(a, b); END $$;
CREATE OPERATOR public.>= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.planted_eq);
CREATE TABLE app.ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
INSERT INTO app.ev SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 5000) g;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size, vacuum, pause)
VALUES ('app.ev', 'created_at', '30 days', 1000, true, '10ms');
-- the error paths: a policy whose table is missing, one whose batch fails
CREATE TABLE app.bad (id bigint PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO app.bad VALUES (1, now() - interval '1 year');
CREATE TABLE app.bad_archive (id bigint PRIMARY KEY, at timestamptz NOT NULL CHECK (at > now()));
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target)
VALUES ('app.aaa_missing', 'at', '1 day', NULL), ('app.bad', 'at', '1 day', 'app.bad_archive');
RESET ROLE;
ALTER DATABASE appdb SET search_path = public, pg_catalog;
});
is($node->safe_psql('appdb', 'SHOW search_path'), 'public, pg_catalog', 'sessions in appdb look in public first');
$node->safe_psql('appdb', q{CALL scale_advisor.archive('app.ev', 'created_at', '60 days', batch_size => 1000, vacuum => true, pause => '10ms')});
($rc, $out, $err) = $node->psql('appdb', q{CALL scale_advisor.run_archive_policies(true)});
like($err, qr/archive policy for app\.aaa_missing skipped: table app\.aaa_missing does not exist.*archive of app\.bad failed after 0 rows/s,
	'the policy run went through its error paths');
$node->safe_psql('appdb', q{CALL scale_advisor.unarchive('app.ev', 'created_at', batch_size => 1000, pause => '10ms')});
is($node->safe_psql('appdb', q{SELECT count(*) FROM public.side}), '0',
	'the operators planted in public never ran (search_path pinned after every COMMIT)');
is(rolsuper('app'), 'f', 'app is not a superuser');
is($node->safe_psql('appdb', q{SELECT (SELECT count(*) FROM app.ev) || ' ' || (SELECT count(*) FROM app.ev_archive)
  || ' ' || (SELECT sum(id) FROM app.ev)}), '5000 0 ' . (5000 * 5001 / 2), 'every row went and came back');
is($node->safe_psql('appdb', q{SELECT relowner::regrole FROM pg_class WHERE oid = 'app.ev_archive'::regclass}),
	'app', "the default archive was created as the table's owner");

is(rolsuper('app') . rolsuper('tenant2') . rolsuper('archiver') . rolsuper('monitor') . rolsuper('plain'),
	'fffff', 'in the end no role became a superuser');

$node->stop;
done_testing();
