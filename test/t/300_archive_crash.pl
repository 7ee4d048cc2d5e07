# Archiving survives kill -9: ten trials at random moments during a run over
# 200k rows, killing either the archiving backend or the whole server
# (postmaster and every child), each followed by a check that the table plus
# its archive hold every original row exactly once; then a re-run finishes
# the work.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $node = sa_node('crash', conf => q{
restart_after_crash = on
autovacuum = off
});

$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, account int, payload text);
INSERT INTO ev
SELECT g, now() - (200000 - g) * interval '1 minute' - interval '30 seconds', g % 97, md5(g::text)
FROM generate_series(1, 200000) g;
-- 200000 minutes is about 139 days: rows older than 14 days are ids 1 .. 179840
CREATE TABLE orig AS SELECT * FROM ev;
CALL scale_advisor.archive('ev', 'created_at', '100 years');
});
my $to_move = $node->safe_psql('postgres',
	q{SELECT count(*) FROM ev WHERE created_at < now() - interval '14 days'});
note "rows to move: $to_move";

# source plus archive hold every original row exactly once, unchanged
my $check = q{
SELECT (SELECT count(*) FROM ev) + (SELECT count(*) FROM ev_archive) AS total,
	   (SELECT count(*) FROM ev JOIN ev_archive USING (id)) AS in_both,
	   (SELECT count(*) FROM (SELECT * FROM ev UNION ALL SELECT * FROM ev_archive
							  EXCEPT ALL SELECT * FROM orig) x) AS extra,
	   (SELECT count(*) FROM (SELECT * FROM orig EXCEPT ALL
							  (SELECT * FROM ev UNION ALL SELECT * FROM ev_archive)) y) AS missing,
	   (SELECT count(*) FROM ev_archive) AS archived
};

srand($ENV{SA_SEED} // time);
my $archived_before = 0;
# every trial must kill a run that is still moving rows: when few old rows
# are left, the archived rows go back into the table first (the invariant is
# unchanged: each original row is in exactly one of the two tables).  Runs up
# to $reset_after moved rows that have been put back.
my $reset_after = 0;
for my $trial (1 .. 10)
{
	my $whole_server = ($trial % 2 == 0);
	my $left = $node->safe_psql('postgres',
		q{SELECT count(*) FROM ev WHERE created_at < now() - interval '14 days'});
	if ($left < 80000)
	{
		$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO ev SELECT * FROM ev_archive;
TRUNCATE ev_archive;
COMMIT;});
		$reset_after = $node->safe_psql('postgres',
			q{SELECT coalesce(max(run_id), 0) FROM scale_advisor.archive_runs});
		note "trial $trial: only $left old rows were left; archived rows put back";
	}
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			'psql', '-XAtq', '-d',
			$node->connstr('postgres') . ' application_name=archiver',
			'-c',
			q{CALL scale_advisor.archive('ev', 'created_at', '14 days', batch_size => 2000)}
		],
		'>', \$out, '2>', \$err);
	my $delay = 0.03 + rand(0.25);
	usleep(int($delay * 1_000_000));
	# the session may still be connecting (a slow machine) or, on a fast
	# one, have finished the run already: wait for either
	my $pid = '';
	sa_poll(sub {
		$pid = $node->safe_psql('postgres',
			q{SELECT pid FROM pg_stat_activity WHERE application_name = 'archiver'});
		return $pid ne '' || !$h->pumpable;
	}) or die "trial $trial: the archiving session never started";
	note "trial $trial: the run ended before the kill ($out$err)" if $pid eq '';
	if ($whole_server)
	{
		# the server dies as in a power cut: postmaster and all its
		# children, then starts again
		sa_kill_server($node);
		$h->finish;
	}
	else
	{
		kill 9, $pid if $pid;
		$h->finish;
		sa_wait_back($node)
		  or die "server did not come back";
	}
	my $res = $node->safe_psql('postgres', $check);
	my ($total, $both, $extra, $missing, $archived) = split /\|/, $res;
	note sprintf("trial %d: killed %s after %.0f ms, %d rows archived so far",
		$trial, $whole_server ? 'the server' : "backend $pid", $delay * 1000, $archived);
	ok($total == 200000 && $both == 0 && $extra == 0 && $missing == 0,
		"trial $trial (" . ($whole_server ? 'server' : 'backend') . "): every row exactly once after kill -9 ($res)");
	$archived_before = $archived;
}

# the re-run finishes the work and marks the killed runs as interrupted
my $res = $node->safe_psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '14 days', batch_size => 2000)});
like($res, qr/\|done$/, "re-run completes: $res");
# rows keep ageing while the test runs: count against the last run's cutoff
$to_move = $node->safe_psql('postgres', q{
SELECT count(*) FROM orig
WHERE created_at < (SELECT cutoff_to FROM scale_advisor.archive_runs ORDER BY run_id DESC LIMIT 1)});
$res = $node->safe_psql('postgres', $check);
is($res, "200000|0|0|0|$to_move", 'after the re-run all old rows are archived, once');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM ev WHERE created_at < (SELECT cutoff_to FROM scale_advisor.archive_runs ORDER BY run_id DESC LIMIT 1)}),
	'0', 'no old rows left in the table');
my $interrupted = $node->safe_psql('postgres',
	q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status = 'interrupted'});
cmp_ok($interrupted, '>=', 1, "killed runs are recorded as interrupted ($interrupted)");
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status = 'running'}),
	'0', 'no run is left marked running');
# run rows moved, summed over every run, match the archive (progress is
# recorded in the same transaction as each batch)
is($node->safe_psql('postgres',
		qq{SELECT sum(rows_moved) FROM scale_advisor.archive_runs WHERE run_id > $reset_after}),
	$to_move, 'rows_moved in archive_runs add up to the archived rows');

$node->stop;
done_testing();
