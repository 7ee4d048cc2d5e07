# Beside pg_stat_statements, loaded before or after scale_advisor: the same
# query ids, and the same calls and rows for a pgbench workload, simple and
# prepared protocol.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

for my $order ('scale_advisor,pg_stat_statements', 'pg_stat_statements,scale_advisor')
{
	my $node = PostgreSQL::Test::Cluster->new('pgss' . ($order =~ /^scale/ ? 1 : 2));
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = '$order'
compute_query_id = on
pg_stat_statements.track_utility = off
scale_advisor.track_utility = off
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor; CREATE EXTENSION pg_stat_statements');
	$node->command_ok([ 'pgbench', '-i', '-s', '1', '-q', $node->connstr('postgres') ], 'pgbench init');
	$node->safe_psql('postgres', 'SELECT pg_stat_statements_reset(); SELECT scale_advisor.reset()');
	for my $mode ('simple', 'prepared')
	{
		$node->command_ok([ 'pgbench', '-n', '-c', '4', '-t', '200', '-M', $mode, $node->connstr('postgres') ],
			"pgbench $mode ($order)");
	}
	my $cmp = $node->safe_psql('postgres', q{
		SELECT count(*) AS n,
		       count(*) FILTER (WHERE s.calls = p.calls AND s.rows = p.rows) AS same
		FROM pg_stat_statements p
		JOIN scale_advisor.query_stats s
		  ON s.queryid = p.queryid AND s.userid = p.userid AND s.dbid = p.dbid
		 AND s.toplevel = p.toplevel
		WHERE p.query ~* 'pgbench_'});
	my ($n, $same) = split /\|/, $cmp;
	ok($n >= 5, "pgbench statements seen by both ($n) with $order");
	is($same, $n, "calls and rows equal pg_stat_statements' for each ($order)");
	my $missing = $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_statements p
		WHERE p.query ~* 'pgbench_' AND NOT EXISTS
		  (SELECT 1 FROM scale_advisor.query_stats s WHERE s.queryid = p.queryid)});
	is($missing, 0, "every statement pg_stat_statements knows has the same query id here ($order)");
	is($node->safe_psql('postgres', q{SELECT sum(calls) FROM scale_advisor.query_stats
		WHERE query ~* '^UPDATE pgbench_accounts'}), 1600, "800 transactions per mode counted ($order)");
	$node->stop;
}
done_testing();
