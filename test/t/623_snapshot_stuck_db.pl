# One database whose snapshot worker cannot connect (a prepared transaction
# that renamed it holds the lock on it) must not keep the others from their
# snapshots.  The launcher takes the databases one after the other; before,
# it waited for that worker for as long as the prepared transaction lived,
# and the databases after it got no snapshot at all.  Now a worker still
# running after one snapshot_interval, and at least 60 s, is stopped, with
# a LOG line, and the turn goes on.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('snapshot_stuck',
	conf => "max_prepared_transactions = 2\nscale_advisor.snapshot_interval = 0\n");

# created in this order, the blocked database comes before the other one in
# pg_database, which is the order the launcher takes them in
$node->safe_psql('postgres', 'CREATE DATABASE blocked');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION scale_advisor');
$node->safe_psql('postgres', q{BEGIN; ALTER DATABASE blocked RENAME TO blocked2;
  PREPARE TRANSACTION 'holds_blocked'});
my $log_start = -s $node->logfile;

# snapshots every 3 s from now on
$node->append_conf('postgresql.conf', "scale_advisor.snapshot_interval = 3\n");
$node->reload;

ok(sa_poll(sub {
	$node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks
		WHERE locktype = 'object' AND classid = 'pg_database'::regclass
		  AND mode = 'RowExclusiveLock' AND NOT granted}) eq '1' }),
	'a snapshot worker waits to connect to the database the prepared transaction holds');

ok(sa_poll(sub {
	$node->safe_psql('other', 'SELECT count(*) >= 1 FROM scale_advisor.snapshots') eq 't' }),
	'the database after it still gets its snapshot');

my $log = slurp_file($node->logfile, $log_start);
like($log, qr/stopped the snapshot worker of database \d+ after 60 s/,
	'the launcher says it stopped the worker that could not finish');
unlike($log, qr/PANIC|server process .* was terminated by signal/,
	'no crash');

# the prepared transaction goes: the database gets its snapshots again
$node->safe_psql('postgres', q{ROLLBACK PREPARED 'holds_blocked'});
$node->safe_psql('blocked', 'CREATE EXTENSION scale_advisor');
ok(sa_poll(sub {
	$node->safe_psql('blocked', 'SELECT count(*) >= 1 FROM scale_advisor.snapshots') eq 't' }),
	'once the lock is gone, the blocked database gets its snapshot');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}), '0',
	'nothing left prepared');
$node->stop('fast');
done_testing();
