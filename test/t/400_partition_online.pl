# partition_table converts a populated 1M-row table while pgbench inserts
# and updates it: no writer errors, no rows or updates lost, the exclusive
# lock stays short; then maintenance (idempotence, retries on lock
# timeouts, default-partition cleanup, retention) under the same load.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use SaTest;

my $node = sa_node('partition', conf => q{
max_connections = 40
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
});
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION scale_advisor');

my $t0 = time;
$node->safe_psql($db, q{
CREATE TABLE accounts (id int PRIMARY KEY, name text);
INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 1000) g;
CREATE TABLE events (
	id bigint GENERATED ALWAYS AS IDENTITY,
	created_at timestamptz NOT NULL DEFAULT now(),
	account_id int NOT NULL REFERENCES accounts,
	v int NOT NULL DEFAULT 0 CHECK (v >= 0),
	payload text,
	PRIMARY KEY (id, created_at));
INSERT INTO events (created_at, account_id, payload)
SELECT now() - interval '400 days' + g * interval '30 seconds', 1 + g % 1000, md5(g::text)
FROM generate_series(1, 1000000) g;
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_account ON events (account_id);
COMMENT ON TABLE events IS 'application events';
VACUUM ANALYZE events;
});
note sprintf('loaded 1M rows in %.1f s', time - $t0);

# writers: each transaction inserts one row (v = 1) and adds 1 to v of a
# random existing row, so afterwards count = 1M + N and sum(v) = 2N
my $script = "$PostgreSQL::Test::Utils::tmp_check/writers.sql";
open my $fh, '>', $script or die $!;
print $fh <<'SQL';
\set aid random(1, 1000)
\set rid random(1, 1000000)
BEGIN;
INSERT INTO events (account_id, v, payload) VALUES (:aid, 1, 'new');
UPDATE events SET v = v + 1 WHERE id = :rid;
END;
SQL
close $fh;

my $logdir = "$PostgreSQL::Test::Utils::tmp_check/pgbench_log";
mkdir $logdir;
my $run_no = 0;

sub start_writers
{
	my ($seconds) = @_;
	$run_no++;
	return sa_start_writers($node, script => $script, seconds => $seconds,
		clients => 4, jobs => 2, db => $db, log_prefix => "$logdir/run$run_no");
}

# wait for the writers; return (transactions, max latency in ms)
sub finish_writers
{
	my ($w, $label) = @_;
	my $r = sa_finish_writers($w);
	is($r->{rc}, 0, "$label: pgbench exited cleanly") or diag("$r->{out}\n$r->{err}");
	is($r->{failed}, 0, "$label: no failed transactions");
	unlike($r->{err}, qr/ERROR|aborted/, "$label: no errors reported by the writers")
	  or diag($r->{err});
	return ($r->{processed}, $r->{max_ms});
}

# --- the conversion under load ---
my $w = start_writers(25);
sleep 3;    # writers are running
$t0 = time;
my ($rc, $stdout, $stderr) = $node->psql($db,
	q{CALL scale_advisor.partition_table('events', 'created_at', '1 month', premake => 3, lock_timeout => '500ms', retries => 10)});
my $convert_s = time - $t0;
is($rc, 0, 'partition_table succeeded while writers ran') or diag($stderr);
my ($n1, $max_latency1) = finish_writers($w, 'conversion');
ok($n1 > 100, "writers kept working during the conversion ($n1 transactions)");

my $lock_ms = $node->safe_psql($db,
	q{SELECT max(exclusive_lock_ms) FROM scale_advisor.partition_log WHERE action = 'partition_table swap' AND ok});
my $swap_retries = $node->safe_psql($db,
	q{SELECT detail FROM scale_advisor.partition_log WHERE action = 'partition_table swap' AND ok});
note sprintf('conversion took %.2f s; exclusive lock held %.1f ms (%s); longest writer transaction %.1f ms',
	$convert_s, $lock_ms, $swap_retries, $max_latency1);
ok($lock_ms > 0 && $lock_ms < 1000, "exclusive lock held under one second ($lock_ms ms)");
# a writer can wait for the lock queue (at most lock_timeout per attempt)
# plus the hold itself; a loaded 2-core machine adds jitter, so the bound
# is generous
ok($max_latency1 < 5000, "longest writer transaction during the conversion: $max_latency1 ms");

is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'events'::regclass}),
	'p', 'events is partitioned');
is($node->safe_psql($db, 'SELECT count(*) FROM events'), 1000000 + $n1, 'no row lost');
is($node->safe_psql($db, 'SELECT sum(v) FROM events'), 2 * $n1, 'no update lost');
is($node->safe_psql($db, q{SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index WHERE indrelid = 'events'::regclass}),
	'events_account,events_created_at,events_pkey', 'indexes on the parent keep their names');
# (NOT NULL constraints, which PostgreSQL 18 lists in pg_constraint too, are
# left out: the server names them itself)
is($node->safe_psql($db, q{SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype <> 'n'}),
	'events_account_id_fkey:f,events_pkey:p,events_v_check:c', 'constraints on the parent');
is($node->safe_psql($db, q{SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND attnotnull}),
	'account_id,created_at,id,v', 'NOT NULL columns on the parent');
is($node->safe_psql($db, q{SELECT obj_description('events'::regclass, 'pg_class')}),
	'application events', 'comment kept');
is($node->safe_psql($db, q{SELECT count(*) FROM pg_index WHERE indrelid = 'events_history'::regclass AND indisvalid}),
	'3', 'the historical partition kept its three indexes');
my $maxid = $node->safe_psql($db, 'SELECT max(id) FROM events');
is($node->safe_psql($db, q{INSERT INTO events (account_id) VALUES (1) RETURNING id}),
	$maxid + 1, 'identity goes on where it was');
is($node->safe_psql($db, q{SELECT count(*) FROM events_default}), '0', 'nothing in the default partition');

# --- maintenance: idempotent ---
$node->safe_psql($db, 'CALL scale_advisor.maintain_partitions()');
my $parts = $node->safe_psql($db, q{SELECT string_agg(inhrelid::regclass::text, ',' ORDER BY 1) FROM pg_inherits WHERE inhparent = 'events'::regclass});
my $logn = $node->safe_psql($db, 'SELECT count(*) FROM scale_advisor.partition_log');
$node->safe_psql($db, 'CALL scale_advisor.maintain_partitions()');
is($node->safe_psql($db, q{SELECT string_agg(inhrelid::regclass::text, ',' ORDER BY 1) FROM pg_inherits WHERE inhparent = 'events'::regclass}),
	$parts, 'a second maintenance run changes no partition');
is($node->safe_psql($db, 'SELECT count(*) FROM scale_advisor.partition_log'), $logn,
	'and logs no action');

# --- one run at a time: a second run skips a set another session is
# maintaining, at once, and says who holds it (a session "running" is one
# whose claim is in partition_set_state and that is running a statement) ---
my $holder = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db,
	  '-c', q{UPDATE scale_advisor.partition_set_state SET running_pid = pg_backend_pid(),
	      running_backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
	    WHERE parent_table = 'events'},
	  '-c', q{SELECT pg_sleep(60)} ],
	'>', \my $hout, '2>', \my $herr);
$node->poll_query_until($db,
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'})
  or die 'the set was not claimed';
$t0 = time;
($rc, $stdout, $stderr) = $node->psql($db, 'CALL scale_advisor.maintain_partitions()');
like($stderr, qr/another run is in progress \(process \d+/, 'a concurrent maintenance run says so, naming the process, and skips the set');
ok(time - $t0 < 30, 'without waiting for the running one');
$node->safe_psql($db,
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'});
$holder->finish;

# --- default-partition cleanup and a retried lock timeout, under load ---
$node->safe_psql($db, q{INSERT INTO events (created_at, account_id, v) SELECT timestamptz '2031-05-01 00:00+00' + g * interval '1 minute', 1, 0 FROM generate_series(1, 5000) g});
is($node->safe_psql($db, 'SELECT count(*) FROM events_default'), '5000', 'far-future rows land in the default partition');
$node->safe_psql($db, q{UPDATE scale_advisor.partition_sets SET lock_timeout = '300ms', ddl_retries = 20});
$w = start_writers(12);
sleep 2;
# a session holding a conflicting lock for a while: maintenance must time
# out, retry, and get through once it is gone
my $blocker = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db, '-c',
	  q{BEGIN; LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;} ],
	'>', \my $bout, '2>', \my $berr);
# wait until it holds the lock; maintenance then times out (300 ms a
# try) and retries with growing pauses for far longer than 5 s
$node->poll_query_until($db,
	q{SELECT count(*) > 0 FROM pg_locks WHERE relation = 'events'::regclass AND mode = 'ShareUpdateExclusiveLock' AND granted})
  or die 'the blocking session did not get its lock';
($rc, $stdout, $stderr) = $node->psql($db, 'CALL scale_advisor.maintain_partitions()');
is($rc, 0, 'maintenance succeeded under load') or diag($stderr);
$blocker->finish;
my ($n2, $max_latency2) = finish_writers($w, 'maintenance');
is($node->safe_psql($db, 'SELECT count(*) FROM events_default'), '0', 'default partition emptied');
is($node->safe_psql($db, q{SELECT count(*) FROM events_p203105}), '5000', 'its rows are in their own partition');
like($node->safe_psql($db, q{SELECT string_agg(detail, ' | ') FROM scale_advisor.partition_log WHERE action = 'create' AND detail LIKE '%203105%'}),
	qr/5000 rows moved from the default partition after [1-9]\d* retries/, 'the move was retried after lock timeouts');
is($node->safe_psql($db, 'SELECT count(*) FROM events'), 1000000 + $n1 + 1 + 5000 + $n2, 'no row lost during maintenance');
note sprintf('maintenance under load: longest writer transaction %.1f ms', $max_latency2);
is($node->safe_psql($db, q{SELECT status FROM scale_advisor.partition_maintenance_status WHERE parent_table = 'events'}),
	'ok', 'status is ok');

# --- retention under load ---
$node->safe_psql($db, q{
CREATE TABLE metrics (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE metrics_2020_01 PARTITION OF metrics FOR VALUES FROM ('2020-01-01 00:00+00') TO ('2020-02-01 00:00+00');
CREATE TABLE metrics_2020_02 PARTITION OF metrics FOR VALUES FROM ('2020-02-01 00:00+00') TO ('2020-03-01 00:00+00');
INSERT INTO metrics SELECT timestamptz '2020-01-01 00:00+00' + g * interval '1 minute', 1 FROM generate_series(1, 50000) g;
});
$node->safe_psql($db, q{CALL scale_advisor.partition_table('metrics', 'at', '1 month', retention => '1 year', retention_action => 'drop')});
is($node->safe_psql($db, q{SELECT count(*) FROM pg_class WHERE relname IN ('metrics_2020_01', 'metrics_2020_02')}),
	'0', 'partitions past retention dropped');
is($node->safe_psql($db, q{SELECT count(*) FROM metrics}), '0', 'their rows went with them');
ok($node->safe_psql($db, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'metrics'::regclass}) >= 4,
	'current and future partitions exist');

# the configuration is dumped with the extension
my ($dump, $dump_err) = ('', '');
IPC::Run::run([ 'pg_dump', '-h', $node->host, '-p', $node->port, '-d', $db,
	'--exclude-table-data=public.*' ], '>', \$dump, '2>', \$dump_err)
  or die "pg_dump failed: $dump_err";
like($dump, qr/COPY scale_advisor\.partition_sets .*\n(?:.*\n)*?public\tevents\tcreated_at\t1 month\t3\t/,
	'pg_dump keeps partition_sets');

$node->stop;
done_testing();
