# A failed partition_table leaves the table as it was: a NULL key is a
# blocker reported before anything changes, and a step that times out on a
# lock after the CHECK constraint sa_partition_bound was added removes it
# again, so the constraints and the application's inserts are unchanged.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use IPC::Run;

my $node = sa_node('failsafe');
my $db = 'postgres';
$node->safe_psql($db, 'CREATE EXTENSION scale_advisor');

my $cons = q{SELECT coalesce(string_agg(conname || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname), '')
	FROM pg_constraint WHERE conrelid = 'dba_nullts'::regclass};

# --- a row whose key is NULL ---
$node->safe_psql($db, q{
CREATE TABLE dba_nullts (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz, v text,
	CHECK (v <> ''));
INSERT INTO dba_nullts (ts, v) SELECT now() - g * interval '1 day', 'x' FROM generate_series(1, 200) g;
INSERT INTO dba_nullts (ts, v) VALUES (NULL, 'no key');
});
my $before = $node->safe_psql($db, $cons);
is($node->safe_psql($db, q{SELECT string_agg(b, '; ') FROM scale_advisor.partition_blockers('dba_nullts', 'ts') b}),
	'column ts is NULL in some rows, which fit no partition; set a value in them (or delete them) first',
	'partition_blockers reports the NULL key up front');
my ($rc, $out, $err) = $node->psql($db, q{CALL scale_advisor.partition_table('public.dba_nullts', 'ts', '1 month')});
isnt($rc, 0, 'partition_table refuses the table');
like($err, qr/column ts is NULL in some rows.*\n.*Nothing was changed/, 'saying why, before changing anything');
is($node->safe_psql($db, $cons), $before, 'the constraints are exactly as before');
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'dba_nullts'::regclass}), 'r', 'the table is not converted');
($rc, $out, $err) = $node->psql($db, q{INSERT INTO dba_nullts (ts, v) VALUES (NULL, 'app'), (now() + interval '10 years', 'app')});
is($rc, 0, 'the application still inserts rows with a NULL or far-future key') or diag($err);

# --- a lock timeout after the constraint was added ---
$node->safe_psql($db, q{DELETE FROM dba_nullts WHERE ts IS NULL OR ts > now() + interval '1 year'});
$before = $node->safe_psql($db, $cons);
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_blockers('dba_nullts', 'ts')}), '0',
	'no blocker once the NULL keys are gone');
# hold the commit of the prepare step for 3 s (test-only trigger), while
# another session queues for a SHARE lock that it then keeps for 4 s:
# validate times out, and the constraint must be removed again
$node->safe_psql($db, q{
CREATE FUNCTION public.slow_prepare() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.action = 'partition_table prepare' AND NEW.ok THEN
		PERFORM pg_sleep(3);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER slow_prepare BEFORE INSERT ON scale_advisor.partition_log
	FOR EACH ROW EXECUTE FUNCTION public.slow_prepare();
});
my $caller = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db, '-c',
	  q{CALL scale_advisor.partition_table('public.dba_nullts', 'ts', '1 month', lock_timeout => '100ms', retries => 1)} ],
	'>', \my $cout, '2>', \my $cerr);
$node->poll_query_until($db,
	q{SELECT count(*) > 0 FROM pg_locks WHERE relation = 'dba_nullts'::regclass AND mode = 'AccessExclusiveLock' AND granted})
  or die 'partition_table did not start its prepare step';
my $blocker = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', $db, '-c',
	  q{BEGIN; LOCK TABLE dba_nullts IN SHARE MODE; SELECT pg_sleep(4); COMMIT;} ],
	'>', \my $bout, '2>', \my $berr);
$caller->finish;
$blocker->finish;
like($cerr, qr/partition_table failed in its validate step: .*lock timeout/,
	'partition_table fails on the lock timeout');
like($cerr, qr/Nothing was changed: the CHECK constraint this call added was removed again/,
	'and says the constraint was removed');
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.partition_log WHERE action = 'partition_table prepare' AND ok}),
	'1', 'the constraint had been added and committed');
is($node->safe_psql($db, $cons), $before, 'the constraints are exactly as before');
($rc, $out, $err) = $node->psql($db, q{INSERT INTO dba_nullts (ts, v) VALUES (NULL, 'app'), (now() + interval '10 years', 'app')});
is($rc, 0, 'the application still inserts rows with a NULL or far-future key') or diag($err);

done_testing();
