# Statement statistics survive a clean restart; a crash (kill -9 of a
# backend) leaves the server and the store usable, with what the last
# periodic save held.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('restart', conf => q{
scale_advisor.save_interval = 1
restart_after_crash = on
});
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE r (a int PRIMARY KEY, b text);
INSERT INTO r SELECT g, 'x' FROM generate_series(1, 1000) g;
});
$node->safe_psql('postgres', "SELECT b FROM r WHERE a = $_") for 1 .. 25;

my $q = q{SELECT calls || '/' || rows FROM scale_advisor.query_stats
          WHERE query = 'SELECT b FROM r WHERE a = $1'};
is($node->safe_psql('postgres', $q), '25/25', 'calls and rows before restart');

# clean restart: the postmaster saves at shutdown and loads at start
$node->restart;
is($node->safe_psql('postgres', $q), '25/25', 'statistics survive a clean restart');
ok($node->safe_psql('postgres', 'SELECT loaded_entries FROM scale_advisor.info') > 0,
	'info counts the loaded entries');

# the saver worker runs every second: wait for a save after new work
$node->safe_psql('postgres', "SELECT b FROM r WHERE a = $_") for 1 .. 10;
my $saves = $node->safe_psql('postgres', 'SELECT saves FROM scale_advisor.info');
ok($node->poll_query_until('postgres', "SELECT saves > $saves + 1 FROM scale_advisor.info"),
	'the worker saves periodically');

# kill -9 a backend in the middle of a statement: the postmaster
# reinitializes shared memory and reloads the last save
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, q{\echo started
SELECT pg_sleep(60);
});
kill 'KILL', $pid;
# psql may have exited already (connection lost): writing its \q then
# fails with EPIPE, which IPC::Run raises
eval { $bg->quit; };
sa_wait_back($node) or die 'server did not come back';
my $after = $node->safe_psql('postgres', $q);
is($after, '35/35', 'after a crash the store holds the last periodic save');
like($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.query_stats'),
	qr/^\d+$/, 'the store is readable after the crash');
$node->safe_psql('postgres', "SELECT b FROM r WHERE a = 1");
is($node->safe_psql('postgres', $q), '36/36', 'the store keeps counting after the crash');
ok($node->log_contains('terminated by signal 9'), 'the crash really happened');

$node->stop;
done_testing();
