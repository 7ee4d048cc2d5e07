# Every SQL example of README.md and docs/*.md runs as written.
#
# The ```sql blocks are taken from the files in the order a reader meets
# them (README.md, then docs/ by name) and run one block at a time with
# psql (ON_ERROR_STOP), as the superuser postgres, in database shop: the
# application the docs talk about, with the tables and roles they name
# (made below, nothing else).  A block the docs mean as a signature or a
# shape rather than something to run has the line
#   <!-- docs-test: not run: <why> -->
# right before its fence; this test lists them and keeps the list short.
# The pg_cron block runs when pg_cron is installed (Debian has it for
# PostgreSQL 15 only), configured as docs/archiving.md says.
use strict;
use warnings;
use File::Basename;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{SA_ROOT} // '.';
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $have_cron = -f "$sharedir/extension/pg_cron.control";

my $node = PostgreSQL::Test::Cluster->new('docs_examples');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = '} . ($have_cron ? 'scale_advisor,pg_cron' : 'scale_advisor') . qq{'
compute_query_id = on
scale_advisor.snapshot_interval = 0
});
# pg_cron as docs/archiving.md sets it up: the database, and the socket
$node->append_conf('postgresql.conf', "cron.database_name = 'shop'\ncron.host = '" . $node->host . "'\n")
  if $have_cron;
$node->start;

# The application of the docs: database shop, tables owned by app, and the
# roles the grants name.  The extension itself is created by README.md's
# first example.
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', q{
  CREATE ROLE app LOGIN;
  CREATE ROLE app_owner;
  CREATE ROLE archiver LOGIN;
  GRANT CREATE ON SCHEMA public TO app;
  SET ROLE app;
  CREATE TABLE public.events (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL,
    kind text, PRIMARY KEY (id, created_at));
  INSERT INTO public.events (created_at, kind)
    SELECT timestamptz '2024-06-01 00:00+00' + g * interval '1 hour', 'k' || g % 7
    FROM generate_series(1, 20000) g;
  CREATE TABLE public.sessions (id bigint PRIMARY KEY, started_at timestamptz NOT NULL);
  INSERT INTO public.sessions SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 2000) g;
  CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,
    created_at timestamptz NOT NULL, total numeric);
  INSERT INTO public.orders SELECT g, g % 500, now() - g * interval '1 minute', g FROM generate_series(1, 20000) g;
  RESET ROLE;
  ANALYZE;
});
# a little workload, so that the views have something to show
$node->safe_psql('shop', "SELECT count(*) FROM public.orders WHERE customer_id = $_;") for 1 .. 12;

# the ```sql blocks, in reading order
my @files = ("$root/README.md", sort glob("$root/docs/*.md"));
my (@blocks, @not_run);
for my $f (@files)
{
	my $name = $f;
	$name =~ s{^\Q$root\E/}{};
	open my $fh, '<', $f or die "$f: $!";
	my @lines = <$fh>;
	close $fh;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^```sql\s*$/;
		my $start = $i + 1;
		my $sql = '';
		$i++;
		while ($i < @lines && $lines[$i] !~ /^```\s*$/)
		{
			$sql .= $lines[$i];
			$i++;
		}
		my ($why) = $start >= 2 ? $lines[ $start - 2 ] =~ /^<!-- docs-test: not run: (.+?) -->$/ : ();
		if (defined $why)
		{
			push @not_run, "$name:$start ($why)";
			next;
		}
		push @blocks, { where => "$name:$start", sql => $sql };
	}
}
cmp_ok(scalar @blocks, '>=', 15, scalar(@blocks) . ' SQL examples found');
note "not run: $_" for @not_run;
cmp_ok(scalar @not_run, '<=', 5, 'few examples are marked as not runnable');

for my $b (@blocks)
{
	if (!$have_cron && $b->{sql} =~ /\bcron\./)
	{
		note "$b->{where}: pg_cron is not installed for this server; block not run";
		next;
	}
	my ($rc, $out, $err) = $node->psql('shop', $b->{sql}, on_error_stop => 1);
	my @errors = grep { /\b(ERROR|FATAL|PANIC):/ } split /\n/, $err;
	ok($rc == 0 && !@errors, "$b->{where} runs as written")
	  or diag("exit $rc\n$err\n--- the example:\n$b->{sql}");
}

# What the examples did, checked where a reader would look.
is($node->safe_psql('shop', q{SELECT count(*) > 0 FROM public.events_archive}), 't',
	'the archiving examples moved old rows into public.events_archive');
is($node->safe_psql('shop', q{SELECT relkind FROM pg_class WHERE oid = 'public.events'::regclass}), 'p',
	'the partitioning example partitioned public.events');
is($node->safe_psql('shop', q{SELECT value FROM scale_advisor.threshold_settings WHERE name = 'slow_statement_ms'}),
	'100', 'the thresholds example ends with the default back');
is($node->safe_psql('shop', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'prometheus'}), 'f',
	'the monitoring role of the docs is no superuser');
if ($have_cron)
{
	is($node->safe_psql('shop', q{SELECT count(*) FROM cron.job WHERE jobname = 'archive'}), '1',
		'the pg_cron example scheduled the archiving job');
}

$node->stop;
done_testing();
