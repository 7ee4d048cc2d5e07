# A second review of the re-planning, replay and run-as paths (issue 12):
# attacks for which 600, 601 and 605 have no test.  Roles: app and tenant2
# (owners of their schemas), monitor (pg_monitor), and the superuser that
# runs the test.  app's code, boom(tag), writes the file pwned_<tag> and
# makes app a superuser, but only when it runs as a superuser: every check
# asserts that no such file exists and that app is still no superuser.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('review', conf => q{
scale_advisor.track = 'all'
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.min_table_pages = 0
scale_advisor.index_write_cost_us = 0
scale_advisor.snapshot_interval = 0
});
my $dir = $node->basedir;

$node->safe_psql('postgres', qq{
  CREATE EXTENSION scale_advisor;
  CREATE ROLE app LOGIN;
  CREATE ROLE tenant2 LOGIN;
  CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
  CREATE SCHEMA app AUTHORIZATION app;
  CREATE SCHEMA tenant2 AUTHORIZATION tenant2;
  GRANT USAGE ON SCHEMA app TO PUBLIC;
  GRANT EXECUTE ON FUNCTION scale_advisor.workload_script(integer, boolean) TO app;
});

sub as { return sa_as_role($node, @_); }

# the output as a role, or the error when it fails
sub try_as { return sa_try_as_role($node, @_); }

sub app_super { return sa_rolsuper($node, 'app'); }

as('app', qq{
  CREATE FUNCTION app.boom(tag text) RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$
  BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
      EXECUTE pg_catalog.format('COPY (SELECT %L) TO %L', tag, '$dir/pwned_' || tag);
      EXECUTE 'ALTER ROLE app SUPERUSER';
    END IF;
    RETURN 1;
  END \$\$;
  CREATE TABLE app.items (id int, val int);
  INSERT INTO app.items SELECT i, i % 100 FROM generate_series(1, 5000) i;
  ANALYZE app.items;
  GRANT SELECT ON app.items TO PUBLIC;
  CREATE FUNCTION app.g(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT \$1';
  CREATE VIEW app.v AS SELECT id, val FROM app.items;
  GRANT SELECT ON app.v TO PUBLIC;
});

# --- (1) re-planning the superuser's statements runs code app changed
# after they ran: a view app redefined, a function app replaced.  The query
# identifier stays the same (it covers the statement, not the view's body
# nor the function's).
# And a parameter of app's domain type, whose input function runs the
# domain's constraints.
as('app', q{
  CREATE FUNCTION app.f_pdom(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1';
  CREATE DOMAIN app.pdom AS int CHECK (VALUE > app.f_pdom(-100));
});
$node->safe_psql('postgres', q{
  SELECT id FROM app.v WHERE val = 7;
  SELECT id FROM app.items WHERE val = app.g(8);
  PREPARE pd(app.pdom) AS SELECT id FROM app.items WHERE val = $1;
  EXECUTE pd(9);
});
as('app', q{
  CREATE OR REPLACE FUNCTION app.f_pdom(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.boom('param') + $1; END $$;
  CREATE FUNCTION app.f_view(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.boom('view') + $1; END $$;
  CREATE OR REPLACE VIEW app.v AS SELECT id, val FROM app.items WHERE id > app.f_view(0);
  CREATE OR REPLACE FUNCTION app.g(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.boom('replaced') * $1; END $$;
});
for my $reader ('monitor', 'postgres')
{
	my $n = try_as($reader, 'SELECT count(*) FROM scale_advisor.index_advice');
	note("$reader reads index_advice: $n");
	ok(!-e "$dir/pwned_view", "$reader reads index_advice: app's redefined view did not run as the superuser whose statement read it");
	ok(!-e "$dir/pwned_replaced", "$reader reads index_advice: app's replaced function did not run as the superuser whose statement called it");
	ok(!-e "$dir/pwned_param", "$reader reads index_advice: app's domain constraint did not run as the superuser on its parameter value");
	is(app_super(), 'f', "$reader reads index_advice: app is still no superuser");
}
like($node->safe_psql('postgres', q{SELECT string_agg(reason, E'\n') FROM scale_advisor.index_advice_skipped}),
	qr/app\.f_view|app\.g/, 'the superuser\'s statements that reach app\'s code are skipped, with the reason');

# --- (2) a row-level security policy app adds to its table after tenant2
# read it: re-planning tenant2's statement runs app's policy as tenant2,
# which copies tenant2's secret into app's sequence
as('tenant2', q{
  CREATE TABLE tenant2.secret (n bigint);
  INSERT INTO tenant2.secret VALUES (424242);
  SELECT id FROM app.items WHERE val = 3;
});
as('app', q{
  CREATE SEQUENCE app.leak;
  GRANT ALL ON SEQUENCE app.leak TO PUBLIC;
  CREATE FUNCTION app.peek() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
  BEGIN
    PERFORM pg_catalog.setval('app.leak', n) FROM tenant2.secret;
    RETURN true;
  EXCEPTION WHEN others THEN RETURN true;
  END $$;
  CREATE FUNCTION app.pol() RETURNS boolean IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.peek(); END $$;
  ALTER TABLE app.items ENABLE ROW LEVEL SECURITY;
  CREATE POLICY p ON app.items USING (app.pol());
});
try_as('monitor', 'SELECT count(*) FROM scale_advisor.index_advice');
try_as('postgres', 'SELECT count(*) FROM scale_advisor.index_advice');
isnt(as('app', 'SELECT last_value FROM app.leak'), '424242',
	're-planning tenant2\'s statement did not run app\'s new policy as tenant2 (no secret in app\'s sequence)');
as('app', 'DROP POLICY p ON app.items; ALTER TABLE app.items DISABLE ROW LEVEL SECURITY');

# --- (3) checking a statement for workload_script() runs code: a domain's
# CHECK constraint is planned (folded) when the type cache loads it, an
# index predicate when the relation cache loads it
as('app', q{
  CREATE FUNCTION app.f_dom(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.boom('domain') + $1; END $$;
  CREATE DOMAIN app.dom AS int CHECK (VALUE > app.f_dom(-10));
  SELECT 5::app.dom;
  CREATE FUNCTION app.f_idx(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
    AS $$ BEGIN RETURN app.boom('index') + $1; END $$;
  CREATE TABLE app.ix (a int);
  CREATE INDEX ix_p ON app.ix (a) WHERE a > app.f_idx(0);
  INSERT INTO app.ix VALUES (1);
});
my $su = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(100, true)');
note($su);
ok(!-e "$dir/pwned_domain", 'workload_script: checking app\'s statement did not run app\'s domain constraint as the superuser');
ok(!-e "$dir/pwned_index", 'workload_script: checking app\'s write did not run app\'s index predicate as the superuser');
is(app_super(), 'f', 'workload_script: app is still no superuser');
like($su, qr/left out: .*app\.dom/, 'the statement coercing to app\'s domain is left out');
like($su, qr/left out: .*app\.f_idx/, 'the write into the table with app\'s index predicate is left out');

# --- (4) built-in functions that run SQL given as text, or change the
# session: the replayed statement calls only built-ins, pgbench run as the
# superuser runs app's code
$node->safe_psql('postgres', 'SELECT scale_advisor.history_reset()');
as('app', q{
  CREATE FUNCTION app.lower(text) RETURNS text LANGUAGE plpgsql VOLATILE
    AS $$ BEGIN PERFORM app.boom('search_path'); RETURN $1; END $$;
  SELECT pg_catalog.ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery WHERE app.boom(''tsrewrite'') > 0');
  SELECT pg_catalog.set_config('search_path', 'app, pg_catalog', false);
  SELECT lower('X');
});
# query_to_xml needs a server built with libxml
my $has_xml = try_as('app', q{SELECT pg_catalog.length(pg_catalog.query_to_xml('SELECT app.boom(''xml'')', false, false, '')::text) > 0}) eq 't';
$su = $node->safe_psql('postgres', 'SELECT scale_advisor.workload_script(100)');
note($su);
my $file = "$dir/workload.sql";
open my $fh, '>', $file or die;
print $fh $su;
close $fh;
$node->command_ok([ 'pgbench', '-n', '-c', '1', '-t', '100', '-f', $file, '-h', $node->host, '-p', $node->port, 'postgres' ],
	'the superuser replays the script with pgbench');
ok(!-e "$dir/pwned_xml", 'pgbench as the superuser did not run app\'s code through query_to_xml');
ok(!-e "$dir/pwned_tsrewrite", 'pgbench as the superuser did not run app\'s code through ts_rewrite');
ok(!-e "$dir/pwned_search_path", 'pgbench as the superuser did not run app\'s code through a search_path set by a replayed statement');
is(app_super(), 'f', 'pgbench as the superuser: app is still no superuser');
like($su, qr/left out: .*query_to_xml/, 'the statement running SQL through query_to_xml is left out') if $has_xml;
like($su, qr/left out: .*ts_rewrite/, 'the statement running SQL through ts_rewrite is left out');
like($su, qr/left out: .*set_config/, 'the statement changing a setting is left out');
$node->safe_psql('postgres', 'ALTER ROLE app NOSUPERUSER');

# --- (5) _owner_exec(): what a caller or an owner's code could leave behind
$node->safe_psql('postgres', q{
  CREATE ROLE nh LOGIN NOINHERIT IN ROLE app;
  GRANT USAGE ON SCHEMA app TO nh;
});
as('app', q{
  CREATE TABLE app.ox (x int);
  CREATE FUNCTION app.ox_trg() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_catalog.set_config('search_path', 'app, pg_catalog', false);
    PERFORM pg_catalog.set_config('app.planted', 'yes', false);
    RETURN NEW;
  END $$;
  CREATE TRIGGER ox_t BEFORE INSERT ON app.ox FOR EACH ROW EXECUTE FUNCTION app.ox_trg();
  CREATE FUNCTION app.ox_late() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN PERFORM app.boom('deferred'); RETURN NULL; END $$;
  CREATE CONSTRAINT TRIGGER ox_late AFTER INSERT ON app.ox DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION app.ox_late();
});
# a NOINHERIT member has not the owner's privileges
like(try_as('nh', q{SELECT scale_advisor._owner_exec('app.ox', 'INSERT INTO app.ox VALUES (1)')}),
	qr/may not do maintenance work/, 'a NOINHERIT member of the owner is refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.ox'), '0', 'and wrote no row');
# tenant2 has nothing of app
like(try_as('tenant2', q{SELECT scale_advisor._owner_exec('app.ox', 'DELETE FROM app.ox')}),
	qr/may not do maintenance work/, 'a role without the owner\'s privileges is refused');
# a non-superuser on a system catalog
like(try_as('app', q{SELECT scale_advisor._owner_exec('pg_catalog.pg_authid', 'UPDATE pg_catalog.pg_authid SET rolsuper = true WHERE rolname = ''app''')}),
	qr/may not do maintenance work/, 'a system catalog\'s owner is not acted as by a non-superuser');
is(app_super(), 'f', 'app is still no superuser');
# the owner's trigger changes settings of the superuser's session: undone
is($node->safe_psql('postgres', q{
  SELECT scale_advisor._owner_exec('app.ox', 'INSERT INTO app.ox VALUES (2)');
  SELECT current_setting('search_path') || ' / ' || coalesce(current_setting('app.planted', true), '') || ' / ' || current_user}),
	"{\"processed\": 1}\n\"\$user\", public /  / postgres",
	'settings the owner\'s code changed inside _owner_exec are undone and the caller is itself again');
# deferring the owner's constraint trigger to commit, when it would run as
# the superuser: refused by PostgreSQL in the security-restricted operation
my ($ret, $out, $err) = $node->psql('postgres', q{
  BEGIN;
  SET CONSTRAINTS ALL DEFERRED;
  SELECT scale_advisor._owner_exec('app.ox', 'INSERT INTO app.ox VALUES (3)');
  COMMIT;});
note("deferred: $ret $err");
ok(!-e "$dir/pwned_deferred", 'the owner\'s deferred trigger never ran as the superuser');
is($node->safe_psql('postgres', 'SELECT count(*) FROM app.ox WHERE x = 3'), '0', 'and its row is not there');
# an error inside, caught by the caller: the caller is itself, outside any
# security-restricted operation, with its search_path
is(as('app', q{
  DO $$ BEGIN
    PERFORM scale_advisor._owner_exec('app.ox', 'SELECT 1/0');
  EXCEPTION WHEN division_by_zero THEN NULL;
  END $$;
  SET search_path = app, public;
  SET ROLE app;
  SELECT current_user || ' ' || current_setting('search_path');}),
	'app app, public', 'after a caught error the caller is itself and may SET ROLE again');
# PostgreSQL 16 and later: a member that inherits the owner's privileges but
# may not SET ROLE to it must not become the owner through _owner_exec
SKIP:
{
	skip 'GRANT ... WITH SET FALSE needs PostgreSQL 16', 2 if $node->pg_version < 16;
	$node->safe_psql('postgres', q{
	  CREATE ROLE boss CREATEROLE;
	  CREATE TABLE public.bt (x int);
	  ALTER TABLE public.bt OWNER TO boss;
	  CREATE ROLE noset LOGIN;
	  GRANT boss TO noset WITH INHERIT TRUE, SET FALSE;});
	like(try_as('noset', q{SELECT scale_advisor._owner_exec('public.bt', 'CREATE ROLE made_by_noset')}),
		qr/may not do maintenance work/, 'a member WITH SET FALSE is refused');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'made_by_noset'}),
		'0', 'and did not use the owner\'s CREATEROLE');
}

$node->stop;
done_testing();
