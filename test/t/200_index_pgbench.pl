# Index advice on pgbench initialised without primary keys (-I dtgv) and run
# select-only, with the simple and then the prepared protocol: the advice
# must be an index on pgbench_accounts (aid), and nothing on the one-row
# pgbench_branches that a second script reads by bid.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('pgb', conf => q{
scale_advisor.plan_sample_rate = 0.1
max_parallel_workers_per_gather = 0
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');

$node->command_ok(
	[ 'pgbench', '-i', '-I', 'dtgv', '-s', '1', '-p', $node->port, '-h', $node->host, 'postgres' ],
	'pgbench initialised without primary keys');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_index WHERE indrelid::regclass::text LIKE 'pgbench%'"),
	'0', 'no index on the pgbench tables');

my $script = $node->basedir . '/branches.sql';
open(my $fh, '>', $script) or die "cannot write $script: $!";
print $fh "\\set bid random(1, 1 * :scale)\nSELECT bbalance FROM pgbench_branches WHERE bid = :bid;\n";
close $fh;

my $advice_q = q{
SELECT relation || ' ' || columns::text || ' ' || index_sql
  FROM scale_advisor.index_advice ORDER BY 1};

for my $mode ('simple', 'prepared')
{
	$node->safe_psql('postgres', 'SELECT scale_advisor.index_workload_reset()');
	$node->command_ok(
		[ 'pgbench', '-n', '-M', $mode, '-c', '2', '-t', '300',
		  '-b', 'select-only', '-f', $script,
		  '-p', $node->port, '-h', $node->host, 'postgres' ],
		"pgbench -S, $mode protocol");

	my $workload = $node->safe_psql('postgres',
		"SELECT relation || ': ' || terms FROM scale_advisor.index_workload ORDER BY 1");
	like($workload, qr/^pgbench_accounts: aid =$/m,
		"$mode: the sampled plans show the sequential scan on aid");
	if ($mode eq 'prepared')
	{
		like($node->safe_psql('postgres',
			"SELECT statement FROM scale_advisor.index_workload WHERE relation = 'pgbench_accounts'::regclass"),
			qr/aid = \$1/, 'prepared: the statement is kept with its parameter');
	}

	my $advice = $node->safe_psql('postgres', $advice_q);
	note("advice ($mode):\n$advice");
	like($advice,
		qr/^pgbench_accounts \{aid\} CREATE INDEX CONCURRENTLY ON public\.pgbench_accounts \(aid\)$/m,
		"$mode: advice for pgbench_accounts (aid)");
	unlike($advice, qr/pgbench_branches/, "$mode: no advice for pgbench_branches");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice'),
		'1', "$mode: exactly one piece of advice");
	is($node->safe_psql('postgres',
		"SELECT improvement_pct > 90 AND est_ms_saved_per_hour > 0 AND calls > 0 AND est_size_bytes > 1000000
		   FROM scale_advisor.index_advice"),
		't', "$mode: the advice carries its gain, calls and size");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice_skipped'),
		'0', "$mode: every captured statement could be planned again");
}

# Taking the advice: the sequential scans stop, and so does the advice.
my $sql = $node->safe_psql('postgres', 'SELECT index_sql FROM scale_advisor.index_advice');
$node->safe_psql('postgres', $sql);
$node->safe_psql('postgres', 'SELECT scale_advisor.index_workload_reset()');
$node->command_ok(
	[ 'pgbench', '-n', '-c', '2', '-t', '200', '-b', 'select-only',
	  '-p', $node->port, '-h', $node->host, 'postgres' ],
	'pgbench -S with the advised index');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice'),
	'0', 'no advice once the index exists');

$node->stop;
done_testing();
