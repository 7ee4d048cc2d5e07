# Index advice on the evaluation workload of test/bench/index_workload/:
# eight tables of 250 to 500,000 rows with skewed data, 14 statement shapes
# run for a minute by two clients while one writer appends events and
# another updates the sessions' last_seen_at (HOT updates).  The indexes an
# expert would create are listed in SaWorkload.pm (E1-E10: a composite for
# equality then ORDER BY, a partial or composite index for a rare status,
# an expression index, a foreign key, GIN for jsonb, arrays, full text and
# pg_trgm, an index on a time column), and those an expert would not
# (N1-N4: a low-selectivity status, a tiny table, a table whose index
# exists, a column whose index would end the HOT updates).
#
# scale_advisor must advise every expected index and no unwanted one, name
# the existing index the composite makes redundant, and once its advice is
# taken (indexes built, the redundant one dropped, ANALYZE), the
# before/after view must show every statement it served faster than
# before.  The comparison with pg_qualstats and a hypopg search on the same
# workload is 204_index_compare.pl (PostgreSQL 15 only).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use SaWorkload;

my $node = sa_node('wl', conf => q{
scale_advisor.plan_sample_rate = 0.2
max_parallel_workers_per_gather = 0
});
$node->safe_psql('postgres', 'CREATE DATABASE wl');
$node->safe_psql('wl', 'CREATE EXTENSION scale_advisor; CREATE EXTENSION pg_trgm;');
wl_load($node, 'wl');
$node->safe_psql('wl', q{
SELECT pg_stat_reset();
SELECT scale_advisor.index_workload_reset();
SELECT scale_advisor.reset();});

my $out = wl_run($node, 'wl', 60, 2);
like($out, qr/number of transactions actually processed: [1-9]/, 'the workload ran');
note(join("\n", grep { /tps|transactions \(/ } split /\n/, $out));

my $advice = $node->safe_psql('wl', q{
SELECT relation || ' | ' || access_method || ' | ' || improvement_pct || ' | '
       || round(est_ms_saved_per_hour) || ' | ' || index_sql
  FROM scale_advisor.index_advice});
note("advice:\n$advice");
my @sqls = map { (split / \| /)[-1] } split /\n/, $advice;
my ($found, $neg, $bad) = wl_score(@sqls);
is(join(',', @$found), join(',', wl_expected_labels()),
	'every index an expert would create is advised (' . scalar(@$found) . ' of '
	  . scalar(wl_expected_labels()) . ')');
is(join(',', @$neg), '', 'no index an expert would not create is advised');
is(scalar(@sqls), scalar(@$found), 'one piece of advice per expected index');
is($node->safe_psql('wl', 'SELECT count(*) FROM scale_advisor.index_advice_skipped'),
	'0', 'every captured statement could be planned again');

# the composite replaces the index on account_id alone
is($node->safe_psql('wl', q{
SELECT replaces::text || ' ' || drop_sql FROM scale_advisor.index_advice
 WHERE relation = 'orders'::regclass AND columns[1] = 'account_id'}),
	'{orders_account_id_idx} DROP INDEX CONCURRENTLY public.orders_account_id_idx;',
	'the (account_id, created_at) advice says to drop orders_account_id_idx');
is($node->safe_psql('wl', q{
SELECT count(*) FROM scale_advisor.index_advice WHERE cardinality(replaces) > 0}),
	'1', 'no other index is named redundant');

# the predictions are recorded, one row per advised index and statement
is($node->safe_psql('wl', q{
SELECT count(DISTINCT index_sql) = (SELECT count(*) FROM scale_advisor.index_advice)
       AND bool_and(status = 'not created') AND bool_and(calls_before > 0)
  FROM scale_advisor.index_advice_outcome}),
	't', 'index_advice_outcome lists every advised index as not created, with the calls before');

# take the advice
my @create = split /\n/, $node->safe_psql('wl',
	'SELECT index_sql FROM scale_advisor.index_advice');
my @drop = split /\n/, $node->safe_psql('wl',
	'SELECT drop_sql FROM scale_advisor.index_advice WHERE drop_sql IS NOT NULL');
$node->safe_psql('wl', $_, timeout => 600) for @create;
$node->safe_psql('wl', $_) for @drop;
$node->safe_psql('wl', 'ANALYZE');
is($node->safe_psql('wl', q{SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_account_id_idx'}),
	'0', 'the redundant index is dropped');

$out = wl_run($node, 'wl', 30, 2);
like($out, qr/number of transactions actually processed: [1-9]/, 'the workload ran again');
note(join("\n", grep { /tps|transactions \(/ } split /\n/, $out));

my $outcome = $node->safe_psql('wl', q{
SELECT status || ' | ' || relation || ' | ' || calls_before || ' | ' || mean_ms_before
       || ' | ' || coalesce(predicted_mean_ms::text, '-') || ' | ' || calls_after
       || ' | ' || coalesce(mean_ms_after::text, '-') || ' | ' || predicted_change_pct
       || ' | ' || coalesce(measured_change_pct::text, '-') || ' | ' || index_sql
  FROM scale_advisor.index_advice_outcome});
note("outcome (status | relation | calls before | mean ms before | predicted mean ms | calls after | mean ms after | predicted % | measured % | index):\n$outcome");
is($node->safe_psql('wl', q{
SELECT count(*) FROM scale_advisor.index_advice_outcome WHERE status <> 'created'}),
	'0', 'every advised index is found created, and its statements ran since');
is($node->safe_psql('wl', q{
SELECT string_agg(index_sql, ', ') FROM scale_advisor.index_advice_outcome
 WHERE NOT (measured_change_pct < 0)}),
	'', 'every statement an advised index serves runs faster than before');
is($node->safe_psql('wl', q{
SELECT count(*) FROM scale_advisor.index_advice_outcome WHERE NOT (index_scans > 0)}),
	'0', 'every advised index is scanned');

$node->stop;
done_testing();
