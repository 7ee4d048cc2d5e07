# scale_advisor._owner_exec: maintenance statements run as the owner of the
# table, in a security-restricted operation, with search_path pinned; only
# a superuser or a role with the owner's privileges may call it.  Asserts on
# outcomes: who the owner's trigger ran as, role attributes, row counts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('runas');
$node->safe_psql('postgres', q{
  CREATE EXTENSION scale_advisor;
  CREATE ROLE app LOGIN; CREATE ROLE other LOGIN; CREATE ROLE member LOGIN IN ROLE app;
  CREATE ROLE noinherit LOGIN NOINHERIT IN ROLE app;
  CREATE SCHEMA app AUTHORIZATION app;
  GRANT USAGE ON SCHEMA app TO other;
});
$node->safe_psql('postgres', q{
  SET ROLE app;
  CREATE TABLE app.t (id int PRIMARY KEY, v text);
  INSERT INTO app.t SELECT i, 'x' FROM generate_series(1, 10) i;
  CREATE TABLE app.seen (who text, sup text, sp text);
  -- the owner's trigger: records who it runs as, and tries to escalate
  CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO app.seen VALUES (current_user,
      (SELECT CASE WHEN rolsuper THEN 'on' ELSE 'off' END FROM pg_roles WHERE rolname = current_user),
      current_setting('search_path'));
    -- is_superuser follows the session, so this is tried: it must fail
    IF current_setting('is_superuser') = 'on' THEN
      BEGIN EXECUTE 'ALTER ROLE app SUPERUSER';
      EXCEPTION WHEN insufficient_privilege THEN NULL; END;
    END IF;
    BEGIN EXECUTE 'SET ROLE postgres'; EXCEPTION WHEN OTHERS THEN
      INSERT INTO app.seen VALUES ('set role refused', '', ''); END;
    RETURN OLD;
  END $$;
  CREATE TRIGGER t_del BEFORE DELETE ON app.t FOR EACH ROW EXECUTE FUNCTION app.trg();
  GRANT SELECT, DELETE ON app.t TO other;
});

# a superuser runs a delete on app's table through _owner_exec
my $r = $node->safe_psql('postgres', q{
  SET search_path = app, public;
  SELECT scale_advisor._owner_exec('app.t', 'DELETE FROM app.t WHERE id <= $1::int', '2')});
is($r, '{"processed": 2}', 'the statement ran and reports the rows it processed');
is($node->safe_psql('postgres', "SELECT string_agg(who || '/' || sup, ',' ORDER BY who) FROM app.seen WHERE who <> 'set role refused'"),
	'app/off,app/off', "the owner's trigger ran as the owner, not as the superuser");
is($node->safe_psql('postgres', "SELECT DISTINCT sp FROM app.seen WHERE who = 'app'"),
	'pg_catalog, pg_temp', 'search_path was pinned for the statement');
is($node->safe_psql('postgres', "SELECT count(*) FROM app.seen WHERE who = 'set role refused'"),
	'2', 'SET ROLE is refused inside (security-restricted operation)');
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'app'"),
	'f', 'the owner did not become superuser');
is($node->safe_psql('postgres', q{SELECT current_user || ' ' || current_setting('search_path')}),
	'postgres "$user", public', 'the caller is back to itself with its search_path');

# a statement returning a jsonb row
is($node->safe_psql('postgres', q{
  SELECT scale_advisor._owner_exec('app.t',
    'SELECT jsonb_build_object(''n'', count(*), ''me'', current_user) FROM app.t')}),
	'{"n": 8, "me": "app"}', 'a statement returning jsonb gives its first row');

# a role with only table grants may not run work as the owner
my ($rc, $out, $err) = $node->psql('postgres', q{
  SET ROLE other;
  SELECT scale_advisor._owner_exec('app.t', 'DROP TABLE app.t')});
isnt($rc, 0, 'a role with table grants only is refused');
like($err, qr/GRANT app TO other/, 'the refusal hints at the grant');
is($node->safe_psql('postgres', "SELECT count(*) FROM app.t"), '8', 'and nothing happened to the table');

($rc, $out, $err) = $node->psql('postgres', q{
  SET ROLE noinherit;
  SELECT scale_advisor._owner_exec('app.t', 'DELETE FROM app.t')});
isnt($rc, 0, 'a member without INHERIT is refused');
is($node->safe_psql('postgres', "SELECT count(*) FROM app.t"), '8', 'and nothing happened to the table');

# a member with the owner's privileges may
is($node->safe_psql('postgres', q{
  SET ROLE member;
  SELECT scale_advisor._owner_exec('app.t', 'DELETE FROM app.t WHERE id = 3')}),
	'{"processed": 1}', "a member with the owner's privileges may run work as the owner");
is($node->safe_psql('postgres', "SELECT who FROM app.seen ORDER BY ctid DESC LIMIT 1 OFFSET 1"),
	'app', '... and it runs as the owner');

# an error inside leaves the caller as it was, also when caught
is($node->safe_psql('postgres', q{
  DO $$ BEGIN
    PERFORM scale_advisor._owner_exec('app.t', 'SELECT 1/0');
  EXCEPTION WHEN division_by_zero THEN NULL; END $$;
  SELECT current_user || ' ' || current_setting('search_path')}),
	'postgres "$user", public', 'after a caught error the caller is itself again');

is($node->safe_psql('postgres', q{
  SELECT scale_advisor._may_maintain('app.t', 'member') || ' ' ||
         scale_advisor._may_maintain('app.t', 'other') || ' ' ||
         scale_advisor._may_maintain('app.t', 'postgres')}),
	'true false true', '_may_maintain answers for other roles');

($rc, $out, $err) = $node->psql('postgres', q{SELECT scale_advisor._owner_exec(NULL, 'SELECT 1')});
like($err, qr/must not be null/, 'a NULL relation is refused');

$node->stop;
done_testing();
