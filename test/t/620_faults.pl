# Faults: the server survives them and keeps what docs/statement-timings.md
# and docs/reliability.md promise.
#
#  1. kill -9 of a backend inside every hook and observer, and while it
#     holds the store's spinlock, the store's exclusive lock, the history
#     lock and the plan lock (gdb stops the backend at the exact function,
#     then kills it: no timing involved); after each crash restart the store
#     holds what the last save held.  Then the same after a periodic save.
#  2. kill -9 of the postmaster and all its children during a snapshot, an
#     archiving run and a partition maintenance, each known to be in progress
#     because it waits on a lock another session holds; afterwards no row is
#     lost or duplicated and a second call finishes the job.
#  3. shared memory full: a small store (scale_advisor.max = 100, small
#     history, plan and N+1 tables) under 4 clients running 1,000 distinct
#     statements and 120 loops: no error reaches a client.
#  4. the stats file on a full disk (its temporary file a symlink to
#     /dev/full: ENOSPC), at shutdown and at a periodic save: the saved file
#     stays as it was and is loaded at the next start; then a save stalled
#     in write() (temporary file a FIFO nobody reads) must not stop new
#     statements.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use POSIX qw(mkfifo);
use Fcntl qw(O_RDONLY O_NONBLOCK F_GETFL F_SETFL);
use Digest::MD5;
use Encode qw(encode_utf8);
use Time::HiRes qw(time);
use SaTest;
use SaSession qw(open_session send_sql close_session);

my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my $t_start = time;

my $node = sa_node('faults', conf => q{
restart_after_crash = on
autovacuum = off
scale_advisor.save_interval = 3600
scale_advisor.snapshot_interval = 0
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
});
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE r (a int PRIMARY KEY, b text);
INSERT INTO r SELECT g, 'x' || g FROM generate_series(1, 1000) g;
ANALYZE r;
});

# wait until a crash restart is over: the log says the server is ready
# again after the given offset
sub wait_restarted
{
	my ($offset) = @_;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$offset = $node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	$node->poll_query_until('postgres', 'SELECT true')
	  or die 'server did not come back';
	return $offset;
}

my $marker_sql = q{SELECT calls FROM scale_advisor.query_stats
	WHERE query = 'SELECT b FROM r WHERE a = $1' AND toplevel};
sub marker
{
	my ($n) = @_;
	$node->safe_psql('postgres', join('', map { "SELECT b FROM r WHERE a = $_;\n" } 1 .. $n));
}
sub marker_calls { return $node->safe_psql('postgres', $marker_sql); }

###########################################################################
# 1. kill -9 inside the hooks
###########################################################################

# saved state: 20 marker calls, written at a clean shutdown
marker(20);
$node->restart;
is(marker_calls(), '20', 'marker statement saved at a clean restart (20 calls)');

my $have_gdb = (system('gdb --version >/dev/null 2>&1') == 0);
my $kills = 0;
SKIP:
{
	skip 'gdb is not installed', 31 unless $have_gdb;

	# (label, gdb breakpoint, statement that reaches it, backtrace must match)
	my @points = (
		[ 'post_parse_analyze hook', 'break sa_post_parse_analyze',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_post_parse_analyze/ ],
		[ 'planner hook', 'break sa_planner',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_planner/ ],
		[ 'ExecutorStart hook', 'break sa_ExecutorStart',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_ExecutorStart/ ],
		[ 'ExecutorRun hook', 'break sa_ExecutorRun',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_ExecutorRun/ ],
		[ 'ExecutorFinish hook', 'break sa_ExecutorFinish',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_ExecutorFinish/ ],
		[ 'ExecutorEnd hook', 'break sa_ExecutorEnd',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*sa_ExecutorEnd/ ],
		[ 'ProcessUtility hook, after the DDL ran, recording it',
		  'break sa_store_record if $_caller_is("sa_ProcessUtility")',
		  'CREATE TABLE crash_ddl (x int);', qr/#1 .*sa_ProcessUtility/ ],
		[ 'N+1 observer', 'break np_observe',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#0 .*np_observe/ ],
		[ 'plans observer, holding the plan lock',
		  'break LWLockRelease if $_caller_is("plans_capture")',
		  q{SELECT count(*) FROM r WHERE b = 'x5';}, qr/#1 .*plans_capture/ ],
		[ 'history observer, holding the history lock',
		  'break LWLockRelease if $_caller_is("sa_hist_capture")',
		  q{SELECT count(*) FROM r WHERE a < 10 AND b <> 'history';}, qr/#1 .*sa_hist_capture/ ],
		[ 'store update, holding the store lock and the entry spinlock',
		  'break sa_sketch_add_bucket if $_caller_is("sa_store_record")',
		  'SELECT count(*) FROM r WHERE a < 10;', qr/#1 .*sa_store_record/ ],
		[ 'store entry creation, holding the store lock exclusively',
		  'break entry_create',
		  q{SELECT a FROM r WHERE a = 77 AND b = 'never seen';}, qr/#0 .*entry_create/ ],
		[ 'error counting at abort', 'break sa_store_record_error',
		  'SELECT 1 / (a - a) FROM r WHERE a = 1;', qr/#0 .*sa_store_record_error/ ],
	);

	my $n = 0;
	my $offset = -s $node->logfile;
	for my $p (@points)
	{
		my ($label, $break, $trigger, $frame) = @$p;
		$n++;
		# an unsaved change: a crash loses it
		marker(1);
		my $before = marker_calls();

		my $s = open_session($node, 'postgres');
		my $ready = "$tmp/gdb_ready_$n";
		unlink $ready;
		my ($gin, $gout, $gerr) = ('', '', '');
		my $g = IPC::Run::start(
			[
				'gdb', '-q', '-nx', '-batch',
				'-iex', 'set auto-solib-add off',
				'-iex', 'set debuginfod enabled off',
				'-p', $s->{pid},
				'-ex', 'sharedlibrary scale_advisor',
				'-ex', 'set pagination off',
				'-ex', $break,
				'-ex', "shell touch $ready",
				'-ex', 'continue',
				'-ex', 'bt 3',
				'-ex', 'signal SIGKILL'
			],
			'<', \$gin, '>', \$gout, '2>', \$gerr,
			IPC::Run::timeout(120));
		# gdb has set the breakpoint and let the backend go on
		sa_poll(sub { $g->pump_nb; return -e $ready; })
		  or die "$n. gdb never set its breakpoint:\n$gout\n$gerr";
		send_sql($s, "$trigger\n\\echo END\n");
		my $killed = eval { $g->finish; 1 };
		$g->kill_kill unless $killed;
		close_session($s);
		my $died = ($gout =~ /Program terminated with signal SIGKILL/);
		$kills++ if $died;
		ok($died && $gout =~ $frame, "$n. $label: backend killed there")
		  or diag("gdb said:\n$gout\n$gerr\npsql said:\n$s->{out}\n$s->{err}");
		$offset = wait_restarted($offset) if $died;

		my $res = $node->safe_psql('postgres', qq{
SELECT ($marker_sql) || '|' || (SELECT count(*) > 0 FROM scale_advisor.query_stats)
	|| '|' || (SELECT loaded_entries > 0 FROM scale_advisor.info)
	|| '|' || (to_regclass('crash_ddl') IS NULL)});
		is($res, '20|true|true|true',
			"$n. after the crash restart: the store answers with the last save (20 calls, not $before), "
			. 'nothing of the killed statement committed');
	}

	# kill -9 a backend sleeping in pg_sleep
	my $crash_sleeper = sub {
		my $s = open_session($node, 'postgres');
		send_sql($s, "SELECT pg_sleep(60);\n");
		$node->poll_query_until('postgres',
			"SELECT true FROM pg_stat_activity WHERE pid = $s->{pid} AND wait_event = 'PgSleep'")
		  or die 'no sleeping backend';
		kill 'KILL', $s->{pid};
		$kills++;
		close_session($s);
		$offset = wait_restarted($offset);
	};

	# a reset not saved yet is undone by a crash (docs/statement-timings.md)
	$node->safe_psql('postgres', 'SELECT scale_advisor.reset()');
	is(marker_calls(), '', 'reset() empties the store');
	$crash_sleeper->();
	is(marker_calls(), '20', 'a crash before the next save brings the reset statements back (20 calls)');

	# the saver's periodic save survives a crash: after a save that started
	# once the marker ran, kill -9 a backend
	$node->safe_psql('postgres', q{ALTER SYSTEM SET scale_advisor.save_interval = 1;
		SELECT pg_reload_conf();});
	marker(5);
	my $saves = $node->safe_psql('postgres', 'SELECT saves FROM scale_advisor.info');
	$node->poll_query_until('postgres',
		"SELECT saves >= $saves + 2 FROM scale_advisor.info")
	  or die 'no periodic save';
	$crash_sleeper->();
	is(marker_calls(), '25', 'a crash keeps what the periodic save held (25 calls)');
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET scale_advisor.save_interval;
		SELECT pg_reload_conf();});

	my $log = slurp_file($node->logfile);
	my $sig9 = () = $log =~ /terminated by signal 9/g;
	is($sig9, $kills, "$kills backends killed, $kills crash restarts");
	unlike($log, qr/PANIC|TRAP|terminated by signal (?!9)/, 'no other crash in the log');
	note sprintf('section 1: %.1f s', time - $t_start);
}

###########################################################################
# 2. kill -9 of the postmaster and its children during an operation
###########################################################################

# Each operation below is known to be in progress because its session
# waits for a lock (sa_wait_blocked); then the server dies in a power cut
# (sa_kill_server) and starts again.

# 2a. snapshot: blocked writing snapshot_tables, which another session
# locked, after inserting its snapshots and snapshot_statements rows (a lock
# on a user table no longer stops it: it leaves the table out)
$node->safe_psql('postgres', q{
CREATE TABLE big (id int, v text);
INSERT INTO big SELECT g, 'v' FROM generate_series(1, 5000) g;
SELECT scale_advisor.snapshot();
SELECT count(*) FROM r WHERE a < 100;
SELECT scale_advisor.snapshot();
});
my $snap_state = q{SELECT (SELECT count(*) FROM scale_advisor.snapshots) || '|' ||
	(SELECT max(snap_id) FROM scale_advisor.snapshots) || '|' ||
	(SELECT count(*) FROM scale_advisor.snapshot_statements) || '|' ||
	(SELECT count(*) FROM scale_advisor.snapshot_tables)};
my $snap_before = $node->safe_psql('postgres', $snap_state);
{
	my $locker = open_session($node, 'postgres', 'locker');
	send_sql($locker, "BEGIN;\nLOCK TABLE scale_advisor.snapshot_tables IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n");
	$locker->{h}->pump until $locker->{out} =~ /locked/;
	my $snap = open_session($node, 'postgres', 'snap');
	send_sql($snap, "SELECT scale_advisor.snapshot();\n");
	sa_wait_blocked($node, $snap->{pid}, q{relation = 'scale_advisor.snapshot_tables'::regclass});
	my $nchildren = sa_kill_server($node);
	note "snapshot: killed the postmaster and $nchildren children";
	close_session($_) for ($locker, $snap);
}
is($node->safe_psql('postgres', $snap_state), $snap_before,
	"snapshot killed half-way: the snapshot tables are as before ($snap_before)");
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM scale_advisor.snapshot_statements s
		WHERE NOT EXISTS (SELECT 1 FROM scale_advisor.snapshots p WHERE p.snap_id = s.snap_id))
	 + (SELECT count(*) FROM scale_advisor.snapshot_tables s
		WHERE NOT EXISTS (SELECT 1 FROM scale_advisor.snapshots p WHERE p.snap_id = s.snap_id))}),
	'0', 'no snapshot row without its snapshot');
my $new_snap = $node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
is($node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM scale_advisor.snapshots) || '|' ||
	(SELECT count(*) > 0 FROM scale_advisor.snapshot_tables WHERE snap_id = $new_snap AND relname = 'big') || '|' ||
	(SELECT count(*) >= 0 FROM scale_advisor.regressions) || '|' ||
	(SELECT count(*) >= 0 FROM scale_advisor.growth)}),
	'3|true|true|true', 'the next snapshot works, the readiness views answer');

# 2b. archiving: batches of 1,000 rows in key order; a trigger on the
# archive makes the batch holding id 10,001 wait for an advisory lock
$node->safe_psql('postgres', q{
CREATE TABLE ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, payload text);
INSERT INTO ev SELECT g, now() - interval '30 days' + g * interval '1 second', md5(g::text)
FROM generate_series(1, 20000) g;
CALL scale_advisor.archive('ev', 'created_at', '100 years');
CREATE FUNCTION ev_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.id > 10000 THEN
		PERFORM pg_advisory_xact_lock_shared(4242);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER ev_gate BEFORE INSERT ON ev_archive FOR EACH ROW EXECUTE FUNCTION ev_gate();
});
my $ev_check = q{
SELECT (SELECT count(*) FROM ev) + (SELECT count(*) FROM ev_archive) || '|' ||
	(SELECT coalesce(sum(id), 0) FROM ev) + (SELECT coalesce(sum(id), 0) FROM ev_archive) || '|' ||
	(SELECT count(*) FROM ev JOIN ev_archive USING (id))};
{
	my $gate = open_session($node, 'postgres', 'gate');
	send_sql($gate, "SELECT pg_advisory_lock(4242);\n\\echo locked\n");
	$gate->{h}->pump until $gate->{out} =~ /locked/;
	my $arch = open_session($node, 'postgres', 'archiver');
	send_sql($arch,
		"CALL scale_advisor.archive('ev', 'created_at', '1 day', batch_size => 1000);\n");
	sa_wait_blocked($node, $arch->{pid}, q{locktype = 'advisory' AND objid = 4242});
	my $moved = $node->safe_psql('postgres',
		q{SELECT rows_moved FROM scale_advisor.archive_runs WHERE status = 'running'});
	note "archive: $moved rows moved in committed batches when the server was killed";
	sa_kill_server($node);
	close_session($_) for ($gate, $arch);
}
my $archived = $node->safe_psql('postgres', 'SELECT count(*) FROM ev_archive');
note "archive: $archived rows in the archive after the crash (batches commit asynchronously)";
is($node->safe_psql('postgres', $ev_check), '20000|200010000|0',
	'archive killed half-way: every row once, in the table or the archive (count, sum of ids)');
ok($archived % 1000 == 0 && $archived <= 10000,
	"only whole batches were archived ($archived rows)");
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status = 'running'}),
	'1', 'the killed run is still marked running');
my $rerun = $node->safe_psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '1 day', batch_size => 1000)});
like($rerun, qr/\|done$/, "calling archive again finishes the job ($rerun)");
is($node->safe_psql('postgres', $ev_check . q{ || '|' || (SELECT count(*) FROM ev_archive)
	|| '|' || (SELECT string_agg(status, ',' ORDER BY run_id) FROM scale_advisor.archive_runs)}),
	'20000|200010000|0|20000|done,interrupted,done',
	'every row archived once; the killed run is marked interrupted');

# 2c. partition maintenance: monthly partitions, 3 months of rows waiting
# in the default partition; a trigger makes the move of the third month's
# rows wait for an advisory lock
$node->safe_psql('postgres', q{
CREATE TABLE pt (id bigint NOT NULL, created_at timestamptz NOT NULL, payload text)
	PARTITION BY RANGE (created_at);
CREATE TABLE pt_default PARTITION OF pt DEFAULT;
CALL scale_advisor.partition_table('pt', 'created_at', '1 month', premake => 2);
INSERT INTO pt SELECT g, date_trunc('month', now()) + interval '4 months'
		+ (g % 3) * interval '1 month' + interval '1 day' + (g / 3) * interval '1 minute', 'p'
	FROM generate_series(1, 3000) g;
CREATE FUNCTION pt_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.created_at >= date_trunc('month', now()) + interval '6 months' THEN
		PERFORM pg_advisory_xact_lock_shared(4243);
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER pt_gate BEFORE DELETE ON pt_default FOR EACH ROW EXECUTE FUNCTION pt_gate();
UPDATE scale_advisor.partition_sets SET premake = 8, lock_timeout = '1min'
	WHERE parent_table = 'pt';
});
my $pt_parts = q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'pt'::regclass};
my $parts_before = $node->safe_psql('postgres', $pt_parts);
my $pt_check = q{
SELECT (SELECT count(*) FROM pt) || '|' || (SELECT sum(id) FROM pt) || '|' ||
	(SELECT count(*) FROM pg_class c WHERE c.relname LIKE 'pt\_%' AND c.relname <> 'pt_default'
	   AND c.relkind = 'r' AND NOT c.relispartition) || '|' ||
	(SELECT count(*) FROM pt_default d WHERE EXISTS (
		SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'pt'::regclass AND c.relname <> 'pt_default'
		  AND d.created_at >= (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz
		  AND d.created_at < (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz))};
{
	my $gate = open_session($node, 'postgres', 'gate');
	send_sql($gate, "SELECT pg_advisory_lock(4243);\n\\echo locked\n");
	$gate->{h}->pump until $gate->{out} =~ /locked/;
	my $maint = open_session($node, 'postgres', 'maintenance');
	send_sql($maint, "CALL scale_advisor.maintain_partitions('pt');\n");
	sa_wait_blocked($node, $maint->{pid}, q{locktype = 'advisory' AND objid = 4243});
	my $mid = $node->safe_psql('postgres', $pt_parts);
	note "partitions: $parts_before before, $mid committed when the server was killed";
	sa_kill_server($node);
	close_session($_) for ($gate, $maint);
}
my $parts_after = $node->safe_psql('postgres', $pt_parts);
ok($parts_after > $parts_before,
	"maintenance killed half-way: the partitions it committed are there ($parts_before -> $parts_after)");
is($node->safe_psql('postgres', $pt_check), '3000|4501500|0|0',
	'every row once, no half-made partition left, no row in the default partition a partition covers');
ok($node->safe_psql('postgres',
		q{SELECT count(*) FROM pt_default WHERE created_at >= date_trunc('month', now()) + interval '6 months'}) > 0,
	"the interrupted month's rows are still in the default partition");
$node->safe_psql('postgres', q{CALL scale_advisor.maintain_partitions('pt')});
is($node->safe_psql('postgres', $pt_check . q{ || '|' || (SELECT count(*) FROM pt_default)}),
	'3000|4501500|0|0|0', 'calling maintain_partitions again moves every row out of the default partition');
is($node->safe_psql('postgres', $pt_parts), $parts_before + 6,
	'and creates every partition up to premake');

$node->stop;
note sprintf('sections 1-2: %.1f s', time - $t_start);

###########################################################################
# 3. shared memory full
###########################################################################

my $small = sa_node('small', init => { extra => [ '--encoding=UTF8', '--locale=C' ] }, conf => q{
autovacuum = off
scale_advisor.max = 100
scale_advisor.max_query_length = 64
scale_advisor.history_max = 100
scale_advisor.plan_max_statements = 10
scale_advisor.n_plus_one_max = 10
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.save_interval = 3600
scale_advisor.snapshot_interval = 0
});
$small->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
# plan_max_statements is the 1.0 name of plan_max
is($small->safe_psql('postgres', 'SHOW scale_advisor.plan_max'), '10',
	'the 1.0 name plan_max_statements still sets the plan capacity');
$small->safe_psql('postgres',
	join('', map { "CREATE TABLE t$_ (c1 int); INSERT INTO t$_ SELECT generate_series(1, 20);\n" } 0 .. 9));

# 4 clients, 250 distinct statements each (the number of columns and the
# table make the query id), 30 loops of 12 identical statements each, and
# statements with long multibyte aliases
my @clients;
for my $c (0 .. 3)
{
	my $file = "$tmp/full_$c.sql";
	open my $fh, '>:utf8', $file or die $!;
	for my $i (0 .. 249)
	{
		my $k = $c * 25 + int($i / 10) + 1;
		my $t = $i % 10;
		print $fh 'SELECT ' . join(', ', ('c1') x $k) . " FROM t$t WHERE c1 = $i;\n";
	}
	for my $l (0 .. 29)
	{
		my $t = $l % 10;
		my $k = 200 + $c * 30 + $l;
		print $fh 'SELECT ' . join(', ', ('c1') x $k) . " FROM t$t WHERE c1 = $_;\n" for 1 .. 12;
	}
	# run as often as the loops, so that eviction (which keeps the statements
	# used most) leaves them in the store for the check below
	print $fh "SELECT 1 AS \"" . ("\x{e9}" x 30) . "_$c\", " . join(', ', (2) x ($c + 1)) . ";\n" for 1 .. 12;
	close $fh;
	my ($out, $err) = ('', '');
	push @clients, {
		out => \$out, err => \$err,
		h => IPC::Run::start(
			[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $small->connstr('postgres'), '-f', $file ],
			'>', \$out, '2>', \$err) };
}
my $client_errors = 0;
for my $c (@clients)
{
	$c->{h}->finish;
	$client_errors++ if $c->{h}->result != 0 || ${ $c->{err} } =~ /ERROR|WARNING/;
	diag(${ $c->{err} }) if ${ $c->{err} } ne '';
}
is($client_errors, 0, '4 clients, 1,000 distinct statements and 120 loops: no error reached a client');
my $full = $small->safe_psql('postgres', q{
SELECT i.entries || '|' || i.max_entries || '|' || (i.evictions >= 900) || '|' ||
	(SELECT count(*) <= 100 FROM scale_advisor.query_stats) || '|' ||
	(SELECT count(*) <= 100 FROM scale_advisor._history()) || '|' ||
	(SELECT count(*) <= 10 FROM scale_advisor.n_plus_one)
FROM scale_advisor.info i});
is($full, '100|100|true|true|true|true',
	'the store stays at 100 statements and counts its evictions; history and N+1 tables stay bounded');
note 'info: ' . $small->safe_psql('postgres',
	'SELECT entries, evictions, memory_bytes FROM scale_advisor.info');
my $long = $small->safe_psql('postgres', q{
SELECT count(*) || '|' || max(octet_length(query)) || '|' ||
	bool_and(convert_from(convert_to(query, 'UTF8'), 'UTF8') = query)
FROM scale_advisor.query_stats WHERE query LIKE 'SELECT $1 AS "%'});
like($long, qr/^[1-4]\|(6[0-4]|[1-5]\d)\|t(rue)?$/,
	"long multibyte texts are cut to max_query_length at a character boundary ($long)");
unlike(slurp_file($small->logfile), qr/ERROR|WARNING|PANIC|out of shared memory/,
	'no error, warning or shared memory shortage in the server log');

###########################################################################
# 4. the stats file on a full disk
###########################################################################

my $stat = $small->data_dir . '/pg_stat/scale_advisor.stat';
my $stat_tmp = "$stat.tmp";
sub file_md5
{
	open my $fh, '<:raw', $stat or return 'none';
	return Digest::MD5->new->addfile($fh)->hexdigest;
}
my $fm_sql = q{SELECT calls FROM scale_advisor.query_stats WHERE query LIKE 'SELECT $1 AS full_disk_marker%'};
$small->safe_psql('postgres', "SELECT 42 AS full_disk_marker;\n" x 7);
$small->restart;
is($small->safe_psql('postgres', $fm_sql), '7', 'marker saved by a clean restart (7 calls)');
my $md5_saved = file_md5();

# shutdown on a full disk
$small->safe_psql('postgres', "SELECT 42 AS full_disk_marker;\n" x 3);
symlink('/dev/full', $stat_tmp) or die "symlink: $!";
my $offset = -s $small->logfile;
$small->stop;
my $log = slurp_file($small->logfile, $offset);
like($log, qr/could not write scale_advisor file "pg_stat\/scale_advisor.stat.tmp": No space left on device/,
	'shutdown on a full disk: the server logs why the save failed');
like($log, qr/database system is shut down/, 'and shuts down cleanly');
is(file_md5(), $md5_saved, 'the file saved before is not replaced');
ok(!-l $stat_tmp && !-e $stat_tmp, 'no temporary file is left');
$small->start;
is($small->safe_psql('postgres', $fm_sql), '7', 'the next start loads the previous save (7 calls)');

# a periodic save on a full disk
symlink('/dev/full', $stat_tmp) or die "symlink: $!";
$offset = -s $small->logfile;
$small->safe_psql('postgres', q{ALTER SYSTEM SET scale_advisor.save_interval = 1;
	SELECT pg_reload_conf();});
$small->poll_query_until('postgres', 'SELECT save_failures >= 1 FROM scale_advisor.info')
  or die 'the periodic save did not fail';
like(slurp_file($small->logfile, $offset), qr/No space left on device/,
	'periodic save on a full disk: logged');
is(file_md5(), $md5_saved, 'the saved file is kept');
$small->poll_query_until('postgres', 'SELECT saves >= 1 FROM scale_advisor.info')
  or die 'no save after the disk had room again';
isnt(file_md5(), $md5_saved, 'once the disk has room, the next periodic save writes the file');
is($small->safe_psql('postgres', 'SELECT 1'), '1', 'the server kept running');

# a save stalled in write(): the temporary file is a FIFO nobody reads
# once its pipe is full; new statements (which need the store's lock
# exclusively) must still run
$small->safe_psql('postgres', q{ALTER SYSTEM SET scale_advisor.save_interval = 3600;
	SELECT pg_reload_conf();});
$small->restart;
mkfifo($stat_tmp, 0600) or die "mkfifo: $!";
$small->safe_psql('postgres', q{ALTER SYSTEM SET scale_advisor.save_interval = 1;
	SELECT pg_reload_conf();});
sysopen(my $fifo, $stat_tmp, O_RDONLY | O_NONBLOCK) or die "open fifo: $!";
# wait until the pipe is full (64 kB: the file is about 140 kB)
my $queued = 0;
sa_poll(
	sub {
		my $buf = pack('L', 0);
		ioctl($fifo, 0x541B, $buf);    # FIONREAD
		$queued = unpack('L', $buf);
		return $queued >= 65536;
	},
	30);
ok($queued >= 65536, "the saver is stuck writing ($queued bytes in the pipe)");
my ($nout, $nerr) = ('', '');
my $t0 = time;
my $newstmts = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $small->connstr('postgres'),
		'-c', 'SELECT count(*) FROM pg_class WHERE relpages = 77777',
		'-c', 'SELECT count(*) FROM pg_type WHERE typlen = 77777',
		'-c', 'SELECT count(*) FROM pg_proc WHERE pronargs = 77777'
	],
	'>', \$nout, '2>', \$nerr, IPC::Run::timeout(30));
my $finished = eval { $newstmts->finish; 1 };
my $elapsed = time - $t0;
# unblock the saver whatever happened: read the pipe to its end
fcntl($fifo, F_SETFL, fcntl($fifo, F_GETFL, 0) & ~O_NONBLOCK) or die "fcntl: $!";
my $drained = 0;
while (my $got = sysread($fifo, my $chunk, 65536)) { $drained += $got; }
close $fifo;
$newstmts->kill_kill unless $finished;
ok($finished && $nout eq "0\n0\n0\n",
	sprintf('3 new statements ran in %.2f s while the save was stalled', $elapsed));
note "drained $drained bytes from the stalled save";
note 'new statements recorded: ' . $small->safe_psql('postgres',
	q{SELECT count(*) FROM scale_advisor.query_stats WHERE query ~ '(relpages|typlen|pronargs) = \$1'});
my $saves = $small->safe_psql('postgres', 'SELECT saves FROM scale_advisor.info');
$small->poll_query_until('postgres', "SELECT saves >= $saves + 2 FROM scale_advisor.info")
  or die 'no save after the stall';
$small->safe_psql('postgres', q{ALTER SYSTEM RESET scale_advisor.save_interval;
	SELECT pg_reload_conf();});
$small->stop;
ok(-f $stat && !-p $stat && !-e $stat_tmp, 'after the stall the saver writes a regular file again');
$small->start;
ok($small->safe_psql('postgres', 'SELECT loaded_entries FROM scale_advisor.info') > 0,
	'and the next start loads it');

# a text saved longer than a lowered max_query_length is cut at a character
# when it is loaded (the postmaster's own encoding is SQL_ASCII)
$small->append_conf('postgresql.conf', 'scale_advisor.max_query_length = 200');
$small->restart;
$small->safe_psql('postgres',
	encode_utf8('SELECT 1 AS "x' . ("\x{e9}" x 30) . "\", 2, 3, 4, 5, 6, 7;\n") x 5);
$small->append_conf('postgresql.conf', 'scale_advisor.max_query_length = 64');
$small->restart;
my $cut = eval {
	$small->safe_psql('postgres', q{
SELECT octet_length(query) || '|' || (convert_from(convert_to(query, 'UTF8'), 'UTF8') = query)
FROM scale_advisor.query_stats WHERE query LIKE 'SELECT $1 AS "x%'});
} // "error: $@";
is($cut, '63|true', 'a saved text is cut at a character boundary when max_query_length was lowered');
$small->stop;
note sprintf('total: %.1f s', time - $t_start);

done_testing();
