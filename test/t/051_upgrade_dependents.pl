# Upgrade from 1.0 with users' own objects over the extension's public
# set-returning functions.
#
# A dashboard or report often wraps a function of the extension in a view
# of its own (as 050 does for every public view of 1.0).  A view over a
# function depends on it, so an update that drops the function (to change
# its result columns) would fail half-way for that user, with "cannot drop
# function ... because other objects depend on it" and a hint to CASCADE.
# The update checks first and refuses with one error that names them all.
# This checks the public functions of 1.0 that return rows and that a
# reader calls: capacity(), partition_table_plan() and partition_blockers().
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use SaSession;

my $node = sa_node('upgrade_dependents');

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', "CREATE EXTENSION scale_advisor VERSION '1.0'");
$node->safe_psql('old', q{
  CREATE TABLE public.events (id bigint PRIMARY KEY, at timestamptz NOT NULL);
  CREATE VIEW public.my_capacity AS SELECT * FROM scale_advisor.capacity(3);
  CREATE VIEW public.my_partition_plan AS
    SELECT * FROM scale_advisor.partition_table_plan('public.events', 'at', '1 month');
  CREATE VIEW public.my_blockers AS
    SELECT * FROM scale_advisor.partition_blockers('public.events', 'at');
});

# capacity() gains a column and partition_table_plan() new parameters in
# 1.1: a function's result columns cannot change in place, so the update
# replaces them, and refuses up front, changing nothing, while a user's
# object uses one of them
my ($rc, $out, $err) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($rc, 0, "the update refuses while users' views use routines it replaces");
like($err, qr/ERROR:  2BP01: scale_advisor 1\.1 cannot be installed over 1\.0 while view (public\.)?my_capacity depends on a routine it replaces/,
	'the error names the first such view, with SQLSTATE dependent_objects_still_exist');
like($err, qr/view (public\.)?my_partition_plan uses scale_advisor\.partition_table_plan/,
	'its detail names every such view and the routine it uses');
unlike($err, qr/my_blockers/, 'a view over a routine the update keeps is not named');
like($err, qr/HINT:  Save the definitions of these objects, drop them/, 'the hint says what to do');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'}),
	'1.0', 'nothing was changed: the extension is still 1.0');
is($node->safe_psql('old',
		q{SELECT count(*) FROM pg_class WHERE relname IN ('my_capacity', 'my_partition_plan', 'my_blockers')}),
	'3', "and the users' views are all there");

# as the hint says: drop them, update, create them again
$node->safe_psql('old', 'DROP VIEW public.my_capacity, public.my_partition_plan');

# nor while another session archives: the routines it runs would be
# replaced under it
$node->safe_psql('old', q{
  CREATE TABLE public.ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL);
  INSERT INTO public.ev SELECT g, now() - interval '30 days' FROM generate_series(1, 3000) g;
});
my $s = open_session($node, 'old', 'archiver');
send_sql($s, q{CALL scale_advisor.archive('public.ev', 'created_at', '14 days', batch_size => 100, pause => '1s');
SELECT 'archive done';
});
ok(sa_poll(sub { $node->safe_psql('old', q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status = 'running'}) eq '1' }),
	'an archive run is in progress');
($rc, $out, $err) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55006: scale_advisor cannot be updated while another session archives or partitions a table/,
	'the update refuses while another session archives');
like($err, qr/session $s->{pid}: CALL scale_advisor\.archive/, 'and names that session');
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'}),
	'1.0', 'nothing was changed');
$node->safe_psql('old', "SELECT pg_cancel_backend($s->{pid})");
ok(session_wait_output($s, qr/archive done/), 'the run is cancelled');

# the cancelled run's row stays 'running' (1.0 marks it at the table's next
# run) and its session stays connected, idle: that is not a run in progress
is($node->safe_psql('old', q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status = 'running'}),
	'1', "the cancelled run's row still says running");
ok(sa_poll(sub { $node->safe_psql('old', "SELECT state FROM pg_stat_activity WHERE pid = $s->{pid}") eq 'idle' }),
	'its session is idle');

# a scheduled job's CALL, with a comment before it and the schema quoted,
# waiting for a lock
my $locker = open_session($node, 'old', 'locker');
send_sql($locker, "BEGIN; LOCK TABLE scale_advisor.partition_sets IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n");
session_wait_output($locker, qr/locked/);
my $job = open_session($node, 'old', 'job');
send_sql($job, qq{/* nightly */ CALL "scale_advisor".maintain_partitions();\nSELECT 'job done';\n});
ok(sa_poll(sub { $node->safe_psql('old', "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $job->{pid}") eq 'Lock' }),
	'a maintain_partitions job waits for a lock');
($rc, $out, $err) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55006: .*\n.*session $job->{pid}: \/\* nightly \*\/ CALL "scale_advisor"\.maintain_partitions/,
	'the update refuses while the job runs, and names only its session (not the idle one)');
unlike($err, qr/session $s->{pid}:/, 'the idle session of the cancelled run is not named');
send_sql($locker, "ROLLBACK;\n");
ok(session_wait_output($job, qr/job done/), 'the job finishes');
close_session($_) for ($job, $locker, $s);

($rc, $out, $err) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE');
is($rc, 0, 'then the update succeeds') or diag($err);
$node->safe_psql('old', q{
  CREATE VIEW public.my_capacity AS SELECT * FROM scale_advisor.capacity(3);
  CREATE VIEW public.my_partition_plan AS
    SELECT * FROM scale_advisor.partition_table_plan('public.events', 'at', '1 month');
});
is($node->safe_psql('old',
		q{SELECT count(*) FROM pg_class WHERE relname IN ('my_capacity', 'my_partition_plan', 'my_blockers')}),
	'3', "the users' views are back, and the one over partition_blockers() was kept");
my ($crc) = $node->psql('old', 'SELECT count(*) FROM public.my_capacity');
is($crc, 0, 'the view over capacity() reads after the update');

$node->stop;
done_testing();
