# scale_advisor's index advice against pg_qualstats 2.0.4's advisor and a
# dexter-style search with hypopg, on the evaluation workload of
# test/bench/index_workload/ (see 203_index_workload.pl and SaWorkload.pm
# for the expected indexes E1-E10 and the unwanted N1-N4).  The three see
# the same run of the workload: pg_qualstats samples every qualifier
# (sample_rate = 1) and its advisor is called with its defaults; the
# hypopg search (hypo_search.sql) is given one example of each statement
# shape with its constants, as dexter reads them from a log.
#
# Asserted: which expected and unwanted indexes each tool advises, that
# each statement it gives is a valid CREATE INDEX, and that scale_advisor
# finds at least as many as each of the others.  The throughput of each
# tool's advice is measured by test/bench/index_compare.sh and reported in
# docs/index-advice.md.  pg_qualstats and hypopg are packaged for
# PostgreSQL 15 only here, so this file runs on 15 (test/suites/30-tap.sh
# skips it elsewhere and says so).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaWorkload;

my $node = PostgreSQL::Test::Cluster->new('cmp');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor, pg_qualstats'
compute_query_id = on
scale_advisor.plan_sample_rate = 0.2
pg_qualstats.sample_rate = 1
max_parallel_workers_per_gather = 0
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE wl');
$node->safe_psql('wl', q{
CREATE EXTENSION scale_advisor;
CREATE EXTENSION pg_trgm;
CREATE EXTENSION pg_qualstats;
CREATE EXTENSION hypopg;
});
wl_load($node, 'wl');
$node->safe_psql('wl', slurp_file(wl_dir() . '/hypo_search.sql'));
$node->safe_psql('wl', q{
SELECT pg_stat_reset();
SELECT pg_qualstats_reset();
SELECT scale_advisor.index_workload_reset();
SELECT scale_advisor.reset();});

my $out = wl_run($node, 'wl', 60, 2);
like($out, qr/number of transactions actually processed: [1-9]/, 'the workload ran');

my %advice;
$advice{scale_advisor} = [ split /\n/, $node->safe_psql('wl',
	'SELECT index_sql FROM scale_advisor.index_advice') ];
$advice{pg_qualstats} = [ split /\n/, $node->safe_psql('wl',
	q{SELECT DISTINCT i FROM json_array_elements_text(pg_qualstats_index_advisor()->'indexes') i}) ];
my $examples = join("\n", wl_examples());
$examples =~ s/'/''/g;
$advice{hypopg} = [ split /\n/, $node->safe_psql('wl',
	"SET client_min_messages = warning;
	 SELECT index_sql FROM hypo_search(string_to_array('$examples', E'\\n'))") ];

my %score;
for my $tool ('scale_advisor', 'pg_qualstats', 'hypopg')
{
	my @valid;
	for my $sql (@{ $advice{$tool} })
	{
		(my $plain = $sql) =~ s/\bCONCURRENTLY\s+//i;
		my ($ret, $o, $e) = $node->psql('wl', "BEGIN; $plain; ROLLBACK;");
		if ($e =~ /ERROR/)
		{
			note("$tool: invalid: $sql\n  $e");
			next;
		}
		push @valid, $sql;
	}
	my ($found, $neg, $bad) = wl_score(@valid);
	$score{$tool} = { found => $found, neg => $neg,
		invalid => scalar(@{ $advice{$tool} }) - scalar(@valid),
		total => scalar(@{ $advice{$tool} }) };
	note(sprintf("%-13s %2d of %d expected (%s), unwanted: %s, statements: %d, invalid: %d\n  %s",
		$tool, scalar(@$found), scalar(wl_expected_labels()), join(',', @$found),
		join(',', @$neg) || 'none', $score{$tool}{total}, $score{$tool}{invalid},
		join("\n  ", @{ $advice{$tool} })));
}

is(join(',', @{ $score{scale_advisor}{found} }), join(',', wl_expected_labels()),
	'scale_advisor: every expected index');
is(join(',', @{ $score{scale_advisor}{neg} }), '', 'scale_advisor: no unwanted index');
is($score{scale_advisor}{invalid}, 0, 'scale_advisor: every statement is valid');

# pg_qualstats sees only column-operator-constant qualifiers: never an
# expression index (lower(email), to_tsvector) nor an ORDER BY column (the
# composite for the latest orders).  Which of the others it proposes
# depends on the qualifiers it sampled and their selectivity (between 4
# and 6 of them in our runs); its statements are reported.
is(join(',', grep { /^(E1|E2|E8)$/ } @{ $score{pg_qualstats}{found} }), '',
	'pg_qualstats: no expression index, no ORDER BY composite');
ok(@{ $score{pg_qualstats}{found} } >= 3,
	'pg_qualstats: ' . join(',', @{ $score{pg_qualstats}{found} }));

# the hypopg search makes btree indexes on plain columns only: nothing for
# jsonb, arrays, full text, pattern matches, or lower(email); it finds the
# btree ones the planner uses (the composites, the foreign key, the time
# column, user_id)
is(join(',', grep { /^(E1|E6|E7|E8|E9)$/ } @{ $score{hypopg}{found} }), '',
	'hypopg search: no GIN, no expression index');
is(join(',', @{ $score{hypopg}{found} }), 'E2,E3,E4,E5,E10',
	'hypopg search: the composites, the foreign key, the time column, user_id');

# Whether pg_qualstats and the hypopg search propose sessions (last_seen_at)
# (N4) depends on the planner's estimate for the recent heartbeats when the
# statement is planned (before or after autovacuum analyzed sessions during
# the run): it is reported, not asserted.  Neither knows the updates it
# would turn from HOT to non-HOT.

for my $tool ('pg_qualstats', 'hypopg')
{
	ok(@{ $score{scale_advisor}{found} } >= @{ $score{$tool}{found} },
		sprintf('scale_advisor finds %d, %s %d', scalar(@{ $score{scale_advisor}{found} }),
			$tool, scalar(@{ $score{$tool}{found} })));
}

$node->stop;
done_testing();
