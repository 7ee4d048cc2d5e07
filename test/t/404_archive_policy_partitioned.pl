# An archive policy on a table that is then partitioned (issue 16).
#
# The DBA's path: a policy archives sessions older than 90 days; to
# partition the table its key becomes (id, created_at), as
# docs/partitioning.md says; partition_table converts it.  Before 1.1 the
# archive table (keyed on id) was refused for the new key, the next policy
# run failed on the partitioned table, and a critical alert fired with
# numbers that meant nothing.  Now: the archive stays usable, the policy
# goes on (each partition archived into the same archive, one run row for
# the policy), every row is in exactly one place, and no alert fires.  A
# policy made after the conversion gets an archive keyed like the table.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('policy_partitioned', conf => q{
autovacuum = off
scale_advisor.snapshot_interval = 0
});
my $db = 'postgres';
$node->safe_psql($db, q{
CREATE EXTENSION scale_advisor;
CREATE ROLE app_owner LOGIN;
GRANT CREATE ON SCHEMA public TO app_owner;
GRANT pg_monitor TO app_owner;
-- the grants docs/archiving.md and docs/partitioning.md give the owner
GRANT EXECUTE ON PROCEDURE scale_advisor.archive, scale_advisor.unarchive,
      scale_advisor.run_archive_policies, scale_advisor._archive_run TO app_owner;
GRANT EXECUTE ON FUNCTION scale_advisor._archive_start, scale_advisor._archive_batch,
      scale_advisor._archive_finish, scale_advisor._archive_vacuum TO app_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.archive_runs TO app_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.archive_policies TO app_owner;
GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table, scale_advisor.maintain_partitions TO app_owner;
GRANT EXECUTE ON FUNCTION scale_advisor._pt_run, scale_advisor._pt_log, scale_advisor._pt_undo_bound,
    scale_advisor._pm_tasks, scale_advisor._pm_plan, scale_advisor._pm_create, scale_advisor._pm_retire,
    scale_advisor._pm_state, scale_advisor._pm_claim, scale_advisor._pm_refusal,
    scale_advisor._pm_drop_if_empty, scale_advisor._pm_archive_check, scale_advisor._nonatomic TO app_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON scale_advisor.partition_sets,
    scale_advisor.partition_set_state, scale_advisor.partition_log TO app_owner;
GRANT USAGE ON SEQUENCE scale_advisor.partition_log_id_seq TO app_owner;
SET ROLE app_owner;
CREATE TABLE public.sessions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created_at timestamptz NOT NULL, v text);
INSERT INTO public.sessions (created_at, v)
	SELECT now() - g * interval '1 hour', 's' || g FROM generate_series(1, 200 * 24) g;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size)
	VALUES ('public.sessions', 'created_at', '90 days', 500);
});

# every row in exactly one place: the table or its archive
my $all = q{SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || md5(string_agg(r, ',' ORDER BY id)) FROM (
	SELECT id, t::text AS r FROM public.sessions t UNION ALL SELECT id, a::text FROM public.sessions_archive a) x};
my $old = q{SELECT count(*) FROM public.sessions WHERE created_at < now() - interval '90 days'};

$node->safe_psql($db, 'SET ROLE app_owner; CALL scale_advisor.run_archive_policies()');
is($node->safe_psql($db, $old), '0', 'the policy archives the rows older than 90 days');
my $before = $node->safe_psql($db, $all);

# the key partitioning needs, as the docs recommend; the archive keeps (id)
$node->safe_psql($db, q{SET ROLE app_owner;
ALTER TABLE public.sessions DROP CONSTRAINT sessions_pkey, ADD PRIMARY KEY (id, created_at)});
# ten more days pass: rows to archive again
$node->safe_psql($db, q{SET ROLE app_owner;
INSERT INTO public.sessions (created_at, v) OVERRIDING SYSTEM VALUE
	SELECT now() - interval '95 days' + g * interval '1 minute', 'late' FROM generate_series(1, 300) g});
$before = $node->safe_psql($db, $all);
my ($rc, $out, $err) = $node->psql($db, q{SET ROLE app_owner; CALL scale_advisor.run_archive_policies()});
is($rc, 0, 'with the key (id, created_at) the archive keyed on (id) is still used') or diag($err);
is($node->safe_psql($db, $old), '0', 'and the late rows are archived');
is($node->safe_psql($db, $all), $before, 'every row once, in the table or the archive');

# partitioned: the policy goes on
$node->safe_psql($db, q{SET ROLE app_owner;
INSERT INTO public.sessions (created_at, v)
	SELECT now() - interval '95 days' + g * interval '1 minute', 'later' FROM generate_series(1, 200) g});
($rc, $out, $err) = $node->psql($db,
	q{SET ROLE app_owner; CALL scale_advisor.partition_table('public.sessions', 'created_at', '1 month')});
is($rc, 0, 'partition_table converts the table') or diag($err);
like($err, qr/the archive policy of public.sessions goes on/, 'and says the archive policy goes on');
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE oid = 'public.sessions'::regclass}), 'p',
	'the table is partitioned');
$before = $node->safe_psql($db, $all);
($rc, $out, $err) = $node->psql($db, q{SET ROLE app_owner; CALL scale_advisor.run_archive_policies(verbose => true)});
is($rc, 0, 'the policy runs on the partitioned table') or diag($err);
unlike($err, qr/WARNING/, 'without a warning');
like($err, qr/archive policy for public.sessions \(partitioned\): done, 200 rows moved from 1 partitions/,
	'archiving the partition that holds old rows');
is($node->safe_psql($db, $old), '0', 'no row older than 90 days is left');
is($node->safe_psql($db, $all), $before, 'every row once, in the table or the archive');
is($node->safe_psql($db, q{SELECT status || ' ' || rows_moved || ' ' || target FROM scale_advisor.archive_runs
	WHERE relation = 'public.sessions' ORDER BY run_id DESC LIMIT 1}),
	'done 200 public.sessions_archive', 'one run row for the policy sums it up');
is($node->safe_psql($db, q{SELECT count(*) FROM scale_advisor.archive_runs WHERE status NOT IN ('done')}), '0',
	'no run failed');

# the readiness views: nothing failing, no alert
is($node->safe_psql($db, q{SET ROLE app_owner;
	SELECT coalesce(string_agg(kind || ' ' || object || ' ' || state, ', '), 'none')
	FROM scale_advisor._maintenance_status() WHERE state <> 'ok'}), 'none',
	'maintenance status: archiving and partitioning ok');
is($node->safe_psql($db, q{SET ROLE app_owner;
	SELECT coalesce(string_agg(severity || ' ' || alert || ' ' || coalesce(value::text, '-') || ' ' || coalesce(detail, ''), ', '), 'none')
	FROM scale_advisor.alerts WHERE alert LIKE '%maintenance%'}), 'none',
	'no maintenance alert fires');

# a policy made after the conversion: its archive is made with the table's key
$node->safe_psql($db, q{SET ROLE app_owner;
CREATE TABLE public.clicks (id bigint NOT NULL, created_at timestamptz NOT NULL, PRIMARY KEY (id, created_at))
	PARTITION BY RANGE (created_at);
CALL scale_advisor.partition_table('public.clicks', 'created_at', '1 month');
INSERT INTO public.clicks SELECT g, now() - g * interval '1 day' + interval '12 hours' FROM generate_series(1, 120) g;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than)
	VALUES ('public.clicks', 'created_at', '90 days');
CALL scale_advisor.run_archive_policies();
});
is($node->safe_psql($db, q{SELECT (SELECT count(*) FROM public.clicks) || ' ' || (SELECT count(*) FROM public.clicks_archive)
	|| ' ' || (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.clicks_archive'::regclass AND contype = 'p')
	|| ' ' || (SELECT relowner::regrole FROM pg_class WHERE oid = 'public.clicks_archive'::regclass)}),
	'90 30 PRIMARY KEY (id, created_at) app_owner',
	'a new policy on a partitioned table archives into an archive made by the owner with the table\'s key');

$node->stop;
done_testing();
