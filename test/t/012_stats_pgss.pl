# Beside pg_stat_statements, loaded before or after scale_advisor: the same
# query ids, and the same calls and rows for a pgbench workload, simple and
# prepared protocol; the same normalized texts, for pgbench's statements
# and for lists of constants and $n parameters (PostgreSQL 18 squashes a
# list of constants into one $n and a comment, and records the $n of the
# source text).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

for my $order ('scale_advisor,pg_stat_statements', 'pg_stat_statements,scale_advisor')
{
	my $node = sa_node('pgss' . ($order =~ /^scale/ ? 1 : 2), preload => $order, conf => q{
pg_stat_statements.track_utility = off
scale_advisor.track_utility = off
});
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

	$node->safe_psql('postgres', q{
CREATE TABLE sa_txt (a int, b text);
SELECT count(*) FROM sa_txt WHERE a IN (1, 2, 3);
SELECT count(*) FROM sa_txt WHERE a IN (4, 5, 6, 7) AND b = 'x';
SELECT count(*) FROM sa_txt WHERE a = -1 AND b IN ('p', 'q');
SELECT count(*) FROM sa_txt WHERE a = ANY (ARRAY[1, 2, 3]) OR a = 42;
SELECT count(*) FROM sa_txt WHERE a IN (1 + 0, 2);
PREPARE sa_p1(int) AS SELECT count(*) FROM sa_txt WHERE a = $1 AND b <> 'z';
EXECUTE sa_p1(1);
PREPARE sa_p2(int, int) AS SELECT count(*) FROM sa_txt WHERE a = $1 AND a IN (1, 2, $2);
EXECUTE sa_p2(1, 2);
});
	my $texts = $node->safe_psql('postgres', q{
		SELECT count(*), count(*) FILTER (WHERE s.query = p.query),
		       string_agg(CASE WHEN s.query <> p.query
		                       THEN p.query || ' <> ' || s.query END, '; ')
		FROM pg_stat_statements p
		JOIN scale_advisor.query_stats s
		  ON s.queryid = p.queryid AND s.userid = p.userid AND s.dbid = p.dbid
		 AND s.toplevel = p.toplevel
		WHERE p.query ~* 'pgbench_|sa_txt' AND p.query !~* '^(CREATE|PREPARE|EXECUTE)'});
	my ($tn, $tsame, $tdiff) = split /\|/, $texts;
	ok($tn >= 11, "statements with texts in both ($tn, $order)");
	is($tsame, $tn, "the same normalized texts as pg_stat_statements ($order)")
	  or diag($tdiff);
	$node->stop;
}
done_testing();
