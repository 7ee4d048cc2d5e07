# Eviction: a workload of 10x scale_advisor.max distinct statements, from
# several sessions at once, keeps the store at its size, counts evictions,
# keeps the busy statement, and stalls nobody.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SaTest;

my $node = sa_node('evict', conf => q{
scale_advisor.max = 100
});
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE e (a int PRIMARY KEY);
INSERT INTO e SELECT generate_series(1, 2000);
});
# the busy statement
$node->safe_psql('postgres', join('', map { "SELECT a FROM e WHERE a = $_;\n" } 1 .. 300));

# 4 sessions x 250 statements: IN lists of different lengths have different
# query ids, so this is 1000 distinct statements.  The lists hold one
# expression besides the constants: PostgreSQL 18 squashes a list of
# constants alone into one query id whatever its length.
my @h;
for my $s (0 .. 3)
{
	my $sql = '';
	for my $i (1 .. 250)
	{
		my $n = $s * 250 + $i;
		$sql .= 'SELECT count(*) FROM e WHERE a IN (0 + 0,' . join(',', 1 .. $n) . ");\n";
		$sql .= "SELECT a FROM e WHERE a = $n;\n";
	}
	my ($out, $err) = ('', '');
	push @h, [ IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
		'<', \$sql, '>', \$out, '2>', \$err), \$err ];
}
my $failures = 0;
for my $h (@h)
{
	$h->[0]->finish or $failures++;
}
is($failures, 0, 'all sessions finished without error');

my $info = $node->safe_psql('postgres', 'SELECT entries, max_entries, evictions FROM scale_advisor.info');
my ($entries, $max, $evictions) = split /\|/, $info;
ok($entries <= $max, "entries ($entries) stay within max ($max)");
ok($evictions >= 900, "evictions are counted ($evictions)");
is($node->safe_psql('postgres', q{SELECT calls >= 300 FROM scale_advisor.query_stats
	WHERE query = 'SELECT a FROM e WHERE a = $1'}), 't', 'the busy statement was kept');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.query_stats'), $entries,
	'the view shows every entry');

$node->stop;
done_testing();
