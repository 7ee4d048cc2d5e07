# Grants a user made on the 1.0 archiving steps (as docs/archiving.md sets
# up an archiver role) survive the update and a dump after it.
#
# Had the update dropped and recreated those routines (to rename their
# parameters), it could carry the grants only from inside ALTER EXTENSION,
# where a GRANT is recorded in pg_init_privs as one of the extension's
# initial privileges; pg_dump leaves out privileges equal to the initial
# ones, so the grant would be missing from every dump and a restore would
# lose it; on PostgreSQL 15 and 16 a role later dropped stays in
# pg_init_privs, and the dump then holds "REVOKE ... FROM "<oid>"", which
# fails to restore.  partition_table, whose signature changes, is the one
# routine whose grants the update carries that way; it then puts the
# initial privileges back to those of a fresh installation, so that its
# grants too are in the dump (the code before left them out).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use IPC::Run;

my $node = sa_node('upgrade_grants_dump');

$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh; CREATE ROLE carol; CREATE ROLE dave');
$node->safe_psql('old', "CREATE EXTENSION scale_advisor VERSION '1.0'");
$node->safe_psql('fresh', 'CREATE EXTENSION scale_advisor');
my $grants = q{
  GRANT EXECUTE ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) TO carol;
  GRANT EXECUTE ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) TO dave;
  GRANT EXECUTE ON PROCEDURE scale_advisor._archive_run TO carol;
  GRANT EXECUTE ON FUNCTION scale_advisor._archive_start TO carol;
  GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table TO carol;
  GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table TO dave};
$node->safe_psql('old', $grants);
$node->safe_psql('fresh', $grants);
$node->safe_psql('old', 'ALTER EXTENSION scale_advisor UPDATE');

# the text of pg_dump
sub dump_of
{
	my ($db) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_dump', '-d', $node->connstr($db) ], '>', \$stdout, '2>', \$stderr)
	  or die "pg_dump $db failed: $stderr";
	return $stdout;
}

# the routine and grantee of each grant in the dump
sub dumped_grants
{
	my ($db) = @_;
	my $stdout = dump_of($db);
	my @g = sort map { /ON (?:FUNCTION|PROCEDURE) scale_advisor\.(\w+)\(.* TO (\w+);$/ ? "$1 $2" : () }
	  grep { /^GRANT / } split /\n/, $stdout;
	return join(', ', @g);
}

is(dumped_grants('fresh'), '_archive_exists carol, _archive_exists dave, _archive_run carol, _archive_start carol, partition_table carol, partition_table dave',
	'a fresh 1.1 installation: the dump holds the grants');
is(dumped_grants('old'), '_archive_exists carol, _archive_exists dave, _archive_run carol, _archive_start carol, partition_table carol, partition_table dave',
	'updated from 1.0: the dump holds the grants made on 1.0');

# a role that had a grant, revoked, is dropped: that needs nothing
# more than after a fresh installation, and no dump names the dropped role
foreach my $db ('old', 'fresh')
{
	$node->safe_psql($db, q{REVOKE ALL ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) FROM dave;
	  REVOKE ALL ON PROCEDURE scale_advisor.partition_table FROM dave});
}
my ($rc, $out, $err) = $node->psql('postgres', 'DROP ROLE dave');
is($rc, 0, 'a role whose grants were revoked can be dropped') or diag($err);
if ($rc != 0)
{
	$node->safe_psql($_, 'DROP OWNED BY dave') for ('old', 'fresh');
	$node->safe_psql('postgres', 'DROP ROLE dave');
}
for my $db ('fresh', 'old')
{
	my @bad = grep { / FROM "\d+";$/ } split /\n/, dump_of($db);
	is(scalar(@bad), 0, "$db: after a role with a grant is dropped, the dump names no dropped role (PostgreSQL before 17 keeps it in pg_init_privs)")
	  or diag(join("\n", @bad));
}

$node->stop;
done_testing();
