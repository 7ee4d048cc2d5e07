# The snapshot worker, the bound on the history, regressions, capacity, a
# standby falling behind, archive maintenance overdue and failing, and the
# pgbench script that replays the recorded statement mix.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('readiness_history');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.snapshot_interval = 1
});
$node->start;

# --- the launcher says at once what it does, and fails nowhere without the
# extension
$node->wait_for_log(qr/scale_advisor takes a history snapshot of every database with the extension every 1 s/);
sleep 3;
my $log = slurp_file($node->logfile);
unlike($log, qr/scale_advisor snapshot.*(ERROR|exited with exit code [^0])/, 'no error in a database without the extension');

# --- with the extension: snapshots every second in every database that has
# it (not only in one chosen database), at most snapshot_keep
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', 'CREATE EXTENSION scale_advisor');
$node->poll_query_until('shop', 'SELECT count(*) >= 2 FROM scale_advisor.snapshots')
  or die 'the worker took no snapshots in database shop';
pass('snapshots in a database other than postgres');
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
$node->poll_query_until('postgres', 'SELECT count(*) >= 3 FROM scale_advisor.snapshots')
  or die 'the worker took no snapshots';
pass('worker takes snapshots');
$node->safe_psql('postgres', 'ALTER SYSTEM SET scale_advisor.snapshot_keep = 4; SELECT pg_reload_conf()');
$node->poll_query_until('postgres',
	'SELECT max(snap_id) >= 8 FROM scale_advisor.snapshots')
  or die 'the worker stopped taking snapshots';
is($node->safe_psql('postgres', 'SELECT count(*) <= 4 FROM scale_advisor.snapshots'),
	't', 'snapshots past snapshot_keep are pruned');

# --- a clean restart: the launcher exits without an error (its default
# SIGTERM handler logged FATAL "terminating background worker" every time)
my $pos = -s $node->logfile;
$node->restart;
my $restart_log = substr(slurp_file($node->logfile), $pos);
unlike($restart_log, qr/FATAL:.*terminating background worker "scale_advisor/, 'no FATAL from a worker at a clean restart');
unlike($restart_log, qr/background worker "scale_advisor[^"]*" \(PID \d+\) exited with exit code 1/, 'no worker exits with an error at a clean restart');

# --- a restart while a snapshot runs (here: waiting for a lock on the
# snapshots table): the snapshot is cancelled and rolled back in silence
# (the default SIGTERM handler logged FATAL "terminating background worker",
# which a busy server showed at one restart in a few)
my ($lin, $lout, $lerr) = ('', '', '');
my $locker = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', '-' ],
	'<', \$lin, '>', \$lout, '2>', \$lerr);
$lin .= "BEGIN;\nLOCK TABLE scale_advisor.snapshots IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n";
$locker->pump until $lout =~ /locked/;
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE backend_type LIKE 'scale_advisor snapshot%' AND wait_event_type = 'Lock'}),
	'a snapshot worker waits for the lock on the snapshots table');
$pos = -s $node->logfile;
$node->restart;
$locker->kill_kill;
$restart_log = substr(slurp_file($node->logfile), $pos);
unlike($restart_log, qr/FATAL:.*terminating background worker "scale_advisor/,
	'no FATAL from a snapshot worker stopped mid-snapshot');
unlike($restart_log, qr/(ERROR|FATAL):.*canceling statement/,
	'nor an error for its cancelled snapshot');
unlike($restart_log, qr/background worker "scale_advisor[^"]*" \(PID \d+\) exited with exit code 1/,
	'the stopped snapshot worker exits with code 0');

$node->safe_psql('postgres', 'ALTER SYSTEM SET scale_advisor.snapshot_interval = 0; SELECT pg_reload_conf()');
$node->wait_for_log(qr/scale_advisor takes no history snapshots/);
my $before = $node->safe_psql('postgres', 'SELECT max(snap_id) FROM scale_advisor.snapshots');
sleep 2;
is($node->safe_psql('postgres', 'SELECT max(snap_id) FROM scale_advisor.snapshots'),
	$before, 'snapshot_interval = 0 stops the worker');

# a statement seen once, then idle, keeps its figures when its snapshot goes
$node->safe_psql('postgres', 'SELECT 42 AS once');
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()') for 1 .. 6;
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM scale_advisor.snapshot_statements s
	JOIN scale_advisor._history() h USING (dbid, queryid)
	WHERE h.sample_query = 'SELECT 42 AS once'}),
	'1', 'an idle statement keeps one row after its snapshot was pruned');

# --- regressions: a statement that becomes slower than its baseline
$node->safe_psql(
	'postgres', q{
	CREATE TABLE work_conf (delay float8);
	INSERT INTO work_conf VALUES (0);
	CREATE FUNCTION work(i int) RETURNS int LANGUAGE plpgsql AS
	$$BEGIN PERFORM pg_sleep((SELECT delay FROM work_conf)); RETURN i; END$$;
	SELECT scale_advisor.set_threshold('regression_window_s', 0);
});
$node->safe_psql('postgres', "SELECT work(1);\n" x 25);
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.regressions'),
	'0', 'no regression before the change');
$node->safe_psql('postgres', 'UPDATE work_conf SET delay = 0.05');
$node->safe_psql('postgres', "SELECT work(2);\n" x 25);
my $reg = $node->safe_psql('postgres',
	'SELECT query, baseline_calls, window_calls, window_p95_ms > 40 AND ratio > 3 FROM scale_advisor.regressions');
like($reg, qr/^SELECT work\(\$1\)\|25\|25\|t$/, 'the slower statement is a regression');
is($node->safe_psql('postgres', "SELECT severity FROM scale_advisor.alerts WHERE alert = 'statement_regression'"),
	'warning', 'regression alert');
is($node->safe_psql('postgres', "SELECT status FROM scale_advisor.checklist WHERE \"check\" = 'regressions'"),
	'warn', 'regressions check warns');
# a new window: the statement is as slow as its (new) baseline
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
$node->safe_psql('postgres', "SELECT work(3);\n" x 25);
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.regressions'),
	'0', 'no regression once the baseline is as slow');

# --- capacity: busy time measured between snapshots (of an idle server)
$node->safe_psql('postgres', 'SELECT scale_advisor.history_reset()');
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
sleep 1;
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
my $idle = $node->safe_psql('postgres',
	"SELECT status FROM scale_advisor.capacity(2) WHERE item = 'busy sessions (peak)'");
is($idle, 'pass', 'an idle server has room for twice the load');
# two sessions busy all the time on a two-CPU budget
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
$node->pgbench('-n -c 2 -j 2 -T 3', 0, [qr/processed/], [qr/^$/], 'busy sessions',
	{ 'busy.sql' => "SELECT pg_sleep(0.05);\n" });
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
my $busy = $node->safe_psql('postgres',
	"SELECT current, projected, status FROM scale_advisor.capacity(2) WHERE item = 'busy sessions (peak)'");
my ($cur, $proj, $st) = split /\|/, $busy;
cmp_ok($cur, '>=', 1.2, "two busy sessions measured ($cur)");
cmp_ok($proj, '>=', 2.4, "doubled for twice the load ($proj)");
my $cpus = $node->safe_psql('postgres', 'SELECT scale_advisor._host_cpus()');
is($st, ($proj / $cpus >= 1 ? 'fail' : $proj / $cpus >= 0.7 ? 'warn' : 'pass'),
	"status follows projected busy sessions against $cpus CPUs");
like($node->safe_psql('postgres', "SELECT detail FROM scale_advisor.capacity(3) WHERE item = 'pool size'"),
	qr/default_pool_size = \d+/, 'capacity gives a pool size');
is($node->safe_psql('postgres', "SELECT count(*) > 0 FROM scale_advisor.capacity(2) WHERE item LIKE 'statement %'"),
	't', 'capacity lists the statements that cross the target first');

# --- replication lag: a standby that replays 3 s late
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('readiness_standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "recovery_min_apply_delay = '3s'");
$standby->start;
$node->safe_psql('postgres', 'SELECT scale_advisor.set_threshold(\'replication_lag_warning_s\', 1)');
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming'})
  or die 'standby does not stream';
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM scale_advisor.alerts WHERE alert = 'replication_lag'")
  or die 'replication lag alert while idle';
pass('no replication lag alert while the standby keeps up');
$node->safe_psql('postgres', 'CREATE TABLE lagging AS SELECT 1 AS x');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM scale_advisor.alerts WHERE alert = 'replication_lag' AND severity = 'warning'")
  or die 'no replication lag alert';
pass('replication lag alert while the standby replays late');
$standby->stop;
$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_replication})
  or die 'standby still connected';
is($node->safe_psql('postgres', "SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'replication_lag'"),
	'0', 'no replication lag alert without a standby');

# an inactive slot that holds WAL back
$node->safe_psql('postgres', q{
	SELECT scale_advisor.set_threshold('replication_slot_max_bytes', 1048576);
	CHECKPOINT;
	SELECT pg_create_physical_replication_slot('forgotten', true)});
is($node->safe_psql('postgres', "SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'replication_slot_retained_wal'"),
	'0', 'no slot alert while the slot retains little');
$node->safe_psql('postgres', 'CREATE TABLE wal_filler AS SELECT g, md5(g::text) FROM generate_series(1, 30000) g');
like($node->safe_psql('postgres', "SELECT detail FROM scale_advisor.alerts WHERE alert = 'replication_slot_retained_wal'"),
	qr/inactive slot forgotten retains/, 'alert for an inactive slot retaining WAL');
$node->safe_psql('postgres', "SELECT pg_drop_replication_slot('forgotten')");
is($node->safe_psql('postgres', "SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'replication_slot_retained_wal'"),
	'0', 'slot alert gone with the slot');

# --- archive maintenance
$node->safe_psql('postgres', q{
	CREATE TABLE events (id int, at timestamptz);
	INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than) VALUES ('public.events', 'at', '30 days')});
is($node->safe_psql('postgres', "SELECT severity FROM scale_advisor.alerts WHERE alert = 'archive_maintenance_overdue'"),
	'warning', 'archive policy that never ran is overdue');
$node->safe_psql('postgres', q{
	INSERT INTO scale_advisor.archive_runs (operation, relation, from_policy, started_at, finished_at, status)
	VALUES ('archive', 'public.events', true, now() - interval '1 minute', now(), 'done')});
is($node->safe_psql('postgres', "SELECT count(*) FROM scale_advisor.alerts WHERE alert LIKE 'archive_maintenance%'"),
	'0', 'no archive alert after a run that succeeded');
$node->safe_psql('postgres', q{
	INSERT INTO scale_advisor.archive_runs (operation, relation, from_policy, started_at, finished_at, status, error)
	VALUES ('archive', 'public.events', true, now(), now(), 'failed', 'lock timeout')});
is($node->safe_psql('postgres', "SELECT severity FROM scale_advisor.alerts WHERE alert = 'archive_maintenance_failing'"),
	'critical', 'archive run that failed is critical');
# the failing alerts' value is the runs that failed since the last success
# (threshold 1), not the hours since it, which is NULL when nothing ever
# succeeded: the exporter then has no value and the Prometheus rule
# (value and firing) never fires
is($node->safe_psql('postgres', "SELECT value || ' ' || threshold FROM scale_advisor.alerts WHERE alert = 'archive_maintenance_failing'"),
	'1 1', 'failing archive policy: value 1 failed run, threshold 1');
$node->safe_psql('postgres', q{
	INSERT INTO scale_advisor.archive_runs (operation, relation, from_policy, started_at, finished_at, status, error)
	VALUES ('archive', 'public.events', true, now(), now(), 'interrupted', NULL)});
is($node->safe_psql('postgres', "SELECT value FROM scale_advisor.alerts WHERE alert = 'archive_maintenance_failing'"),
	'2', 'failing archive policy: value 2 after a second failed run');
$node->safe_psql('postgres', q{
	CREATE TABLE pm_failing (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval)
	VALUES ('public', 'pm_failing', 'at', '1 day');
	INSERT INTO scale_advisor.partition_set_state (parent_schema, parent_table, last_started, last_finished,
		last_error, last_error_at, consecutive_failures)
	VALUES ('public', 'pm_failing', now(), now(), 'lock timeout', now(), 3)});
is($node->safe_psql('postgres', "SELECT severity || ' ' || value || ' ' || threshold FROM scale_advisor.alerts WHERE alert = 'partition_maintenance_failing'"),
	'critical 3 1', 'partition set whose runs never succeeded: failing, value 3 consecutive failures (not NULL)');
$node->safe_psql('postgres', q{
	DELETE FROM scale_advisor.partition_set_state WHERE parent_table = 'pm_failing';
	DELETE FROM scale_advisor.partition_sets WHERE parent_table = 'pm_failing';
	DROP TABLE pm_failing});

# --- workload script: replay the recorded mix with captured values
$node->safe_psql('postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, name text, balance numeric);
	INSERT INTO accounts SELECT g, 'n' || g, g FROM generate_series(1, 1000) g;
	SELECT scale_advisor.history_reset()});
$node->pgbench('-n -M prepared -t 60', 0, [qr/processed: 60/], [qr/^$/], 'recorded mix',
	{ 'mix.sql' => q{\set aid random(1, 1000)
SELECT name FROM accounts WHERE id = :aid;
SELECT sum(balance) FROM accounts WHERE id BETWEEN :aid AND :aid + 10;
UPDATE accounts SET balance = balance + 1 WHERE id = :aid;
} });
$node->safe_psql('postgres', q{SELECT count(*) FROM accounts WHERE name = 'n5'}) for 1 .. 3;
# a client tool's catalog queries (psql's \dn and \dx) are not the workload
$node->psql('postgres', '\dn') for 1 .. 4;
$node->psql('postgres', '\dx') for 1 .. 4;
my $script = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(20)');
note $script;
like($script, qr/^\\set sa_pick random\(1, 123\)$/m, 'weights add up to the calls replayed');
like($script, qr/^SELECT name FROM accounts WHERE id = :sa_p1;$/m,
	'bound parameters are pgbench variables, sent as parameters');
my ($branch) = grep { /SELECT name FROM accounts/ } split /^\\(?:el)?if :sa_pick/m, $script;
like($branch // '', qr/^-- queryid -?\d+, 60 calls, [2-4] examples$/m, 'the statement is replayed with several captured examples');
my %keys = map { $_ => 1 } (($branch // '') =~ /^\\set sa_p1 (\d+)$/mg);
cmp_ok(scalar(keys %keys), '>=', 2, 'with varied keys, not one fixed key (' . join(', ', sort keys %keys) . ')');
like($script, qr/^SELECT count\(\*\) FROM accounts WHERE name = 'n5';$/m, 'literal statements replayed as they ran');
like($script, qr/^-- left out: queryid -?\d+ \(60 calls\): writes/m, 'writes left out by default');
like($script, qr/^-- left out: queryid -?\d+ \(4 calls\): it reads only system catalogs/m,
	'psql\'s catalog queries are left out, with the reason');
unlike($script, qr/pg_namespace|pg_extension/, 'no catalog query is replayed');
unlike($script, qr/\$\d/, 'no placeholder left');
my $file = $node->basedir . '/workload.sql';
open my $fh, '>', $file or die;
print $fh $script;
close $fh;
# replayed statements keep their query ids
my $ids_sql = q{SELECT count(*) || ' ' || sum(calls) FROM scale_advisor.query_stats
  WHERE query LIKE 'SELECT name FROM accounts WHERE id = %'};
my ($ids_before, $calls_before) = split / /, $node->safe_psql('postgres', $ids_sql);
$node->command_ok([ 'pgbench', '-n', '-M', 'extended', '-f', $file, '-c', '2', '-t', '50', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'pgbench runs the generated script');
my ($ids_after, $calls_after) = split / /, $node->safe_psql('postgres', $ids_sql);
is($ids_after, $ids_before, 'the replayed statement kept its query id (no new entry)');
cmp_ok($calls_after, '>', $calls_before, 'and its calls grew');
# in simple mode pgbench would paste the values into the text: it stops
my ($stdout, $stderr);
IPC::Run::run([ 'pgbench', '-n', '-f', $file, '-t', '5', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr);
like($stderr, qr/cannot use pipeline mode with the simple query protocol/, 'the script refuses pgbench\'s simple mode');
my $with_writes = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(10, include_writes => true)');
like($with_writes, qr/^UPDATE accounts SET balance = balance \+ 1 WHERE id = :sa_p1;$/m,
	'include_writes replays the update');
open $fh, '>', $file or die;
print $fh $with_writes;
close $fh;
$node->command_ok([ 'pgbench', '-n', '-M', 'prepared', '-f', $file, '-t', '20', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'pgbench runs the script with writes');

# examples survive a clean restart (saved with the store), and statements
# get new ones after it (1.0 kept them in shared memory only and took them
# on the first executions and every 1,024th only)
$node->restart;
$script = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(20)');
like($script, qr/^SELECT name FROM accounts WHERE id = :sa_p1;$/m,
	'the examples taken before a restart are still there after it');
$node->pgbench('-n -M prepared -t 20', 0, [qr/processed: 20/], [qr/^$/], 'the mix after a restart',
	{ 'mix2.sql' => q{\set aid random(1, 1000)
SELECT sum(balance) FROM accounts WHERE id BETWEEN :aid AND :aid + 10;
} });
$script = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(20)');
like($script, qr/^SELECT sum\(balance\) FROM accounts WHERE id BETWEEN :sa_p1 AND :sa_p2 \+ \$?\d*/m,
	'a statement run after a restart has an example again');
# a role without pg_read_all_stats sees no examples of others
$node->safe_psql('postgres', 'CREATE ROLE viewer LOGIN; GRANT EXECUTE ON FUNCTION scale_advisor.workload_script(integer, boolean) TO viewer');
like($node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(10)', extra_params => [ '-U', 'viewer' ]),
	qr/nothing to replay yet/, 'other roles\' values stay hidden');

$node->stop;
done_testing();
