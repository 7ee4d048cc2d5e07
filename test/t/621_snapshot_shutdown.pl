# A fast shutdown while a snapshot worker waits to connect to a database.
#
# The per-database snapshot worker connects with
# BackgroundWorkerInitializeConnectionByOid, which waits for a lock on the
# database object.  A prepared transaction that renamed the database holds
# that lock until it is committed or rolled back, so the worker waits,
# and the launcher waits for the worker.  A fast shutdown must still end
# them: the server must stop within the usual time (before: the SIGTERM
# cancelled the wait and the worker exited; with the SIGTERM only noted
# while the worker connects, it waits for the lock forever and pg_ctl stop
# -m fast times out).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('snapshot_shutdown',
	conf => "max_prepared_transactions = 2\nscale_advisor.snapshot_interval = 1\n");

$node->safe_psql('postgres', 'CREATE DATABASE victim');
$node->safe_psql('postgres', q{BEGIN; ALTER DATABASE victim RENAME TO victim2;
  PREPARE TRANSACTION 'holds_victim'});

# the snapshot worker of that database waits for the lock on it
ok(sa_poll(sub {
	$node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks
		WHERE locktype = 'object' AND classid = 'pg_database'::regclass
		  AND mode = 'RowExclusiveLock' AND NOT granted}) eq '1' }),
	'a snapshot worker waits to connect to the database the prepared transaction holds');

my $t0 = time;
my $stopped;
{
	local $ENV{PGCTLTIMEOUT} = 30;
	$stopped = $node->stop('fast', fail_ok => 1);
}
my $took = time - $t0;
ok($stopped, "a fast shutdown ends while the worker waits to connect ($took s)");
# leave nothing running: stop it the hard way
$node->stop('immediate') unless $stopped;

$node->start;
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'holds_victim'});
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'victim'}),
	'1', 'the rename is rolled back');
$node->stop('fast');
done_testing();
