# Index advice on a partitioned table (issue 14): the advice names the
# partitioned table, not one partition, keeps the ORDER BY column, and says
# how to build the index on a live table (CREATE INDEX ... ON ONLY the
# table, CREATE INDEX CONCURRENTLY on each partition, ALTER INDEX ...
# ATTACH PARTITION, level by level); index_whatif accepts the partitioned
# table.  One partition numbers its columns differently (it had a dropped
# column when it was attached) and one is itself partitioned.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('ixpart', conf => q{
max_parallel_workers_per_gather = 0
autovacuum = off
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
$node->safe_psql('postgres', q{
SELECT setseed(0.7);
CREATE TABLE orders (id bigint NOT NULL, customer_id int NOT NULL,
  created_at timestamptz NOT NULL, total numeric NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
-- a partition whose columns are numbered differently
CREATE TABLE orders_2024 (gone int, id bigint NOT NULL, customer_id int NOT NULL,
  created_at timestamptz NOT NULL, total numeric NOT NULL);
ALTER TABLE orders_2024 DROP COLUMN gone;
ALTER TABLE orders ATTACH PARTITION orders_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- a partition that is partitioned itself
CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
  PARTITION BY HASH (customer_id);
CREATE TABLE orders_2025_a PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE orders_2025_b PARTITION OF orders_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO orders SELECT i, (random() * 4999)::int,
       '2023-01-01'::timestamptz + random() * interval '1090 days', round((random() * 100)::numeric, 2)
  FROM generate_series(1, 300000) i;
});
$node->safe_psql('postgres', 'ANALYZE orders');
$node->safe_psql('postgres', 'SELECT scale_advisor.index_workload_reset()');
for my $c (42, 43)
{
	$node->safe_psql('postgres', qq{SET scale_advisor.plan_sample_rate = 1;
SELECT id, total FROM orders WHERE customer_id = $c ORDER BY created_at DESC LIMIT 10;
SELECT count(*) FROM orders WHERE customer_id = $c AND created_at >= '2024-03-01' AND created_at < '2024-04-01';});
}

my $workload = $node->safe_psql('postgres', q{
SELECT relation || ': ' || terms FROM scale_advisor.index_workload ORDER BY 1});
note("workload:\n$workload");
like($workload, qr/^orders: customer_id =, created_at ORDER BY DESC$/m,
	'the workload names the partitioned table and keeps the ORDER BY column');
unlike($workload, qr/orders_20/, 'and no partition');

my $advice = $node->safe_psql('postgres', q{
SELECT relation || ' ' || columns::text || E'\n' || index_sql FROM scale_advisor.index_advice});
note("advice:\n$advice");
like($advice, qr/^orders \{customer_id,created_at\}$/m,
	'advice on the partitioned table, with the ORDER BY column');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice'), '1',
	'one index serves both statements');
like($advice, qr/^CREATE INDEX (\S+) ON ONLY public\.orders \(customer_id, created_at\)/m,
	'first CREATE INDEX ... ON ONLY the partitioned table');
for my $p (qw(orders_2023 orders_2024 orders_2025_a orders_2025_b))
{
	like($advice, qr/^CREATE INDEX CONCURRENTLY \S+ ON public\.$p \(customer_id, created_at\)/m,
		"CREATE INDEX CONCURRENTLY on partition $p");
}
like($advice, qr/^CREATE INDEX \S+ ON ONLY public\.orders_2025 \(/m,
	'ON ONLY on the partitioned partition too');
my $attach = () = $advice =~ /^ALTER INDEX \S+ ATTACH PARTITION \S+/mg;
is($attach, 5, 'five ATTACH PARTITION: the four leaves and orders_2025');

# index_whatif on the partitioned table
my $w = $node->safe_psql('postgres', q{
SELECT index_used, cost_after < cost_before / 10, est_size_bytes
  FROM scale_advisor.index_whatif(
    'SELECT id, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10',
    'CREATE INDEX ON orders (customer_id, created_at)')});
note("index_whatif: $w");
like($w, qr/^t\|t\|\d+$/, 'index_whatif plans the partitioned table with the index on every partition');
my ($est) = $w =~ /\|(\d+)$/;

# the steps run as written, one at a time, on the live table
my @steps = split /;\n/, $node->safe_psql('postgres', 'SELECT index_sql FROM scale_advisor.index_advice');
$node->safe_psql('postgres', $_) for @steps;
is($node->safe_psql('postgres', q{
SELECT bool_and(i.indisvalid) || ' ' || count(*)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relname LIKE 'orders%' AND NOT i.indisunique}), 'true 6',
	'the steps build valid indexes on the table, on orders_2025 and on the four leaves');
my $real = $node->safe_psql('postgres', q{
SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relname LIKE 'orders%' AND c.relkind = 'r'});
note("estimated $est bytes, built $real bytes");
ok($est > 0.6 * $real && $est < 1.6 * $real, 'the estimated size is that of the index on every leaf');
$node->safe_psql('postgres', 'ANALYZE orders');
like($node->safe_psql('postgres', q{
EXPLAIN SELECT id, total FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10}),
	qr/Index Scan Backward using orders_20\S+_customer_id_created_at_idx/,
	'the statement uses it');
is($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice'), '0',
	'no advice once it is built');

$node->stop;
done_testing();
