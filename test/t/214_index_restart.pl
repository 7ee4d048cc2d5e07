# The statements captured for index advice survive a clean restart and,
# up to the last periodic save, a crash, as the statement store does: so
# index_workload and index_advice (and the checklist's missing_indexes)
# say the same before and after.  A reset stays a reset across a restart,
# and scale_advisor.save = off keeps nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('ixrestart', conf => q{
scale_advisor.save_interval = 1
scale_advisor.plan_sample_rate = 1
scale_advisor.index_write_cost_us = 0
max_parallel_workers_per_gather = 0
restart_after_crash = on
});
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE orders (id int PRIMARY KEY, cust int NOT NULL, ts timestamptz NOT NULL,
                     note text NOT NULL);
INSERT INTO orders SELECT i, i % 1000, '2024-01-01'::timestamptz + i * interval '1 minute',
       repeat('x', 40)
  FROM generate_series(1, 100000) i;
ALTER TABLE orders SET (autovacuum_enabled = off);
ANALYZE orders;
SELECT scale_advisor.index_workload_reset();
});
# a simple-protocol statement, and a prepared one whose value is bound
$node->safe_psql('postgres', "SELECT id FROM orders WHERE cust = $_ ORDER BY ts DESC LIMIT 5")
	for 1 .. 3;
$node->safe_psql('postgres', q{
PREPARE by_note(text) AS SELECT id FROM orders WHERE note = $1 AND id > 99990;
EXECUTE by_note('x');});

my $wq = q{SELECT relation || ': ' || terms || ' | ' || statement
             FROM scale_advisor.index_workload ORDER BY 1};
my $aq = q{SELECT index_sql || ' ' || array_length(queryids, 1)
             FROM scale_advisor.index_advice ORDER BY 1};
my $cq = q{SELECT status || ' ' || value FROM scale_advisor.checklist
            WHERE "check" = 'missing_indexes'};
my $workload = $node->safe_psql('postgres', $wq);
my $advice = $node->safe_psql('postgres', $aq);
my $check = $node->safe_psql('postgres', $cq);
note("workload:\n$workload\nadvice:\n$advice");
like($workload, qr/orders: cust =, ts ORDER BY DESC \| SELECT id FROM orders WHERE cust = \d ORDER BY ts DESC LIMIT 5/,
	'the workload holds the captured statement');
like($workload, qr/PREPARE by_note/, 'and the prepared one');
like($advice, qr/CREATE INDEX CONCURRENTLY ON public\.orders \(cust, ts\)/,
	'advice before the restart');
like($check, qr/^warn [1-9]/, 'the checklist counts the missing index');

# clean restart: the postmaster saves at shutdown and loads at start
$node->restart;
is($node->safe_psql('postgres', $wq), $workload, 'index_workload survives a clean restart');
is($node->safe_psql('postgres', $aq), $advice, 'index_advice is the same after the restart');
is($node->safe_psql('postgres', $cq), $check, 'and so is the checklist\'s missing_indexes');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice_skipped'),
	'0', 'the kept statements (and the bound value) plan again after the restart');

# a crash keeps what the saver worker wrote last
$node->safe_psql('postgres', "SELECT count(*) FROM orders WHERE note = 'y' AND ts > '2024-02-01'");
my $w2 = $node->safe_psql('postgres', $wq);
my $t0 = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
# the worker saves every second; wait for a save after the statement (the
# file's time has a resolution of one second)
my $saved = $node->poll_query_until('postgres',
	qq{SELECT (pg_stat_file('pg_stat/scale_advisor_plans.stat')).modification > '$t0'});
ok($saved, 'the saver worker writes the captured statements');
my $bg = $node->background_psql('postgres');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, q{\echo started
SELECT pg_sleep(60);
});
kill 'KILL', $pid;
eval { $bg->quit; };
sa_wait_back($node) or die 'server did not come back';
ok($node->log_contains('terminated by signal 9'), 'the crash really happened');
is($node->safe_psql('postgres', $wq), $w2, 'after a crash the last periodic save is loaded');

# a reset is kept across a restart
$node->safe_psql('postgres', 'SELECT scale_advisor.index_workload_reset()');
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_workload'),
	'0', 'a reset stays a reset after a restart');

# a damaged file is ignored with a message, not loaded
$node->safe_psql('postgres', "SELECT id FROM orders WHERE cust = 7 ORDER BY ts DESC LIMIT 5");
$node->stop;
my $file = $node->data_dir . '/pg_stat/scale_advisor_plans.stat';
ok(-s $file, 'the file was written at shutdown');
{
	open(my $fh, '+<', $file) or die "cannot open $file: $!";
	binmode $fh;
	my $size = -s $file;
	# cut the last record short
	truncate($fh, $size - 10) or die "truncate: $!";
	close $fh;
}
$node->start;
ok($node->log_contains('scale_advisor_plans.stat" is truncated or damaged'),
	'a truncated file is reported');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_workload'),
	'0', 'and its damaged record is not loaded');

# scale_advisor.save = off keeps nothing: not what is captured while it is
# off, nor what a shutdown saved before it was turned off
$node->safe_psql('postgres', "SELECT id FROM orders WHERE cust = 8 ORDER BY ts DESC LIMIT 5");
$node->restart;
ok(-s $file, 'saving on: a clean shutdown saved the captured statement');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_workload'),
	'1', 'saving on: it is loaded at start');
$node->append_conf('postgresql.conf', "scale_advisor.save = off\n");
$node->restart;
ok(!-e $file, 'saving off: the file saved before is removed at start');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_workload'),
	'0', 'saving off: what was saved before is not loaded');
$node->safe_psql('postgres', "SELECT id FROM orders WHERE cust = 9 ORDER BY ts DESC LIMIT 5");
$node->restart;
ok(!-e $file, 'saving off: nothing is written at shutdown');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_workload'),
	'0', 'with scale_advisor.save = off nothing is kept');
for my $f ('scale_advisor.stat', 'scale_advisor_examples.stat')
{
	ok(!-e $node->data_dir . "/pg_stat/$f", "saving off: no $f either");
}

$node->stop;
done_testing();
