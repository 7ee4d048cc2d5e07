# Index advice beyond btree, consolidation, and the before/after check.
#
# GIN: jsonb containment and key tests (one jsonb_ops index serves both;
# jsonb_path_ops when only containment is used), array overlap, full-text
# search on an expression, LIKE '%x%' with pg_trgm installed (a 5-character
# fragment: a shorter one may match a histogram entry of pg_stats, and the
# planner then expects 1 % of the rows); none for a tiny table, a filter
# that matches most rows, or pg_trgm missing from the database.  BRIN: a large append-only table whose rows lie in time order,
# under an insert load that makes a btree's upkeep cost more than what it
# saves over BRIN; none for a column in random physical order, a table
# whose rows are updated, a table under scale_advisor.brin_min_table_pages.
# index_whatif plans GIN and BRIN indexes; the estimated sizes are checked
# against the real indexes.
#
# Consolidation: a composite whose leading column has a plain index names
# that index and the DROP INDEX CONCURRENTLY; an index whose key order,
# predicate or INCLUDE columns differ is not named; a unique index is never
# named, only its plain twin.
#
# The before/after check: reading the advice records its predictions
# (index_advice_predictions); once the index is built and ANALYZEd,
# index_advice_outcome shows the statement's mean and p95 before and
# after, next to the prediction.  Each role sees only its own statements'
# predictions unless it may read all statistics; nobody but the extension
# writes them; a read-only transaction reads the advice without recording.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('kinds', conf => q{
scale_advisor.plan_sample_rate = 1
max_parallel_workers_per_gather = 0
autovacuum = off
});
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE EXTENSION pg_trgm;
CREATE DATABASE notrgm;
});
$node->safe_psql('notrgm', 'CREATE EXTENSION scale_advisor');

# advice rows of one relation: "access_method columns"
sub advice_of
{
	my ($db, $rel, $set) = @_;
	$set //= '';
	return $node->safe_psql($db, qq{$set
SELECT x FROM (SELECT access_method || ' ' || array_to_string(columns, ', ') AS x
  FROM scale_advisor.index_advice WHERE relation = '$rel'::regclass) a ORDER BY x COLLATE "C"});
}

sub run_times
{
	my ($db, $sql, $n) = @_;
	$node->safe_psql($db, join("\n", ($sql . ';') x $n));
	return;
}

# ------------------------------------------------------------------ GIN
my $docs = q{
SELECT setseed(0.5);
CREATE TABLE docs (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL,
                   tags int[] NOT NULL, payload jsonb NOT NULL, attrs jsonb NOT NULL);
INSERT INTO docs
SELECT i, 'Title ' || md5(i::text),
       (SELECT string_agg('w' || floor(exp(random() * ln(20000)))::int, ' ')
          FROM generate_series(1, 15) g WHERE g > i * 0),
       ARRAY[(random() * 5000)::int, (random() * 5000)::int],
       jsonb_build_object('kind', CASE WHEN i % 500 = 0 THEN 'rare' ELSE 'common' END,
                          'n', i % 100) || CASE WHEN i % 700 = 0 THEN '{"flag": true}' ELSE '{}' END::jsonb,
       jsonb_build_object('color', CASE WHEN i % 1000 = 0 THEN 'red' ELSE 'blue' END)
  FROM generate_series(1, 60000) i;
CREATE TABLE tiny_docs (id int PRIMARY KEY, payload jsonb NOT NULL);
INSERT INTO tiny_docs SELECT i, jsonb_build_object('kind', CASE WHEN i = 7 THEN 'rare' ELSE 'common' END)
  FROM generate_series(1, 100) i;
CREATE TABLE common_docs (id int PRIMARY KEY, payload jsonb NOT NULL, pad text NOT NULL);
INSERT INTO common_docs SELECT i, jsonb_build_object('kind', CASE WHEN i % 10 < 7 THEN 'common' ELSE 'other' END),
       repeat('c', 60) FROM generate_series(1, 60000) i;
VACUUM ANALYZE docs, tiny_docs, common_docs;
SELECT pg_stat_force_next_flush();
};
$node->safe_psql('postgres', $docs);
$node->safe_psql('notrgm', $docs);
$node->safe_psql('postgres', 'SELECT scale_advisor.index_workload_reset()');

for my $db ('postgres', 'notrgm')
{
	run_times($db, q{SELECT id FROM docs WHERE payload @> '{"kind": "rare"}'}, 3);
	run_times($db, q{SELECT id FROM docs WHERE payload ? 'flag'}, 3);
	run_times($db, q{SELECT id FROM docs WHERE attrs @> '{"color": "red"}'}, 3);
	run_times($db, q{SELECT id FROM docs WHERE tags && ARRAY[4242, 4243]}, 3);
	run_times($db, q{SELECT id FROM docs WHERE to_tsvector('english', body) @@ to_tsquery('english', 'w12345')}, 3);
	run_times($db, q{SELECT id FROM docs WHERE title LIKE '%beefc%'}, 3);
	run_times($db, q{SELECT id FROM tiny_docs WHERE payload @> '{"kind": "rare"}'}, 3);
	run_times($db, q{SELECT id FROM common_docs WHERE payload @> '{"kind": "common"}'}, 3);
}
my $set0 = 'SET scale_advisor.index_write_cost_us = 0;';

is(advice_of('postgres', 'docs', $set0), join("\n",
	'gin (to_tsvector(\'english\'::regconfig, body))',
	'gin attrs jsonb_path_ops',
	'gin payload',
	'gin tags',
	'gin title public.gin_trgm_ops'),
	'GIN advice: jsonb_ops for @> and ?, jsonb_path_ops for @> alone, arrays, full text, pg_trgm');
like($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT string_agg(index_sql, E'\n' ORDER BY index_sql COLLATE "C") FROM scale_advisor.index_advice WHERE relation = 'docs'::regclass}),
	qr/^CREATE INDEX CONCURRENTLY ON public\.docs USING gin \(\(to_tsvector\('english'::regconfig, body\)\)\)\nCREATE INDEX CONCURRENTLY ON public\.docs USING gin \(attrs jsonb_path_ops\)\nCREATE INDEX CONCURRENTLY ON public\.docs USING gin \(payload\)\nCREATE INDEX CONCURRENTLY ON public\.docs USING gin \(tags\)\nCREATE INDEX CONCURRENTLY ON public\.docs USING gin \(title public\.gin_trgm_ops\)$/,
	'the CREATE INDEX statements name the access method and the operator classes');
is($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT cardinality(queryids) FROM scale_advisor.index_advice
 WHERE relation = 'docs'::regclass AND columns = '{payload}'}),
	'2', 'the jsonb_ops index serves both the @> and the ? statements');
is(advice_of('notrgm', 'docs', $set0), join("\n",
	'gin (to_tsvector(\'english\'::regconfig, body))',
	'gin attrs jsonb_path_ops',
	'gin payload',
	'gin tags'),
	'without pg_trgm in the database: no advice for LIKE \'%beefc%\'');
like($node->safe_psql('notrgm', q{SELECT string_agg(terms, ', ') FROM scale_advisor.index_workload
 WHERE relation = 'docs'::regclass}), qr/title ~~/,
	'(the pattern match is captured all the same)');
is(advice_of('postgres', 'tiny_docs', $set0), '', 'no GIN advice for a tiny table');
is(advice_of('postgres', 'common_docs', $set0), '',
	'no GIN advice for a containment test that matches 70 % of the rows');

# the planner's check with index_whatif, and the sizes against real indexes
my @gin = (
	[ q{SELECT id FROM docs WHERE payload @> '{"kind": "rare"}'}, 'CREATE INDEX ON docs USING gin (payload jsonb_path_ops)' ],
	[ q{SELECT id FROM docs WHERE payload ? 'flag'}, 'CREATE INDEX ON docs USING gin (payload)' ],
	[ q{SELECT id FROM docs WHERE tags && ARRAY[4242, 4243]}, 'CREATE INDEX ON docs USING gin (tags)' ],
	[ q{SELECT id FROM docs WHERE to_tsvector('english', body) @@ to_tsquery('english', 'w12345')},
	  q{CREATE INDEX ON docs USING gin (to_tsvector('english', body))} ],
	[ q{SELECT id FROM docs WHERE title LIKE '%beefc%'}, 'CREATE INDEX ON docs USING gin (title gin_trgm_ops)' ],
);
for my $g (@gin)
{
	my ($stmt, $ix) = @$g;
	(my $qs = $stmt) =~ s/'/''/g;
	(my $qi = $ix) =~ s/'/''/g;
	my ($after, $used, $pct, $est) = split /\|/, $node->safe_psql('postgres',
		"SELECT round(cost_after::numeric, 2), index_used, improvement_pct, est_size_bytes
		   FROM scale_advisor.index_whatif('$qs', '$qi')");
	ok($used eq 't' && $pct > 50, "index_whatif: $ix is used and cuts the cost by $pct %");
	(my $real_ix = $ix) =~ s/CREATE INDEX ON/CREATE INDEX tap_real ON/;
	# the planner's cost with the real index
	my $plan = $node->safe_psql('postgres', qq{$real_ix; EXPLAIN $stmt; SELECT 'size=' || pg_relation_size('tap_real'); DROP INDEX tap_real;});
	my ($rc) = $plan =~ /cost=[0-9.]+\.\.([0-9.]+)/;
	my ($rs) = $plan =~ /size=(\d+)/;
	my $ratio = $est / $rs;
	ok($ratio > 1 / 3 && $ratio < 3,
		sprintf("%s: estimated size %d, real %d (ratio %.2f)", $ix, $est, $rs, $ratio));
	ok(abs($after - $rc) <= 0.25 * $rc,
		sprintf("%s: cost with the hypothetical index %.2f, with the real one %.2f", $ix, $after, $rc));
}

# errors of index_whatif for what it cannot plan
for my $bad (
	[ 'CREATE INDEX ON docs USING hash (title)', qr/access method "hash" is not supported for hypothetical indexes/ ],
	[ 'CREATE INDEX ON docs USING gin (payload) INCLUDE (id)', qr/access method "gin" does not support included columns/ ],
	[ 'CREATE INDEX ON docs USING brin (id DESC)', qr/access method "brin" does not support ASC\/DESC options/ ],
	[ 'CREATE INDEX ON docs USING gin (title)', qr/data type text has no default operator class for access method "gin"/ ])
{
	my ($ret, $stdout, $stderr) = $node->psql('postgres',
		"SELECT * FROM scale_advisor.index_whatif('SELECT 1', '$bad->[0]')");
	like($stderr, $bad->[1], "index_whatif refuses: $bad->[0]");
}

# ------------------------------------------------------------------ BRIN
# Three tables of the same rows: in time order, in random order, and in
# time order but with a tenth of the rows updated; 18,000 rows appended to
# each right after the statistics reset (300 rows a second over the
# one-minute minimum window), as a busy log gets.  Five weeks of the
# table's twenty are read three times: a btree would save more of the
# reading than BRIN, not enough to pay for its upkeep under those inserts.
# (The reading reads more columns than an INCLUDE list takes.)  The
# statement that updates log_updated is not sampled (it would be advised
# an index of its own).  No ANALYZE after the load: the upkeep reads the
# rows changed since the last ANALYZE, and an ANALYZE there would count
# them or not depending on whether the loading session had already sent
# its counters (it sends them at most once a second).
$node->safe_psql('postgres', q{
CREATE TABLE log (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, level int NOT NULL,
                  src int NOT NULL, msg text NOT NULL, pad text NOT NULL);
INSERT INTO log (ts, level, src, msg, pad)
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', i % 5, i % 13, 'm' || (i % 1000), repeat('p', 30)
  FROM generate_series(1, 174000) i;
CREATE TABLE log_random (LIKE log INCLUDING ALL);
INSERT INTO log_random SELECT * FROM log ORDER BY random();
CREATE TABLE log_updated (LIKE log INCLUDING ALL);
INSERT INTO log_updated SELECT * FROM log;
VACUUM ANALYZE log, log_random, log_updated;
SELECT pg_stat_force_next_flush();
});
$node->safe_psql('postgres', 'SELECT pg_stat_reset()');
$node->safe_psql('postgres', q{
SET scale_advisor.plan_sample_rate = 0;
INSERT INTO log (ts, level, src, msg, pad)
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', i % 5, i % 13, 'm' || (i % 1000), repeat('p', 30)
  FROM generate_series(174001, 192000) i;
INSERT INTO log_random (ts, level, src, msg, pad)
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', i % 5, i % 13, 'm' || (i % 1000), repeat('p', 30)
  FROM generate_series(174001, 192000) i;
INSERT INTO log_updated (ts, level, src, msg, pad)
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', i % 5, i % 13, 'm' || (i % 1000), repeat('p', 30)
  FROM generate_series(174001, 192000) i;
UPDATE log_updated SET level = level + 1 WHERE id % 10 = 0;
SELECT pg_stat_force_next_flush();
});
my $brin_q = q{SELECT level, src, count(*), max(msg), max(pad) FROM %s
 WHERE ts >= '2024-02-01' AND ts < '2024-03-08' GROUP BY level, src};
# read once to have the tables in shared buffers, then measured afresh:
# the advice caps a statement's time at what its planner cost gives when
# its data is cached (the time at normal load)
run_times('postgres', sprintf($brin_q, $_), 1) for ('log', 'log_random', 'log_updated');
$node->safe_psql('postgres', 'SELECT scale_advisor.reset(); SELECT scale_advisor.index_workload_reset();');
run_times('postgres', sprintf($brin_q, $_), 3) for ('log', 'log_random', 'log_updated');
note($node->safe_psql('postgres', q{
SELECT relation || ' ' || access_method || ' ' || improvement_pct || ' % saves '
       || round(est_ms_saved_per_hour) || ' ms/h; ' || reason
  FROM scale_advisor.index_advice WHERE relation::text LIKE 'log%'}));
is($node->safe_psql('postgres', q{
SELECT string_agg(relation || ' ' || array_to_string(columns, ', '), ', ' ORDER BY relation::text COLLATE "C")
  FROM scale_advisor.index_advice WHERE relation::text LIKE 'log%' AND access_method = 'brin'}),
	'log ts',
	'BRIN for the append-only table in time order under this insert load; not for random order nor updated rows');
like($node->safe_psql('postgres', q{SELECT reason FROM scale_advisor.index_advice WHERE relation = 'log'::regclass}),
	qr/BRIN index: the rows lie in the order of the column \(append-only table\)/, 'the reason says why BRIN');
is($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT access_method FROM scale_advisor.index_advice WHERE relation = 'log'::regclass}),
	'btree', 'without upkeep the btree, which saves more of the reading, is advised instead');
is($node->safe_psql('postgres', q{SET scale_advisor.brin_min_table_pages = 100000;
SELECT count(*) FROM scale_advisor.index_advice WHERE access_method = 'brin'}),
	'0', 'no BRIN for a table under scale_advisor.brin_min_table_pages');
my ($bc, $bu, $bs) = split /\|/, $node->safe_psql('postgres', q{
SELECT cost_after < cost_before, index_used, est_size_bytes FROM scale_advisor.index_whatif(
  $$SELECT level, count(*) FROM log WHERE ts >= '2024-02-01' AND ts < '2024-03-08' GROUP BY level$$,
  'CREATE INDEX ON log USING brin (ts)')});
is("$bc $bu", 't t', 'index_whatif plans a BRIN index');
my $brin_real = $node->safe_psql('postgres', q{
CREATE INDEX tap_brin ON log USING brin (ts); SELECT pg_relation_size('tap_brin'); DROP INDEX tap_brin;});
is($bs, $brin_real, "the BRIN index's estimated size is its real size ($brin_real bytes)");

# ------------------------------------------------------------ consolidation
# cons: a plain index on a (redundant once (a, ts) exists), one on a DESC
# (a backward scan: redundant too), a partial one, one with an INCLUDE
# column the new index lacks, one on (z) (not a prefix), a unique one on
# (a, id) (never dropped).  cons_u: a unique constraint on k and its plain
# twin; a range reading k and v gets (k) INCLUDE (v) for an index-only
# scan, which makes the plain twin redundant but not the unique index.
$node->safe_psql('postgres', q{
SELECT setseed(0.25);
CREATE TABLE cons (id int PRIMARY KEY, a int NOT NULL, ts timestamptz NOT NULL, z int NOT NULL, pad text NOT NULL);
INSERT INTO cons SELECT i, (random() * 200)::int, now() - random() * interval '365 days', i % 7, repeat('x', 40)
  FROM generate_series(1, 80000) i;
CREATE INDEX cons_a ON cons (a);
CREATE INDEX cons_a_desc ON cons (a DESC);
CREATE INDEX cons_a_partial ON cons (a) WHERE z = 0;
CREATE INDEX cons_a_incl ON cons (a) INCLUDE (z);
CREATE INDEX cons_z ON cons (z);
CREATE UNIQUE INDEX cons_a_id ON cons (a, id);
CREATE TABLE cons_u (id int, k int NOT NULL, v int NOT NULL, pad text NOT NULL);
INSERT INTO cons_u SELECT i, i, i % 97, repeat('c', 50) FROM generate_series(1, 60000) i ORDER BY random();
ALTER TABLE cons_u ADD CONSTRAINT cons_u_k_key UNIQUE (k);
CREATE INDEX cons_u_k ON cons_u (k);
VACUUM ANALYZE cons, cons_u;
SELECT pg_stat_force_next_flush();
});
run_times('postgres', 'SELECT id, ts FROM cons WHERE a = 42 ORDER BY ts DESC LIMIT 10', 5);
run_times('postgres', 'SELECT sum(v) FROM cons_u WHERE k BETWEEN 1000 AND 9000 AND v > 3', 5);
is($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT array_to_string(columns, ', ') || ' | ' || replaces::text || ' | ' || drop_sql
  FROM scale_advisor.index_advice WHERE relation = 'cons'::regclass}),
	'a, ts | {cons_a,cons_a_desc} | DROP INDEX CONCURRENTLY public.cons_a; DROP INDEX CONCURRENTLY public.cons_a_desc;',
	'(a, ts) replaces the plain and the descending index on a, not the partial, INCLUDE or unique ones');
is($node->safe_psql('postgres', q{ALTER TABLE cons CLUSTER ON cons_a;
SET scale_advisor.index_write_cost_us = 0;
SELECT replaces::text FROM scale_advisor.index_advice WHERE relation = 'cons'::regclass;
ALTER TABLE cons SET WITHOUT CLUSTER;}),
	'{cons_a_desc}', 'the index the table is clustered on is not named');
like($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT reason FROM scale_advisor.index_advice WHERE relation = 'cons'::regclass}),
	qr/it serves every scan of public\.cons_a, public\.cons_a_desc, which can be dropped once it is built/,
	'the reason says which indexes it makes redundant');
is($node->safe_psql('postgres', q{SET scale_advisor.index_write_cost_us = 0;
SELECT array_to_string(columns, ', ') || ' | ' || array_to_string(include_columns, ', ') || ' | ' || replaces::text
  FROM scale_advisor.index_advice WHERE relation = 'cons_u'::regclass}),
	'k | v | {cons_u_k}',
	'(k) INCLUDE (v) replaces the plain twin of the unique index, not the unique index');

# ---------------------------------------------- the before/after check
# app owns its table and reads its own advice; mon may read all
# statistics; other may not.
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE ROLE other LOGIN;
CREATE ROLE mon LOGIN IN ROLE pg_monitor;
GRANT CREATE ON SCHEMA public TO app;
CREATE TABLE app_items (id int PRIMARY KEY, owner_id int NOT NULL, pad text NOT NULL);
INSERT INTO app_items SELECT i, (i * 7919) % 20000, repeat('i', 80) FROM generate_series(1, 100000) i;
ALTER TABLE app_items OWNER TO app;
VACUUM ANALYZE app_items;
SELECT pg_stat_force_next_flush();
});
$node->safe_psql('postgres', 'SELECT pg_stat_reset()');
my $app_q = 'SELECT id FROM app_items WHERE owner_id = 4242';
$node->safe_psql('postgres', "SET ROLE app; $app_q; $app_q; $app_q; $app_q; $app_q;");
# a superuser's own statement, whose predictions app must not see
run_times('postgres', 'SELECT id FROM docs WHERE tags && ARRAY[17, 18]', 3);
my $app_ix = $node->safe_psql('postgres', q{SET ROLE app;
SELECT index_sql FROM scale_advisor.index_advice});
like($app_ix, qr/^CREATE INDEX CONCURRENTLY ON public\.app_items \(owner_id\)( INCLUDE \(id\))?$/,
	'app gets advice from its own statement');
$node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.index_advice');
is($node->safe_psql('postgres', q{SET ROLE app;
SELECT relation || ' | ' || status || ' | ' || (userid = 'app'::regrole)::int || ' | ' || (calls_before >= 5)::int
       || ' | ' || (predicted_change_pct < -50)::int
  FROM scale_advisor.index_advice_outcome}),
	'app_items | not created | 1 | 1 | 1',
	'app sees the prediction of its statement only, with the calls before');
is($node->safe_psql('postgres', q{SET ROLE other;
SELECT (SELECT count(*) FROM scale_advisor.index_advice_outcome) || ' ' ||
       (SELECT count(*) FROM scale_advisor.index_advice_predictions)}),
	'0 0', 'other sees no prediction');
is($node->safe_psql('postgres', q{SET ROLE mon;
SELECT count(DISTINCT userid) >= 2 AND bool_or(relation = 'app_items'::regclass)
  FROM scale_advisor.index_advice_outcome}),
	't', 'a pg_monitor member sees every role\'s predictions');
my $before = $node->safe_psql('postgres', 'SELECT count(*), max(last_advised) FROM scale_advisor.index_advice_predictions');
for my $w ('INSERT INTO scale_advisor.index_advice_predictions SELECT * FROM scale_advisor.index_advice_predictions',
		   'UPDATE scale_advisor.index_advice_predictions SET calls = 0',
		   'DELETE FROM scale_advisor.index_advice_predictions')
{
	my ($ret, $o, $e) = $node->psql('postgres', "SET ROLE app; $w");
	like($e, qr/permission denied for table index_advice_predictions/, "app may not write: $w");
}
$node->safe_psql('postgres', q{BEGIN READ ONLY; SELECT count(*) FROM scale_advisor.index_advice; COMMIT;});
is($node->safe_psql('postgres', 'SELECT count(*), max(last_advised) FROM scale_advisor.index_advice_predictions'),
	$before, 'nothing was written by them, nor by reading the advice in a read-only transaction');
is($node->safe_psql('postgres', q{BEGIN READ ONLY; SELECT count(*) > 0 FROM scale_advisor.index_advice; COMMIT;}),
	't', '(the read-only transaction got the advice)');

# take app's advice: the outcome shows the measured change
$node->safe_psql('postgres', q{SET ROLE app; SELECT count(*) FROM scale_advisor.index_advice;});
$node->safe_psql('postgres', "SET ROLE app; $app_ix; ANALYZE app_items;");
$node->safe_psql('postgres', "SET ROLE app; $app_q; $app_q; $app_q; $app_q; $app_q; SELECT pg_stat_force_next_flush();");
my $o = $node->safe_psql('postgres', q{SET ROLE app;
SELECT status || ' | ' || (index::text LIKE 'app_items_owner_id%')::int || ' | ' || calls_after || ' | ' || (mean_ms_after < mean_ms_before)::int
       || ' | ' || (p95_ms_after < p95_ms_before)::int || ' | ' || (measured_change_pct < -50)::int
       || ' | ' || (index_scans >= 5)::int
  FROM scale_advisor.index_advice_outcome});
is($o, 'created | 1 | 5 | 1 | 1 | 1 | 1',
	'after CREATE INDEX and ANALYZE: the index found by its definition, 5 calls since, mean and p95 down');
note($node->safe_psql('postgres', q{SET ROLE app; SELECT * FROM scale_advisor.index_advice_outcome}));

$node->stop;
done_testing();
