# Cross-check of the what-if costs against hypopg: the same statements
# planned with the same hypothetical indexes must cost within 10 % of what
# hypopg's hypothetical indexes give, for hand-picked candidates and for the
# candidates the advisor chose from a captured workload.
#
# hypopg models a btree as 30 % larger than CREATE INDEX builds it (a fixed
# bloat factor and an 8-byte header per column) and leaves the tree height
# unknown, which drops the planner's per-level descent charge.  Where the
# two differ by more than 10 %, the index is built for real and the
# statement planned with it: our estimate must then be the closer one.  The
# count of candidates within 10 % of hypopg is reported.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('hypo', conf => q{
max_parallel_workers_per_gather = 0
scale_advisor.index_write_cost_us = 0
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
$node->safe_psql('postgres', 'CREATE EXTENSION hypopg');

$node->safe_psql('postgres', q{
SELECT setseed(0.17);
CREATE TABLE orders (id int PRIMARY KEY, cust int NOT NULL, ts timestamptz NOT NULL,
                     ref text NOT NULL, amount numeric NOT NULL);
INSERT INTO orders SELECT i, (random() * 999)::int,
       '2024-01-01'::timestamptz + random() * interval '365 days', 'R' || i,
       round((random() * 1000)::numeric, 2)
  FROM generate_series(1, 100000) i;
CREATE TABLE order_lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id),
                          qty int NOT NULL);
INSERT INTO order_lines SELECT i, 1 + (random() * 99999)::int, 1 + (random() * 9)::int
  FROM generate_series(1, 200000) i;
CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, ts timestamptz NOT NULL);
INSERT INTO events SELECT i, (random() * 199)::int,
       '2024-01-01'::timestamptz + random() * interval '365 days'
  FROM generate_series(1, 100000) i;
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, active boolean NOT NULL);
INSERT INTO users SELECT i, 'User' || i || '@Example.com', random() < 0.5
  FROM generate_series(1, 60000) i;
CREATE TABLE jobs (id int NOT NULL, status text NOT NULL, created timestamptz NOT NULL);
INSERT INTO jobs SELECT i, CASE WHEN random() < 0.01 THEN 'pending' ELSE 'done' END,
       '2024-01-01'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE orders, order_lines, events, users, jobs;
});

# hypopg's cost for a statement with one hypothetical index, and whether
# the plan uses it
sub hypopg_cost
{
	my ($stmt, $index) = @_;
	$index =~ s/\bCONCURRENTLY\s+//i;
	(my $qi = $index) =~ s/'/''/g;
	my $out = $node->safe_psql('postgres', qq{
SELECT hypopg_reset();
SELECT 'size=' || hypopg_relation_size(indexrelid) FROM hypopg_create_index('$qi');
EXPLAIN (FORMAT JSON) $stmt;
SELECT hypopg_reset();});
	my ($cost) = $out =~ /"Total Cost": ([0-9.]+)/;
	my ($size) = $out =~ /size=(\d+)/;
	my $used = ($out =~ /"Index Name": "<\d+>/) ? 1 : 0;
	return ($cost, $used, $size);
}

# the planner's cost with the index built for real
sub real_cost
{
	my ($stmt, $index) = @_;
	$index =~ s/\bCONCURRENTLY\s+//i;
	$index =~ s/CREATE INDEX ON/CREATE INDEX tap_real_idx ON/;
	my $out = $node->safe_psql('postgres', qq{
$index;
EXPLAIN (FORMAT JSON) $stmt;
DROP INDEX tap_real_idx;});
	my ($cost) = $out =~ /"Total Cost": ([0-9.]+)/;
	return $cost;
}

my ($checked, $within) = (0, 0);

# within 10 % of hypopg, or closer than hypopg to the real index
sub check_cost
{
	my ($label, $stmt, $index, $mine, $theirs) = @_;
	my $diff = abs($mine - $theirs) / $theirs;
	$checked++;
	if ($diff <= 0.10)
	{
		$within++;
		pass(sprintf("%s: ours %.2f, hypopg %.2f (%.1f%%)", $label, $mine, $theirs, 100 * $diff));
		return;
	}
	my $real = real_cost($stmt, $index);
	ok(abs($mine - $real) < abs($theirs - $real),
		sprintf("%s: ours %.2f, hypopg %.2f (%.1f%%), real index %.2f: ours is closer",
			$label, $mine, $theirs, 100 * $diff, $real));
}

sub whatif
{
	my ($stmt, $index) = @_;
	(my $qs = $stmt) =~ s/'/''/g;
	(my $qi = $index) =~ s/'/''/g;
	my $r = $node->safe_psql('postgres',
		"SELECT cost_after, index_used, est_size_bytes FROM scale_advisor.index_whatif('$qs', '$qi')");
	return split /\|/, $r;
}

my @pairs = (
	[ q{SELECT * FROM orders WHERE ref = 'R4242'}, q{CREATE INDEX ON orders (ref)} ],
	[ q{SELECT id FROM orders WHERE cust = 42 ORDER BY ts DESC LIMIT 10}, q{CREATE INDEX ON orders (cust, ts)} ],
	[ q{SELECT count(*) FROM orders WHERE cust IN (1, 2, 3)}, q{CREATE INDEX ON orders (cust)} ],
	[ q{SELECT count(*) FROM orders WHERE ts BETWEEN '2024-03-01' AND '2024-03-02'}, q{CREATE INDEX ON orders (ts)} ],
	[ q{SELECT count(*) FROM events WHERE account = 7 AND ts > '2024-12-20'}, q{CREATE INDEX ON events (account, ts)} ],
	[ q{SELECT id FROM users WHERE lower(email) = 'user777@example.com'}, q{CREATE INDEX ON users (lower(email))} ],
	[ q{SELECT sum(l.qty) FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.id BETWEEN 500 AND 510},
	  q{CREATE INDEX ON order_lines (order_id)} ],
	[ q{SELECT id FROM jobs WHERE status = 'pending' ORDER BY created LIMIT 20},
	  q{CREATE INDEX ON jobs (created) WHERE status = 'pending'} ],
	[ q{SELECT amount FROM orders WHERE ref = 'R77'}, q{CREATE INDEX ON orders (ref) INCLUDE (amount)} ],
);

my @sizes;
for my $p (@pairs)
{
	my ($stmt, $index) = @$p;
	my ($mine, $mine_used, $mine_size) = whatif($stmt, $index);
	my ($theirs, $theirs_used, $theirs_size) = hypopg_cost($stmt, $index);
	ok(defined $theirs && $theirs > 0, "hypopg planned: $index");
	check_cost($index, $stmt, $index, $mine, $theirs);
	is($mine_used eq 't' ? 1 : 0, $theirs_used, "same index use for $index");
	push @sizes, sprintf("%-55s ours %9d hypopg %9d", $index, $mine_size, $theirs_size // -1);
}
note("estimated index sizes:\n" . join("\n", @sizes));

# The advisor's own candidates, from a captured workload.
$node->safe_psql('postgres', 'SET scale_advisor.plan_sample_rate = 1;' .
	join('', map { "$_->[0];\n" } @pairs));
my $rows = $node->safe_psql('postgres', q{
SELECT replace(a.index_sql, 'CONCURRENTLY ', ''), w.statement
  FROM scale_advisor.index_advice a
  JOIN LATERAL (SELECT DISTINCT statement FROM scale_advisor.index_workload w
                 WHERE w.queryid = ANY (a.queryids)) w ON true});
my @advice = split /\n/, $rows;
cmp_ok(scalar(@advice), '>=', 6, 'the advisor chose candidates serving the workload');
for my $line (@advice)
{
	my ($index, $stmt) = split /\|/, $line;
	my ($mine, $used) = whatif($stmt, $index);
	is($used, 't', "advised $index is used by: $stmt");
	my ($theirs) = hypopg_cost($stmt, $index);
	check_cost("advised $index", $stmt, $index, $mine, $theirs);
}
note("$within of $checked candidates within 10 % of hypopg's cost");
cmp_ok($within, '>=', $checked * 0.6, 'most candidates within 10 % of hypopg');

$node->stop;
done_testing();
