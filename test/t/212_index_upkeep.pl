# What an index costs the writes of its table (issue 14): the write rate
# comes from the extension's snapshots over a recent window, so a bulk load
# before it does not count; an index on a column the updates change turns
# HOT updates into non-HOT ones (the sessions/last_seen_at heartbeat is not
# advised, an index on a column the updates leave alone is); a partial
# index is charged only for the rows its predicate admits.
#
# The tables are bulk loaded, then a snapshot is taken (snapshot(), as the
# snapshot worker does), then the window's writes run: 20,000 heartbeat
# updates of sessions, each in its own transaction, and 60,000 inserts into
# jobs.  The snapshot is then dated five minutes back, as if those writes
# had been spread over the five minutes since it was taken.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('ixupkeep', conf => q{
max_parallel_workers_per_gather = 0
autovacuum = off
scale_advisor.snapshot_interval = 0
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
$node->safe_psql('postgres', q{
SELECT setseed(0.5);
CREATE TABLE sessions (id int PRIMARY KEY, user_id int NOT NULL,
  last_seen_at timestamptz NOT NULL, data text NOT NULL) WITH (fillfactor = 80);
INSERT INTO sessions SELECT i, (random() * 19999)::int,
       now() - random() * interval '1 hour', repeat('d', 40)
  FROM generate_series(1, 100000) i;
CREATE TABLE jobs (id int NOT NULL, status text NOT NULL, created timestamptz NOT NULL,
  payload text NOT NULL);
INSERT INTO jobs SELECT i, CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'done' END,
       '2024-01-01'::timestamptz + i * interval '1 minute', repeat('p', 50)
  FROM generate_series(1, 200000) i;
CREATE PROCEDURE heartbeat(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. n LOOP
    UPDATE sessions SET last_seen_at = now() WHERE id = 1 + (i * 7919) % 100000;
    COMMIT;
  END LOOP;
END $$;
});
$node->safe_psql('postgres', q{VACUUM ANALYZE sessions, jobs});
$node->safe_psql('postgres', q{SELECT scale_advisor.snapshot()});

# the window's writes
$node->safe_psql('postgres', 'CALL heartbeat(20000)');
$node->safe_psql('postgres', q{
INSERT INTO jobs SELECT i, CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'done' END,
       '2024-01-01'::timestamptz + i * interval '1 minute', repeat('p', 50)
  FROM generate_series(200001, 260000) i});
# the statement store learns which column the heartbeat sets
$node->safe_psql('postgres', "UPDATE sessions SET last_seen_at = now() WHERE id = $_")
	for (1 .. 5);
$node->safe_psql('postgres', q{
UPDATE scale_advisor.snapshots SET taken_at = now() - interval '300 seconds'});
my $hot = $node->safe_psql('postgres', q{
SELECT round(100.0 * n_tup_hot_upd / n_tup_upd) FROM pg_stat_user_tables WHERE relname = 'sessions'});
note("HOT share of the heartbeat updates: $hot %");
ok($hot >= 50, 'most heartbeat updates are HOT');

# the workload: an expiry query, a lookup by user, the oldest pending jobs
$node->safe_psql('postgres', q{SELECT scale_advisor.index_workload_reset()});
for (1 .. 2)
{
	$node->safe_psql('postgres', q{SET scale_advisor.plan_sample_rate = 1;
SELECT id FROM sessions WHERE last_seen_at < now() - interval '1 day';
SELECT id, data FROM sessions WHERE user_id = 4242;
SELECT id FROM jobs WHERE status = 'pending' ORDER BY created LIMIT 20;});
}

my $advice = $node->safe_psql('postgres', q{
SELECT relation || ' ' || columns::text || coalesce(' WHERE ' || predicate, '')
       || ' @ ' || round(write_rate)
  FROM scale_advisor.index_advice ORDER BY 1});
note("advice:\n$advice");

# the write rate is the window's, not the bulk load's
like($advice, qr/^sessions \{user_id\} @ (\d+)$/m, 'sessions (user_id) is advised');
my ($srate) = $advice =~ /^sessions \{user_id\} @ (\d+)$/m;
ok(defined $srate && $srate >= 40 && $srate <= 100,
	'its table\'s write rate is the window\'s 20,000 updates in 300 s (' . ($srate // '?') . ' rows/s), not the 100,000-row load');

# HOT: the heartbeat changes last_seen_at, never user_id
unlike($advice, qr/last_seen_at/, 'no index on last_seen_at, which the heartbeat updates change');
my $sreason = $node->safe_psql('postgres', q{
SELECT reason FROM scale_advisor.index_advice WHERE relation = 'sessions'::regclass});
note($sreason);
unlike($sreason, qr/non-HOT/, 'the user_id index makes no HOT update non-HOT');
like($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT string_agg(columns::text, ' ') FROM scale_advisor.index_advice
 WHERE relation = 'sessions'::regclass}),
	qr/\{last_seen_at\}/,
	'without the upkeep the last_seen_at index would be advised: the upkeep is what keeps it out');

# a partial index pays only for the rows it admits
like($advice, qr/^jobs \{created\} WHERE \(status = 'pending'::text\) @ (\d+)$/m,
	'jobs gets the partial index (created) WHERE status = \'pending\'');
my ($jrate) = $advice =~ /^jobs .* @ (\d+)$/m;
ok(defined $jrate && $jrate >= 150 && $jrate <= 250,
	'jobs takes the window\'s 60,000 inserts in 300 s (' . ($jrate // '?') . ' rows/s)');
my $jreason = $node->safe_psql('postgres', q{
SELECT reason FROM scale_advisor.index_advice WHERE relation = 'jobs'::regclass});
note($jreason);
like($jreason, qr/the predicate admits (1\.\d|0\.\d) % of the rows/, 'the upkeep counts the 1 % of rows the predicate admits');
my ($upkeep) = $jreason =~ /upkeep about (\d+) ms per hour/;
ok(defined $upkeep && $upkeep < 100,
	'and so is small (' . ($upkeep // '?') . ' ms per hour for 200 inserts a second)');

# snapshot tables locked by another session: the advice does not wait
# more than a second for them and falls back on the statistics
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN');
$locker->query_safe('LOCK TABLE scale_advisor.snapshot_tables IN ACCESS EXCLUSIVE MODE');
my $t0 = time;
my $locked = $node->safe_psql('postgres', q{SELECT reason FROM scale_advisor.index_advice
                                              WHERE relation = 'jobs'::regclass});
my $waited = time - $t0;
$locker->query_safe('COMMIT');
$locker->quit;
like($locked, qr/from rows changed since the last ANALYZE/,
	'with the snapshot tables locked the advice uses the statistics\' rates');
ok($waited < 15, "and is not held up by the lock ($waited s)");

# the snapshots are what the rate came from: without them (as in 1.0, or
# before the first snapshot) the rows changed since the last ANALYZE are
# used, which here are the window's writes (at least a minute) but not the
# load (the counters since the statistics began hold 120,000 rows more)
$node->safe_psql('postgres', 'DELETE FROM scale_advisor.snapshots');
my $fallback = $node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT round(write_rate) FROM scale_advisor.index_advice
 WHERE relation = 'sessions'::regclass AND columns = '{user_id}'});
note("write rate without a snapshot: $fallback rows/s");
ok($fallback ne '' && $fallback > 0 && $fallback < 1000,
	'without a snapshot the rows changed since the last ANALYZE give the rate, not the load');

$node->stop;
done_testing();
