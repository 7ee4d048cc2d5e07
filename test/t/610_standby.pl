# A primary with a streaming standby (docs/reliability.md, "Replicas"):
#  - the extension created on the primary is there on the standby, and every
#    view and read-only function answers there;
#  - a read workload run on the standby (pgbench, an N+1 loop) is recorded
#    in the standby's own store with its exact call count, and not in the
#    primary's (each server has its own store);
#  - what writes tables (archiving, partitioning, ignore lists, thresholds,
#    snapshots) refuses on the standby with SQLSTATE 25006 and a hint, dry
#    runs work there, and resetting the in-memory figures works there;
#  - an archive run, partition_table and maintain_partitions on the primary
#    reach the standby, with the extension's bookkeeping tables;
#  - the standby's store survives a clean restart of the standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $primary = sa_node('primary', init => { allows_streaming => 1 }, conf => q{
scale_advisor.n_plus_one_window_ms = 2000
});
$primary->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO accounts SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE sb_posts (id int PRIMARY KEY, title text NOT NULL);
CREATE TABLE sb_comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES sb_posts, body text);
CREATE INDEX ON sb_comments (post_id);
INSERT INTO sb_posts SELECT g, 'post ' || g FROM generate_series(1, 30) g;
INSERT INTO sb_comments SELECT g, g % 30 + 1, 'comment ' || g FROM generate_series(1, 90) g;
-- 500 events one hour apart (plus half an hour): 261 are older than 10 days
CREATE TABLE events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, payload text);
INSERT INTO events SELECT g, now() - g * interval '1 hour' - interval '30 minutes', md5(g::text)
  FROM generate_series(1, 500) g;
CREATE TABLE measures (id bigint PRIMARY KEY, v int);
INSERT INTO measures SELECT g, g FROM generate_series(1, 950) g;
ANALYZE;
SELECT 4711 AS sb_primary_before_backup;
});
# A clean restart writes the primary's store to pg_stat/, which a base
# backup copies.
$primary->restart;
$primary->backup('bk');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

sub q_p { return $primary->safe_psql('postgres', $_[0]); }
sub q_s { return $standby->safe_psql('postgres', $_[0]); }

is(q_s('SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is(q_s("SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'"),
	$primary->safe_psql('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'scale_advisor'"),
	'CREATE EXTENSION on the primary is visible on the standby');

# The standby started with the copy of the primary's saved store that came
# with the base backup (as pg_stat_statements' file does).
is(q_s(q{SELECT count(*) FROM scale_advisor.query_stats WHERE query = 'SELECT $1 AS sb_primary_before_backup'}),
	'1', 'the standby starts with the primary\'s store as saved in the base backup');
my $loaded0 = q_s('SELECT loaded_entries FROM scale_advisor.info');
ok($loaded0 > 0, "the standby loaded $loaded0 statements from the backup's copy of the file");

# 1. every view and read-only function answers on the standby
my @views = split /\n/, q_s(q{
  SELECT c.oid::regclass FROM pg_class c
   WHERE c.relnamespace = 'scale_advisor'::regnamespace AND c.relkind = 'v' ORDER BY 1});
note('views: ' . join(', ', @views));
ok(@views >= 15, scalar(@views) . ' views in the extension');
my $view_errors = '';
for my $v (@views)
{
	my ($ret, $out, $err) = $standby->psql('postgres', "SELECT count(*) FROM $v");
	$view_errors .= "$v: $err\n" if $ret != 0;
}
is($view_errors, '', 'every view answers on the standby without error');
ok(q_s('SELECT count(*) FROM scale_advisor.checklist') > 0, 'the checklist has rows on the standby');
my @reads = (
	q{SELECT count(*) FROM scale_advisor.capacity()},
	q{SELECT count(*) FROM scale_advisor.workload_script()},
	q{SELECT count(*) FROM scale_advisor.partition_table_plan('measures', 'id', '100')},
	q{SELECT count(*) FROM scale_advisor.partition_blockers('measures', 'id')},
	q{SELECT index_used FROM scale_advisor.index_whatif('SELECT * FROM sb_comments WHERE body = $1', 'CREATE INDEX ON sb_comments (body)', '{x}')},
);
for my $sql (@reads)
{
	my ($ret, $out, $err) = $standby->psql('postgres', $sql);
	is($ret, 0, "on the standby: $sql") or diag($err);
}

# Dry runs only read: they work on the standby.
my ($ret, $out, $err) = $standby->psql('postgres',
	q{CALL scale_advisor.archive('events', 'created_at', '10 days', dry_run => true)});
is($ret, 0, 'a dry run of archive() works on the standby') or diag($err);
like($err, qr/dry run: 261 rows of public.events would move/, 'and counts the rows it would move');
like(q_s(q{CALL scale_advisor.partition_table('measures', 'id', '100', dry_run => true)}),
	qr/PARTITION BY RANGE/, 'a dry run of partition_table() works on the standby');

# 2. a read workload on the standby is recorded there, not on the primary
my $dir = PostgreSQL::Test::Utils::tempdir;
my $script = "$dir/select.sql";
open(my $fh, '>', $script) or die;
print $fh "\\set aid random(1, 1000)\nSELECT balance FROM accounts WHERE id = :aid;\n";
close($fh);
$standby->command_ok([ 'pgbench', '-n', '-c', '2', '-t', '500', '-f', $script,
	'-h', $standby->host, '-p', $standby->port, 'postgres' ],
	'pgbench runs 1000 selects on the standby');
my $bench_q = q{query LIKE 'SELECT balance FROM accounts WHERE id = %'};
is(q_s("SELECT sum(calls) FROM scale_advisor.query_stats WHERE $bench_q"), '1000',
	'the standby\'s store counts exactly 1000 calls');
is(q_s("SELECT sum(errors) FROM scale_advisor.query_stats WHERE $bench_q"), '0',
	'and no error');
is(q_p("SELECT count(*) FROM scale_advisor.query_stats WHERE $bench_q"), '0',
	'the primary\'s store has no trace of them');

my $loop = "BEGIN;\nSELECT id, title FROM sb_posts WHERE id <= 20 ORDER BY id;\n"
  . join('', map { "SELECT id, body FROM sb_comments WHERE post_id = $_ ORDER BY id;\n" } 1 .. 20)
  . "COMMIT;\n";
q_s($loop);
my $np_q = q{kind = 'n_plus_one' AND query LIKE '%FROM sb_comments WHERE post_id = %'};
is(q_s("SELECT max_run || ' ' || (parent_query LIKE '%FROM sb_posts%') FROM scale_advisor.n_plus_one WHERE $np_q"),
	'20 true', 'the N+1 loop run on the standby is in its n_plus_one view, with its parent');
is(q_s(q{SELECT calls FROM scale_advisor.query_stats
	WHERE query LIKE 'SELECT id, body FROM sb_comments WHERE post_id = %'}),
	'20', 'and its 20 calls in the standby\'s query_stats');
is(q_p("SELECT count(*) FROM scale_advisor.n_plus_one WHERE query LIKE '%sb_comments%'"), '0',
	'the primary\'s n_plus_one view does not have it');
my $np_id = q_s("SELECT queryid FROM scale_advisor.n_plus_one WHERE $np_q");

# 3. what writes tables refuses on the standby, before anything else
my @refused = (
	[ 'archive()', q{CALL scale_advisor.archive('events', 'created_at', '10 days')} ],
	[ 'unarchive()', q{CALL scale_advisor.unarchive('events', 'created_at')} ],
	[ 'run_archive_policies()', q{CALL scale_advisor.run_archive_policies()} ],
	[ 'partition_table()', q{CALL scale_advisor.partition_table('measures', 'id', '100')} ],
	[ 'maintain_partitions()', q{CALL scale_advisor.maintain_partitions()} ],
	[ 'n_plus_one_ignore()', "SELECT scale_advisor.n_plus_one_ignore($np_id)" ],
	[ 'n_plus_one_ignore_application()', q{SELECT scale_advisor.n_plus_one_ignore_application('psql')} ],
	[ 'n_plus_one_unignore()', "SELECT scale_advisor.n_plus_one_unignore($np_id)" ],
	[ 'set_threshold()', q{SELECT scale_advisor.set_threshold('slow_statement_ms', 50)} ],
	[ 'snapshot()', q{SELECT scale_advisor.snapshot()} ],
	[ 'history_reset()', q{SELECT scale_advisor.history_reset()} ],
	[ '_archive_vacuum()', q{SELECT scale_advisor._archive_vacuum('events')} ],
);
for my $r (@refused)
{
	my ($what, $sql) = @$r;
	my ($ret, $out, $err) = $standby->psql('postgres',
		"\\set VERBOSITY verbose\nSET statement_timeout = '20s';\n$sql",
		on_error_stop => 1);
	ok($ret != 0 && $err =~ /ERROR:  25006: \Q$what\E cannot run on a standby server/
		  && $err =~ /HINT:  Run it on the primary; its changes reach standbys through replication\./,
		"$what refuses on the standby with SQLSTATE 25006 and a hint")
	  or diag($err);
}
# the internal step PUBLIC may call checks too (dry runs pass)
($ret, $out, $err) = $standby->psql('postgres', q{\set VERBOSITY verbose
SELECT scale_advisor._archive_start('archive', 'events', 'created_at', '-infinity', now() - interval '10 days',
  NULL, 1000, 10, '1 hour', '0', '1s', false, false, false, false)});
like($err, qr/ERROR:  25006: archive\(\) cannot run on a standby server/,
	'_archive_start() refuses on the standby');
($ret, $out, $err) = $standby->psql('postgres', q{
SELECT scale_advisor._archive_start('archive', 'events', 'created_at', '-infinity', now() - interval '10 days',
  NULL, 1000, 10, '1 hour', '0', '1s', true, false, false, false)->>'rows'});
is($out, '261', '_archive_start() of a dry run works on the standby') or diag($err);
is(q_s(q{SELECT (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM scale_advisor.archive_runs)
	|| ' ' || (SELECT relkind::text FROM pg_class WHERE oid = 'measures'::regclass)}),
	'500 0 r', 'nothing changed on the standby');

# 4. the primary archives and partitions; the standby sees the result
$primary->safe_psql('postgres', q{CALL scale_advisor.archive('events', 'created_at', '10 days')});
$primary->safe_psql('postgres', q{CALL scale_advisor.partition_table('measures', 'id', '100', premake => 3)});
my $nparts_sql = q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'measures'::regclass};
my $nparts0 = q_p($nparts_sql);
# rows past the premade partitions land in the default partition, from
# which maintain_partitions moves them into new partitions
$primary->safe_psql('postgres', q{INSERT INTO measures SELECT g, g FROM generate_series(951, 1600) g});
ok(q_p('SELECT count(*) FROM measures_default') > 0, 'rows past the premade partitions are in the default partition');
$primary->safe_psql('postgres', q{CALL scale_advisor.maintain_partitions()});
$primary->safe_psql('postgres', qq{
  SELECT scale_advisor.n_plus_one_ignore($np_id, NULL, 'reviewed on the standby');
  SELECT scale_advisor.set_threshold('slow_statement_ms', 50);
});
$primary->wait_for_catchup($standby);

my $moved = q_s(q{SELECT (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM events_archive)
	|| ' ' || (SELECT min(id) FROM events_archive)});
is($moved, '239 261 240', 'the standby sees the archived rows moved to events_archive');
is(q_s(q{SELECT operation || ' ' || status || ' ' || rows_moved FROM scale_advisor.archive_runs}),
	'archive done 261', 'and the run in scale_advisor.archive_runs');
my $parts_sql = q{SELECT (SELECT relkind::text FROM pg_class WHERE oid = 'measures'::regclass)
	|| ' ' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'measures'::regclass)
	|| ' ' || (SELECT count(*) FROM measures) || ' ' || (SELECT string_agg(c.relname, ',' ORDER BY c.relname)
	   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'measures'::regclass)};
my $parts_p = q_p($parts_sql);
note("primary: $parts_p");
like($parts_p, qr/^p \d+ 1600 /, 'measures is partitioned on the primary');
ok((split / /, $parts_p)[1] > $nparts0, "maintain_partitions added partitions to the $nparts0 partition_table made");
is(q_s($parts_sql), $parts_p, 'the standby sees the partitioned table with the same partitions and rows');
my $cfg_sql = q{SELECT (SELECT string_agg(parent_table || ' ' || control_column || ' ' || part_interval || ' ' || premake, ';')
	   FROM scale_advisor.partition_sets)
	|| ' | ' || (SELECT count(*) FROM scale_advisor.partition_log)
	|| ' | ' || (SELECT partitions_created || ' ' || default_rows_moved || ' ' || (last_success IS NOT NULL)
	   FROM scale_advisor.partition_set_state)
	|| ' | ' || (SELECT count(*) FROM measures_default)};
my $cfg_p = q_p($cfg_sql);
like($cfg_p, qr/^measures id 100 3 \| [1-9]\d* \| [1-9]\d* [1-9]\d* true \| 0$/, "partition bookkeeping on the primary: $cfg_p");
is(q_s($cfg_sql), $cfg_p, 'the standby sees the same partition_sets, partition_log and partition_set_state');
is(q_s("SELECT count(*) FROM scale_advisor.n_plus_one WHERE $np_q"), '0',
	'an N+1 ignored on the primary disappears from the standby\'s view');
is(q_s(q{SELECT value FROM scale_advisor.threshold_settings WHERE name = 'slow_statement_ms'}), '50',
	'a threshold set on the primary applies on the standby');

# 5. the standby's store survives a clean restart of the standby
my $before = q_s("SELECT sum(calls) || ' ' || count(*) FROM scale_advisor.query_stats WHERE $bench_q");
$standby->restart;
is(q_s('SELECT pg_is_in_recovery()'), 't', 'the restarted standby is still a standby');
is(q_s("SELECT sum(calls) || ' ' || count(*) FROM scale_advisor.query_stats WHERE $bench_q"), $before,
	'the standby\'s calls survive its clean restart (the store is saved on a standby too)');
ok(q_s('SELECT loaded_entries FROM scale_advisor.info') > $loaded0,
	'it loaded more statements than it started with');
$primary->safe_psql('postgres', 'INSERT INTO events VALUES (0, now(), NULL)');
$primary->wait_for_catchup($standby);
is(q_s('SELECT count(*) FROM events'), '240', 'replication goes on after the restart');

# 6. the in-memory figures are per server: resetting them works on a standby
my $bench_id = q_s("SELECT queryid FROM scale_advisor.query_stats WHERE $bench_q");
is(q_s("SELECT scale_advisor.reset(0, 0, $bench_id)"), '1', 'reset() of one statement works on the standby');
is(q_s("SELECT count(*) FROM scale_advisor.query_stats WHERE $bench_q"), '0', 'and removed it');
is(q_s('SELECT scale_advisor.n_plus_one_reset()'), '', 'n_plus_one_reset() works on the standby');
is(q_s('SELECT count(*) FROM scale_advisor._n_plus_one_entries()'), '0', 'and forgot the detections');
is(q_s('SELECT scale_advisor.index_workload_reset()'), '', 'index_workload_reset() works on the standby');
ok(q_s('SELECT scale_advisor.reset()') > 0, 'reset() of everything works on the standby');
is(q_p("SELECT count(*) FROM scale_advisor.query_stats WHERE query LIKE 'SELECT % AS sb_primary_before_backup'"),
	'1', 'the primary\'s store is untouched by the standby\'s reset');

$standby->stop;
$primary->stop;
done_testing();
