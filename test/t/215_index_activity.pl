# The write rates the index advice takes from the extension's snapshots
# (_index_table_activity(), issue 14): who may learn them, and from which
# database they come.
#
# Security (docs/security.md): the snapshots' history of tables is
# monitoring data.  A role that may not read all statistics must not read
# it, neither by calling the function (it was SECURITY DEFINER and
# executable by PUBLIC: by choosing the window, any role read every
# snapshot's counters of every table) nor through index_advice's
# write_rate and reason: its advice on another role's table uses the
# statistics' rates, on its own tables the snapshots'.  A pg_monitor
# member and the table's owner get the snapshots' rates.  And
# _archive_tables(), the SECURITY DEFINER helper of unused_indexes, whose
# check of its caller saw the extension's owner.
#
# Databases: each database with the extension has its own snapshots (the
# snapshot worker takes them in every one).  A database copied with
# CREATE DATABASE ... TEMPLATE holds its template's snapshots, with the
# same table OIDs but the template's counters: the copy's advice must not
# take its rates from them, only from its own snapshots.
#
# Against the code before this file (run on 6 Dec 2026), the refusals of
# the direct calls, the other role's statistics' rates and the copy's
# rates failed: the function returned the other role's table's rates, and
# b took 49 rows/s from a's snapshot (130,000 - 100,000 rows over its
# 600 s), and other 10 rows/s from the snapshots of app's table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ixactivity');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
max_parallel_workers_per_gather = 0
autovacuum = off
scale_advisor.snapshot_interval = 0
scale_advisor.plan_sample_rate = 1
});
$node->start;

# rows a role gets from a query, or the error
sub as_role
{
	my ($db, $role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql($db, "SET ROLE $role; $sql");
	return ($out, $err);
}

# ------------------------------------------------------------------
# Security: roles app (owns the table), other (reads it, no stats
# privilege), mon (pg_monitor)
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE ROLE app LOGIN;
CREATE ROLE other LOGIN;
CREATE ROLE mon LOGIN;
GRANT pg_monitor TO mon;
CREATE TABLE app_t (id int PRIMARY KEY, k int NOT NULL, pad text NOT NULL);
INSERT INTO app_t SELECT i, i % 50000, repeat('x', 50) FROM generate_series(1, 200000) i;
ALTER TABLE app_t OWNER TO app;
GRANT SELECT ON app_t TO other, mon;
});
$node->safe_psql('postgres', 'VACUUM ANALYZE app_t');
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
# the window's writes, then the snapshot dated ten minutes back
$node->safe_psql('postgres', q{
INSERT INTO app_t SELECT i, i % 50000, repeat('x', 50) FROM generate_series(200001, 206000) i;
UPDATE scale_advisor.snapshots SET taken_at = now() - interval '600 seconds'});

my $direct = q{SELECT count(*), round(sum(ins_per_s)) FROM scale_advisor._index_table_activity(
  ARRAY['app_t'::regclass::oid], 3600)};
is($node->safe_psql('postgres', $direct), '1|10',
	'a superuser reads the window\'s rate from the snapshots: 6,000 rows in 600 s');
my ($out, $err) = as_role('postgres', 'other', $direct);
is($out, '', 'a role without pg_read_all_stats reads no snapshot rate of another role\'s table');
like($err, qr/permission denied for function _index_table_activity/,
	'the function is not executable by PUBLIC');
($out, $err) = as_role('postgres', 'other',
	q{SELECT count(*) FROM scale_advisor._index_table_activity(ARRAY['app_t'::regclass::oid], 1e6)});
is($out, '', 'nor the oldest snapshot\'s counters through a longer window');

# each role's own statement on app_t
for my $r ('app', 'other', 'mon')
{
	$node->safe_psql('postgres', "SET ROLE $r; SELECT id FROM app_t WHERE k = 4242")
	  for (1 .. 10);
}
my $advice = q{SELECT round(write_rate) || ' ' || reason FROM scale_advisor.index_advice
 WHERE relation = 'app_t'::regclass AND columns = '{k}'};
my %seen;
for my $r ('app', 'other', 'mon')
{
	($seen{$r}, $err) = as_role('postgres', $r, $advice);
	note("$r: $seen{$r} $err");
}
like($seen{app}, qr/^10 .*from the snapshots of the last 10 minutes/,
	'the owner\'s advice takes its own table\'s rate from the snapshots');
like($seen{mon}, qr/^10 .*from the snapshots of the last 10 minutes/,
	'a pg_monitor member\'s advice takes it from the snapshots');
like($seen{other}, qr/^\d+ .*upkeep about/, 'a role without the privilege gets the advice');
unlike($seen{other}, qr/snapshot/,
	'but its write rate and reason say nothing of the snapshots of another role\'s table');
like($seen{other}, qr/from rows changed since the last ANALYZE/,
	'they come from the statistics every role may read');

# _archive_tables() (which unused_indexes calls) checked its caller inside
# a SECURITY DEFINER function, where the check saw the extension's owner:
# any role read the archive targets of every role's policies, which
# row-level security hides from it
$node->safe_psql('postgres', q{
CREATE TABLE app_t_archive (LIKE app_t);
ALTER TABLE app_t_archive OWNER TO app;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target, created_by)
VALUES ('public.app_t', 'k', '1 day', 'public.app_t_archive', 'app');
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor._archive_tables()}), '1',
	'a superuser gets the archive target');
($out, $err) = as_role('postgres', 'mon', q{SELECT count(*) FROM scale_advisor._archive_tables()});
is($out, '1', 'a pg_monitor member gets it');
($out, $err) = as_role('postgres', 'other', q{SELECT count(*) FROM scale_advisor._archive_tables()});
is($out, '', 'other does not get app\'s archive target from _archive_tables()');
like($err, qr/permission denied to read scale_advisor.unused_indexes.*GRANT pg_monitor TO other/s,
	'but the refusal naming the grant');
($out, $err) = as_role('postgres', 'other', q{SELECT count(*) FROM scale_advisor.unused_indexes});
like($err, qr/permission denied to read scale_advisor.unused_indexes.*GRANT pg_monitor TO other/s,
	'unused_indexes refuses it with the same hint');
($out, $err) = as_role('postgres', 'mon', q{SELECT count(*) FROM scale_advisor.unused_indexes});
is($err, '', 'and a pg_monitor member reads unused_indexes');

# ------------------------------------------------------------------
# Databases: a's snapshot holds t's counters at 100,000 inserts; b is
# copied from a, then each database takes its own writes
$node->safe_psql('postgres', 'CREATE DATABASE a');
$node->safe_psql('a', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE t (id int NOT NULL, k int NOT NULL, pad text NOT NULL);
INSERT INTO t SELECT i, i % 50000, repeat('y', 50) FROM generate_series(1, 100000) i;
});
$node->safe_psql('a', 'VACUUM ANALYZE t');
$node->safe_psql('a', q{SELECT scale_advisor.snapshot();
UPDATE scale_advisor.snapshots SET taken_at = now() - interval '600 seconds'});
$node->safe_psql('postgres', 'CREATE DATABASE b TEMPLATE a');
is($node->safe_psql('a', q{SELECT 't'::regclass::oid}),
	$node->safe_psql('b', q{SELECT 't'::regclass::oid}),
	'the copy\'s table has the template\'s OID');

$node->safe_psql('a', q{
INSERT INTO t SELECT i, i % 50000, repeat('y', 50) FROM generate_series(100001, 103000) i});
$node->safe_psql('b', q{
INSERT INTO t SELECT i, i % 50000, repeat('y', 50) FROM generate_series(100001, 230000) i});
$node->safe_psql('b', 'ANALYZE t');
for my $db ('a', 'b')
{
	$node->safe_psql($db, 'SELECT id FROM t WHERE k = 4242') for (1 .. 10);
}
my $tadvice = q{SELECT round(write_rate) || ' ' || reason FROM scale_advisor.index_advice
 WHERE relation = 't'::regclass AND columns = '{k}'};
my $ra = $node->safe_psql('a', $tadvice);
my $rb = $node->safe_psql('b', $tadvice);
note("a: $ra\nb: $rb");
like($ra, qr/^5 .*from the snapshots of the last 10 minutes/,
	'a: 3,000 inserts in 600 s, from its snapshot');
unlike($rb, qr/snapshot/,
	'b: no rate from the snapshot it copied from a (130,000 inserts against a\'s counter of 100,000)');
like($rb, qr/from rows changed since the last ANALYZE/, 'b: from its own statistics');

# b's own snapshot, then b's window
$node->safe_psql('b', q{SELECT scale_advisor.snapshot()});
$node->safe_psql('b', q{
INSERT INTO t SELECT i, i % 50000, repeat('y', 50) FROM generate_series(230001, 236000) i;
UPDATE scale_advisor.snapshots SET taken_at = now() - interval '300 seconds'
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'b')});
$rb = $node->safe_psql('b', $tadvice);
$ra = $node->safe_psql('a', $tadvice);
note("a: $ra\nb: $rb");
like($rb, qr/^20 .*from the snapshots of the last 5 minutes/,
	'b: 6,000 inserts in 300 s, from its own snapshot');
like($ra, qr/^5 .*from the snapshots of the last 10 minutes/,
	'a: still its own rate');

$node->stop;
done_testing();
