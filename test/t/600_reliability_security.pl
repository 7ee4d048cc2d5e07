# Security checks of the whole extension (docs/reliability.md):
#  - every SQL and PL/pgSQL function pins search_path; the only exceptions
#    are procedures that commit (they set it per transaction) and C functions
#    that never run SQL;
#  - what PUBLIC may execute is read-only (checked in a READ ONLY
#    transaction for every function callable without arguments);
#  - no view or function another role can call shows the text of someone
#    else's statements (as pg_stat_statements hides it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('sec', conf => q{
scale_advisor.track = 'all'
scale_advisor.plan_sample_rate = 1
scale_advisor.plan_capture_ms = 0
scale_advisor.n_plus_one_nested = on
});
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');

my $ext_procs = q{
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'scale_advisor'
  JOIN pg_language l ON l.oid = p.prolang};
my $pinned = q{coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)};

my $nfun = $node->safe_psql('postgres', "SELECT count(*) $ext_procs");
ok($nfun > 50, "the extension has $nfun functions and procedures");

# 1. search_path pinned
my $unpinned_sql = $node->safe_psql('postgres', qq{
  SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1) $ext_procs
   WHERE l.lanname <> 'c' AND NOT $pinned AND p.prokind <> 'p'});
is($unpinned_sql, '', 'every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp');

# Procedures that COMMIT cannot carry a SET clause; they must set
# search_path themselves in every transaction, or only call pinned
# functions fully qualified.
my @procs = split /\n/, $node->safe_psql('postgres', qq{
  SELECT p.proname || '|' || (p.prosrc ~ 'set_config\\(''search_path'', ''pg_catalog, pg_temp'', true\\)')::text
         || '|' || (p.prosrc ~* '\\mCOMMIT\\M')::text
    $ext_procs WHERE l.lanname <> 'c' AND NOT $pinned AND p.prokind = 'p' ORDER BY 1});
note('procedures without a SET clause: ' . join(', ', map { (split /\|/)[0] } @procs));
for my $p (@procs)
{
	my ($name, $sets, $commits) = split /\|/, $p;
	if ($sets eq 'true')
	{
		pass("procedure $name sets search_path = pg_catalog, pg_temp in its transactions");
	}
	else
	{
		# must then not contain a single unqualified function call of its own
		my $src = $node->safe_psql('postgres',
			"SELECT prosrc FROM pg_proc WHERE proname = '$name' AND pronamespace = 'scale_advisor'::regnamespace");
		my @calls = ($src =~ /(?:CALL|PERFORM|:=|SELECT)\s+(?!@)([a-z_][a-z_0-9]*)\s*\(/gi);
		my @bad = grep { !/^(coalesce|greatest|least|nullif|format|row|array|exists|not)$/i } @calls;
		is(join(',', @bad), '', "procedure $name calls nothing unqualified");
	}
}

# C functions without a pinned search_path: only those that never run SQL.
my %c_no_sql = map { $_ => 1 } qw(
  scale_advisor_require_loaded scale_advisor_query_stats_1_0 scale_advisor_info_1_0
  scale_advisor_reset_1_0 scale_advisor_sketch_quantiles_1_0
  scale_advisor_n_plus_one_entries scale_advisor_n_plus_one_entries_1_1
  scale_advisor_n_plus_one_reset scale_advisor_require_stats_reader
  scale_advisor_relation_size_nowait
  scale_advisor_nonatomic scale_advisor_history scale_advisor_history_reset
  scale_advisor_history_examples
  scale_advisor_hist_quantile scale_advisor_hist_count_above scale_advisor_host_cpus
  scale_advisor_archive_test_crash scale_advisor_index_workload
  scale_advisor_index_workload_reset);
# _archive_vacuum(regclass) runs no SQL in the caller's session: it starts a
# background worker (as the table's owner) that runs VACUUM (ANALYZE) on the
# schema-qualified, quoted name of the table.
$c_no_sql{scale_advisor_archive_vacuum} = 1;
# the 1.1 definitions name the _1_1 entry point of each of them (the same
# C function; the 1.0 symbols stay for databases not yet updated)
$c_no_sql{ s/(?:_1_0)?$/_1_1/r } = 1 for keys %c_no_sql;
my @c_unpinned = split /\n/, $node->safe_psql('postgres',
	"SELECT p.prosrc $ext_procs WHERE l.lanname = 'c' AND NOT $pinned ORDER BY 1");
note('C functions without a pinned search_path: ' . join(', ', @c_unpinned));
is(join(', ', grep { !$c_no_sql{$_} } @c_unpinned), '',
	'C functions without a pinned search_path are only those that run no SQL');

# 2. what PUBLIC may execute
my $public = q{(p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))};
my @pub = split /\n/, $node->safe_psql('postgres', qq{
  SELECT p.oid::regprocedure::text || '|' || p.provolatile::text || '|' || l.lanname || '|' || p.prokind::text
    $ext_procs WHERE $public ORDER BY 1});
note('executable by PUBLIC: ' . join(', ', map { (split /\|/)[0] } @pub));
# Volatile functions PUBLIC may run, each read-only (reviewed):
my %volatile_readonly = map { $_ => 1 } (
	'scale_advisor._query_stats(boolean)',        # reads the statement store
	'scale_advisor._info()',                      # reads the store's counters
	'scale_advisor._n_plus_one_entries(bigint[],text[],oid[])', # reads the N+1 table
	'scale_advisor._relation_size_nowait(regclass,boolean)', # a size; locks only if free at once
	'scale_advisor._index_workload()',            # reads captured plans
	'scale_advisor._index_advice(boolean)',       # plans each statement as its own role, SRO, always rolled back (601); records the advice's predictions as index_advice_predictions' owner, SRO, only about the reader's statements (202)
	'scale_advisor._index_advice_outcome()',      # reads index_advice_predictions as the caller (row-level security) and the statement store
	'scale_advisor.index_whatif(text,text,text[],text)', # plans the caller's statement as the caller; needs SELECT on the index's table
	'scale_advisor._replay_refusal(text)',        # analyzes a statement as the caller in SRO, rolled back; runs nothing
	'scale_advisor._history()',                   # reads the history ring
	'scale_advisor._history_examples()',          # reads the examples: a role's own, values to it and superusers
	'scale_advisor.partition_table_plan(regclass,name,text,integer,text,text,name,boolean,interval,integer,text)', # returns the plan, runs nothing
	'scale_advisor._pm_holds_lock()',             # looks at pg_locks
	# Whether the calling procedure may COMMIT (archive and unarchive run
	# with their caller's rights and ask it first); reads nothing else.
	'scale_advisor._nonatomic()',
	# Runs a statement as a table's owner, but only for a superuser or a
	# role with the owner's privileges (it checks): no right is gained
	# (test/t/605_security_run_as.pl).
	'scale_advisor._owner_exec(regclass,text,text[])',
	'scale_advisor._may_maintain(regclass,regrole)', # reads pg_class, pg_authid
	# The run lock of archiving: only a role that may maintain the table can
	# take it (it checks); a session releases only its own.
	'scale_advisor._archive_lock(regclass)',
	'scale_advisor._archive_unlock(regclass)',
);
# Internal steps that change data are revoked from PUBLIC like the entry
# points (docs/archiving.md shows the GRANT); nothing is excepted.
my %pending_revoke = ();
my (@bad, @pending);
for my $r (@pub)
{
	my ($sig, $vol, $lang, $kind) = split /\|/, $r;
	next if $vol ne 'v' && $kind eq 'f' && $lang ne 'c';    # PostgreSQL refuses writes in non-volatile SQL/PL/pgSQL
	next if $vol ne 'v' && $sig =~ /_require_loaded|_require_stats_reader|_host_cpus|_sketch_quantiles|_hist_quantile|_hist_count_above/;
	next if $volatile_readonly{$sig};
	if ($pending_revoke{$sig}) { push @pending, $sig; next; }
	push @bad, $sig;
}
is(join(', ', @bad), '', 'everything PUBLIC may execute is read-only (non-volatile, or reviewed)');
note('known: still executable by PUBLIC and changing data: ' . join(', ', @pending)) if @pending;
my @procs_public = grep { (split /\|/)[3] eq 'p' && !$pending_revoke{(split /\|/)[0]} } @pub;
is(join(', ', @procs_public), '', 'no procedure is executable by PUBLIC');

# 3. other users' statements stay hidden
$node->safe_psql('postgres', q{
  CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE carol LOGIN IN ROLE pg_read_all_stats;
  CREATE SCHEMA alice_s AUTHORIZATION alice;
});
$node->safe_psql('postgres', q{
  SET ROLE alice;
  CREATE TABLE alice_s.secret_alice_tbl (id int PRIMARY KEY, v int);
  INSERT INTO alice_s.secret_alice_tbl SELECT i, i % 1000 FROM generate_series(1, 20000) i;
  ANALYZE alice_s.secret_alice_tbl;
  SELECT count(*) AS alice_secret_alias FROM alice_s.secret_alice_tbl WHERE v = 7;
  SELECT count(*) AS alice_secret_alias FROM alice_s.secret_alice_tbl WHERE v = 8;
  SELECT count(*) AS alice_secret_alias FROM alice_s.secret_alice_tbl WHERE v = 9;
  DO $$ BEGIN FOR i IN 1..40 LOOP PERFORM v AS alice_secret_alias FROM alice_s.secret_alice_tbl WHERE id = i; END LOOP; END $$;
});
$node->safe_psql('postgres', 'SELECT scale_advisor.snapshot()');
is($node->safe_psql('postgres',
	"SELECT count(*) > 0 FROM scale_advisor.query_stats WHERE query LIKE '%alice_secret_alias%'"),
	't', 'the superuser sees alice\'s statements (the test has something to hide)');
is($node->safe_psql('postgres',
	"SET ROLE carol; SELECT count(*) > 0 FROM scale_advisor.query_stats WHERE query LIKE '%alice_secret_alias%'"),
	't', 'a member of pg_read_all_stats sees them');
is($node->safe_psql('postgres', q{SET ROLE bob;
	SELECT count(*) FILTER (WHERE query = '<insufficient privilege>' AND queryid IS NULL) || '/' || count(*)
	  FROM scale_advisor.query_stats WHERE userid = 'alice'::regrole}) =~ m{^(\d+)/\1$} ? 1 : 0,
	1, 'bob sees alice\'s statements in query_stats only as <insufficient privilege>, without query id');
like($node->safe_psql('postgres', q{SET ROLE bob; SELECT 4242 AS bob_marker;
	SELECT string_agg(query, ' ') FROM scale_advisor.query_stats WHERE userid = 'bob'::regrole}),
	qr/bob_marker/, 'bob sees his own statements');

# Everything bob can read or call without arguments, in a READ ONLY
# transaction: no trace of alice's text, and no write.
my @views = split /\n/, $node->safe_psql('postgres', q{
  SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'scale_advisor'::regnamespace
     AND c.relkind IN ('v', 'r') AND has_table_privilege('bob', c.oid, 'SELECT') ORDER BY 1});
my @fns = split /\n/, $node->safe_psql('postgres', qq{
  SELECT p.oid::regproc $ext_procs
   WHERE p.prokind = 'f' AND p.pronargs = p.pronargdefaults
     AND has_function_privilege('bob', p.oid, 'EXECUTE') ORDER BY 1});
note('bob can read: ' . join(', ', @views));
note('bob can call without arguments: ' . join(', ', @fns));
# alice's query ids: pg_stat_statements shows them only to those who may
# see her text
my @alice_ids = split /\n/, $node->safe_psql('postgres',
	"SELECT DISTINCT queryid FROM scale_advisor.query_stats WHERE userid = 'alice'::regrole AND queryid <> 0
	 EXCEPT SELECT queryid FROM scale_advisor.query_stats WHERE userid = 'bob'::regrole");
ok(@alice_ids >= 3, scalar(@alice_ids) . " query ids of alice's statements");
my $ids_re = join('|', map { quotemeta } @alice_ids);
# Other roles' query ids are hidden everywhere, as pg_stat_statements hides
# them; nothing is excepted.
my %ids_known = ();
my ($leaks, $writes, $errors, $idleaks, $idknown) = ('', '', '', '', '');
for my $obj ((map { "view:$_" } @views), (map { "fn:$_" } @fns))
{
	my ($kind, $name) = split /:/, $obj, 2;
	my $from = $kind eq 'view' ? "$name t" : "$name() t";
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET ROLE bob; BEGIN READ ONLY; SELECT coalesce(string_agg(t::text, ' '), '') FROM $from; COMMIT;");
	$leaks .= "$name (" . substr($out, $-[0] > 120 ? $-[0] - 120 : 0, 240) . ") " if $out =~ /alice_secret_alias/;
	if ($out =~ /(?<![0-9])($ids_re)(?![0-9])/)
	{
		if ($ids_known{$name}) { $idknown .= "$name "; }
		else { $idleaks .= "$name (query id $1) "; }
	}
	$writes .= "$name " if $err =~ /read-only transaction/;
	$errors .= "$name: $err\n" if $ret != 0 && $err !~ /read-only transaction/;
}
is($leaks, '', 'no view or function bob may use shows alice\'s statement text');
note("leaked by: $leaks") if $leaks;
is($idleaks, '', 'no view or function bob may use shows the query ids of alice\'s statements');
note("known, reported: alice's query ids shown by $idknown") if $idknown;
is($writes, '', 'none of them writes (all ran in READ ONLY transactions)');
note("errors for bob (refused, not leaked):\n$errors") if $errors;
ok(scalar(@views) >= 3 && scalar(@fns) >= 5, scalar(@views) . ' views and ' . scalar(@fns) . ' functions probed');

$node->stop;
done_testing();
