# Security of the views and functions (docs/security.md), played with the
# roles of a shared server: app (owns schema app), tenant2 (owns schema
# tenant2), monitor (member of pg_monitor), stats (member of
# pg_read_all_stats) and the superuser that runs the test.
#
#  1. A schema named scale_advisor created before CREATE EXTENSION by a role
#     that is not a superuser: the released 1.0 installs into it and the
#     superuser's CALL scale_advisor.archive(...) runs the role's procedure;
#     1.1 refuses to install or update into it.
#  2. Statement data across roles: texts, query ids and parameter values in
#     every statement view and in _history(); the N+1 parent after SET ROLE;
#     the N+1 ignore list (creator, row-level security, scope of a rule).
#  3. snapshot(), its background worker and the monitoring views while a
#     table owner holds ACCESS EXCLUSIVE on a table: they return, and say
#     which table they left out.
#  4. Monitoring: pg_monitor and pg_read_all_stats members read every
#     monitoring view and function; an application role gets
#     insufficient_privilege with a hint naming the grant.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use Time::HiRes qw(time);

my $node = sa_node('secviews', conf => q{
scale_advisor.track = 'all'
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.snapshot_interval = 0
});
my $su = $node->safe_psql('postgres', 'SELECT current_user');

$node->safe_psql('postgres', q{
  CREATE ROLE app LOGIN;
  CREATE ROLE tenant2 LOGIN;
  CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
  CREATE ROLE stats LOGIN IN ROLE pg_read_all_stats;
  CREATE DATABASE appdb OWNER app;
});

sub rolsuper
{
	my ($role) = @_;
	return $node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'");
}

# psql as a role; returns (exit code, stdout, stderr) with SQLSTATEs shown
sub as_role
{
	my ($role, $db, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db, "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ]);
	return ($rc, $out, $err);
}

# ---------------------------------------------------------------------
# 1. pre-created schema
# ---------------------------------------------------------------------
my ($rc, $out, $err) = as_role('app', 'appdb', 'CREATE SCHEMA scale_advisor');
is($rc, 0, 'app creates schema scale_advisor in its database') or diag($err);

# The released 1.0 script installs into app's schema; app then adds a
# procedure there, and the README's CALL runs it as the superuser: the
# attack works against 1.0.
$node->safe_psql('appdb', "CREATE EXTENSION scale_advisor VERSION '1.0'");
($rc, $out, $err) = as_role('app', 'appdb', q{
  CREATE PROCEDURE scale_advisor.archive(relation text, time_column text, older_than text)
  LANGUAGE plpgsql AS $p$
  BEGIN
    IF current_setting('is_superuser') = 'on' THEN
      EXECUTE 'ALTER ROLE app SUPERUSER';
    END IF;
  END $p$;
});
is($rc, 0, 'app plants scale_advisor.archive(text, text, text) next to the extension\'s') or diag($err);
is($node->safe_psql('appdb', q{SELECT n.nspowner::regrole FROM pg_extension e
	JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'scale_advisor'}),
	'app', '1.0 installed into the schema app owns');
$node->safe_psql('appdb', q{CREATE TABLE public.events (id int, created_at timestamptz)});
($rc, $out, $err) = $node->psql('appdb', q{CALL scale_advisor.archive('public.events', 'created_at', '90 days')});
is(rolsuper('app'), 't', 'with 1.0 the superuser\'s CALL scale_advisor.archive(...) ran app\'s procedure: app became superuser');
$node->safe_psql('postgres', 'ALTER ROLE app NOSUPERUSER');
is(rolsuper('app'), 'f', 'app is no superuser again');

# 1.1 refuses the update of that installation
($rc, $out, $err) = $node->psql('appdb', "\\set VERBOSITY verbose\nALTER EXTENSION scale_advisor UPDATE");
isnt($rc, 0, 'ALTER EXTENSION UPDATE into the schema app owns fails');
like($err, qr/42501/, '... with insufficient_privilege');
like($err, qr/HINT:.*ALTER SCHEMA scale_advisor OWNER TO/, '... and a hint saying what to do');
is($node->safe_psql('appdb', "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'"),
	'1.0', 'the installation stays at 1.0');
$node->safe_psql('appdb', 'DROP EXTENSION scale_advisor');

# 1.1 refuses to install into it
($rc, $out, $err) = $node->psql('appdb', "\\set VERBOSITY verbose\nCREATE EXTENSION scale_advisor");
isnt($rc, 0, 'CREATE EXTENSION into the schema app owns fails');
like($err, qr/42501.*schema scale_advisor is owned by role app/, '... naming the owner');
is($node->safe_psql('appdb', "SELECT count(*) FROM pg_extension WHERE extname = 'scale_advisor'"),
	'0', 'the extension is not installed');
$node->psql('appdb', q{CALL scale_advisor.archive('public.events', 'created_at', '90 days')})
  if 0;    # an administrator would not call it: there is no extension
is(rolsuper('app'), 'f', 'app is not a superuser after the refused CREATE EXTENSION');

# owned by the superuser, but app may still create in it
$node->safe_psql('appdb', "ALTER SCHEMA scale_advisor OWNER TO $su; GRANT CREATE ON SCHEMA scale_advisor TO app");
($rc, $out, $err) = $node->psql('appdb', "\\set VERBOSITY verbose\nCREATE EXTENSION scale_advisor");
like($err, qr/42501.*roles other than the owner may create objects in schema scale_advisor: app/,
	'refused while app has CREATE on the schema');
$node->safe_psql('appdb', 'REVOKE CREATE ON SCHEMA scale_advisor FROM app');
($rc, $out, $err) = $node->psql('appdb', "\\set VERBOSITY verbose\nCREATE EXTENSION scale_advisor");
like($err, qr/42501.*contains objects owned by roles that are not superusers/,
	'refused while the schema holds app\'s procedure');
like($err, qr/DETAIL:.*routine scale_advisor\.archive\((IN )?relation text, .*\) owned by app/, '... which it names');
$node->safe_psql('appdb', 'DROP PROCEDURE scale_advisor.archive(text, text, text)');
($rc, $out, $err) = $node->psql('appdb', 'CREATE EXTENSION scale_advisor');
is($rc, 0, 'a schema the superuser owns, with nothing planted, is accepted') or diag($err);
is(rolsuper('app'), 'f', 'app never became superuser through 1.1');
$node->safe_psql('appdb', 'DROP EXTENSION scale_advisor');

# ---------------------------------------------------------------------
# 2. statement data across roles
# ---------------------------------------------------------------------
$node->safe_psql('postgres', q{
  CREATE EXTENSION scale_advisor;
  CREATE SCHEMA app AUTHORIZATION app;
  CREATE SCHEMA tenant2 AUTHORIZATION tenant2;
  GRANT EXECUTE ON FUNCTION scale_advisor.n_plus_one_ignore(bigint, text, text),
    scale_advisor.n_plus_one_ignore_application(text, text),
    scale_advisor.n_plus_one_unignore(bigint, text) TO app, tenant2;
  GRANT SELECT, INSERT, DELETE ON scale_advisor.n_plus_one_ignore_list TO app, tenant2;
});
$node->safe_psql('postgres', q{
  SET ROLE app;
  CREATE TABLE app.items (id int PRIMARY KEY, v int, note text);
  INSERT INTO app.items SELECT g, g % 100, 'n' || g FROM generate_series(1, 20000) g;
  CREATE TABLE app.details (item_id int, d text);
  INSERT INTO app.details SELECT g, 'd' || g FROM generate_series(1, 2000) g;
  ANALYZE app.items, app.details;
  SET ROLE tenant2;
  CREATE TABLE tenant2.cards (id int PRIMARY KEY, owner text, number text);
  INSERT INTO tenant2.cards SELECT g, 'o' || g, '4111-' || g FROM generate_series(1, 50) g;
  ANALYZE tenant2.cards;
});

# app's statements: one with bound parameters (extended protocol), one
# with a literal, run often enough to be kept with an example
{
	open my $fh, '>', $node->basedir . '/app.sql' or die;
	print $fh "\\set x 987654\nSELECT v AS app_marker_col FROM app.items WHERE v < 50 AND id = :x;\n";
	close $fh;
}
$node->command_ok([ 'pgbench', '-n', '-M', 'prepared', '-t', '20', '-U', 'app',
	'-h', $node->host, '-p', $node->port, '-f', $node->basedir . '/app.sql', 'postgres' ],
	'app runs a prepared statement with a bound value');
$node->safe_psql('postgres', q{SELECT count(*) AS app_marker_col FROM app.items WHERE note = 'app_literal_secret'},
	extra_params => [ '-U', 'app' ]) for 1 .. 3;

my $hist_q = q{SELECT coalesce(string_agg(coalesce(h.sample_query, '<null>') || ' values=' || coalesce(h.param_values::text, '<null>'), ' | '), '<none>')
	FROM scale_advisor._history() h WHERE h.userid = 'app'::regrole AND h.sample_query LIKE '%app.items WHERE v < 50%'};
my $hist_rows = q{SELECT count(*) FROM scale_advisor._history() h WHERE h.userid = 'app'::regrole};
like($node->safe_psql('postgres', $hist_q, extra_params => [ '-U', 'app' ]), qr/values=\{987654\}/,
	'_history(): app sees the bound value of its own statement');
like($node->safe_psql('postgres', $hist_q), qr/values=\{987654\}/,
	'_history(): the superuser sees it');
# Readers of all statistics see app's statements (their rows, and the
# normalized text in query_stats) but not what an example ran with: its
# bound values, nor its text, which holds its literals (as
# pg_stat_statements shows them only normalized texts).
my $ex_all = q{SELECT coalesce(string_agg(coalesce(sample_query, '<null>') || ' values=' || coalesce(param_values::text, '<null>'), ' | '), '<none>')
	FROM %s WHERE userid = 'app'::regrole};
for my $r ('stats', 'monitor')
{
	ok($node->safe_psql('postgres', $hist_rows, extra_params => [ '-U', $r ]) >= 2,
		"_history(): $r sees the rows of app's statements");
	for my $f ('scale_advisor._history()', 'scale_advisor._history_examples()')
	{
		my $h = $node->safe_psql('postgres', sprintf($ex_all, $f), extra_params => [ '-U', $r ]);
		unlike($h, qr/987654|app_literal_secret|v < 50/, "$f: $r sees neither app's bound value nor its literals");
	}
	my $w = $node->safe_psql('postgres', q{SELECT coalesce(string_agg(coalesce(statement, '<null>'), ' | '), '<none>')
		FROM scale_advisor.index_workload WHERE userid = 'app'::regrole}, extra_params => [ '-U', $r ]);
	unlike($w, qr/987654|app_literal_secret/, "index_workload: $r sees no literal of app's statements");
	like($node->safe_psql('postgres', q{SELECT string_agg(query, ' | ') FROM scale_advisor.query_stats WHERE userid = 'app'::regrole},
		extra_params => [ '-U', $r ]), qr/app_marker_col/, "query_stats: $r sees the normalized text of app's statement");
}
like($node->safe_psql('postgres', sprintf($ex_all, 'scale_advisor._history_examples()'), extra_params => [ '-U', 'app' ]),
	qr/app_literal_secret/, '_history_examples(): app sees the literal of its own example');
is($node->safe_psql('postgres', $hist_rows, extra_params => [ '-U', 'tenant2' ]), '0',
	'_history(): tenant2 sees no row of app\'s statements');

# app's query ids
my @app_ids = split /\n/, $node->safe_psql('postgres',
	q{SELECT DISTINCT queryid FROM scale_advisor.query_stats WHERE userid = 'app'::regrole AND queryid <> 0});
ok(@app_ids >= 2, scalar(@app_ids) . ' query ids of app\'s statements');
my $ids_re = join('|', map { quotemeta } @app_ids);

# N+1 after SET ROLE: tenant2's statement (with a card number) just
# before app's loop, in one session and one transaction
my $loop = join("\n", map { "SELECT d FROM app.details WHERE item_id = $_;" } 1 .. 12);
$node->safe_psql('postgres', qq{
  BEGIN;
  SET ROLE tenant2;
  SELECT number FROM tenant2.cards WHERE number <> '4111-secret-card';
  SET ROLE app;
  $loop
  COMMIT;
});
# the same with app's own parent: the link itself works
my $loop2 = join("\n", map { "SELECT v FROM app.items WHERE id = $_ AND note IS NOT NULL;" } 1 .. 12);
$node->safe_psql('postgres', qq{
  BEGIN;
  SET ROLE app;
  SELECT item_id FROM app.details WHERE d <> 'app_parent_literal' LIMIT 12;
  $loop2
  COMMIT;
});
my $np = q{SELECT coalesce(string_agg(coalesce(parent_query, '<none>'), ' | '), '<no row>') FROM scale_advisor.n_plus_one
	WHERE userid = 'app'::regrole AND query LIKE '%%%s%%'};
my $np_cards = sprintf($np, 'app.details WHERE item_id');
my $np_own = sprintf($np, 'app.items WHERE id');
for my $r ('app', $su, 'stats')
{
	my $v = $node->safe_psql('postgres', $np_cards, extra_params => [ '-U', $r ]);
	isnt($v, '<no row>', "n_plus_one: $r sees app's loop detected after SET ROLE");
	unlike($v, qr/4111-secret-card|tenant2\.cards/, "n_plus_one: $r does not see tenant2's statement as the loop's parent");
}
like($node->safe_psql('postgres', $np_own, extra_params => [ '-U', 'app' ]), qr/app_parent_literal/,
	'n_plus_one: a parent app ran itself is linked');

# N+1 ignore rules: creator, row-level security, scope
my $t2loop = join("\n", map { "SELECT owner FROM tenant2.cards WHERE id = $_;" } 1 .. 12);
$node->safe_psql('postgres', qq{
  SET application_name = 'shared_app';
  BEGIN; $t2loop COMMIT;
}, extra_params => [ '-U', 'tenant2' ]);
$node->safe_psql('postgres', qq{SET application_name = 'shared_app'; BEGIN; $loop COMMIT;},
	extra_params => [ '-U', 'app' ]);
my $np_t2 = q{SELECT count(*) FROM scale_advisor.n_plus_one WHERE userid = 'tenant2'::regrole AND application_name = 'shared_app'};
my $np_app = q{SELECT count(*) FROM scale_advisor.n_plus_one WHERE userid = 'app'::regrole AND application_name = 'shared_app'};
ok($node->safe_psql('postgres', $np_t2) > 0, 'tenant2 has detections under application shared_app');
is($node->safe_psql('postgres', q{SELECT scale_advisor.n_plus_one_ignore_application('shared_app', 'hide them all')},
	extra_params => [ '-U', 'app' ]), 't', 'app ignores application shared_app');
is($node->safe_psql('postgres', $np_app), '0', 'app\'s rule hides app\'s detections');
ok($node->safe_psql('postgres', $np_t2) > 0, 'app\'s rule does not hide tenant2\'s detections (from the superuser)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.n_plus_one_ignore_list}, extra_params => [ '-U', 'tenant2' ]),
	'0', 'tenant2 does not see app\'s ignore rule');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.n_plus_one_ignore_list}, extra_params => [ '-U', 'monitor' ]),
	'0', 'monitor does not see app\'s ignore rule');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.n_plus_one_ignore_list}, extra_params => [ '-U', 'app' ]),
	'1', 'app sees its ignore rule');
is($node->safe_psql('postgres', q{SELECT scale_advisor.n_plus_one_unignore(application_name => 'shared_app')},
	extra_params => [ '-U', 'tenant2' ]), '0', 'tenant2 cannot remove app\'s rule');
($rc, $out, $err) = as_role('tenant2', 'postgres',
	q{INSERT INTO scale_advisor.n_plus_one_ignore_list (application_name, created_by) VALUES ('x', 'app')});
like($err, qr/42501.*row-level security/, 'tenant2 cannot add a rule in app\'s name');
is($node->safe_psql('postgres', q{SELECT string_agg(created_by::text || ':' || application_name, ',') FROM scale_advisor.n_plus_one_ignore_list}),
	'app:shared_app', 'the ignore list holds app\'s rule only, with its creator');
is($node->safe_psql('postgres', q{SELECT scale_advisor.n_plus_one_ignore_application('shared_app')},
	extra_params => [ '-U', 'tenant2' ]), 't', 'tenant2 ignores shared_app for itself');
is($node->safe_psql('postgres', $np_t2), '0', 'tenant2\'s own rule hides its detections');

# Every statement view and function, per role: text and query ids of app's
# statements only to app, the superuser and the statistics readers.
# On PostgreSQL 18 query ids are made from table names, not OIDs, so a
# statement of tenant2 on its own table of the same name has the same id as
# app's: that id is tenant2's own.  Only ids app alone has are looked for.
my %t2_ids = map { $_ => 1 } split /\n/, $node->safe_psql('postgres',
	q{SELECT DISTINCT queryid FROM scale_advisor.query_stats WHERE userid = 'tenant2'::regrole});
my @app_only_ids = grep { !$t2_ids{$_} } @app_ids;
ok(@app_only_ids >= 2, scalar(@app_only_ids) . ' query ids only app\'s statements have');
my $app_only_re = join('|', map { quotemeta } @app_only_ids);
my @stmt_objs = ('scale_advisor.query_stats', 'scale_advisor.slow_queries', 'scale_advisor.n_plus_one',
	'scale_advisor.index_workload', 'scale_advisor._history()');
for my $obj (@stmt_objs)
{
	my $sql = "SELECT coalesce(string_agg(t::text, ' '), '') FROM $obj t";
	my %seen;
	for my $r ('app', 'tenant2', 'monitor', 'stats', $su)
	{
		my ($rc2, $o, $e) = $node->psql('postgres', $sql, extra_params => [ '-U', $r ]);
		is($rc2, 0, "$obj readable by $r") or diag($e);
		$seen{$r} = $o;
	}
	# (relation names are in the catalogs for everyone; texts are not)
	unlike($seen{tenant2}, qr/app_marker_col|app_literal_secret|WHERE item_id/, "$obj: tenant2 sees no text of app's statements");
	unlike($seen{tenant2}, qr/(?<![0-9])($app_only_re)(?![0-9])/, "$obj: tenant2 sees no query id of app's statements");
	unlike("$seen{monitor} $seen{stats} $seen{tenant2}", qr/987654/, "$obj: only app and the superuser see app's bound value");
	next if $obj =~ /slow_queries/;    # nothing of app is slow
	like($seen{app}, qr/app_marker_col|app_literal_secret|WHERE item_id/, "$obj: app sees its own statements");
	if ($obj =~ /index_workload|_history/)
	{
		# the texts as they ran (with their literals): their own role and
		# superusers only; the readers of all statistics see the rows
		for my $r ('stats', 'monitor')
		{
			like($seen{$r}, qr/(?<![0-9])($app_only_re)(?![0-9])/, "$obj: $r sees app's statements (their query ids)");
			unlike($seen{$r}, qr/app_literal_secret|app_marker_col/, "$obj: $r sees no text app's statements ran with");
		}
		next;
	}
	like($seen{stats}, qr/app_marker_col|app_literal_secret|WHERE item_id/, "$obj: a pg_read_all_stats member sees app's statements");
	like($seen{monitor}, qr/app_marker_col|app_literal_secret|WHERE item_id/, "$obj: a pg_monitor member sees app's statements");
}

# ---------------------------------------------------------------------
# 3. a table owner's ACCESS EXCLUSIVE lock
# ---------------------------------------------------------------------
$node->safe_psql('postgres', q{
  SET ROLE app;
  CREATE TABLE app.locked_t (id int PRIMARY KEY, pad text);
  INSERT INTO app.locked_t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g;
  ANALYZE app.locked_t;
});
my $holder = $node->background_psql('postgres', extra_params => [ '-U', 'app' ]);
$holder->query_safe('BEGIN; LOCK TABLE app.locked_t IN ACCESS EXCLUSIVE MODE;');

# what the old snapshot() did: pg_total_relation_size waits for the lock
($rc, $out, $err) = $node->psql('postgres', "SET lock_timeout = '500ms'; SELECT pg_total_relation_size('app.locked_t')");
like($err, qr/lock timeout/, 'pg_total_relation_size waits behind the lock (what snapshot() used to call)');

my $t0 = time;
($rc, $out, $err) = $node->psql('postgres', "SET statement_timeout = '60s'; SELECT scale_advisor.snapshot()");
my $took = time - $t0;
is($rc, 0, 'snapshot() returns while app holds ACCESS EXCLUSIVE on app.locked_t') or diag($err);
ok($took < 15, sprintf('... without waiting for the lock (%.1f s)', $took));
like($err, qr/WARNING:.*left out 1 table\(s\) locked by other sessions: app\.locked_t/, '... and warns which table it left out');
is($node->safe_psql('postgres', q{SELECT locked_tables FROM scale_advisor.snapshots ORDER BY snap_id DESC LIMIT 1}),
	'{app.locked_t}', 'snapshots.locked_tables names it');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.snapshot_tables t
	JOIN scale_advisor.snapshots s USING (snap_id) WHERE t.relname = 'locked_t'}),
	'0', 'no size was recorded for the locked table');
ok($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.snapshot_tables t WHERE t.relname = 'items'}) > 0,
	'the other tables were recorded');

# the monitoring views do not wait either
for my $v ('scale_advisor.growth', 'scale_advisor.checklist', 'scale_advisor.capacity(2)')
{
	$t0 = time;
	($rc, $out, $err) = $node->psql('postgres', "SET statement_timeout = '60s'; SELECT count(*) FROM $v",
		extra_params => [ '-U', 'monitor' ]);
	$took = time - $t0;
	ok($rc == 0 && $took < 15, sprintf('%s returns to monitor under the lock (%.1f s)', $v, $took)) or diag($err);
}

# the background worker too
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.snapshots');
$node->safe_psql('postgres', 'ALTER SYSTEM SET scale_advisor.snapshot_interval = 1; SELECT pg_reload_conf()');
ok($node->poll_query_until('postgres',
	"SELECT count(*) > $before FROM scale_advisor.snapshots WHERE locked_tables = '{app.locked_t}'"),
	'the snapshot worker takes its snapshot under the lock, leaving the table out');
$node->safe_psql('postgres', 'ALTER SYSTEM SET scale_advisor.snapshot_interval = 0; SELECT pg_reload_conf()');
$holder->query_safe('COMMIT');
$holder->quit;
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.snapshot_tables t
	WHERE t.relname = 'locked_t' AND t.snap_id = (SELECT max(snap_id) FROM scale_advisor.snapshots)}),
	'1', 'once the lock is gone the next snapshot records the table');

# ---------------------------------------------------------------------
# 4. monitoring
# ---------------------------------------------------------------------
my @monitoring = qw(info checklist alerts growth regressions threshold_settings
  unused_indexes duplicate_indexes invalid_indexes fk_without_index
  partition_advice partition_maintenance_status);
push @monitoring, 'capacity(2)';
for my $v (@monitoring)
{
	my $sql = "SELECT count(*) FROM scale_advisor.$v";
	for my $r ('monitor', 'stats')
	{
		($rc, $out, $err) = as_role($r, 'postgres', $sql);
		is($rc, 0, "$r reads scale_advisor.$v") or diag($err);
	}
	($rc, $out, $err) = as_role('app', 'postgres', $sql);
	isnt($rc, 0, "app may not read scale_advisor.$v");
	(my $name = $v) =~ s/\(\d+\)/()/;
	like($err, qr/ERROR:  42501: permission denied to read scale_advisor\.\Q$name\E/, "... insufficient_privilege naming scale_advisor.$name");
	like($err, qr/HINT:  Ask an administrator to run: GRANT pg_monitor TO app;/, '... with a hint naming the grant');
}
ok($node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.checklist', extra_params => [ '-U', 'monitor' ]) >= 20,
	'monitor gets every row of the checklist');

# The functions behind the checklist and the alerts: called directly, they
# must not give app what the views refuse it (they checked no reader).
for my $f (qw(_checklist() _alerts() _check_connections() _check_role_timeouts()
  _check_unused_indexes() _check_regressions() _growth() _regressions()
  _maintenance_status() _partition_advice()))
{
	($rc, $out, $err) = as_role('app', 'postgres', "SELECT count(*) FROM scale_advisor.$f");
	ok($rc != 0 && $out eq '', "app gets no rows from scale_advisor.$f") or diag("rc $rc out '$out' err $err");
}
($rc, $out, $err) = as_role('monitor', 'postgres', 'SELECT count(*) FROM scale_advisor._checklist()');
ok($rc == 0 && $out >= 20, 'monitor still gets every row from _checklist()') or diag($err);
($rc, $out, $err) = as_role('stats', 'postgres', 'SELECT count(*) FROM scale_advisor._check_connections()');
ok($rc == 0 && $out >= 1, 'a pg_read_all_stats member runs a check function') or diag($err);
note('zero-argument set-returning functions of the extension that app may execute: ' .
	$node->safe_psql('postgres', q{
SELECT string_agg(p.proname, ', ' ORDER BY p.proname) FROM pg_proc p
 WHERE p.pronamespace = 'scale_advisor'::regnamespace AND p.proretset
   AND p.pronargs = p.pronargdefaults AND has_function_privilege('app', p.oid, 'EXECUTE')}));

# The checklist counts index advice, which plans captured statements again:
# app's immutable function, folded by the planner, must never run as the
# reader (as app, in a security-restricted operation, or not at all).
$node->safe_psql('postgres', q{
  SET ROLE app;
  CREATE FUNCTION app.f(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $f$
  BEGIN RAISE WARNING 'app.f ran as %', current_user; RETURN $1; END $f$;
  -- monitor may read app's table: planning app's statement as monitor
  -- would succeed and fold app.f
  GRANT USAGE ON SCHEMA app TO monitor;
  GRANT SELECT ON app.items TO monitor;
});
$node->safe_psql('postgres', q{SELECT count(*) FROM app.items WHERE v = app.f(5)},
	extra_params => [ '-U', 'app' ]) for 1 .. 3;
($rc, $out, $err) = as_role('app', 'postgres', q{SELECT count(*) FROM scale_advisor.index_workload WHERE statement LIKE '%app.f(5)%'});
ok($out > 0, 'app\'s statement calling app.f is captured for index advice');
($rc, $out, $err) = as_role('monitor', 'postgres', 'SELECT count(*) FROM scale_advisor.checklist');
is($rc, 0, 'monitor reads the checklist with app\'s statement captured') or diag($err);
note("checklist stderr for monitor: $err") if $err =~ /app\.f/;
unlike($err, qr/app\.f ran as (?!app\b)/, 'app\'s function did not run as monitor while monitor read the checklist');

# When app's statement can no longer be planned, the error may hold its
# values (here app's function, folded with the captured argument, raises
# it): the reason shows the message to app only, the SQLSTATE to others.
$node->safe_psql('postgres', q{
  SET ROLE app;
  CREATE OR REPLACE FUNCTION app.f(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $f$
  BEGIN RAISE EXCEPTION 'app_folded_secret %', $1; END $f$;
});
my $skip_q = q{SELECT coalesce(string_agg(reason, ' | '), '<none>') FROM scale_advisor.index_advice_skipped WHERE userid = 'app'::regrole};
like($node->safe_psql('postgres', $skip_q, extra_params => [ '-U', 'app' ]), qr/app_folded_secret 5/,
	'index_advice_skipped: app sees why its own statement can no longer be planned');
($rc, $out, $err) = as_role('monitor', 'postgres', $skip_q);
like($out, qr/can no longer be planned \(SQLSTATE P0001\)/, 'index_advice_skipped: monitor sees the statement skipped, with the SQLSTATE');
unlike($out, qr/app_folded_secret/, 'index_advice_skipped: monitor does not see the message, which holds app\'s value');
is($node->safe_psql('postgres', q{SELECT count(*) FROM scale_advisor.checklist WHERE value LIKE '%not available%' OR advice LIKE '%permission denied%'},
	extra_params => [ '-U', 'monitor' ]), '0', 'no check of the checklist is unavailable to monitor');
is($node->safe_psql('postgres', q{SELECT string_agg(rolname || '=' || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles
	WHERE rolname IN ('app', 'tenant2', 'monitor', 'stats')}),
	'app=false,monitor=false,stats=false,tenant2=false', 'no role became a superuser');

$node->stop;
done_testing();
