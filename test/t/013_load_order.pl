# Load order: the same script under every order of scale_advisor,
# pg_stat_statements, pg_cron and auto_explain in shared_preload_libraries
# (24 orders).  For each: top-level utility statements (CREATE TABLE, CALL,
# VACUUM, CHECKPOINT, DO) are recorded top level, what runs inside them and
# the deferred foreign-key checks at COMMIT are nested, and calls agree
# with pg_stat_statements for every statement both record at the same
# level.  (pg_stat_statements records the checks that run at COMMIT as top
# level, so they are compared apart.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

# every order of a list
sub orders
{
	my @l = @_;
	return ([]) unless @l;
	my @out;
	for my $i (0 .. $#l)
	{
		my @rest = @l;
		my ($first) = splice(@rest, $i, 1);
		push @out, [ $first, @$_ ] for orders(@rest);
	}
	return @out;
}

# shared_preload_libraries is set for each order below
my $node = sa_node('load_order', preload => undef, query_id => 'auto', start => 0, conf => q{
cron.database_name = 'postgres'
scale_advisor.track = 'all'
pg_stat_statements.track = 'all'
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
auto_explain.log_analyze = on
});

my $script = q{
SELECT scale_advisor.reset() >= 0, pg_stat_statements_reset() IS NOT NULL;
CREATE TABLE lo_t (x int);
CALL lo_proc(3);
VACUUM lo_t;
CHECKPOINT;
DO $$ BEGIN PERFORM count(*) FROM lo_author; END $$;
BEGIN;
INSERT INTO lo_book SELECT g, g FROM generate_series(1, 20) g;
COMMIT;
DROP TABLE lo_t;
};

# what scale_advisor recorded of the script, one line per entry
my $sa_rows = q{
SELECT toplevel, calls,
       CASE WHEN query LIKE '%FOR KEY SHARE%' THEN 'FK CHECK'
            ELSE regexp_replace(left(query, 40), '\s+', ' ', 'g') END
FROM scale_advisor.query_stats
WHERE query ~ '(lo_|CHECKPOINT|FOR KEY SHARE)' AND query !~ 'reset'
ORDER BY 3, 1};

my @libs = ('scale_advisor', 'pg_stat_statements', 'pg_cron', 'auto_explain');
my $first = 1;
for my $order (orders(@libs))
{
	my $spl = join(',', @$order);
	$node->append_conf('postgresql.conf', "shared_preload_libraries = '$spl'\n");
	if ($first)
	{
		$node->start;
		$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pg_cron;
CREATE TABLE lo_author (id int PRIMARY KEY);
INSERT INTO lo_author SELECT generate_series(1, 20);
CREATE TABLE lo_book (id int, author_id int
  REFERENCES lo_author DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE lo_log (n int);
CREATE PROCEDURE lo_proc(n int) LANGUAGE plpgsql AS $$
DECLARE attempt int := 0;
BEGIN
  WHILE attempt < n LOOP
    attempt := attempt + 1;
    INSERT INTO lo_log VALUES (attempt);
    COMMIT;
  END LOOP;
END $$;
});
		$first = 0;
	}
	else
	{
		$node->restart;
	}
	$node->safe_psql('postgres', $script);
	my %sa;
	for my $line (split /\n/, $node->safe_psql('postgres', $sa_rows))
	{
		my ($top, $calls, $q) = split /\|/, $line, 3;
		$sa{"$top|$q"} = $calls;
	}

	# top-level utility statements, each once, top level
	for my $q ('CREATE TABLE lo_t (x int)', 'CALL lo_proc(3)', 'VACUUM lo_t',
		'CHECKPOINT', 'DO $$ BEGIN PERFORM count(*) FROM lo_author', 'DROP TABLE lo_t')
	{
		is($sa{"t|" . substr($q, 0, 40)}, 1, "$spl: top-level '$q' recorded once, top level");
	}
	# nested statements: nested only
	my @top_nested = grep { /^t\|(INSERT INTO lo_log|SELECT count|FK CHECK)/ } keys %sa;
	is(scalar(@top_nested), 0, "$spl: no nested statement recorded as top level")
	  or diag(join("\n", @top_nested));
	is($sa{'f|INSERT INTO lo_log VALUES (attempt)'}, 3,
		"$spl: the procedure's INSERT is nested, 3 calls");
	is($sa{'f|SELECT count(*) FROM lo_author'}, 1, "$spl: the DO block's statement is nested");
	is($sa{'f|FK CHECK'}, 20, "$spl: the 20 foreign-key checks at COMMIT are nested");

	# calls agree with pg_stat_statements for what both record at one level
	my $cmp = $node->safe_psql('postgres', q{
SELECT count(*), count(*) FILTER (WHERE s.calls = p.calls),
       string_agg(p.toplevel || ' ' || p.calls || '/' || coalesce(s.calls::text, '-')
                  || ' ' || left(p.query, 40), E'\n')
         FILTER (WHERE s.calls IS DISTINCT FROM p.calls)
FROM pg_stat_statements p
LEFT JOIN scale_advisor.query_stats s
  ON s.queryid = p.queryid AND s.userid = p.userid AND s.dbid = p.dbid
 AND s.toplevel = p.toplevel
WHERE p.query ~ '(lo_|CHECKPOINT)' AND p.query !~ '(reset|FOR KEY SHARE)'
  AND p.dbid = (SELECT oid FROM pg_database WHERE datname = 'postgres')});
	my ($n, $same, $diff) = split /\|/, $cmp, 3;
	cmp_ok($n, '>=', 9, "$spl: pg_stat_statements recorded the script ($n entries)");
	is($same, $n, "$spl: calls equal pg_stat_statements' at the same level")
	  or diag($diff);
}

$node->stop;
done_testing();
