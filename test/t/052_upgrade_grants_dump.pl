# Grants a user made on 1.0 routines that the update recreates survive a
# dump and restore after the update.
#
# The update carries such grants to the recreated routines (partition_table,
# history_reset, the helpers whose parameters were renamed).  Made inside
# ALTER EXTENSION, a GRANT is recorded in pg_init_privs as one of the
# extension's initial privileges, and pg_dump leaves out privileges equal
# to the initial ones: the user's grant is then missing from every dump,
# and a restore (which creates the extension afresh) loses it.  On
# PostgreSQL 15 and 16 a role later dropped stays in pg_init_privs, and the
# dump then holds "REVOKE ... FROM "<oid>"", which fails to restore.
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
  GRANT EXECUTE ON PROCEDURE scale_advisor.partition_table TO carol};
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

is(dumped_grants('fresh'), '_archive_exists carol, _archive_exists dave, partition_table carol',
	'a fresh 1.1 installation: the dump holds the grants');
is(dumped_grants('old'), '_archive_exists carol, _archive_exists dave, partition_table carol',
	'updated from 1.0: the dump holds the grants carried by the update');

# a role that had a carried grant, revoked, is dropped: that needs nothing
# more than after a fresh installation, and no dump names the dropped role
$node->safe_psql('old', q{REVOKE ALL ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) FROM dave});
$node->safe_psql('fresh', q{REVOKE ALL ON FUNCTION scale_advisor._archive_exists(text, timestamptz, timestamptz) FROM dave});
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
