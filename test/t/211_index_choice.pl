# Which index the advice chooses among candidates that save about the same
# today (issue 14): equality then ORDER BY ... LIMIT gets the composite
# (user_id, created_at), not (user_id), because the composite leaves much
# less as the table grows and for a key with many more rows than the
# average; equality plus range on the same columns gets one composite for
# both statements.  And what a statement is worth: its time at normal
# load, not a time inflated by waiting (as on a saturated server).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('ixchoice', conf => q{
max_parallel_workers_per_gather = 0
autovacuum = off
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');

# notifications: 20,000 users of about 25 rows each; events: 20,000
# accounts of about 15 rows each;
# feed: 100,000 users of about 4 rows each, but one with 400 (100 times the
# average)
$node->safe_psql('postgres', q{
SELECT setseed(0.3);
CREATE TABLE notifications (id bigint PRIMARY KEY, user_id int NOT NULL,
  created_at timestamptz NOT NULL, body text NOT NULL);
INSERT INTO notifications SELECT i, (random() * 19999)::int,
       '2024-01-01'::timestamptz + random() * interval '365 days', repeat('n', 60)
  FROM generate_series(1, 500000) i;
CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL,
  created_at timestamptz NOT NULL, kind int NOT NULL);
INSERT INTO events SELECT i, (random() * 19999)::int,
       now() - random() * interval '365 days', (random() * 9)::int
  FROM generate_series(1, 300000) i;
CREATE TABLE feed (id bigint PRIMARY KEY, user_id int NOT NULL,
  created_at timestamptz NOT NULL, body text NOT NULL);
INSERT INTO feed SELECT i, CASE WHEN i <= 400 THEN 0 ELSE 1 + (random() * 99999)::int END,
       '2024-01-01'::timestamptz + random() * interval '365 days', repeat('f', 40)
  FROM generate_series(1, 400000) i;
});
# (a session reports its writes when it ends: ANALYZE after that, so that
# the load is not counted as rows changed since the last ANALYZE)
$node->safe_psql('postgres', q{
VACUUM ANALYZE notifications, events, feed;
SELECT scale_advisor.index_workload_reset();
});

sub capture
{
	my ($sql) = @_;
	$node->safe_psql('postgres', "SET scale_advisor.plan_sample_rate = 1;\n$sql");
}

# the choice alone: no upkeep (the tables take no writes here)
my $advice_q = q{SET scale_advisor.index_write_cost_us = 0;
SELECT relation || ' ' || columns::text FROM scale_advisor.index_advice
 WHERE relation = '%s'::regclass ORDER BY 1};

# 1. equality then ORDER BY ... LIMIT
capture("SELECT id, body FROM notifications WHERE user_id = $_ ORDER BY created_at DESC LIMIT 20")
	for (42, 43, 44);
my $cost1 = $node->safe_psql('postgres', q{
SELECT round(cost_after::numeric, 1) FROM scale_advisor.index_whatif(
  'SELECT id, body FROM notifications WHERE user_id = 42 ORDER BY created_at DESC LIMIT 20',
  'CREATE INDEX ON notifications (user_id)')});
my $cost2 = $node->safe_psql('postgres', q{
SELECT round(cost_after::numeric, 1) FROM scale_advisor.index_whatif(
  'SELECT id, body FROM notifications WHERE user_id = 42 ORDER BY created_at DESC LIMIT 20',
  'CREATE INDEX ON notifications (user_id, created_at)')});
note("planner cost today: (user_id) $cost1, (user_id, created_at) $cost2");
ok($cost1 < 2 * $cost2, 'today the two save about the same (what they leave is small next to the sequential scan)');
my $n = $node->safe_psql('postgres', sprintf($advice_q, 'notifications'));
note("advice: $n");
like($n, qr/^notifications \{user_id,created_at\}$/,
	'equality then ORDER BY ... LIMIT gets the composite (user_id, created_at)');
like($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT reason FROM scale_advisor.index_advice WHERE relation = 'notifications'::regclass}),
	qr/chosen over .*\(user_id\) leaving [0-9.]+ ms per hour, [0-9.]+ as the table grows.* against [0-9.]+ and [0-9.]+ for this one.*times as large/,
	'the reason says what the one-column index would leave');

# 2. the same key with ORDER BY ... LIMIT and with a range: one composite
capture("SELECT id FROM events WHERE account_id = 7 ORDER BY created_at DESC LIMIT 10");
capture("SELECT count(*) FROM events WHERE account_id = 7 AND created_at > now() - interval '7 days'");
my $e = $node->safe_psql('postgres', sprintf($advice_q, 'events'));
note("advice: $e");
like($e, qr/^events \{account_id,created_at\}$/,
	'ORDER BY ... LIMIT and a range on the same key get (account_id, created_at)');
is($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT cardinality(queryids) FROM scale_advisor.index_advice WHERE relation = 'events'::regclass}),
	'2', 'which serves both statements');

# 3. skew: about 4 rows a user, so today (user_id) and the composite cost
# about the same, but user 0 has 400: the most common key's rows count
# (the statistics count user_id's distinct values in proportion to the
# rows, so growth alone would not show it)
capture("SELECT id, body FROM feed WHERE user_id = $_ ORDER BY created_at DESC LIMIT 10")
	for (4242, 4243);
my $f = $node->safe_psql('postgres', sprintf($advice_q, 'feed'));
note("advice: $f");
like($f, qr/^feed \{user_id,created_at\}$/,
	'a key with 100 times the average rows gets the composite');
like($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT reason FROM scale_advisor.index_advice WHERE relation = 'feed'::regclass}),
	qr/with the most common key, which has (\d\d+) times the average rows/,
	'planned with the most common key, which has many times the average rows');

# 4. a time inflated by waiting is not what a call is worth: a statement
# that waited 200 ms in each run (an init plan that sleeps: the planner
# costs it at nothing) is valued at the planner's estimate of its scan
$node->safe_psql('postgres', q{
CREATE TABLE slowish (id int PRIMARY KEY, code int NOT NULL, pad text NOT NULL);
INSERT INTO slowish SELECT i, i % 5000, repeat('s', 40) FROM generate_series(1, 60000) i;});
$node->safe_psql('postgres', 'VACUUM ANALYZE slowish');
capture("SELECT id FROM slowish WHERE code = $_ AND (SELECT pg_sleep(0.2)) IS NOT NULL")
	for (1 .. 3);
my ($mean, $saved, $reason) = split /\|/, $node->safe_psql('postgres', q{
SET scale_advisor.index_write_cost_us = 0;
SELECT round(w.mean_ms::numeric), a.est_ms_saved_per_hour, a.reason
  FROM scale_advisor.index_advice a
  JOIN scale_advisor.index_workload w ON w.queryid = a.queryids[1]
 WHERE a.relation = 'slowish'::regclass});
note("measured $mean ms a call; saved $saved ms per hour; $reason");
ok($mean >= 200, 'the measured time includes the wait');
like($reason, qr/valued at ([0-9.]+) ms a call, the planner's cost at normal load, not the ([0-9.]+) ms measured/,
	'the statement is valued at the planner\'s cost, not the inflated time');
my ($valued) = $reason =~ /valued at ([0-9.]+) ms a call/;
ok(defined $valued && $valued < 50, "valued at $valued ms, not 200 (the scan alone)");
# three calls in about a minute: 180 an hour at most
ok($saved < 180 * 50, "the saving ($saved ms per hour) rests on that value");

$node->stop;
done_testing();
