# Bad input for every SQL function and procedure of the extension
# (docs/reliability.md, "Bad input and fuzzing").
#
# The functions are read from the catalog (pg_depend on the extension), so
# a new function is covered without a change here.  Each argument in turn
# gets each bad value of its type (NULL, '', a 10,000-character string,
# names of objects that do not exist, relations of the wrong kind,
# identifiers built to inject SQL, negative, zero and extreme numbers,
# infinite times, odd arrays and JSON, an unparsable literal) while the
# other arguments get plausible values; plus a call with every argument
# NULL and calls on tables and columns whose names are injection strings.
#
# Functions run in fz.try() (test/t/SaFuzz.pm): a subtransaction that is
# always rolled back.  Procedures (they commit) run at top level, one CALL
# at a time, with a checksum of the extension's tables, the test's tables
# and the catalog before and after.
#
# Checked: no crash and no server restart, no internal error (XX000: an
# elog without an error code, or a PostgreSQL internal error), no injection
# string ever runs (every one calls fz.pwned(), which bumps a sequence),
# the victim table survives, no advisory lock is left held, and a
# procedure call that failed changed nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use Encode qw(encode_utf8);
use FindBin;
use lib $FindBin::RealBin;
use SaFuzz;

my $node = sa_node('badinput', conf => q{
scale_advisor.track = 'all'
restart_after_crash = on
autovacuum = off
log_min_messages = warning
});
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION scale_advisor');
fz_setup($node, $db);
my $t_start = time;
my $started = $node->safe_psql($db, 'SELECT pg_postmaster_start_time()');

# Objects the calls refer to, among them tables and columns named to
# inject SQL, and the table the classic injection tries to drop.
my $inj_tbl = q{x"; SELECT fz.pwned(); --};
my $inj_col = q{a"; SELECT fz.pwned(); --};
my $bobby = q{Robert'); DROP TABLE fz.victim;--};
(my $q_inj_tbl = $inj_tbl) =~ s/"/""/g;
(my $q_inj_col = $inj_col) =~ s/"/""/g;
$node->safe_psql($db, qq{
CREATE TABLE fz.victim (id int);
INSERT INTO fz.victim VALUES (1);
CREATE TABLE fz.t (id int PRIMARY KEY, created timestamptz NOT NULL, note text);
INSERT INTO fz.t SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 day', 'n' || i
  FROM generate_series(1, 200) i;
CREATE INDEX t_note ON fz.t (note);
CREATE TABLE fz.t_archive (LIKE fz.t INCLUDING ALL);
CREATE TABLE fz.pt (id bigint, created timestamptz NOT NULL, PRIMARY KEY (id, created));
INSERT INTO fz.pt SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 hour' FROM generate_series(1, 200) i;
CREATE TABLE fz."$q_inj_tbl" (id int PRIMARY KEY, "$q_inj_col" timestamptz NOT NULL, "$bobby" text);
INSERT INTO fz."$q_inj_tbl" SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 day', 'x'
  FROM generate_series(1, 50) i;
CREATE TABLE fz."$bobby" (id int PRIMARY KEY, created timestamptz NOT NULL);
INSERT INTO fz."$bobby" SELECT i, timestamptz '2024-01-01 00:00+00' + i * interval '1 day'
  FROM generate_series(1, 50) i;
CREATE VIEW fz.v AS SELECT * FROM fz.victim;
CREATE MATERIALIZED VIEW fz.mv AS SELECT * FROM fz.victim;
CREATE SEQUENCE fz.s;
CREATE TYPE fz.comp AS (a int);
CREATE TABLE fz.p (id int, created timestamptz NOT NULL) PARTITION BY RANGE (created);
CREATE TABLE fz.p_2024 PARTITION OF fz.p FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
ANALYZE;
});

# A checksum of everything a failed call must leave alone: the rows of
# every table of the extension and of the fz schema, the number of
# relations, functions and schemas, and the injection counter.
$node->safe_psql($db, q{
CREATE FUNCTION fz.checksum() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r regclass;
	h text;
	acc text := '';
BEGIN
	FOR r IN SELECT c.oid FROM pg_class c
			  WHERE c.relkind IN ('r', 'p', 'm')
				AND c.relnamespace IN ('scale_advisor'::regnamespace, 'fz'::regnamespace)
				AND c.oid <> 'fz.inputs'::regclass
			  ORDER BY c.relname
	LOOP
		EXECUTE format('SELECT md5(coalesce(string_agg(md5(x::text), '','' ORDER BY md5(x::text)), '''')) FROM %s x', r)
			INTO h;
		acc := acc || r::text || '=' || h || ';';
	END LOOP;
	RETURN md5(acc) || ' classes=' || (SELECT count(*) FROM pg_class)
		|| ' procs=' || (SELECT count(*) FROM pg_proc)
		|| ' schemas=' || (SELECT count(*) FROM pg_namespace)
		|| ' pwned=' || (SELECT last_value FROM fz.pwned_seq)
		|| ' victim=' || (to_regclass('fz.victim') IS NOT NULL);
END
$$;
});
# Found by this test: _pt_name() looped forever when the suffix alone
# left no room (a column name of 59 bytes or more with an identity
# sequence, an index name of 60 bytes or more), so partition_table_plan()
# never returned for such a table.
my $c59 = 'c' x 59;
my $i63 = 'i' x 63;
my ($ret, $plan, $perr) = $node->psql($db, qq{
SET statement_timeout = '60s';
CREATE TABLE fz.longnames ($c59 bigint GENERATED ALWAYS AS IDENTITY, created timestamptz NOT NULL);
CREATE INDEX $i63 ON fz.longnames (created);
SELECT count(*) > 0, count(*) FILTER (WHERE statement LIKE '%ADD GENERATED%') = 1
  FROM scale_advisor.partition_table_plan('fz.longnames', 'created', '1 month');
SELECT string_agg(n, ' ' ORDER BY n) FROM (VALUES (scale_advisor._pt_name('sa1', '$i63')),
	(scale_advisor._pt_name('sa2', '$i63')), (scale_advisor._pt_name('t', repeat('x', 10000)))) v(n);
DROP TABLE fz.longnames;});
is("$ret $plan", "0 t|t
sa1_" . substr($i63, 0, 59) . " sa2_" . substr($i63, 0, 59) . " t_" . ('x' x 61),
	'partition_table_plan() of a table with a 59-byte identity column and a 63-byte index name returns, '
	. 'and _pt_name() cuts a long suffix') or diag($perr);

# Found by this test: a syntax error in the statement or index text given
# to index_whatif() pointed at that position in the calling query.  It is
# now reported in the text it belongs to.
my ($r1, $o1, $e1) = $node->psql($db, q{SELECT * FROM scale_advisor.index_whatif(
	'SELECT * FROM fz.t WHERE', 'CREATE INDEX ON fz.t (note)')});
my ($r2, $o2, $e2) = $node->psql($db, q{SELECT * FROM scale_advisor.index_whatif(
	'SELECT 1', 'CREATE INDEX ON fz.t (note')});
like("$e1\n$e2", qr/syntax error at end of input\nLINE 1: SELECT \* FROM fz\.t WHERE\n.*QUERY:  SELECT \* FROM fz\.t WHERE\n.*syntax error at end of input\nLINE 1: CREATE INDEX ON fz\.t \(note\n.*QUERY:  CREATE INDEX ON fz\.t \(note$/s,
	'a syntax error in the statement or index text is shown in that text');

my $ck0 = $node->safe_psql($db, 'SELECT fz.checksum()');
like($ck0, qr/pwned=1 victim=true/, "checksum before the calls: $ck0");

my $long = "repeat('x', 10000)";
my @inj_text = (
	fz_lit(q{x"; SELECT fz.pwned(); --}),
	fz_lit(q{x'); SELECT fz.pwned(); --}),
	fz_lit(q{x' || fz.pwned()::text || '}),
	fz_lit(q{1) OR fz.pwned() > 0 OR (1}),
	fz_lit(q{$$; SELECT fz.pwned(); $$}),
	fz_lit(q{x\'); SELECT fz.pwned(); --}),
	fz_lit($bobby),
);
my %bad = (
	text => [ 'NULL', "''", "'   '", $long, "'no_such_object_zz'", @inj_text,
		"'-1'", "'0'", "'NaN'", "'infinity'", "'1e400'", "E'\\\\'", "'\x{e9}\x{20ac}\x{1F600}'",
		"'fz.v'", "repeat('''', 5000)" ],
	name => [ 'NULL', "''", $long, "'no_such_column_zz'", fz_lit($inj_col), fz_lit($bobby),
		"'ctid'", "'xmin'", "'id'", "'note'" ],
	regclass => [ 'NULL', '0::oid::regclass', '4294967295::oid::regclass', "'fz.v'::regclass",
		"'fz.s'::regclass", "'fz.t_note'::regclass", "'fz.p'::regclass", "'fz.p_2024'::regclass",
		"'fz.mv'::regclass", "'fz.comp'::regclass", "'pg_class'::regclass",
		"'fz.victim'::regclass", "'no_such_table_zz'::regclass",
		fz_lit(qq{fz."$q_inj_tbl"}) . '::regclass', fz_lit(qq{fz."$bobby"}) . '::regclass' ],
	oid => [ 'NULL', '0', '4294967295', "'fz.v'::regclass::oid" ],
	regrole => [ 'NULL', '0::oid::regrole', '4294967295::oid::regrole', "'pg_monitor'::regrole",
		"'public'::regrole", "'postgres'::regrole" ],
	regtype => [ 'NULL', '0::oid::regtype', "'text'::regtype", "'int4'::regtype",
		"'fz.comp'::regtype", "'anyelement'::regtype", "'int4[]'::regtype", "'timestamp'::regtype" ],
	integer => [ 'NULL', '-1', '0', '-2147483648', '2147483647' ],
	bigint => [ 'NULL', '-1', '0', '-9223372036854775808', '9223372036854775807' ],
	numeric => [ 'NULL', '-1', '0', "'NaN'", "'Infinity'", "'-Infinity'", '1e1000', '-1e1000', '0.000001' ],
	'double precision' => [ 'NULL', '-1', '0', "'NaN'", "'Infinity'", "'-Infinity'", '1e308' ],
	boolean => [ 'NULL', 'true', 'false' ],
	interval => [ 'NULL', "'0'", "'-1 day'", "'-1 microsecond'", "'178000000 years'",
		"'-178000000 years'", "'1 month -30 days'" ],
	'timestamp with time zone' => [ 'NULL', "'infinity'", "'-infinity'", "'4713-01-01 00:00+00 BC'",
		"'294276-12-31 00:00+00'", "'epoch'" ],
	jsonb => [ 'NULL', "'{}'", "'[]'", "'null'", "'\"x\"'", "'{\"relation\": \"x\\\"; SELECT fz.pwned(); --\"}'",
		"'{\"a\": {\"b\": [1, 2, {\"c\": null}]}}'", "(repeat('[', 500) || repeat(']', 500))::jsonb" ],
	'text[]' => [ 'NULL', "'{}'", "'{NULL}'", "ARRAY['']", "ARRAY[$long]",
		"ARRAY[$inj_text[0], $inj_text[1], $inj_text[4]]", "'{{a,b},{c,d}}'", "'[5:6]={a,b}'" ],
	'regclass[]' => [ 'NULL', "'{}'", "'{NULL}'", "'{0}'", "'{pg_class}'", "'{fz.v,fz.victim}'",
		"'{{fz.t},{fz.t}}'", "'[5:6]={fz.t,fz.t}'" ],
	'bigint[]' => [ 'NULL', "'{}'", "'{NULL}'", "'{-1,-2}'", "'{{1,2},{3,4}}'", "'[5:6]={1,2}'",
		"array_fill(1::bigint, ARRAY[10000])", "'{9223372036854775807,9223372036854775807}'" ],
	'double precision[]' => [ 'NULL', "'{}'", "'{NULL}'", "'{NaN,Infinity,-Infinity}'", "'{-1}'",
		"'{{1,2},{3,4}}'", "array_fill(0.5::float8, ARRAY[10000])" ],
	'oid[]' => [ 'NULL', "'{}'", "'{NULL}'", "'{0,4294967295}'", "'{{1,2},{3,4}}'", "'[5:6]={10,10}'",
		"array_fill(10::oid, ARRAY[10000])" ],
	# the statements _checklist() hands its checks (the record type of
	# _statements())
	'scale_advisor._statement[]' => [ 'NULL', "'{}'", "'{NULL}'",
		"ARRAY(SELECT s FROM scale_advisor._statements() s)",
		"array_fill(NULL::scale_advisor._statement, ARRAY[10000])" ],
);
# an unparsable literal for every type that is not text
for my $t (keys %bad)
{
	push @{ $bad{$t} }, "'not a value'" unless $t eq 'text';
}

# A plausible value for an argument, by name and type.
sub good
{
	my ($name, $type) = @_;
	my %by_name = (
		kind => "'time'", part_interval => "'1 day'", retention_action => "'detach'",
		operation => "'archive'", p_operation => "'archive'", p_col => "'query'",
		p_where => "'true'", q => "'SELECT 1'", statement => "'SELECT * FROM fz.t WHERE note = ''n1'''",
		index_sql => "'CREATE INDEX ON fz.t (note)'", search_path => "'fz, public'",
		lit => "'2024-01-01 00:00:00+00'", v => "'''2024-01-01'''", base => "'t'",
		suffix => "'p20240101'", final_status => "'done'", part_name => "'fz.t'",
		application_name => "'app'", p_value => ($type eq 'text' ? "'30s'" : '5'),
		sch => "'fz'", tbl => "'t'", archive_schema => "'fz'", target => "'fz.t_archive'",
		archive => "'fz.t_archive'", arch => "'fz.t_archive'", p_other => "'fz.t_archive'",
		parent => "'fz.p'", typ => "'timestamptz'", p_role => '10', part => "'fz.t'::regclass::oid",
		premake => '2', k => '1', batch_size => '100', top_n => '5', retries => '1',
		max_batches => '1', x => '1704067200', lo => '1704067200', hi => '1704153600',
		load_factor => '2', ms => '10', lock_ms => '1', p_window => "'1 hour'",
		p_baseline => "'1 day'", lock_timeout => "'1s'", older_than => "'30 days'",
		pause => "'0'", p_from => "'-infinity'", since => "'-infinity'", p_to => 'now()',
		before => 'now()', stmts => "ARRAY['SELECT 1']", vals => "'{1,2,3}'",
		quantiles => "'{0.5}'", buckets => "'{1,2,3}'", a => "'{1,2,3}'", b => "'{1,1,1}'",
		p_name => "'slow_statement_ms'", dry_run => 'true', p_dry_run => 'true',
		time_column => "'created'", p_time_column => "'created'", column_name => "'created'",
		col => "'created'", p_relation => "'fz.t'",
		window_length => "'1 hour'", baseline_length => "'1 day'",
	);
	# the threshold and setting helpers (_t, _threshold_known, _role_setting,
	# _guc_ms): a known name, a role, a duration
	return "'slow_statement_ms'" if $name eq 'name' && $_[2] =~ /^_(t|threshold_known|role_setting)$/;
	return '10' if $name eq 'role' && $_[2] eq '_role_setting';
	return "'30s'" if $name eq 'value' && $_[2] eq '_guc_ms';
	# partitioning: a table that can be partitioned
	return "'fz.pt'" if $name eq 'relation' && $_[2] =~ /^(_pt|partition)/;
	# view names for the helpers that look up another part's view
	return "'query_stats'" if $name eq 'p_name' && $type eq 'text' && $_[2] =~ /^_(has|has_col|count_of|list_of)$/;
	return $by_name{$name} if exists $by_name{$name};
	my %by_type = (
		text => "'x'", name => "'created'", regclass => "'fz.t'", regtype => "'timestamptz'", regrole => 'current_user::regrole',
		oid => '0', integer => '1', bigint => '1', numeric => '1', 'double precision' => '0.5',
		boolean => 'false', interval => "'1 day'", 'timestamp with time zone' => "'2024-06-01 00:00+00'",
		jsonb => "'{}'", 'text[]' => "'{}'", 'regclass[]' => "'{}'", 'bigint[]' => "'{1,2,3}'", 'double precision[]' => "'{1,2}'",
		'oid[]' => "'{10}'", 'scale_advisor._statement[]' => "'{}'",
	);
	return $by_type{$type} // 'NULL';
}

# The functions and procedures, with their input arguments.
my @procs = map { [ split /\|/, $_, -1 ] } split /\n/, $node->safe_psql($db, q{
SELECT p.proname, p.prokind, p.pronargs, p.pronargdefaults,
	   coalesce((SELECT string_agg(coalesce(p.proargnames[i], '') || ':' || format_type(t, NULL), ';' ORDER BY i)
				   FROM unnest(p.proargtypes) WITH ORDINALITY u(t, i)), '')
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'scale_advisor'
 ORDER BY p.proname});
ok(@procs > 80, scalar(@procs) . ' functions and procedures in the extension');

# Helpers that test a crash on purpose are never called.
my %skip = (_archive_test_crash => 'kills the backend on purpose (crash tests)');
# Internal helpers that take SQL text (a WHERE clause, a query, statements)
# by design and run it as the caller: an injection string given to those
# arguments runs, as if the caller had typed it.  SECURITY INVOKER and
# reviewed; their other arguments are quoted and checked like any other.
my %runs_sql = (
	'_archive_exists.q' => 1,
	'_pt_run.stmts' => 1, '_owner_exec.query' => 1,
);

# a control: the injection counter works
my (@calls, @meta, @pcalls, @pmeta, %seen_types) = ([ 'SELECT fz.pwned()' ]);
push @meta, 'control: fz.pwned()';
for my $p (@procs)
{
	my ($fn, $kind, $nargs, $ndef, $argspec) = @$p;
	if ($skip{$fn}) { note("skipped $fn: $skip{$fn}"); next; }
	my @args = map { [ split /:/, $_, 2 ] } grep { length } split /;/, $argspec;
	my $first_def = $nargs - $ndef;
	my $mk = sub {
		my (%over) = @_;
		my @a;
		for my $i (0 .. $#args)
		{
			my ($an, $at) = @{ $args[$i] };
			if (exists $over{$i}) { push @a, [ $an, $over{$i} ]; next; }
			# omit defaulted arguments, except dry_run (always on for procedures)
			next if $i >= $first_def && !($kind eq 'p' && $an =~ /dry_run/);
			push @a, [ $an, good($an, $at, $fn) ];
		}
		my $list = join(', ', map { $_->[0] ne '' ? qq{"$_->[0]" => $_->[1]} : $_->[1] } @a);
		return $kind eq 'p'
		  ? "CALL scale_advisor.$fn($list)"
		  : "SELECT * FROM scale_advisor.$fn($list)";
	};
	my @mine;
	push @mine, [ 'plausible values', $mk->() ];
	push @mine, [ 'every argument NULL', $mk->(map { $_ => 'NULL' } 0 .. $#args) ] if @args;
	for my $i (0 .. $#args)
	{
		my ($an, $at) = @{ $args[$i] };
		$seen_types{$at}++;
		my $vals = $bad{$at} // [ 'NULL', "'not a value'" ];
		for my $v (@$vals)
		{
			# procedures: the booleans only get NULL (true and false are
			# legitimate choices that would really archive or partition)
			next if $kind eq 'p' && $at eq 'boolean' && $v ne 'NULL';
			my $lab = "$an=" . (length($v) > 60 ? substr($v, 0, 60) . '...' : $v);
			$lab .= ' [runs SQL by design]' if $runs_sql{"$fn.$an"};
			push @mine, [ $lab, $mk->($i => $v) ];
		}
	}
	# relations and columns with injection names, together
	my @rel = grep { $args[$_][1] eq 'regclass' } 0 .. $#args;
	my @col = grep { $args[$_][1] eq 'name' && $args[$_][0] =~ /col/ } 0 .. $#args;
	if (@rel && @col)
	{
		push @mine, [ 'injection table and column',
			$mk->((map { $_ => fz_lit(qq{fz."$q_inj_tbl"}) . '::regclass' } @rel),
				(map { $_ => fz_lit($inj_col) } @col)) ];
		push @mine, [ 'Robert table',
			$mk->((map { $_ => fz_lit(qq{fz."$bobby"}) . '::regclass' } @rel),
				(map { $_ => "'created'" } @col)) ];
	}
	for my $m (@mine)
	{
		if ($kind eq 'p') { push @pcalls, $m->[1]; push @pmeta, "$fn: $m->[0]"; }
		else { push @calls, [ $m->[1] ]; push @meta, "$fn: $m->[0]"; }
	}
}
my @untyped = grep { !$bad{$_} } sort keys %seen_types;
is(join(', ', @untyped), '', 'every argument type has its own bad values');

# 1. Functions, in rolled-back subtransactions.
my $n = fz_load($node, $db, \@calls);
my $res = fz_run($node, $db, 1, $n, 100, { timeout => 60, single_timeout => 10 });
my (%states, %msgs, @bad, @pwned_by_design, @accepted, $nok, $locks_by_design);
for my $i (1 .. $n)
{
	my $r = $res->{$i};
	my $what = $meta[ $i - 1 ];
	if ($what =~ /^control/)
	{
		like($r, qr/^!pwned ok$/, 'the injection counter sees a call of fz.pwned()');
		next;
	}
	if (defined $r && $r =~ /^!pwned/ && $what =~ /\[runs SQL by design\]/)
	{
		push @pwned_by_design, $what;
		$r =~ s/^!pwned //;
	}
	# _archive_start() is the first step of a run: it returns holding the
	# table's run lock (taken by _archive_lock()), which _archive_finish()
	# releases
	if (defined $r && $r =~ /^!lock / && $what =~ /^_archive_(start|lock):/)
	{
		$locks_by_design++;
		$r =~ s/^!lock //;
	}
	if (fz_bad_result($r))
	{
		push @bad, "$what => " . ($r // 'no result') . "\n    $calls[$i - 1][0]";
		next;
	}
	push @accepted, $what if $r eq 'ok' && $what =~ /^[a-z]/ && $what !~ /plausible/;
	if ($r eq 'ok') { $nok++; } else { $states{ substr($r, 0, 5) }++; $msgs{"$1 $r"}++ if $what =~ /^(\w+):/; }
}
note(sprintf('%d function calls: %d succeeded, %d errors by SQLSTATE: %s', $n, $nok // 0,
	$n - ($nok // 0) - @bad, join(', ', map { "$_ x$states{$_}" } sort keys %states)));
# (encoded: the values are character strings, and a wide character in a
# print is a fatal warning in PostgreSQL 17's and later test modules)
note(encode_utf8("bad values the user-facing functions accepted:\n" . join("\n", map { "  $_" } @accepted)));
note(encode_utf8("function errors:\n" . join("\n", map { "  $msgs{$_} x $_" } sort keys %msgs)));
note('injection strings run by the helpers that take SQL by design: ' . scalar(@pwned_by_design)
	. '; runs started by _archive_start() (advisory lock held on return): ' . ($locks_by_design // 0));
is(join("\n", @bad), '', "no crash, internal error or injection in $n function calls")
  or diag(encode_utf8(join("\n", @bad)));
ok($n > 1500, "$n function calls made");

# Found by this test (each now a clear error; before, accepted or an
# unrelated error).
my %want = (
	"set_threshold: p_value='NaN'" => '22023',             # stored NaN as a threshold
	"set_threshold: p_value='Infinity'" => '22023',        # stored infinity
	"capacity: load_factor='NaN'" => '22023',              # "cannot convert NaN to integer"
	"capacity: load_factor=1e1000" => '22023',             # "integer out of range"
	'partition_table_plan: default_partition=NULL' => '22004', # taken as false
);
my %got;
for my $i (1 .. $n) { $got{ $meta[ $i - 1 ] } = substr($res->{$i} // '', 0, 5); }
is(join(', ', map { "$_ => $got{$_}" } sort keys %want), join(', ', map { "$_ => $want{$_}" } sort keys %want),
	'NaN and infinite thresholds and load factors, and a NULL default_partition, are refused');

my $ck1 = $node->safe_psql($db, 'SELECT fz.checksum()');
my ($pw1) = $ck1 =~ / pwned=(\d+)/;
$ck1 =~ s/ pwned=\d+//;
(my $ck0x = $ck0) =~ s/ pwned=\d+//;
is($ck1, $ck0x, 'tables and catalog unchanged after the function calls (every call rolled back)');

# 1b. By a role without privileges (PUBLIC's only): every function with
# plausible values, all NULL, and the injection strings; refused or
# answered, never worse.
$node->safe_psql($db, 'CREATE ROLE fz_plain LOGIN');
my @sub = grep { $meta[$_] =~ /^\w+: (plausible|every argument NULL|injection|Robert|\w+='x[^a-z])/ } 1 .. $#meta;
my $nsub = fz_load($node, $db, [ map { $calls[$_] } @sub ]);
my $resp = fz_run($node, $db, 1, $nsub, 200, { timeout => 60, single_timeout => 10, role => 'fz_plain' });
my (@pbad_role, %pstates_role);
for my $i (1 .. $nsub)
{
	my $r = $resp->{$i};
	my $what = $meta[ $sub[ $i - 1 ] ];
	$r =~ s/^!lock // if defined $r && $what =~ /^_archive_(start|lock):/;
	if (fz_bad_result($r))
	{
		push @pbad_role, "$what => " . ($r // 'no result');
		next;
	}
	$pstates_role{ $r eq 'ok' ? 'ok' : substr($r, 0, 5) }++;
}
note('as a role without privileges: ' . join(', ', map { "$_ x$pstates_role{$_}" } sort keys %pstates_role));
is(join("\n", @pbad_role), '', "$nsub calls by a role without privileges: no crash, internal error or injection")
  or diag(encode_utf8(join("\n", @pbad_role)));

# 2. Procedures, at top level: each CALL commits what it does; a CALL that
# failed must have changed nothing.
my $script = "\\set VERBOSITY verbose\nSET lock_timeout = '2s';\nSET statement_timeout = '30s';\n";
for my $i (0 .. $#pcalls)
{
	$script .= "SELECT fz.checksum() AS ck \\gset\n\\warn \@\@$i\n$pcalls[$i];\n"
	  . "SELECT fz.checksum() = :'ck' AS same, fz.checksum() AS ck2 \\gset\n\\warn SAME :same :'ck' :'ck2'\n";
}
my $script_file = "$PostgreSQL::Test::Utils::tmp_check/631_procedures.sql";
open(my $sfh, '>:encoding(UTF-8)', $script_file) or die "cannot write $script_file: $!";
print $sfh $script;
close($sfh);
my ($out, $err) = ('', '');
$node->psql($db, "\\i $script_file", stdout => \$out, stderr => \$err, on_error_stop => 0);
my (%pres, $cur);
for my $l (split /\n/, $err)
{
	if ($l =~ /^\@\@(\d+)$/) { $cur = $1; $pres{$cur} = { err => '' }; next; }
	next unless defined $cur;
	if ($l =~ /^SAME (\w+) (.*)$/) { $pres{$cur}{same} = $1; $pres{$cur}{ck} = $2; next; }
	$pres{$cur}{err} ||= $1 if $l =~ /^(?:psql:[^ ]* )?ERROR:\s+(\w{5}: .*)$/;
	$pres{$cur}{err} ||= "CRASH $l" if $l =~ /server closed the connection|connection to server was lost/;
}
my (@pbad, %pstates, %pmsgs, $pok, $pchanged_ok, %pchanged, @pchanged_list);
for my $i (0 .. $#pcalls)
{
	my $p = $pres{$i};
	if (!$p || !defined $p->{same})
	{
		push @pbad, "$pmeta[$i]: no result (crash?) $pcalls[$i]";
		last;
	}
	my $e = $p->{err};
	if ($e eq '')
	{
		$pok++;
		if ($p->{same} ne 't')
		{
			$pchanged_ok++;
			$pchanged{ (split /:/, $pmeta[$i])[0] }++;
			push @pchanged_list, $pmeta[$i];
		}
		next;
	}
	$pstates{ substr($e, 0, 5) }++;
	$pmsgs{"$1 $e"}++ if $pmeta[$i] =~ /^(\w+):/;
	push @pbad, "$pmeta[$i]: $e\n    $pcalls[$i]" if fz_bad_result($e) || $e =~ /^CRASH/;
	push @pbad, "$pmeta[$i]: failed ($e) but changed something ($p->{ck})\n    $pcalls[$i]"
	  if $p->{same} ne 't';
}
note(sprintf('%d procedure calls: %d succeeded (%d of them changed something), errors by SQLSTATE: %s',
	scalar(@pcalls), $pok // 0, $pchanged_ok // 0, join(', ', map { "$_ x$pstates{$_}" } sort keys %pstates)));
# (as bytes: the inputs hold characters outside Latin-1, which the test
# log's writer refuses on PostgreSQL 18)
note(encode_utf8('procedure calls that succeeded and changed something, by procedure: '
	. join(', ', map { "$_ x$pchanged{$_}" } sort keys %pchanged) . "\n" . join("\n", map { "  $_" } @pchanged_list)));
note(encode_utf8("procedure errors:\n" . join("\n", map { "  $pmsgs{$_} x $_" } sort keys %pmsgs)));
# _archive_run() with p_raise false is the policy runner's step: a run
# that cannot start is logged as failed (with a warning), by design.
is(join(', ', grep { $_ ne '_archive_run' } sort keys %pchanged), '',
	'no procedure but _archive_run (which logs a failed run) changed anything when given a bad value');
my %pwant = (
	'partition_table: dry_run=NULL' => '22004',    # converted the table
	"_archive_run: p_operation='no_such_object_zz'" => '22023',  # check violation on archive_runs
	'_archive_run: p_relation=NULL' => '22004',    # not-null violation on archive_runs
);
my %pgot;
$pgot{ $pmeta[$_] } = substr($pres{$_}{err} // '', 0, 5) for 0 .. $#pcalls;
is(join(', ', map { "$_ => $pgot{$_}" } sort keys %pwant), join(', ', map { "$_ => $pwant{$_}" } sort keys %pwant),
	'a NULL dry_run, an unknown operation and a NULL relation get clear errors');
is(join("\n", @pbad), '', scalar(@pcalls) . ' procedure calls: no crash or internal error, and a failed call changed nothing')
  or diag(encode_utf8(join("\n", @pbad)));
ok(@pcalls > 150, scalar(@pcalls) . ' procedure calls made');

# 3. The server as a whole.
my $ck2 = $node->safe_psql($db, 'SELECT fz.checksum()');
like($ck2, qr/pwned=$pw1 victim=true$/, 'no injection ran in a procedure and the victim table is still there');
is($node->safe_psql($db, 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|was terminated by exception|PANIC/, 'no backend died (server log)');
note('took ' . (time - $t_start) . ' s');

$node->stop;
done_testing();
