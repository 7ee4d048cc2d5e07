# Adversarial review of the functions behind the views (docs/security.md):
# a role that may not read all statistics (app) calls the extension's
# functions directly, where the views would refuse it or filter its rows.
#
#  1. _info(): the store-wide figures the info view refuses app (1.1 made
#     the view monitoring-only; the function stayed open to PUBLIC: app
#     read the row directly on the code before this test).
#  2. Statement data of another role through _history(),
#     _history_examples(), _index_workload(), _query_stats() and
#     _statements(): no text, query id or value of the superuser's
#     statements reaches app.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('adversary', conf => q{
scale_advisor.track = 'all'
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.snapshot_interval = 0
});
$node->safe_psql('postgres', q{
  CREATE ROLE app LOGIN;
  CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
  CREATE DATABASE appdb OWNER app;
});
$node->safe_psql('appdb', 'CREATE EXTENSION scale_advisor');

# psql as a role; returns (exit code, stdout, stderr) with SQLSTATEs shown
sub as_role
{
	my ($role, $db, $sql) = @_;
	return $node->psql($db, "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ]);
}

# ---------------------------------------------------------------------
# 1. _info()
# ---------------------------------------------------------------------
my ($rc, $out, $err) = as_role('app', 'appdb',
	'SELECT entries, max_entries FROM scale_advisor._info()');
is($out, '', 'app reads no store-wide figure through _info()');
like($err, qr/42501/, '_info() refuses app with insufficient_privilege');
like($err, qr/GRANT pg_monitor TO app/, '... and the hint names the grant');
($rc, $out, $err) = as_role('app', 'appdb', 'SELECT entries FROM scale_advisor.info');
is($out, '', 'app reads nothing from the info view');
like($err, qr/42501.*scale_advisor\.info/s, 'the info view names itself in the refusal');
($rc, $out, $err) = as_role('monitor', 'appdb',
	'SELECT count(*) FROM scale_advisor._info() WHERE max_entries > 0');
is($out, '1', 'a pg_monitor member reads _info()') or diag($err);
($rc, $out, $err) = as_role('monitor', 'appdb',
	'SELECT count(*) FROM scale_advisor.info WHERE max_entries > 0');
is($out, '1', 'a pg_monitor member reads the info view') or diag($err);

# ---------------------------------------------------------------------
# 2. another role's statements
# ---------------------------------------------------------------------
$node->safe_psql('appdb', q{
  CREATE TABLE public.secret_t(id int PRIMARY KEY, v text);
  INSERT INTO secret_t SELECT g, 'x' FROM generate_series(1, 20000) g;
  ANALYZE secret_t;
  SELECT scale_advisor.snapshot();
});
for (1 .. 3)
{
	$node->safe_psql('appdb',
		"SELECT count(*) FROM secret_t WHERE v = 'topsecret_literal'");
}
$node->safe_psql('appdb', 'SELECT scale_advisor.snapshot()');
as_role('app', 'appdb', 'SELECT 1 AS app_own_statement');

my $su_oid = $node->safe_psql('appdb', 'SELECT oid FROM pg_roles WHERE rolname = current_user');
my $leak = qr/topsecret|secret_t/;
for my $q (
	[ '_history()', 'SELECT queryid FROM scale_advisor._history() WHERE userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user) AND queryid IS NOT NULL' ],
	[ '_history_examples()', 'SELECT * FROM scale_advisor._history_examples() WHERE userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)' ],
	[ '_index_workload()', 'SELECT * FROM scale_advisor._index_workload() WHERE userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user) AND (queryid IS NOT NULL OR statement IS NOT NULL)' ],
	[ '_query_stats(true)', q{SELECT * FROM scale_advisor._query_stats(true) q WHERE q::text ~ 'secret'} ],
	[ '_statements()', q{SELECT * FROM scale_advisor._statements() q WHERE q::text ~ 'secret'} ],
	[ 'index_workload', q{SELECT * FROM scale_advisor.index_workload q WHERE q::text ~ 'secret'} ])
{
	my ($name, $sql) = @$q;
	($rc, $out, $err) = as_role('app', 'appdb', $sql);
	is($rc, 0, "app runs $name") or diag($err);
	is($out, '', "$name shows app nothing of the superuser's statements");
	unlike($out, $leak, "$name shows app no text of them");
}
# the same queries as the superuser do see them: the checks are not empty
$out = $node->safe_psql('appdb',
	q{SELECT count(*) > 0 FROM scale_advisor._query_stats(true) q WHERE q::text ~ 'secret_t'});
is($out, 't', 'the superuser sees its own statement in _query_stats(true)');
$out = $node->safe_psql('appdb',
	q{SELECT count(*) > 0 FROM scale_advisor._statements() q WHERE q::text ~ 'secret_t'});
is($out, 't', 'the superuser sees its own statement in _statements()');

$out = $node->safe_psql('appdb',
	q{SELECT count(*) > 0 FROM scale_advisor._history_examples() q WHERE q::text ~ 'secret_t'});
is($out, 't', 'the superuser sees its own example in _history_examples()');
$out = $node->safe_psql('appdb',
	q{SELECT count(*) > 0 FROM scale_advisor._index_workload() q WHERE q::text ~ 'secret_t'});
is($out, 't', 'the superuser sees its own statement in _index_workload()');

done_testing();
