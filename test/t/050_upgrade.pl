# Upgrade from the released 1.0 to the current version.
#
# Installs version 1.0 (sql/scale_advisor--1.0.sql, kept as released), fills
# its configuration tables, runs ALTER EXTENSION scale_advisor UPDATE, and
# compares a description of every object of the extension (definitions,
# columns, constraints, indexes, policies, grants, comments, configuration
# tables registered for pg_dump) with a fresh installation of the current
# version in another database.  Both must be equal, and the rows must be
# kept.  It also checks that the 1.0 SQL definitions work against the
# current library before the update (the C entry points they name exist).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('upgrade');

my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'scale_advisor'");
isnt($current, '1.0', "the current version ($current) is newer than 1.0");

$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh');
$node->safe_psql('old', "CREATE EXTENSION scale_advisor VERSION '1.0'");
is($node->safe_psql('old', "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'"),
	'1.0', 'version 1.0 installs');

# The 1.0 definitions work against the current library.
$node->safe_psql('old', q{
  CREATE TABLE public.events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, v text);
  INSERT INTO public.events SELECT i, now() - i * interval '1 day', 'x' FROM generate_series(1, 100) i;
  SELECT count(*) FROM public.events WHERE id = 7;
});
for my $q (
	'SELECT count(*) >= 0 FROM scale_advisor.query_stats',
	'SELECT count(*) >= 0 FROM scale_advisor.info',
	'SELECT count(*) >= 0 FROM scale_advisor.n_plus_one',
	'SELECT count(*) >= 0 FROM scale_advisor.index_workload',
	'SELECT count(*) >= 0 FROM scale_advisor.index_advice',
	'SELECT count(*) >= 0 FROM scale_advisor.checklist',
	'SELECT count(*) >= 0 FROM scale_advisor.alerts')
{
	my ($rc, $out, $err) = $node->psql('old', $q);
	is("$rc $out", '0 t', "1.0 definitions against the current library: $q")
	  or diag($err);
}

# Configuration and history rows kept by the update.
$node->safe_psql('old', q{
  CREATE TABLE public.events_archive (LIKE public.events);
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, target)
    VALUES ('public.events', 'created_at', '90 days', 'public.events_archive');
  SELECT scale_advisor.set_threshold('slow_statement_ms', 250);
  SELECT scale_advisor.n_plus_one_ignore(12345, NULL, 'kept across the update');
  SELECT scale_advisor.snapshot();
});
# 1.0 rows that break the rules of 1.1: an age given as a bare number (read
# as 90 seconds), a lock_timeout and a pause meant as milliseconds (read as
# 500 and 200 seconds), partition sets with a bare interval and retention
# on a time key (seconds), a retention of 180 seconds with drop, and an
# integer key, whose bare numbers are right.
$node->safe_psql('old', q{
  CREATE TABLE public.sessions (id bigint PRIMARY KEY, at timestamptz NOT NULL);
  CREATE TABLE public.clicks (id bigint PRIMARY KEY, at timestamptz NOT NULL);
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, comment)
    VALUES ('public.sessions', 'at', '90', 'hourly job');
  INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, lock_timeout, pause)
    VALUES ('public.clicks', 'at', '30 days', '500', '200');
  CREATE TABLE public.pev (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
  CREATE TABLE public.pev2 (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
  CREATE TABLE public.pint (id bigint NOT NULL) PARTITION BY RANGE (id);
  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval,
      retention, retention_action, lock_timeout)
  VALUES ('public', 'pev', 'at', '86400', '2592000', 'detach', '5min'),
         ('public', 'pev2', 'at', '1 day', '180', 'drop', '1s'),
         ('public', 'pint', 'id', '1000', '100000', 'drop', '1s');
});
my $rows_sql = q{
  SELECT (SELECT count(*) FROM scale_advisor.archive_policies) || ' ' ||
         (SELECT count(*) FROM scale_advisor.thresholds) || ' ' ||
         (SELECT count(*) FROM scale_advisor.n_plus_one_ignore_list) || ' ' ||
         (SELECT count(*) FROM scale_advisor.snapshots)};
my $rows_before = $node->safe_psql('old', $rows_sql);

# a grant an administrator made on a procedure whose signature changes
$node->safe_psql('old', 'CREATE ROLE pt_runner; GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table TO pt_runner');
# grants on routines that the update drops and creates again (or copies),
# to a role whose name needs quoting, one with the grant option
$node->safe_psql('old', q{CREATE ROLE "Ops Team";
  GRANT EXECUTE ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) TO "Ops Team" WITH GRANT OPTION;
  GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table TO "Ops Team";
  GRANT EXECUTE ON FUNCTION scale_advisor.reset_history() TO "Ops Team"});

# a dashboard's own view over each public view of 1.0: the update must not
# need to drop them (DROP VIEW would fail on the dependency)
$node->safe_psql('old', q{DO $$
DECLARE v name;
BEGIN
	FOR v IN SELECT c.relname FROM pg_class c
			 WHERE c.relnamespace = 'scale_advisor'::regnamespace AND c.relkind = 'v'
			   AND c.relname !~ '^_' ORDER BY 1
	LOOP
		EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM scale_advisor.%I', 'dash_' || v, v);
	END LOOP;
END $$});
my $dash_views = $node->safe_psql('old',
	q{SELECT count(*) FROM pg_class WHERE relname LIKE 'dash\_%' AND relkind = 'v'});
cmp_ok($dash_views, '>=', 10, "user views over the 1.0 public views ($dash_views)");

my ($urc, $uout, $uerr) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE');
is($urc, 0, 'ALTER EXTENSION UPDATE succeeds') or diag($uerr);
is($node->safe_psql('old', "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'"),
	$current, "ALTER EXTENSION UPDATE reaches $current");
is($node->safe_psql('old', $rows_sql), $rows_before, 'configuration and history rows are kept');
is($node->safe_psql('old',
		q{SELECT count(*) FROM pg_class WHERE relname LIKE 'dash\_%' AND relkind = 'v'}),
	$dash_views, "users' views over the public views are kept through the update");
$node->safe_psql('old', q{DO $$
DECLARE v name;
BEGIN
	FOR v IN SELECT relname FROM pg_class WHERE relname LIKE 'dash\_%' AND relkind = 'v'
	LOOP
		EXECUTE format('DROP VIEW public.%I', v);
	END LOOP;
END $$});
is($node->safe_psql('old', q{SELECT count(*) FROM pg_proc p
	WHERE p.proname = 'partition_table' AND p.pronamespace = 'scale_advisor'::regnamespace
	  AND has_function_privilege('pt_runner', p.oid, 'EXECUTE')}),
	'1', 'the grant on partition_table is kept when its signature changes');
is($node->safe_psql('old', q{SELECT string_agg(p.proname || ' ' || a.is_grantable, ', ' ORDER BY p.proname)
	FROM pg_proc p, aclexplode(p.proacl) a
	WHERE p.pronamespace = 'scale_advisor'::regnamespace AND a.grantee = '"Ops Team"'::regrole
	  AND a.privilege_type = 'EXECUTE'}),
	'_archive_exists true, history_reset false, partition_table false, reset_history false',
	'grants to a role whose name needs quoting are carried to the recreated routines');
# (revoked again, so that the comparison below sees the same grants; made
# inside ALTER EXTENSION, the grant is also one of the extension's initial
# privileges, which DROP OWNED clears on PostgreSQL 17 and later)
$node->safe_psql('old', 'REVOKE EXECUTE ON PROCEDURE scale_advisor.partition_table FROM pt_runner; DROP OWNED BY pt_runner; DROP ROLE pt_runner');
$node->safe_psql('old', q{REVOKE ALL ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) FROM "Ops Team" CASCADE;
  REVOKE ALL ON PROCEDURE scale_advisor.partition_table FROM "Ops Team";
  REVOKE ALL ON FUNCTION scale_advisor.reset_history(), scale_advisor.history_reset() FROM "Ops Team";
  DROP OWNED BY "Ops Team"; DROP ROLE "Ops Team"});

# the 1.0 rows that break a 1.1 rule: fixed without changing what they do,
# or stopped from doing it, and each named in a WARNING or NOTICE
is($node->safe_psql('old', q{SELECT string_agg(relation || ' ' || enabled || ' ' || older_than || ' ' || lock_timeout
		|| ' ' || pause || ' ' || coalesce(comment, '-'), E'\n' ORDER BY relation) FROM scale_advisor.archive_policies}),
	"public.clicks true 30 days 00:01:00 00:01:00 -\n"
	  . "public.events true 90 days 00:00:01 00:00:00 -\n"
	  . "public.sessions false 00:01:30 00:00:01 00:00:00 hourly job [disabled by the update to 1.1: older_than 00:01:30 is under 1 hour]",
	'archive policies: the 90-second age disabled, the long waits brought to 1 minute, the valid one kept');
like($uerr, qr/WARNING:  archive policy for public.sessions disabled: older_than 00:01:30 is under 1 hour/,
	'the update says which policy it disabled and why');
like($uerr, qr/WARNING:  archive policy for public.clicks: lock_timeout 00:08:20 lowered to 1 minute/,
	'and which lock_timeout it lowered');
is($node->safe_psql('old', q{SELECT string_agg(parent_table || ' ' || enabled || ' ' || part_interval || ' '
		|| coalesce(retention, '-') || ' ' || lock_timeout, E'\n' ORDER BY parent_table) FROM scale_advisor.partition_sets}),
	"pev true 86400 seconds 2592000 seconds 00:01:00\n"
	  . "pev2 true 1 day - 00:00:01\n"
	  . "pint true 1000 100000 00:00:01",
	'partition sets: bare seconds written with their unit, the 180-second retention removed, the integer key kept');
like($uerr, qr/WARNING:  partition set public.pev: interval '86400' written with its unit, '86400 seconds'/,
	'the update says which interval it wrote again');
like($uerr, qr/WARNING:  partition set public.pev2: retention '180' removed: retention '180 seconds' is shorter than 1 day/,
	'and which retention it removed and why');
# the rows work under 1.1: maintenance runs them, every set succeeds
$node->safe_psql('old', 'CALL scale_advisor.maintain_partitions()');
is($node->safe_psql('old', q{SELECT string_agg(parent_table || ' ' || status, ', ' ORDER BY parent_table)
		FROM scale_advisor.partition_maintenance_status}),
	'pev ok, pev2 ok, pint ok', 'the updated sets are maintained');

$node->safe_psql('fresh', 'CREATE EXTENSION scale_advisor');

# One line per fact about every object that belongs to the extension.
my $describe = q{
WITH m AS (
  SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS obj
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
     AND e.extname = 'scale_advisor')
SELECT line FROM (
  SELECT obj AS line FROM m
  UNION ALL
  SELECT m.obj || ' def ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-')
    FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  UNION ALL
  SELECT m.obj || ' kind ' || c.relkind::text || ' acl ' || coalesce(c.relacl::text, '-')
         || ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity
         || ' reloptions ' || coalesce(c.reloptions::text, '-')
         || coalesce(' view ' || CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, '')
    FROM m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
  UNION ALL
  SELECT m.obj || ' column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
         || coalesce(' acl ' || a.attacl::text, '')
    FROM m JOIN pg_attribute a ON m.classid = 'pg_class'::regclass AND a.attrelid = m.objid
         AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  UNION ALL
  SELECT m.obj || ' constraint ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    FROM m JOIN pg_constraint co ON m.classid = 'pg_class'::regclass AND co.conrelid = m.objid
  UNION ALL
  SELECT m.obj || ' index ' || pg_get_indexdef(i.indexrelid)
    FROM m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
  UNION ALL
  SELECT m.obj || ' trigger ' || pg_get_triggerdef(t.oid)
    FROM m JOIN pg_trigger t ON m.classid = 'pg_class'::regclass AND t.tgrelid = m.objid
         AND NOT t.tgisinternal
  UNION ALL
  SELECT m.obj || ' policy ' || po.polname || ' ' || po.polcmd::text || ' ' || po.polroles::regrole[]::text
         || ' using ' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-')
         || ' check ' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-')
    FROM m JOIN pg_policy po ON m.classid = 'pg_class'::regclass AND po.polrelid = m.objid
  UNION ALL
  SELECT m.obj || ' comment ' || de.description
    FROM m JOIN pg_description de ON de.classoid = m.classid AND de.objoid = m.objid
  UNION ALL
  SELECT 'schema acl ' || coalesce(n.nspacl::text, '-') || ' owner ' || n.nspowner::regrole
    FROM pg_namespace n WHERE n.nspname = 'scale_advisor'
  UNION ALL
  SELECT 'config ' || c::regclass::text FROM pg_extension e, unnest(e.extconfig) c
   WHERE e.extname = 'scale_advisor'
) s ORDER BY 1};

my $old = $node->safe_psql('old', $describe);
my $fresh = $node->safe_psql('fresh', $describe);
ok(length($fresh) > 1000, 'the description of a fresh installation is not empty');
if ($old eq $fresh)
{
	pass('an updated 1.0 installation equals a fresh one');
}
else
{
	my %o = map { $_ => 1 } split /\n/, $old;
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my @only_old = grep { !$f{$_} } sort keys %o;
	my @only_fresh = grep { !$o{$_} } sort keys %f;
	fail('an updated 1.0 installation equals a fresh one');
	diag('only after the update: ' . substr($_, 0, 400)) for @only_old;
	diag('only in a fresh install: ' . substr($_, 0, 400)) for @only_fresh;
}

# The updated installation works.
for my $q (
	'SELECT count(*) >= 0 FROM scale_advisor.query_stats',
	'SELECT count(*) >= 0 FROM scale_advisor.checklist')
{
	my ($rc, $out, $err) = $node->psql('old', $q);
	is("$rc $out", '0 t', "after the update: $q") or diag($err);
}

$node->stop;
done_testing();
