# Fuzzing of the parsers of user input (docs/reliability.md, "Bad input
# and fuzzing").  The code runs inside the server (palloc, the core parser),
# so the fuzz driver is a client: it generates inputs by mutating a seed
# corpus, sends them to the server and checks every answer.
#
#  1. index_whatif(statement, index_sql, params, search_path): hypo_from_sql
#     parses the CREATE INDEX text, analyze_statement the statement
#     (src/whatif.c).
#  2. The text parsers written in SQL: partition intervals, retention and
#     historical_until (partition_table_plan, _pt_check_interval, _pt_to_num,
#     _pt_slot, _pt_add, _pt_suffix, _pt_unquote, _pt_name), durations
#     (_guc_ms), thresholds (set_threshold, _t), names
#     (_role_setting, _short), application names (n_plus_one_ignore_application).
#  3. The statement normalizer (src/normalize.c), whose input is any SQL a
#     user runs: generated statements full of constants of every lexical
#     form (numbers, negative numbers, strings with quotes, E'', U&'', dollar
#     quotes, bit strings, typed literals, continued strings, long multibyte
#     strings) between comments, prepared statements run with such values
#     (captured, and planned again by the index advice), then mutated
#     statements; every view of the extension is read over that workload.
#
# Every input to 1 and 2 runs in fz.try() (test/t/SaFuzz.pm): a rolled-back
# subtransaction; the answer must be a result or an error whose SQLSTATE is
# not XX000/XX001/XX002, no injected call may run, no advisory lock may be
# left.  For 3, every stored text must be valid UTF-8, at most
# scale_advisor.max_query_length bytes, and hold none of the constants of
# its statement.  Throughout: the server never restarts, no backend dies,
# no relation or function is created, the tables are unchanged.
#
# SA_FUZZ_SEED (default 20261128) seeds the generator; SA_FUZZ_COUNT scales
# the number of inputs (default 1: 6,000 index_whatif calls, 6,000 text
# parser calls, 3,000 generated and 1,500 mutated statements);
# SA_FUZZ_SECONDS (default 45) stops each phase early when its share of
# that time has passed (the notes say so; the run is then not repeatable).  An input
# that ever found a bug is kept in test/fuzz/corpus/<parser>/ and replayed
# first.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use SaFuzz;
use SaTest;
use Time::HiRes qw(time);

my $seed = $ENV{SA_FUZZ_SEED} || 20261128;
my $scale = $ENV{SA_FUZZ_COUNT} || 1;
my $budget = $ENV{SA_FUZZ_SECONDS} || 45;
my $maxlen = 256;
srand($seed);
note("seed $seed (SA_FUZZ_SEED), scale $scale (SA_FUZZ_COUNT), time budget $budget s (SA_FUZZ_SECONDS)");
my $t0 = time;

my $node = sa_node('fuzz', conf => qq{
scale_advisor.track = 'all'
scale_advisor.track_utility = on
scale_advisor.track_planning = on
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.n_plus_one = on
scale_advisor.n_plus_one_nested = on
scale_advisor.capture_parameters = on
scale_advisor.track_history = on
scale_advisor.max_query_length = $maxlen
scale_advisor.max = 20000
restart_after_crash = on
autovacuum = off
log_min_messages = warning
log_min_error_statement = panic
max_stack_depth = '2MB'
});
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION scale_advisor');
fz_setup($node, $db);
$node->safe_psql($db, q{
CREATE TABLE fz.t (id int PRIMARY KEY, created timestamptz NOT NULL, note text, amount numeric,
	tags text[], doc jsonb);
INSERT INTO fz.t SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour', 'n' || i,
	i % 100, ARRAY['a' || i % 7], jsonb_build_object('k', i % 13)
  FROM generate_series(1, 5000) i;
CREATE MATERIALIZED VIEW fz.mv AS SELECT id, note FROM fz.t;
CREATE VIEW fz.v AS SELECT id, note FROM fz.t;
CREATE TABLE fz.p (id int, created timestamptz NOT NULL) PARTITION BY RANGE (created);
CREATE TABLE fz.p_2024 PARTITION OF fz.p FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE TABLE fz.pt (id bigint, created timestamptz NOT NULL, PRIMARY KEY (id, created));
CREATE TABLE fz.pti (id bigint PRIMARY KEY, v text);
CREATE TABLE fz.n (v text);
CREATE TABLE fz.victim (id int);
INSERT INTO fz.victim VALUES (1);
ANALYZE;
});
my $started = $node->safe_psql($db, 'SELECT pg_postmaster_start_time()');
my $state_sql = q{SELECT (SELECT count(*) FROM pg_class) || ' relations, ' || (SELECT count(*) FROM pg_proc)
	|| ' functions, ' || (SELECT md5(string_agg(md5(t::text), ',' ORDER BY id)) FROM fz.t)
	|| ', victim ' || (SELECT count(*) FROM fz.victim) || ', pwned ' || (SELECT last_value FROM fz.pwned_seq)};
my $state0 = $node->safe_psql($db, $state_sql);

# ---------------------------------------------------------------------
# The mutator.  Works on characters (inputs stay valid UTF-8, which is all
# a text argument can hold; the server refuses a NUL byte in text, so NUL
# comes as its escape spellings).
my @tokens = ("'", '"', ';', '\\', '$', '$$', '$q$', '(', ')', ',', '--', '/*', '*/', "\n", "\t", ' ',
	'::', "E'", "U&'", "B'", "X'", '\\0', '\\x00', '\\u0000', '\\000', "U&'\\0000'", "E'\\\\000'",
	'chr(0)', "\x{e9}", "\x{20ac}", "\x{1F600}", "\x{FFFD}", "\x{200B}", "e\x{301}", "\x{FEFF}",
	'%s', '%I', '%L', '{', '}', '[', ']', ':', '=', '-', '+', '.', '*', '0', '9', '_', 'e', '@', '&', '|');
my @keywords = ('SELECT', 'DROP TABLE fz.victim', 'CREATE INDEX', 'ON', 'USING btree', 'USING hash',
	'USING gin', 'INCLUDE', 'WHERE', 'COLLATE "C"', 'COLLATE "nope"', 'DESC', 'ASC', 'NULLS FIRST',
	'ONLY', 'CONCURRENTLY', 'IF NOT EXISTS', 'UNIQUE', 'WITH (fillfactor = 10)', 'TABLESPACE pg_default',
	'text_pattern_ops', 'int4_ops', 'UNION ALL', 'RETURNING *', 'FOR UPDATE', 'LIMIT', 'OFFSET',
	'ORDER BY', 'GROUP BY', 'HAVING', 'LATERAL', 'WITH RECURSIVE', 'VALUES', 'fz.pwned()', 'NULL',
	'DEFAULT', 'ARRAY[', 'ROW(', '$1', '$2', '$0', '$999999', '$2147483648', 'month', 'year', 'day',
	'hour', 'minute', 'second', 'ago', 'infinity', '-infinity', 'NaN', 'P1Y2M3DT4H', 'mon', 'ms', 'us',
	'min', 'e+308', '1e-400', '9223372036854775808', '-2147483649', '0x1F', '1_000', 'id', 'note',
	'created', 'amount', 'tags', 'doc', 'ctid', 'xmin', 'tableoid', 'fz.t', 'fz.mv', 'fz.v', 'fz.p',
	'pg_class', 'fz.t.*', 'now()', 'random()', 'count(*)', 'sum(id)', '(SELECT 1)', 'lower(note)',
	'PREPARE p AS', 'EXPLAIN', 'CREATE TABLE fz.x ()', 'SET search_path = x', 'BEGIN', 'COMMIT');

sub rnd { return int(rand($_[0])); }
sub pick { return $_[ rnd(scalar @_) ]; }

sub mutate_once
{
	my ($s, $corpus) = @_;
	my $len = length($s);
	my $pos = rnd($len + 1);
	my $op = rnd(12);
	if ($op == 0 && $len)    # replace a character
	{
		substr($s, rnd($len), 1) = pick(@tokens);
	}
	elsif ($op == 1 && $len) # flip a bit of an ASCII character
	{
		my $p = rnd($len);
		my $c = ord(substr($s, $p, 1));
		if ($c < 128)
		{
			$c ^= 1 << rnd(7);
			$c = 32 if $c == 0;
			substr($s, $p, 1) = chr($c);
		}
	}
	elsif ($op == 2)         # truncate
	{
		$s = substr($s, 0, $pos);
	}
	elsif ($op == 3 && $len) # delete a range
	{
		substr($s, $pos, 1 + rnd(8)) = '' if $pos < $len;
	}
	elsif ($op == 4 && $len) # duplicate a range
	{
		my $p = rnd($len);
		my $piece = substr($s, $p, 1 + rnd(12));
		substr($s, $p, 0) = $piece x (1 + rnd(4));
	}
	elsif ($op == 5)         # insert a token
	{
		substr($s, $pos, 0) = pick(@tokens);
	}
	elsif ($op == 6)         # insert a keyword
	{
		substr($s, $pos, 0) = ' ' . pick(@keywords) . ' ';
	}
	elsif ($op == 7)         # a very long run
	{
		substr($s, $pos, 0) = pick('x', "'", '(', "\x{e9}", "\x{1F600}", '9', ' ', '-', ',a') x (100 + rnd(12000));
	}
	elsif ($op == 8)         # splice with another input
	{
		my $o = pick(@$corpus);
		my $p = rnd(length($o) + 1);
		$s = substr($s, 0, $pos) . substr($o, $p);
	}
	elsif ($op == 9)         # change a digit or the case of a letter
	{
		$s =~ s/(\d)/rnd(10)/e if rnd(2);
		$s = rnd(2) ? uc($s) : lc($s) if !rnd(4);
	}
	elsif ($op == 10)        # deep nesting
	{
		my $d = 1 + rnd(rnd(4) ? 20 : 3000);
		substr($s, $pos, 0) = ('(' x $d) . '1' . (')' x $d);
	}
	else                     # repeat the whole input
	{
		$s = join(pick(' ', ', ', '; ', ' AND '), ($s) x (2 + rnd(3)));
	}
	return $s;
}

sub mutate
{
	my ($s, $corpus) = @_;
	my $n = 1 + rnd(4);
	$s = mutate_once($s, $corpus) for 1 .. $n;
	return $s;
}

# Inputs that once found a bug: test/fuzz/corpus/<parser>/*, one input per
# file (fields separated by a line "--8<--" where a parser takes several).
sub saved_corpus
{
	my ($parser) = @_;
	my $dir = "$ENV{SA_ROOT}/test/fuzz/corpus/$parser";
	$dir = "$FindBin::RealBin/../fuzz/corpus/$parser" unless $ENV{SA_ROOT} && -d $dir;
	my @inputs;
	for my $f (sort glob("$dir/*"))
	{
		my $text = slurp_file($f);
		utf8::decode($text);
		push @inputs, [ split /\n--8<--\n/, $text, -1 ];
	}
	return @inputs;
}

my @findings;

# Run one phase: the saved inputs first, then $count generated ones (by
# $gen, one row per call), in chunks of 1,000, stopping early when the
# phase's deadline has passed.  Returns the number of inputs run.
sub run_phase
{
	my ($name, $saved, $gen, $count, $deadline) = @_;
	my (%st, $ok, $capped);
	my $n = 0;
	my @pending = @$saved;
	$count += @pending;
	while ($n < $count)
	{
		if (time > $deadline)
		{
			$capped = 1;
			last;
		}
		push @pending, $gen->() while @pending < 1000 && $n + @pending < $count;
		my $rows = [ splice(@pending, 0) ];
		my $m = fz_load($node, $db, $rows);
		my $res = fz_run($node, $db, 1, $m, 200, { timeout => 60, single_timeout => 10 });
		for my $i (1 .. $m)
		{
			my $r = $res->{$i};
			if (fz_bad_result($r))
			{
				push @findings, "$name: " . ($r // 'no result') . "\n    input: "
				  . join(' | ', map { defined $_ ? (length($_) > 300 ? substr($_, 0, 300) . '...' : $_) : 'NULL' }
					  @{ $rows->[ $i - 1 ] }[ 0 .. 4 ]);
				next;
			}
			if ($r eq 'ok') { $ok++; } else { $st{ substr($r, 0, 5) }++; }
		}
		$n += $m;
	}
	note(sprintf('%s: %d inputs (%d replayed from test/fuzz/corpus)%s, %d results, errors by SQLSTATE: %s',
		$name, $n, scalar(@$saved), $capped ? ', stopped by the time budget' : '', $ok // 0,
		join(', ', map { "$_ x$st{$_}" } sort { $st{$b} <=> $st{$a} } keys %st)));
	return $n;
}

# ---------------------------------------------------------------------
# 1. index_whatif
my @idx_seeds = (
	'CREATE INDEX ON fz.t (note)',
	'CREATE INDEX ON fz.t USING btree (created DESC NULLS LAST, id)',
	'CREATE INDEX ON fz.t (lower(note)) WHERE amount > 10',
	'CREATE INDEX ON fz.t (id) INCLUDE (note, created)',
	'CREATE INDEX ON fz.t (note COLLATE "C" text_pattern_ops)',
	'CREATE INDEX ON fz.t ((amount * 2), (note || id::text))',
	'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i1 ON ONLY fz.t (id)',
	'CREATE INDEX ON fz.mv (note)',
	"CREATE INDEX ON fz.t ((doc->>'k'))",
	"CREATE INDEX ON fz.t (created) WHERE created > '2024-01-01' AND note IS NOT NULL",
	'create index on t (note)',
	'CREATE INDEX ON fz.t (tags)',
	'CREATE INDEX ON fz.t (amount NULLS FIRST, note DESC)',
	'CREATE INDEX ON fz.p (created)',
	'CREATE INDEX ON fz.v (note)',
	'CREATE INDEX i2 ON fz.t USING btree (id) WITH (fillfactor = 50) TABLESPACE pg_default',
);
my @stmt_seeds = (
	[ "SELECT * FROM fz.t WHERE note = 'n5'", undef ],
	[ "SELECT id FROM fz.t WHERE created > now() - interval '1 day' ORDER BY created DESC LIMIT 10", undef ],
	[ 'SELECT * FROM fz.t WHERE lower(note) = $1', 'n5' ],
	[ "UPDATE fz.t SET note = 'x' WHERE id = \$1", '5' ],
	[ 'DELETE FROM fz.t WHERE amount > $1 AND note LIKE $2', '5|n%' ],
	[ 'INSERT INTO fz.t (id, created, note) VALUES ($1, now(), $2)', '9999|x' ],
	[ 'WITH x AS (SELECT * FROM fz.t WHERE id < 5) SELECT count(*) FROM x JOIN fz.t USING (id)', undef ],
	[ 'PREPARE p1 AS SELECT * FROM fz.t WHERE id = $1', '7' ],
	[ "SELECT * FROM fz.mv WHERE note = 'n1'", undef ],
	[ 'SELECT * FROM fz.t t1 WHERE EXISTS (SELECT 1 FROM fz.t t2 WHERE t2.id = t1.id + 1)', undef ],
	[ 'SELECT fz.pwned() FROM fz.t WHERE id = 1', undef ],
	[ "SELECT * FROM fz.t WHERE doc->>'k' = '3' AND amount * 2 = 10", undef ],
	[ 'SELECT * FROM t WHERE note = $1', 'n1' ],
	[ 'SELECT * FROM fz.v WHERE note > $1::text ORDER BY note', 'n' ],
	[ "SELECT * FROM fz.p WHERE created > '2024-05-01' AND id = \$1", '3' ],
	[ "MERGE INTO fz.t USING (SELECT 1 AS id) s ON fz.t.id = s.id WHEN MATCHED THEN UPDATE SET note = 'x'", undef ],
	[ "INSERT INTO fz.t (id, created) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET note = 'y'", undef ],
	[ 'SELECT * FROM fz.t WHERE id = ANY($1::int[]) FOR UPDATE', '{1,2}' ],
	[ 'SELECT note, count(*) FROM fz.t GROUP BY note HAVING count(*) > $1 ORDER BY 2 DESC', '1' ],
	[ 'SELECT * FROM fz.t a JOIN fz.t b ON b.id = a.id + 1 LEFT JOIN LATERAL (SELECT 1) c ON true', undef ],
	[ 'SELECT 1; SELECT 2', undef ],
	[ 'EXPLAIN SELECT 1', undef ],
);
# CREATE INDEX texts built from the grammar's parts, right and wrong
my @ix_tables = ('fz.t', 'fz.t', 'fz.t', 'fz.mv', 'fz.v', 'fz.p', 'fz.p_2024', 't', 'pg_class', 'fz.nope',
	'fz."T"', 'ONLY fz.t');
my @ix_cols = ('id', 'note', 'created', 'amount', 'tags', 'doc', 'ctid', 'xmin', 'nope', '"Note"');
my @ix_exprs = ('(amount * 2)', 'lower(note)', "(doc->>'k')", '(id + 1)', '(random())', '(now())',
	'((SELECT 1))', '(count(*))', "(id::text || note)", '(tags[1])', '(ROW(id, note))', '(fz.t)',
	"('x')", '(NULL)', '(1)', '($1)', '(fz.pwned())', '(id / 0)', '(note COLLATE "C")',
	"(created AT TIME ZONE 'UTC')", '(abs(id))', '(id > 5)', '(generate_series(1, 2))',
	'(sum(id) OVER ())', "(CASE WHEN id > 1 THEN note END)", '(amount::int8)');
my @ix_preds = ('amount > 10', 'note IS NOT NULL', "created > '2024-01-01'", 'fz.pwned() > 0',
	'id IN (SELECT 1)', '$1 > 0', 'true', 'NULL', 'random() < 0.5', 'id = 1 OR id = 2',
	"note LIKE 'n%'", 'count(*) > 1', 'id', 'NOT (amount < 0 AND id > 10)', '1 / 0 = 1');
my @ix_opts = ('', '', ' COLLATE "C"', ' COLLATE "nope"', ' text_pattern_ops', ' int4_ops', ' DESC',
	' ASC', ' NULLS FIRST', ' DESC NULLS LAST', ' nope_ops');
sub gen_index
{
	my $sql = 'CREATE ' . (rnd(8) ? '' : 'UNIQUE ') . 'INDEX ' . (rnd(8) ? '' : 'CONCURRENTLY ')
	  . (rnd(4) ? '' : (rnd(2) ? 'IF NOT EXISTS ' : '') . 'i_' . word(4) . ' ')
	  . 'ON ' . pick(@ix_tables) . ' ' . (rnd(4) ? '' : 'USING ' . pick('btree', 'hash', 'gin', 'BTREE', 'nope') . ' ');
	my @el = map { (rnd(3) ? pick(@ix_cols) : pick(@ix_exprs)) . pick(@ix_opts) } 0 .. rnd(rnd(10) ? 3 : 40);
	$sql .= '(' . join(', ', @el) . ')';
	$sql .= ' INCLUDE (' . join(', ', map { rnd(6) ? pick(@ix_cols) : pick(@ix_exprs) } 0 .. rnd(3)) . ')' if !rnd(4);
	$sql .= ' WITH (fillfactor = ' . pick(10, 100, 0, -1, 'x') . ')' if !rnd(10);
	$sql .= ' WHERE ' . join(pick(' AND ', ' OR '), map { pick(@ix_preds) } 0 .. rnd(2)) if !rnd(3);
	return $sql;
}

my @corpus_idx = (@idx_seeds, map { $_->[0] } @stmt_seeds);
my $whatif_q = q{SELECT * FROM scale_advisor.index_whatif($1, $2, string_to_array($3, '|'), $4)};
my $n1 = run_phase('index_whatif', [ map { [ $whatif_q, @$_ ] } saved_corpus('index_whatif') ], sub {
	my ($stmt, $params) = @{ pick(@stmt_seeds) };
	my $idx = rnd(3) ? gen_index() : pick(@idx_seeds);
	my $r = rnd(10);
	$idx = mutate($idx, \@corpus_idx) if $r < 4;
	$stmt = mutate($stmt, \@corpus_idx) if $r >= 8;
	$params = mutate($params // '', \@corpus_idx) if !rnd(8);
	$params = undef if !rnd(20);
	my $sp = rnd(10) ? 'fz, public' : pick(undef, '', 'public', mutate('fz, public', \@corpus_idx));
	return [ $whatif_q, $stmt, $idx, $params, $sp ];
}, int(6000 * $scale), $t0 + $budget * 0.45);
my $t1 = time;

# ---------------------------------------------------------------------
# 2. the text parsers written in SQL
my @iv_seeds = ('1 day', '1 month', '3 months', '1 year', '7 days', '6 hours', '1 minute', '1000000',
	'-1 day', '1 mon 2 days', 'P1D', 'P1Y2M', '@ 1 day ago', '1.5 months', '00:30:00', 'infinity',
	'1e3', '2147483648', '0', '1 week', '1 month 1 day', '100 years', '30s', '5min', '250', "'30s'",
	'1h', '2d', '10us', '-5ms', '1.5.5', "'2024-01-01'", 'MINVALUE', '2024-01-01 00:00:00+00',
	"'it''s'", '9223372036854775807');
my @kind_seeds = ('time', 'int', 'TIME', '', 'timestamp');
my @type_seeds = ('timestamptz', 'timestamp', 'date', 'int8', 'int4', 'text', 'numeric');
my @name_seeds = ('slow_statement_ms', 'query_stats', 'n_plus_one', 'index_advice', 'fz', 'app-1',
	"Robert'); DROP TABLE fz.victim;--", 'x"; SELECT fz.pwned(); --', 'statement_timeout', 'search_path');
my @targets = (
	[ 'SELECT scale_advisor._pt_check_interval($2, $1)', 'iv', 'kind' ],
	[ 'SELECT scale_advisor._pt_to_num($2::regtype, $1)', 'iv', 'type' ],
	[ 'SELECT scale_advisor._pt_unquote($1)', 'iv' ],
	[ 'SELECT scale_advisor._guc_ms($1)', 'iv' ],
	[ 'SELECT scale_advisor._pt_slot($2, $1, 1704067200)', 'iv', 'kind' ],
	[ 'SELECT scale_advisor._pt_add($2, $1, 1704067200, 3)', 'iv', 'kind' ],
	[ 'SELECT scale_advisor._pt_suffix($2, $1, 1704067200)', 'iv', 'kind' ],
	[ 'SELECT scale_advisor._pt_name($1, $2)', 'name', 'name' ],
	[ 'SELECT scale_advisor.set_threshold($2, $1::numeric)', 'iv', 'name' ],
	[ 'SELECT scale_advisor._t($1)', 'name' ],
	[ 'SELECT scale_advisor.n_plus_one_ignore_application($1, $2)', 'name', 'name' ],
	[ q{SELECT * FROM scale_advisor.partition_table_plan('fz.pt', 'created', $1, 4, $2, 'detach', NULL, true, '1s', 5, $3)},
		'iv', 'iv', 'iv' ],
	[ q{SELECT * FROM scale_advisor.partition_table_plan('fz.pti', 'id', $1, 4, $2, $3, NULL, true, '1s', 5, $4)},
		'iv', 'iv', 'name', 'iv' ],
	[ 'SELECT scale_advisor._short($1)', 'iv' ],
	[ 'SELECT scale_advisor._role_setting(10, $1)', 'name' ],
);
my %seeds = (iv => \@iv_seeds, kind => \@kind_seeds, type => \@type_seeds, name => \@name_seeds);
my @corpus_txt = (@iv_seeds, @name_seeds);
my $n2 = run_phase('text parsers', [ saved_corpus('text') ], sub {
	my ($q, @kinds) = @{ pick(@targets) };
	my @args = map { my $v = pick(@{ $seeds{$_} }); rnd(10) < 7 ? mutate($v, \@corpus_txt) : $v } @kinds;
	$args[ rnd(scalar @args) ] = undef if !rnd(25);
	return [ $q, @args ];
}, int(6000 * $scale), $t0 + $budget * 0.75);
my $t2 = time;

# ---------------------------------------------------------------------
# 3. the normalizer: statements full of constants of every lexical form.
my @letters = ('a' .. 'z');
sub word { return join('', map { pick(@letters) } 1 .. ($_[0] // 8)); }
sub digits { my $n = shift; return (1 + rnd(9)) . join('', map { rnd(10) } 2 .. $n); }

# a constant: [its SQL text, strings that must not survive normalization]
sub constant
{
	my $k = rnd(17);
	my $w = 'qz' . word(8);
	my $d = digits(6 + rnd(6));
	return [ $d, $d ] if $k == 0;
	return [ pick('-', '- ', "-\n") . $d, $d ] if $k == 1;
	return [ "$d." . digits(3) . pick('', 'e5', 'E-3'), $d ] if $k == 2;
	return [ "'$w'", $w ] if $k == 3;
	return [ "'$w''" . word(3) . "'", $w ] if $k == 4;
	return [ "E'$w\\n\\'\\\\" . word(2) . "'", $w ] if $k == 5;
	return [ "U&'$w\\0041\\00e9'", $w ] if $k == 6;
	if ($k == 7)
	{
		my $tag = pick('', 'q', 'tag_1');
		return [ "\$$tag\$$w' \" \$ -- /* \$$tag\$", $w ];
	}
	return [ "B'" . join('', map { rnd(2) } 1 .. 24) . "'", undef ] if $k == 8;
	return [ "X'" . uc(word(2)) =~ tr/G-Z/0-9/r . "$d'", $d ] if $k == 9;
	return [ "int8 '$d'", $d ] if $k == 10;
	return [ "timestamptz '2024-0" . (1 + rnd(9)) . "-1" . rnd(10) . ' 1' . rnd(10) . ':' . (10 + rnd(50))
		  . ':' . (10 + rnd(50)) . '.' . $d . "+00'", $d ] if $k == 11;
	return [ "'$w'\n'" . word(4) . "'", $w ] if $k == 12;
	return [ "'$w" . ("\x{e9}" x (100 + rnd(300))) . "'", $w ] if $k == 13;
	return [ "'$w\x{1F600}\x{20ac}'", $w ] if $k == 14;
	return [ "CAST('$d' AS bigint)", $d ] if $k == 15;
	return [ "'{$d,1}'::int8[]", $d ];
}

sub comment
{
	return '' if rnd(3);
	return pick("/* cm 'x' 1 \$\$ */ ", "-- cm 'x' 1\n", "/* cm /* nested */ */ ", "\n\t ");
}

# a statement: [SQL, marker, strings that must not survive]
my $nstmt = 0;
sub statement
{
	my $marker = 'fzm_' . word(10);
	my (@checks, @parts);
	my $c = sub {
		my $k = constant();
		push @checks, $k->[1] if defined $k->[1];
		my $x = '(' . $k->[0] . ')::text';
		my $w = rnd(12);
		if ($w == 0)
		{
			my ($a, $b) = (digits(5), digits(5));
			push @checks, $a, $b;
			return "substring($x from $a for $b)";
		}
		return "($x COLLATE \"C\")" if $w == 1;
		return "position($x in $x)::text" if $w == 2;
		return "trim(both $x from $x)" if $w == 3;
		if ($w == 4)
		{
			my $d = digits(6);
			push @checks, $d;
			return "(interval '$d' second)::text";
		}
		return "(ROW($x, $x))::text" if $w == 5;
		return $x;
	};
	my $cint = sub {
		my $d = digits(6);
		push @checks, $d;
		return $d;
	};
	# a few more target columns: statements of different shapes get
	# different query ids, so that more of them are stored on their own
	my $first = $c->() . " AS $marker" . (', current_user' x rnd(6));
	my $form = rnd(8);
	my $sql;
	if ($form == 0)
	{
		$sql = "SELECT $first" . join('', map { ', ' . comment() . $c->() } 1 .. rnd(6));
	}
	elsif ($form == 1)
	{
		$sql = "SELECT $first, id FROM fz.t WHERE " . comment() . "note IN ("
		  . join(', ', map { $c->() } 0 .. rnd(5)) . ") AND id > " . $cint->() . " LIMIT " . $cint->();
	}
	elsif ($form == 2)
	{
		$sql = "SELECT $first FROM (VALUES (" . $c->() . "), (" . comment() . $c->()
		  . ")) v(x) WHERE x <> " . $c->() . ' OFFSET ' . $cint->();
	}
	elsif ($form == 3)
	{
		$sql = "SELECT $first, CASE WHEN note = " . $c->() . ' THEN ' . $c->()
		  . ' ELSE ' . comment() . $c->() . ' END FROM fz.t WHERE id = ' . $cint->();
	}
	elsif ($form == 4)
	{
		$sql = "WITH w AS (SELECT " . $c->() . " AS x) SELECT $first, coalesce(x, "
		  . $c->() . ") FROM w";
	}
	elsif ($form == 5)
	{
		$sql = "SELECT $first, ARRAY[" . join(', ', map { $c->() } 0 .. rnd(4)) . '], jsonb_build_array('
		  . $c->() . ')';
	}
	elsif ($form == 6)
	{
		# fails when planned (division by zero folded as a constant)
		$sql = "SELECT $first, " . $c->() . ', ' . $cint->() . ' / 0';
	}
	else
	{
		$sql = "SELECT $first, (SELECT " . $c->() . " FROM fz.t WHERE id = " . $cint->()
		  . ") " . comment() . "FROM fz.t WHERE amount = " . $cint->() . ' AND note = ' . $c->();
	}
	$nstmt++;
	return [ comment() . $sql, $marker, \@checks ];
}

my $n_norm = int(3000 * $scale);
my (@stmts, %by_marker);
for (1 .. $n_norm)
{
	my $s = statement();
	push @stmts, $s;
	$by_marker{ $s->[1] } = $s;
}
# the statements go through psql as a script: they hold no backslash
# outside a literal, so psql sends each to the server as it is
my $file = "$PostgreSQL::Test::Utils::tmp_check/630_statements.sql";
open(my $fh, '>:encoding(UTF-8)', $file) or die "cannot write $file: $!";
print $fh "SET statement_timeout = '10s';\n";
print $fh "$_->[0];\n" for @stmts;
# prepared statements, whose parameter values are captured for the index
# advice, which plans them again with those values
for my $i (1 .. int(300 * $scale))
{
	my $k = constant();
	my $shape = join('', map { pick(' AND note IS NOT NULL', ' AND amount >= 0', ' OR id = 0') } 0 .. rnd(4));
	print $fh "PREPARE fzp_$i(text, int8) AS SELECT id AS fzm_" . word(10)
	  . " FROM fz.t WHERE (note = \$1 AND id > \$2)$shape;\n"
	  . "EXECUTE fzp_$i(($k->[0])::text, " . digits(1 + rnd(9)) . ");\nDEALLOCATE fzp_$i;\n";
}
close($fh);
my ($out, $err) = ('', '');
$node->psql($db, "\\i $file", stdout => \$out, stderr => \$err, on_error_stop => 0);
my @errs = ($err =~ /ERROR:\s+(.*)/g);
my %errkinds;
$errkinds{$_}++ for @errs;
note(scalar(@stmts) . ' generated statements run at top level; errors: '
	. join(', ', map { "$_ x$errkinds{$_}" } sort keys %errkinds));
ok(!grep({ !/division by zero/ } @errs), 'every generated statement parses and runs (or divides by zero on purpose)')
  or diag(join("\n", grep { !/division by zero/ } @errs[0 .. ($#errs > 10 ? 10 : $#errs)]));

# and mutated ones, nested (EXECUTE in fz.try: a mutated statement may hold
# anything, which psql must not read as its own commands)
my @corpus_stmt = grep { !/pwned/i } map { $_->[0] } @stmts[0 .. 99];
# (fz.try executes q itself: the statement is the input, so a mutation that
# spells the marker fz.pwned() into it would call it by its own text, which
# is no injection: such mutations are drawn again)
my $n3 = run_phase('mutated statements (nested)',
	[ grep { $_->[0] !~ /pwned/i } map { [ $_->[0] ] } saved_corpus('statements') ],
	sub {
		my $s;
		do { $s = mutate(pick(@corpus_stmt), \@corpus_stmt) } while $s =~ /pwned/i;
		return [ $s ];
	}, int(1500 * $scale), $t0 + $budget);

# every view of the extension over this workload
$node->safe_psql($db, 'SELECT scale_advisor.snapshot()');
my @views = split /\n/, $node->safe_psql($db, q{SELECT c.oid::regclass FROM pg_class c
	WHERE c.relnamespace = 'scale_advisor'::regnamespace AND c.relkind = 'v' ORDER BY 1});
my @vq = map { [ "SELECT count(*) FROM $_" ] } @views;
my $nv = run_phase('views over the fuzzed workload', [], sub { return shift @vq }, scalar(@vq), time + 600);
ok($nv >= 15, "$nv views read");

# every stored text: valid UTF-8, at most max_query_length bytes
my $texts = '';
# (as hex of the bytes the store holds: textsend does not check them)
# (the generated statements ran at top level, the mutated ones nested: a
# mutated statement may still hold a marker, in a comment for instance)
$node->psql($db, q{SELECT toplevel || ' ' || encode(textsend(query), 'hex') FROM scale_advisor.query_stats
	WHERE query IS NOT NULL}, stdout => \$texts);
my ($ntexts, $checked, $with_params, $too_long, $bad_utf8, $left, @leftovers, @bad_texts) = (0, 0, 0, 0, 0, 0);
for my $line (split /\n/, $texts)
{
	my ($top, $hex) = split / /, $line;
	my $bytes = pack('H*', $hex // '');
	$ntexts++;
	$too_long++ if length($bytes) > $maxlen;
	if (!fz_utf8_ok($bytes))
	{
		$bad_utf8++;
		push @bad_texts, unpack('H*', $bytes) if @bad_texts < 5;
		next;
	}
	my $text = $bytes;
	utf8::decode($text);
	next if $top ne 'true';
	for my $m ($text =~ /\b(fzm_[a-z]{10})\b/g)
	{
		my $s = $by_marker{$m} or next;
		$checked++;
		$with_params++ if $text =~ /\$\d/;
		for my $k (@{ $s->[2] })
		{
			next if index($text, $k) < 0;
			$left++;
			push @leftovers, "constant $k left in: $text\n    statement: $s->[0]" if @leftovers < 5;
		}
	}
}
note("$ntexts statement texts in the store; $checked of them are generated statements checked constant by constant");
ok($checked > 0.3 * $n_norm, "the generated statements were stored ($checked of $n_norm with a text of their own; "
	. 'the others share a query id with one of them)');
is($with_params, $checked, 'each of them shows $n in place of its constants');
is($too_long, 0, "no stored text is longer than scale_advisor.max_query_length ($maxlen bytes)");
is($bad_utf8, 0, 'every stored text is valid UTF-8') or diag(join("\n", @bad_texts));
is($left, 0, 'no constant is left in a normalized text') or diag(join("\n", @leftovers));
my $t3 = time;

# ---------------------------------------------------------------------
is(join("\n", @findings), '', 'no crash, internal error, hang, injection or advisory lock left in '
	. ($n1 + $n2 + $n3) . ' parser calls') or diag(join("\n", @findings));
is($node->safe_psql($db, $state_sql), $state0, 'no relation or function created, the tables unchanged, no injection ran');
is($node->safe_psql($db, 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated by exception|PANIC/, 'no backend died (server log)');
note(sprintf('time: index_whatif %.0f s, text parsers %.0f s, normalizer %.0f s; %d + %d + %d + %d inputs',
	$t1 - $t0, $t2 - $t1, $t3 - $t2, $n1, $n2, scalar(@stmts), $n3));

$node->stop;
done_testing();
