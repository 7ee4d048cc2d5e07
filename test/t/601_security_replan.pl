# Re-planning and replaying captured statements (docs/security.md,
# "Re-planning and replayed statements").  Three roles share one server:
# app (owns schema app), tenant2 (owns schema tenant2) and monitor (member
# of pg_monitor), plus the superuser that runs the test.  tenant2 plants
# code in its statements; reading index_advice, index_advice_skipped or the
# checklist as the superuser or as monitor must neither make tenant2 a
# superuser nor leave any row its code writes.  Reading index_advice
# honours statement_timeout; index_whatif() tells nothing about a table the
# caller cannot read; workload_script() emits a script that pgbench replays
# exactly, that runs no shell command and no role's own functions, and that
# holds only what the caller may see.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;
use Time::HiRes qw(time);
use SaTest;

my $node = sa_node('replan', conf => q{
scale_advisor.track = 'all'
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.min_table_pages = 0
scale_advisor.index_write_cost_us = 0
scale_advisor.snapshot_interval = 0
});

my $marker = $node->basedir . '/pwned';

$node->safe_psql('postgres', q{
  CREATE EXTENSION scale_advisor;
  CREATE ROLE app LOGIN;
  CREATE ROLE tenant2 LOGIN;
  CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
  CREATE SCHEMA app AUTHORIZATION app;
  CREATE SCHEMA tenant2 AUTHORIZATION tenant2;
  -- as on a database created before PostgreSQL 15
  GRANT CREATE ON SCHEMA public TO PUBLIC;
  GRANT EXECUTE ON FUNCTION scale_advisor.workload_script(integer, boolean)
    TO app, monitor;
});

sub as { return sa_as_role($node, @_); }

# the output of a read as a role, or the error when it fails
sub try_as { return sa_try_as_role($node, @_); }

# tenant2's code: evil() records who ran it and, when that is a superuser,
# makes tenant2 one.  Each attack reaches it from a place the planner
# evaluates.
as('tenant2', q{
  CREATE TABLE tenant2.big (id int, val int, note text);
  INSERT INTO tenant2.big SELECT i, i % 500, 'n' || i FROM generate_series(1, 20000) i;
  ANALYZE tenant2.big;
  CREATE TABLE tenant2.side (tag text, who name);
  GRANT INSERT ON tenant2.side TO PUBLIC;
  CREATE FUNCTION tenant2.evil(tag text) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
  BEGIN
    INSERT INTO tenant2.side VALUES (tag, current_user);
    IF current_setting('is_superuser') = 'on' THEN
      EXECUTE 'ALTER ROLE tenant2 SUPERUSER';
    END IF;
    RETURN 5;
  END $$;
  CREATE FUNCTION tenant2.f_imm(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN tenant2.evil('immutable'); END $$;
  CREATE FUNCTION tenant2.f_stable(int) RETURNS int STABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN tenant2.evil('stable'); END $$;
  CREATE FUNCTION tenant2.f_view(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN tenant2.evil('view'); END $$;
  CREATE FUNCTION tenant2.f_rule(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN tenant2.evil('rule'); END $$;
  CREATE FUNCTION tenant2.f_secdef(int) RETURNS int IMMUTABLE SECURITY DEFINER
    LANGUAGE plpgsql AS $$ BEGIN RETURN tenant2.evil('security definer'); END $$;
  -- an operator planted in public
  CREATE FUNCTION public.t2_plus(int, int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN tenant2.evil('operator'); END $$;
  CREATE OPERATOR public.#+# (leftarg = int, rightarg = int, function = public.t2_plus);
  CREATE VIEW tenant2.v AS SELECT id, val FROM tenant2.big WHERE val = tenant2.f_view(6);
  CREATE TABLE tenant2.rt (id int, val int);
  CREATE RULE rt_upd AS ON UPDATE TO tenant2.rt DO INSTEAD
    UPDATE tenant2.big SET note = 'x' WHERE val = tenant2.f_rule(7);
});

# the statements, each run once by tenant2 (and so captured)
my %attack = (
	immutable => 'SELECT id FROM tenant2.big WHERE val = tenant2.f_imm(1)',
	stable => 'SELECT id FROM tenant2.big WHERE val = tenant2.f_stable(2)',
	operator => 'SELECT id FROM tenant2.big WHERE val = 2 #+# 3',
	view => 'SELECT id FROM tenant2.v WHERE id > 10',
	rule => 'UPDATE tenant2.rt SET val = 1 WHERE id = 1',
	'security definer' => 'SELECT id FROM tenant2.big WHERE val = tenant2.f_secdef(8)',
);
as('tenant2', "$_;") for values %attack;
# and one statement without planted code, for advice
as('tenant2', 'SELECT note FROM tenant2.big WHERE val = 17');

# a function planted in tenant2's pg_temp, named by its schema: the session
# stays open while the others read
my $t2 = $node->background_psql('postgres', extra_params => [ '-U', 'tenant2' ]);
$t2->query_safe(q{CREATE FUNCTION pg_temp.f_tmp(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
  AS $$ BEGIN RETURN tenant2.evil('pg_temp'); END $$});
my $tmpnsp = $t2->query_safe('SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()');
chomp $tmpnsp;
$attack{pg_temp} = "SELECT id FROM tenant2.big WHERE val = $tmpnsp.f_tmp(4)";
$t2->query_safe($attack{pg_temp});

for my $a (sort keys %attack)
{
	is($node->safe_psql('postgres', qq{
		SELECT count(*) > 0 FROM scale_advisor.index_workload
		 WHERE statement = '$attack{$a}'}), 't', "the $a attack statement was captured");
}

sub side_rows
{
	return $node->safe_psql('postgres', 'SELECT count(*) FROM tenant2.side');
}

sub tenant2_super { return sa_rolsuper($node, 'tenant2'); }

my $before = side_rows();
ok($before >= keys %attack, "tenant2's code ran when tenant2 ran its statements ($before rows)");

my @reads = (
	[ 'postgres', 'index_advice', 'SELECT count(*) FROM scale_advisor.index_advice' ],
	[ 'postgres', 'index_advice_skipped', 'SELECT count(*) FROM scale_advisor.index_advice_skipped' ],
	[ 'postgres', 'checklist', 'SELECT count(*) FROM scale_advisor.checklist' ],
	[ 'monitor', '_index_advice()', 'SELECT count(*) FROM scale_advisor._index_advice(true) AS a(queryid bigint, userid oid, reason text)' ],
	[ 'monitor', 'index_advice', 'SELECT count(*) FROM scale_advisor.index_advice' ],
	[ 'monitor', 'checklist', 'SELECT count(*) FROM scale_advisor.checklist' ],
);
for my $r (@reads)
{
	my ($role, $what, $sql) = @$r;
	my $who = $role eq 'postgres' ? 'the superuser' : $role;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	note("$who reads $what: ret $ret, $out $err");
	is(tenant2_super(), 'f', "$who reads $what: tenant2 is still not a superuser");
	is(side_rows(), $before, "$who reads $what: tenant2's code left no row");
	is($node->safe_psql('postgres', q{SELECT count(*) FROM tenant2.side WHERE who <> 'tenant2'}),
		'0', "$who reads $what: tenant2's code never ran as another role");
}
$t2->quit;

# the planted code ran as tenant2: its ALTER ROLE was refused (is_superuser
# is a setting of the session, not of the role the code runs as); the
# message is "permission denied to alter role" since PostgreSQL 16
like($node->safe_psql('postgres', q{SELECT string_agg(reason, E'\n') FROM scale_advisor.index_advice_skipped}),
	qr/must be superuser to alter superuser roles|permission denied to alter role/,
	'the planted ALTER ROLE ran as tenant2, and was refused');
# the advice is still computed from tenant2's statements, planned as tenant2
ok($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.index_advice
	WHERE relation = 'tenant2.big'::regclass}) > 0,
	'the superuser still gets advice for tenant2.big');
is(try_as('tenant2', q{SELECT count(*) > 0 FROM scale_advisor.index_advice
	WHERE relation = 'tenant2.big'::regclass}), 't', 'tenant2 gets advice from its own statements');
is(try_as('app', q{SELECT count(*) FROM scale_advisor.index_advice WHERE relation::text = 'tenant2.big'}),
	'0', 'app gets no advice derived from tenant2\'s statements');
is(try_as('app', q{SELECT count(*) FROM scale_advisor.index_workload WHERE userid = 'tenant2'::regrole}),
	'0', 'app sees no row of tenant2\'s statements in index_workload');
is(try_as('app', q{SELECT count(*) FROM scale_advisor.index_advice_skipped WHERE userid = 'tenant2'::regrole}),
	'0', 'app sees no skipped statement of tenant2');
ok(try_as('monitor', q{SELECT count(*) FROM scale_advisor.index_workload WHERE userid = 'tenant2'::regrole}) > 0,
	'monitor (pg_read_all_stats) sees tenant2\'s rows in index_workload');

# the reader's temporary view would shadow the table app's statement named:
# captured statements are analysed with pg_temp last in the search_path, so
# the statement is planned against app's table and the reader's function
# never runs as app (on 18 the query identifier is made from names, so a
# changed identifier could not be the only guard)
as('app', q{
  CREATE TABLE app.items (id int, val int);
  INSERT INTO app.items SELECT i, i % 100 FROM generate_series(1, 5000) i;
  ANALYZE app.items;
  SELECT id FROM items WHERE val = 5;
});
my $m = $node->background_psql('postgres', extra_params => [ '-U', 'monitor' ]);
$m->query_safe(q{
  CREATE TABLE public.mon_side (who name);
  GRANT INSERT ON public.mon_side TO PUBLIC;
  CREATE FUNCTION public.mon_log() RETURNS int LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN INSERT INTO public.mon_side VALUES (current_user); RETURN 1; END $$;
  CREATE FUNCTION public.mon_f(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN public.mon_log(); END $$;
  CREATE TEMP VIEW items AS SELECT g AS id, g AS val FROM generate_series(1, 10) g
    WHERE public.mon_f(1) > 0;
  GRANT SELECT ON items TO PUBLIC});
my $shadow_skips = $m->query_safe(q{SELECT count(*)
  FROM scale_advisor._index_advice(true) AS a(queryid bigint, userid oid, reason text)
  WHERE userid = 'app'::regrole
    AND (reason LIKE '%query identifier changed%' OR reason LIKE '%another role%')});
$m->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.mon_side'), '0',
	'a temporary view of the reader that shadows app\'s table runs nothing');
is($shadow_skips, '0', 'app\'s statement still resolves to app\'s own table (pg_temp searched last)');

# a statement whose role was dropped is skipped with a reason
$node->safe_psql('postgres', q{
  CREATE ROLE gone LOGIN; GRANT SELECT ON tenant2.big TO gone; GRANT USAGE ON SCHEMA tenant2 TO gone});
as('gone', 'SELECT note FROM tenant2.big WHERE note = $$gone$$');
$node->safe_psql('postgres', q{REVOKE ALL ON tenant2.big FROM gone; REVOKE ALL ON SCHEMA tenant2 FROM gone; DROP ROLE gone});
like($node->safe_psql('postgres', q{SELECT string_agg(reason, '; ') FROM scale_advisor.index_advice_skipped
	WHERE reason LIKE '%role%'}), qr/no longer exists/, 'a statement of a dropped role is skipped with a reason');

# --- index_whatif on a table the caller cannot read
as('app', q{
  CREATE TABLE app.secret (id int, payload text);
  INSERT INTO app.secret SELECT i, repeat('s', 500) FROM generate_series(1, 5000) i;
  ANALYZE app.secret;
  GRANT USAGE ON SCHEMA app TO tenant2;
});
ok(try_as('app', q{SELECT est_size_bytes FROM scale_advisor.index_whatif('SELECT 1', 'CREATE INDEX ON app.secret (payload)')}) > 1000000,
	'app sees the size of an index on its own table');
my ($ret, $out, $err) = $node->psql('postgres',
	q{\set VERBOSITY verbose
	  SELECT est_size_bytes FROM scale_advisor.index_whatif('SELECT 1', 'CREATE INDEX ON app.secret (payload)')},
	extra_params => [ '-U', 'tenant2' ]);
is($out, '', 'index_whatif shows tenant2 nothing about app.secret');
like($err, qr/42501/, 'index_whatif refuses with insufficient_privilege');
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT est_size_bytes FROM scale_advisor.index_whatif('SELECT * FROM app.secret WHERE id = 1', 'CREATE INDEX ON app.secret (id)')},
	extra_params => [ '-U', 'tenant2' ]);
is($out, '', 'nor about a statement on app.secret');

# --- workload_script
as('app', q{
  CREATE TABLE app.trg (x int);
  CREATE FUNCTION app.trg_f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER trg_t BEFORE INSERT ON app.trg FOR EACH ROW EXECUTE FUNCTION app.trg_f();
});
$node->safe_psql('postgres', 'SELECT scale_advisor.history_reset()');

# (1) a literal sent inline with standard_conforming_strings off holds a
# quote, then a pgbench meta-command if read with standard strings
as('app', "CREATE TABLE app.t1 (v text);
  SELECT count(*) FROM app.t1 WHERE v <> 'plain';
  SET standard_conforming_strings = off;
  SELECT count(*) FROM app.t1 WHERE v = 'x\\' \\shell touch $marker #';");
my $script = try_as('app', 'SELECT scale_advisor.workload_script(50)');
note($script);
like($script, qr/left out: queryid -?\d+ \(1 call\): .*backslash/, 'the inline literal with a backslash is left out, with the reason');
unlike($script, qr/touch/, 'no shell command appears in the script');
my $file = $node->basedir . '/workload.sql';
open my $fh, '>', $file or die;
print $fh $script;
close $fh;
$node->command_ok([ 'pgbench', '-n', '-t', '50', '-f', $file, '-U', 'app', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'pgbench runs app\'s script');
ok(!-e $marker, 'no shell command ran');

# (2) values of bound parameters round-trip exactly
$node->safe_psql('postgres', 'SELECT scale_advisor.history_reset()');
my @values = (
	q{it's "quoted"},
	q{back\slash \\\\ double \\},
	"line1\nline2\n\\shell touch $marker\n",
	"x' \\shell touch $marker #",
	':sa_pick :client_id :foo :"x" :\'y\'',
	"h\x{e9}llo \x{2603} \x{65e5}\x{672c}",
	undef,
	'$1 $$ dollar $q$ ; SELECT 1; -- no',
);
as('app', 'CREATE TABLE app.rec (tag int, ' . join(', ', map { "v$_ text" } 1 .. @values) . ')');
my $capture = "SET client_encoding = 'UTF8';\n";
for my $i (1 .. @values)
{
	my $v = $values[ $i - 1 ];
	my $lit = defined $v ? 'convert_from(decode(\'' . unpack('H*', do { my $b = $v; utf8::encode($b); $b }) . "', 'hex'), 'UTF8')" : 'NULL';
	$capture .= "PREPARE p$i(text) AS INSERT INTO app.rec (tag, v$i) VALUES ($i, \$1);\nEXECUTE p$i($lit);\n";
}
$capture .= "SELECT count(*) FROM app.rec WHERE v2 = ':sa_pick';\n";
$capture .= "INSERT INTO app.trg VALUES (7);\n";
as('app', $capture);
# tenant2 runs a statement with its function, and one without
as('tenant2', q{SELECT id FROM tenant2.big WHERE val = tenant2.f_imm(3); SELECT count(*) FROM tenant2.big WHERE id = 42});
as('app', 'TRUNCATE app.rec');

$script = try_as('app', 'SELECT scale_advisor.workload_script(50, include_writes => true)');
note($script);
my $sqlpart = join "\n", grep { !/^--/ } split /\n/, $script;
unlike($sqlpart, qr/tenant2/, 'app\'s script holds only app\'s statements');
like($script, qr/left out: .*pgbench variable/, 'the text with a :name is left out, with the reason');
unlike($script, qr/touch/, 'no shell command appears in the script');
like($script, qr/left out: .*writes table trg, which has trigger trg_t/, 'a write that fires app\'s trigger is left out, with the reason');
open $fh, '>', $file or die;
print $fh $script;
close $fh;
# in pgbench's simple mode the values would be pasted into the text: the
# script stops before any statement runs
my ($bout, $berr);
IPC::Run::run([ 'pgbench', '-n', '-t', '20', '-f', $file, '-U', 'app', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$bout, '2>', \$berr);
like($berr, qr/cannot use pipeline mode with the simple query protocol/, 'the script refuses pgbench\'s simple mode');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.rec'), '0', 'and ran nothing in it');
$node->command_ok([ 'pgbench', '-n', '-M', 'extended', '-t', '300', '-f', $file, '-U', 'app', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'pgbench replays app\'s script');
ok(!-e $marker, 'no shell command ran');
for my $i (1 .. @values)
{
	my $got = $node->safe_psql('postgres', "SELECT DISTINCT coalesce(encode(convert_to(v$i, 'UTF8'), 'hex'), 'NULL') FROM app.rec WHERE tag = $i");
	my $v = $values[ $i - 1 ];
	my $want = defined $v ? unpack('H*', do { my $b = $v; utf8::encode($b); $b }) : 'NULL';
	is($got, $want, "value $i round-trips through the script exactly");
}

my $su = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(50)');
note($su);
$sqlpart = join "\n", grep { !/^--/ } split /\n/, $su;
like($sqlpart, qr/tenant2\.big WHERE id = /, 'the superuser\'s script replays tenant2\'s plain statement');
unlike($sqlpart, qr/f_imm|evil/, 'but never a statement calling tenant2\'s function');
like($su, qr/left out: .*calls tenant2\.f_imm/, 'which is left out with the reason');

my $mon = try_as('monitor', 'SELECT scale_advisor.workload_script(50)');
note($mon);
$sqlpart = join "\n", grep { !/^--/ } split /\n/, $mon;
unlike($sqlpart, qr/tenant2|app\./, 'monitor\'s script replays no other role\'s example');
like($mon, qr/left out: .*another role/, 'and says why');

# --- statement_timeout while reading index_advice: tenant2's statements
# take 2 s each to plan
as('tenant2', q{
  CREATE FUNCTION tenant2.f_slow(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN PERFORM pg_sleep(2); RETURN $1; END $$;
  SELECT id FROM tenant2.big WHERE val = tenant2.f_slow(1);
  SELECT id FROM tenant2.big WHERE val = tenant2.f_slow(1) AND note = 'a';
  SELECT id FROM tenant2.big WHERE val > tenant2.f_slow(1) ORDER BY note LIMIT 1;
  SELECT id FROM tenant2.big WHERE note = 'x' AND id < tenant2.f_slow(1);
  SELECT val FROM tenant2.big WHERE id = tenant2.f_slow(1) + 1;
  SELECT note FROM tenant2.big WHERE val < tenant2.f_slow(1) AND id > 3;
});
my $t0 = time();
($ret, $out, $err) = $node->psql('postgres', q{
  \set VERBOSITY verbose
  SET scale_advisor.advice_time_limit_ms = 600000;
  SET statement_timeout = '1s';
  SELECT count(*) FROM scale_advisor.index_advice;});
my $elapsed = time() - $t0;
note("index_advice with statement_timeout 1s: ret $ret, $elapsed s, $err");
like($err, qr/57014/, 'reading index_advice ends with query_canceled (57014) under statement_timeout');
ok($elapsed < 8, "and well before the 12 s of planning it would take ($elapsed s)");

$node->stop;
done_testing();
