# Partitioning security (issue 12, findings 2, 3, 7 and 8): with an
# application role app, a second tenant tenant2 and a monitoring role, and the
# grants docs/partitioning.md documents (here EXECUTE on every routine, which
# must not matter: they run with the caller's rights), check that
#   - a partition_sets row cannot make a superuser's maintain_partitions drop
#     or archive another role's partition (tenant2's rows stay, app's table
#     gets none), and a forged or stale creator does not help;
#   - the owner's triggers, CHECK constraints and index expressions (volatile
#     and IMMUTABLE functions) run as the owner during a superuser's
#     maintain_partitions (default-partition moves) and partition_table, so
#     app never becomes superuser;
#   - partition_log and partition_sets rows of one role are invisible and
#     unchangeable to another; monitoring still reads the status;
#   - nobody without the rights can make maintenance skip by taking a lock,
#     and a run that is skipped says who holds the set;
#   - types planted in public are not picked up by the procedures, also after
#     their COMMITs.
# Every assertion is on outcomes: rolsuper, row counts, visible rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('secpart');
my $db = 'postgres';

$node->safe_psql($db, q{
  CREATE EXTENSION scale_advisor;
  CREATE ROLE app LOGIN; CREATE ROLE tenant2 LOGIN;
  CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
  CREATE SCHEMA app AUTHORIZATION app;
  CREATE SCHEMA tenant2 AUTHORIZATION tenant2;
  -- the older default: every role may create in public
  GRANT CREATE ON SCHEMA public TO app;
  -- the grants for partitioning (docs/partitioning.md), and more
  GRANT EXECUTE ON ALL ROUTINES IN SCHEMA scale_advisor TO app, tenant2;
  GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.partition_sets,
    scale_advisor.partition_set_state, scale_advisor.partition_log TO app, tenant2;
  GRANT USAGE ON ALL SEQUENCES IN SCHEMA scale_advisor TO app, tenant2;
});

sub q_as
{
	my ($role, $sql) = @_;
	return $node->safe_psql($db, "SET ROLE $role;\n$sql");
}

sub try_as
{
	my ($role, $sql) = @_;
	my ($rc, $out, $err) = $node->psql($db, "SET ROLE $role;\n$sql");
	return ($rc, $err);
}

sub rolsuper
{
	return $node->safe_psql($db, q{SELECT rolsuper FROM pg_roles WHERE rolname = 'app'});
}

# app's code that tries to escalate whenever it runs as a superuser, and
# records who it ran as
$node->safe_psql($db, q{
  SET ROLE app;
  CREATE TABLE app.seen (src text, who text, sup boolean);
  CREATE FUNCTION app.escalate(src text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
  DECLARE s boolean;
  BEGIN
    SELECT rolsuper INTO s FROM pg_catalog.pg_roles WHERE rolname = current_user;
    INSERT INTO app.seen VALUES (src, current_user, s);
    IF s THEN
      EXECUTE 'ALTER ROLE app SUPERUSER';
    END IF;
    RETURN true;
  END $$;
  -- IMMUTABLE, so the planner folds a constant call
  CREATE FUNCTION app.imm(src text, x int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
  BEGIN PERFORM app.escalate(src); RETURN x; END $$;
  CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN PERFORM app.escalate(TG_NAME); RETURN OLD; END $$;
  GRANT SELECT, INSERT ON app.seen TO PUBLIC;
  GRANT EXECUTE ON FUNCTION app.escalate(text) TO PUBLIC;
});

# --- tenant2's partitioned tables: one year of hourly rows, then a gap ---
$node->safe_psql($db, q{
  SET ROLE tenant2;
  CREATE TABLE tenant2.logs (id bigint, ts timestamptz NOT NULL, msg text) PARTITION BY RANGE (ts);
  CREATE TABLE tenant2.logs_hist PARTITION OF tenant2.logs
    FOR VALUES FROM (MINVALUE) TO ('2024-01-01 00:00+00');
  INSERT INTO tenant2.logs SELECT g, timestamptz '2024-01-01 00:00+00' - g * interval '1 hour', 'card 4111'
    FROM generate_series(1, 8759) g;
  CREATE TABLE tenant2.logs2 (LIKE tenant2.logs) PARTITION BY RANGE (ts);
  CREATE TABLE tenant2.logs2_hist PARTITION OF tenant2.logs2
    FOR VALUES FROM (MINVALUE) TO ('2024-01-01 00:00+00');
  INSERT INTO tenant2.logs2 SELECT * FROM tenant2.logs;
});
$node->safe_psql($db, q{
  SET ROLE app;
  CREATE TABLE app.stolen_logs (id bigint, ts timestamptz, msg text);
});

# --- finding 3: app configures maintenance of tenant2's tables ---
my ($rc, $err) = try_as('app', q{
  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval,
    retention, retention_action)
  VALUES ('tenant2', 'logs', 'ts', '1 day', '1 day', 'drop')});
note("app's drop row: rc $rc $err");
($rc, $err) = try_as('app', q{
  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval,
    retention, retention_action, archive_target)
  VALUES ('tenant2', 'logs2', 'ts', '1 day', '1 day', 'archive', 'app.stolen_logs')});
note("app's archive row: rc $rc $err");
# a forged creator does not help either
($rc, $err) = try_as('app', q{
  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval,
    retention, retention_action, created_by)
  VALUES ('tenant2', 'logs', 'ts', '1 day', '1 day', 'drop', 'tenant2')});
note("app's forged row: rc $rc $err");
my $has_created_by = $node->safe_psql($db, q{
  SELECT count(*) FROM pg_attribute WHERE attrelid = 'scale_advisor.partition_sets'::regclass
  AND attname = 'created_by'});
if ($has_created_by)
{
	is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_sets WHERE parent_schema = 'tenant2'}),
		'0', "app's rows naming tenant2's tables (one with a forged created_by) were refused");
	# a row whose creator has since lost the owner's privileges is skipped
	# by the scheduled run
	$node->safe_psql($db, q{
	  CREATE ROLE former LOGIN IN ROLE tenant2;
	  GRANT SELECT, INSERT ON scale_advisor.partition_sets TO former;
	  SET ROLE former;
	  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval,
	    retention, retention_action)
	  VALUES ('tenant2', 'logs', 'ts', '1 day', '1 day', 'drop');
	  RESET ROLE;
	  REVOKE tenant2 FROM former;});
}

# --- finding 2: app's code on its own partitioned table ---
$node->safe_psql($db, q{
  SET ROLE app;
  CREATE TABLE app.events (id bigint, ts timestamptz NOT NULL, v int NOT NULL,
    CHECK (app.imm('check', 1) > 0)) PARTITION BY RANGE (ts);
  CREATE TABLE app.events_default PARTITION OF app.events DEFAULT;
  CREATE INDEX ON app.events ((app.imm('index', v)));
  CREATE TRIGGER del_trg BEFORE DELETE ON app.events FOR EACH ROW EXECUTE FUNCTION app.trg();
  INSERT INTO app.events SELECT g, timestamptz '2031-05-01 00:00+00' + g * interval '1 minute', g
    FROM generate_series(1, 100) g;
  DELETE FROM app.seen;
});
$node->safe_psql($db, q{
  INSERT INTO scale_advisor.partition_sets (parent_schema, parent_table, control_column, part_interval, premake)
  VALUES ('app', 'events', 'ts', '1 month', 1)});
my ($mrc, $mout, $merr) = $node->psql($db, 'CALL scale_advisor.maintain_partitions()');
note("superuser's maintain_partitions: rc $mrc\n$merr");

is(rolsuper(), 'f', "app did not become superuser through the superuser's maintain_partitions");
is($node->safe_psql($db, q{SELECT count(*) FROM app.seen WHERE sup}), '0',
	"none of app's trigger, CHECK constraint or index expression ran with superuser rights");
is($node->safe_psql($db, q{SELECT count(*) FROM ONLY app.events_default}), '0',
	'the rows in the default partition were moved');
is($node->safe_psql($db, q{SELECT count(*) FROM app.events}), '100', '... and none was lost');
ok($node->safe_psql($db, q{SELECT count(*) FROM app.seen WHERE who = 'app' AND src = 'del_trg'}) > 0,
	"the owner's trigger ran, as app");
is($node->safe_psql($db, q{SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ',')
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'app.events'::regclass}),
	'app', "every partition of app's table is owned by app");

is($node->safe_psql($db, q{SELECT to_regclass('tenant2.logs_hist') IS NOT NULL AND to_regclass('tenant2.logs2_hist') IS NOT NULL}),
	't', "tenant2's partitions still exist");
is($node->safe_psql($db, q{SELECT count(*) FROM tenant2.logs}), '8759',
	"tenant2's table still has its 8,759 rows");
is($node->safe_psql($db, q{SELECT count(*) FROM tenant2.logs2}), '8759',
	"tenant2's other table was not detached or archived");
is($node->safe_psql($db, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'tenant2.logs2'::regclass}), '1',
	"no partition was made for tenant2's table on app's behalf");
is($node->safe_psql($db, q{SELECT count(*) FROM app.stolen_logs}), '0',
	"app's table received none of tenant2's rows");
if ($has_created_by)
{
	like($merr, qr/skipped.*tenant2\.logs|tenant2\.logs.*skipped/s,
		'the set whose creator may not maintain the table is skipped with a WARNING');
	is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_log
	  WHERE parent_schema = 'tenant2' AND action = 'skip' AND NOT ok}), '1', '... and the skip is logged');
}

# anyone may take the advisory lock that 1.0 used; maintenance must not skip
my $locker = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db, '-U', 'monitor', '-c',
	  q{SELECT pg_advisory_lock(1935762785, 50), pg_sleep(60)} ],
	'>', \my $lout, '2>', \my $lerr);
$node->poll_query_until($db,
	q{SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND classid = 1935762785 AND objid = 50 AND granted})
  or die 'the advisory lock was not taken';

$node->safe_psql($db, q{
  SET ROLE app;
  INSERT INTO app.events SELECT g, timestamptz '2033-05-01 00:00+00' + g * interval '1 minute', g
    FROM generate_series(1, 10) g;});
($mrc, $mout, $merr) = $node->psql($db, 'CALL scale_advisor.maintain_partitions()');
note("maintain_partitions while monitor holds the advisory lock: rc $mrc\n$merr");
is($node->safe_psql($db, q{SELECT count(*) FROM ONLY app.events_default}), '0',
	'rows in the default partition were moved although an unprivileged role held the 1.0 advisory lock');
$node->safe_psql($db, q{SELECT pg_terminate_backend(pid) FROM pg_locks
  WHERE locktype = 'advisory' AND classid = 1935762785 AND objid = 50 AND granted});
$locker->finish;

# --- finding 2 for partition_table, and types planted in public (8) ---
$node->safe_psql($db, q{
  SET ROLE app;
  CREATE TABLE app.t2 (id bigint PRIMARY KEY, v int, CHECK (app.imm('check2', 5) > 0));
  INSERT INTO app.t2 SELECT g, g FROM generate_series(1, 1000) g;
  CREATE DOMAIN public.text AS pg_catalog.text CHECK (app.escalate('domain text'));
  CREATE DOMAIN public.regclass AS pg_catalog.regclass CHECK (app.escalate('domain regclass'));
  DELETE FROM app.seen;
});
($rc, my $out, $err) = $node->psql($db, q{
  SET search_path = public, pg_catalog;
  CALL scale_advisor.partition_table('app.t2', 'id', '500', premake => 2);
  CALL scale_advisor.maintain_partitions('app.t2');});
note("superuser's partition_table: rc $rc\n$err");
is(rolsuper(), 'f', "app did not become superuser through the superuser's partition_table");
is($node->safe_psql($db, q{SELECT count(*) FROM app.seen WHERE sup}), '0',
	"none of app's code ran with superuser rights");
is($node->safe_psql($db, q{SELECT count(*) FROM app.seen WHERE src LIKE 'domain%'}), '0',
	'the types planted in public were never used by the procedures');
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'app.t2'::regclass}), 'p',
	'app.t2 was partitioned');
is($node->safe_psql($db, q{SELECT count(*) FROM app.t2}), '1000', 'with all its rows');
is($node->safe_psql($db, q{SELECT count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
  WHERE i.inhparent = 'app.t2'::regclass AND c.relowner <> 'app'::regrole}), '0',
	'every new partition is owned by app');
$node->safe_psql($db, q{DROP DOMAIN public.text; DROP DOMAIN public.regclass});

# --- only a role with the owner's privileges may start work on a table ---
$node->safe_psql($db, q{
  SET ROLE tenant2;
  CREATE TABLE tenant2.t3 (id bigint PRIMARY KEY, v int);
  INSERT INTO tenant2.t3 SELECT g, g FROM generate_series(1, 100) g;
  GRANT ALL ON tenant2.t3 TO app;
  GRANT USAGE ON SCHEMA tenant2 TO app;
});
($rc, $err) = try_as('app', q{CALL scale_advisor.partition_table('tenant2.t3', 'id', '50')});
isnt($rc, 0, "app may not partition tenant2's table even with every grant on it");
like($err, qr/GRANT tenant2 TO app/, 'the refusal names the grant');
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'tenant2.t3'::regclass}), 'r',
	"tenant2's table was not changed");

# tenant2 partitions its own table: its log rows and set are its own
q_as('tenant2', q{CALL scale_advisor.partition_table('tenant2.t3', 'id', '50')});
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'tenant2.t3'::regclass}), 'p',
	'the owner may partition its table');
($rc, $err) = try_as('app', q{CALL scale_advisor.maintain_partitions('tenant2.t3')});
isnt($rc, 0, "app may not maintain tenant2's table");
like($err, qr/GRANT tenant2 TO app/, '... and is told which grant it lacks');

# --- finding 7: partition_log and partition_sets across roles ---
my $t2log = $node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_log WHERE parent_schema = 'tenant2' AND parent_table = 't3'});
ok($t2log > 0, "tenant2's run is logged");
is(q_as('app', q{SELECT count(*) FROM scale_advisor.partition_log WHERE parent_schema = 'tenant2'}), '0',
	"app sees none of tenant2's log rows");
q_as('app', q{UPDATE scale_advisor.partition_log SET ok = true, detail = 'x' WHERE parent_schema = 'tenant2'});
q_as('app', q{DELETE FROM scale_advisor.partition_log WHERE parent_schema = 'tenant2'});
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_log WHERE parent_schema = 'tenant2' AND parent_table = 't3' AND detail <> 'x'}),
	$t2log, "app can neither change nor delete tenant2's log rows");
is(q_as('tenant2', q{SELECT count(*) FROM scale_advisor.partition_log WHERE parent_schema = 'tenant2' AND parent_table = 't3'}),
	$t2log, 'tenant2 sees its own log rows');
is(q_as('app', q{SELECT count(*) FROM scale_advisor.partition_sets WHERE parent_schema = 'tenant2'}), '0',
	"app does not see tenant2's partition sets");
q_as('app', q{UPDATE scale_advisor.partition_sets SET retention = '1', retention_action = 'drop' WHERE parent_schema = 'tenant2'});
q_as('app', q{DELETE FROM scale_advisor.partition_set_state WHERE parent_schema = 'tenant2'});
is($node->safe_psql($db, q{SELECT retention IS NULL FROM scale_advisor.partition_sets WHERE parent_schema = 'tenant2' AND parent_table = 't3'}),
	't', "app cannot change tenant2's set");
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_set_state WHERE parent_schema = 'tenant2' AND parent_table = 't3'}),
	'1', "app cannot delete tenant2's set state");
($rc, $err) = try_as('tenant2', q{UPDATE scale_advisor.partition_sets SET parent_schema = 'app', parent_table = 'stolen_logs'
  WHERE parent_schema = 'tenant2' AND parent_table = 't3'});
isnt($rc, 0, "tenant2 cannot point its own set at app's table");
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_sets WHERE parent_schema = 'app' AND parent_table = 'stolen_logs'}),
	'0', '... the set still names its own table');

# monitoring reads the status of every set (a view-level grant or check)
$node->safe_psql($db, q{
  DO $$ BEGIN
    IF NOT has_table_privilege('monitor', 'scale_advisor.partition_maintenance_status', 'SELECT') THEN
      GRANT SELECT ON scale_advisor.partition_maintenance_status TO pg_monitor;
    END IF;
  END $$});
is(q_as('monitor', q{SELECT string_agg(parent_schema || '.' || parent_table, ',' ORDER BY 1)
  FROM scale_advisor.partition_maintenance_status WHERE parent_table IN ('t2', 't3')}),
	'app.t2,tenant2.t3', "a pg_monitor member sees the status of every role's sets");
($rc, $err) = try_as('monitor', q{SELECT count(*) FROM scale_advisor.partition_log});
isnt($rc, 0, 'but not the log details');

# --- the per-set claim: only a role that may write the set's state can hold
# it, and a run that finds it held says who holds it ---
($rc, $err) = try_as('monitor', q{UPDATE scale_advisor.partition_set_state SET last_started = now()});
isnt($rc, 0, 'a role without rights cannot touch the state that guards a run');
$node->safe_psql($db, q{
  SET ROLE app;
  INSERT INTO app.events SELECT g, timestamptz '2032-05-01 00:00+00' + g * interval '1 minute', g
    FROM generate_series(1, 10) g;});
my $has_claim = $node->safe_psql($db, q{
  SELECT count(*) FROM pg_attribute WHERE attrelid = 'scale_advisor.partition_set_state'::regclass
  AND attname = 'running_pid'});
SKIP: {
	skip 'no per-set claim in this version', 3 unless $has_claim;
	my $holder = IPC::Run::start(
		[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db, '-c',
		  q{UPDATE scale_advisor.partition_set_state SET running_pid = pg_backend_pid(),
		      running_backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
		    WHERE parent_schema = 'app' AND parent_table = 'events'}, '-c', q{SELECT pg_sleep(60)} ],
		'>', \my $hout, '2>', \my $herr);
	$node->poll_query_until($db,
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'})
	  or die 'the claim was not taken';
	($mrc, $mout, $merr) = $node->psql($db, q{CALL scale_advisor.maintain_partitions('app.events')});
	like($merr, qr/another run is in progress \(process \d+ of role \w+/,
		'a run that finds its set claimed says which process and role hold it');
	is($node->safe_psql($db, q{SELECT count(*) FROM ONLY app.events_default}), '10', '... and leaves the set alone');
	$node->safe_psql($db, q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'});
	$holder->finish;
	$node->safe_psql($db, q{CALL scale_advisor.maintain_partitions('app.events')});
	is($node->safe_psql($db, q{SELECT count(*) FROM ONLY app.events_default}), '0',
		'once the holder is gone the next run takes the set over');
}
is(rolsuper(), 'f', 'app is still not a superuser at the end');

$node->stop;
done_testing();
