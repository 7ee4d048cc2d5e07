# Scale readiness checklist and alerts, each shown passing and failing
# against a server state this test creates: WAL archiving broken and then
# repaired, connections used up, a session idle in a transaction, slow and
# failing statements, a read repeated thousands of times, a read without
# LIMIT, a cache too small for the data, settings changed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('readiness_checks');
$node->init(allows_streaming => 1);
my $archive = $node->basedir . '/wal_archive';
mkdir $archive;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
archive_mode = on
archive_command = 'false'
archive_timeout = 60
max_connections = 13
superuser_reserved_connections = 3
shared_buffers = 1MB
log_min_duration_statement = -1
scale_advisor.snapshot_interval = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');

# status of a check, and the alerts of a name as "severity" lines
sub check_status
{
	my ($check) = @_;
	return $node->safe_psql('postgres',
		"SELECT status FROM scale_advisor.checklist WHERE \"check\" = '$check'");
}

sub check_value
{
	my ($check) = @_;
	return $node->safe_psql('postgres',
		"SELECT value FROM scale_advisor.checklist WHERE \"check\" = '$check'");
}

sub alert
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(severity, ',' ORDER BY severity) FROM scale_advisor.alerts WHERE alert = '$name'");
}

# --- WAL archiving broken on purpose
$node->safe_psql('postgres', 'CREATE TABLE filler AS SELECT g FROM generate_series(1, 1000) g; SELECT pg_switch_wal()');
$node->poll_query_until('postgres',
	'SELECT failed_count > 0 FROM pg_stat_archiver')
  or die 'archiving never failed';
is(check_status('wal_archiving'), 'fail', 'wal_archiving fails while archive_command fails');
like(check_value('wal_archiving'), qr/^failing: \d+ failures/, 'wal_archiving says it is failing');
is(check_status('point_in_time_recovery'), 'fail', 'no point-in-time recovery while archiving fails');
is(alert('wal_archiving_failing'), 'critical', 'critical alert while archiving fails');

# ... and repaired
$node->safe_psql('postgres',
	"ALTER SYSTEM SET archive_command = 'cp %p $archive/%f'; SELECT pg_reload_conf()");
$node->poll_query_until('postgres',
	'SELECT last_archived_time > last_failed_time FROM pg_stat_archiver')
  or die 'archiving never recovered';
is(check_status('wal_archiving'), 'pass', 'wal_archiving passes once archiving works');
is(check_status('point_in_time_recovery'), 'pass', 'point-in-time recovery possible');
is(alert('wal_archiving_failing'), '', 'no archiving alert once archiving works');

# ... stuck: a slow archive_command leaves segments waiting
$node->safe_psql('postgres', "SELECT scale_advisor.set_threshold('archive_max_age_s', 1)");
is(alert('wal_archiving_stale'), '', 'no stale archiving alert while segments are archived');
$node->safe_psql('postgres',
	"ALTER SYSTEM SET archive_command = 'sleep 4 && cp %p $archive/%f'; SELECT pg_reload_conf()");
sleep 1;
$node->safe_psql('postgres', 'INSERT INTO filler SELECT 1; SELECT pg_switch_wal()');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM scale_advisor.alerts WHERE alert = 'wal_archiving_stale'")
  or die 'archiving never looked stuck';
is(check_status('wal_archiving'), 'warn', 'wal_archiving warns while segments wait');
$node->safe_psql('postgres',
	"ALTER SYSTEM SET archive_command = 'cp %p $archive/%f'; SELECT pg_reload_conf()");
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM scale_advisor.alerts WHERE alert = 'wal_archiving_stale'")
  or die 'archiving stayed stuck';
is(check_status('wal_archiving'), 'pass', 'wal_archiving passes once the segments are archived');
$node->safe_psql('postgres', "SELECT scale_advisor.set_threshold('archive_max_age_s', NULL)");

# --- slow-query logging and timeouts, from the server's settings
is(check_status('slow_query_logging'), 'fail', 'slow-query logging off');
$node->safe_psql('postgres',
	"ALTER SYSTEM SET log_min_duration_statement = '200ms'; SELECT pg_reload_conf()");
is(check_status('slow_query_logging'), 'pass', 'slow-query logging on');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
is(check_status('statement_timeout'), 'fail', 'application role without statement_timeout');
$node->safe_psql('postgres',
	"ALTER SYSTEM SET statement_timeout = '30s'; ALTER SYSTEM SET idle_in_transaction_session_timeout = '1min'; SELECT pg_reload_conf()");
is(check_status('statement_timeout'), 'pass', 'statement_timeout set for the whole server');
is(check_status('idle_in_transaction_session_timeout'), 'pass', 'idle_in_transaction_session_timeout set for the whole server');

# --- connections: 10 usable (13 - 3 reserved)
is(check_status('connections'), 'pass', 'connections: few in use');
is(alert('connections'), '', 'no connection alert');
my @sessions;
push @sessions, $node->background_psql('postgres') for 1 .. 7;
# 7 idle sessions + the checking one: 80 %
is(check_status('connections'), 'warn', 'connections at 80% warn');
is(alert('connections'), 'warning', 'connection alert at 80%');
like(check_value('connection_pooling'), qr/^7 idle of 8 client sessions/, 'idle sessions counted');
is(check_status('connection_pooling'), 'pass', 'pooling: under idle_sessions_min');
$node->safe_psql('postgres', "SELECT scale_advisor.set_threshold('idle_sessions_min', 5)");
is(check_status('connection_pooling'), 'warn', 'pooling advised with many idle sessions');
like($node->safe_psql('postgres', "SELECT advice FROM scale_advisor.checklist WHERE \"check\" = 'connection_pooling'"),
	qr/pgbouncer \(pool_mode = transaction, default_pool_size = \d+/, 'pooling advice gives a pool size');
push @sessions, $node->background_psql('postgres');
is(check_status('connections'), 'fail', 'connections at 90% fail');
is(alert('connections'), 'critical', 'critical connection alert at 90%');

# a session idle in a transaction
$sessions[0]->query_safe('BEGIN; SELECT 1');
$node->safe_psql('postgres', "SELECT scale_advisor.set_threshold('idle_in_transaction_s', 1)");
$node->poll_query_until('postgres',
	"SELECT status = 'fail' FROM scale_advisor.checklist WHERE \"check\" = 'idle_in_transaction'")
  or die 'idle in transaction never seen';
like(check_value('idle_in_transaction'), qr/^1 session idle in a transaction/, 'idle_in_transaction fails');
$sessions[0]->query_safe('COMMIT');
$_->quit for @sessions;
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'client backend'")
  or die 'sessions did not end';
is(check_status('idle_in_transaction'), 'pass', 'idle_in_transaction passes after COMMIT');
is(check_status('connections'), 'pass', 'connections pass again');
is(alert('connections'), '', 'connection alert gone');

# --- statements: none slow yet
$node->safe_psql('postgres', 'CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 20000) g; ANALYZE items');
is(check_status('slow_statements'), 'pass', 'no slow statement yet');
is(alert('statement_p95'), '', 'no p95 alert yet');
is(alert('slow_statement'), '', 'no slow statement alert yet');

# statements over 100 ms at p95
$node->safe_psql('postgres', 'SELECT pg_sleep(0.12)') for 1 .. 10;
is(check_status('slow_statements'), 'warn', 'statements over 100 ms at p95 warn');
like(check_value('slow_statements'), qr/SELECT pg_sleep\(\$1\)/, 'the slow statement is named');
is(alert('slow_statement'), '', 'nothing over 500 ms yet');
# over 500 ms, then p95 over 1 s
$node->safe_psql('postgres', 'SELECT pg_sleep(0.55)');
is(alert('slow_statement'), 'warning', 'slow_statement alert over 500 ms');
$node->safe_psql('postgres', 'SELECT pg_sleep(1.05)') for 1 .. 2;
is(alert('statement_p95'), 'warning', 'statement_p95 alert over 1 s');
is(check_status('slow_statements'), 'fail', 'p95 over the alert threshold fails the check');

# --- error rate: 1 % warning, 5 % critical, from 100 statements on
$node->safe_psql('postgres', 'SELECT scale_advisor.reset()');
$node->pgbench('-n -t 200', 0, [qr/processed: 200/], [qr/^$/], 'successful statements',
	{ 'ok.sql' => "SELECT v FROM items WHERE id = 1;\n" });
is(alert('error_rate'), '', 'no error rate alert without errors');
$node->psql('postgres', 'SELECT 1 / (g - g) FROM generate_series(1, 1) g') for 1 .. 4;
is(alert('error_rate'), 'warning', 'error rate over 1% warns');
$node->psql('postgres', 'SELECT 1 / (g - g) FROM generate_series(1, 1) g') for 1 .. 8;
is(alert('error_rate'), 'critical', 'error rate over 5% is critical');

# --- a read repeated thousands of times, and a read without LIMIT
$node->safe_psql('postgres', 'SELECT scale_advisor.reset()');
is(check_status('cacheable_queries'), 'pass', 'no repeated read yet');
$node->pgbench('-n -t 1200', 0, [qr/processed: 1200/], [qr/^$/], 'repeated read',
	{ 'repeat.sql' => "SELECT v FROM items WHERE id = 7;\n" });
is(check_status('cacheable_queries'), 'warn', 'a read repeated 1200 times may be cached');
is(check_status('pagination'), 'pass', 'no read without LIMIT yet');
$node->safe_psql('postgres', 'SELECT id, v FROM items WHERE id > 100');
is(check_status('pagination'), 'warn', 'a read of 19900 rows without LIMIT');
$node->safe_psql('postgres', 'SELECT scale_advisor.reset()');
$node->safe_psql('postgres', 'SELECT id, v FROM items WHERE id > 100 ORDER BY id LIMIT 5000');
is(check_status('pagination'), 'pass', 'reads with LIMIT pass');

# --- cache hit ratio: 1MB of shared buffers against a 30 MB table
$node->safe_psql('postgres', "CREATE TABLE big AS SELECT g AS id, repeat('x', 80) AS pad FROM generate_series(1, 300000) g");
$node->safe_psql('postgres', 'SELECT pg_stat_reset()');
$node->safe_psql('postgres', 'SELECT count(*) FROM big') for 1 .. 3;
is(check_status('cache_hit_ratio'), 'fail', 'cache hit ratio too low with tiny shared_buffers');
# enough shared buffers: reads of one page always hit
$node->safe_psql('postgres', "ALTER SYSTEM SET shared_buffers = '16MB'");
$node->restart;
# warm the cache with what the checklist itself reads
$node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.checklist');
$node->safe_psql('postgres', 'SELECT pg_stat_reset()');
$node->pgbench('-n -t 5000', 0, [qr/processed: 5000/], [qr/^$/], 'cached reads',
	{ 'hit.sql' => "SELECT 1 FROM items WHERE id = 3;\n" });
my ($hit_status, $hit_value) = split /\|/, $node->safe_psql('postgres',
	"SELECT status, value FROM scale_advisor.checklist WHERE \"check\" = 'cache_hit_ratio'");
like($hit_value, qr/^\d+\.\d+% of \d+ block reads/, 'cache hit ratio measured over enough reads');
is($hit_status, 'pass', "cache hit ratio good for reads of one page ($hit_value)");

# --- N+1 and missing indexes: from the other parts when installed
like(check_value('n_plus_one'), qr/^(not available|\d+ N\+1 patterns?)/, 'n_plus_one reports its source');
like(check_value('missing_indexes'), qr/^(not available|\d+ index suggestions?)/, 'missing_indexes reports its source');

$node->stop;
done_testing();
