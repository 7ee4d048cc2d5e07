# Upgrade from 1.0 with users' own objects over the extension's public
# set-returning functions.
#
# A dashboard or report often wraps a function of the extension in a view
# of its own (as 050 does for every public view of 1.0).  A view over a
# function depends on it, so an update that drops the function (to change
# its result columns) fails for that user, with "cannot drop function ...
# because other objects depend on it".  This checks the public functions of
# 1.0 that return rows and that a reader calls: capacity(),
# partition_table_plan() and partition_blockers().
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('upgrade_dependents');

$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', "CREATE EXTENSION scale_advisor VERSION '1.0'");
$node->safe_psql('old', q{
  CREATE TABLE public.events (id bigint PRIMARY KEY, at timestamptz NOT NULL);
  CREATE VIEW public.my_capacity AS SELECT * FROM scale_advisor.capacity(3);
  CREATE VIEW public.my_partition_plan AS
    SELECT * FROM scale_advisor.partition_table_plan('public.events', 'at', '1 month');
  CREATE VIEW public.my_blockers AS
    SELECT * FROM scale_advisor.partition_blockers('public.events', 'at');
});

my ($rc, $out, $err) = $node->psql('old', 'ALTER EXTENSION scale_advisor UPDATE');
is($rc, 0, "ALTER EXTENSION UPDATE succeeds with users' views over public functions")
  or diag($err);
is($node->safe_psql('old',
		q{SELECT count(*) FROM pg_class WHERE relname IN ('my_capacity', 'my_partition_plan', 'my_blockers')}),
	'3', "users' views over public functions are kept");
my ($crc) = $node->psql('old', 'SELECT count(*) FROM public.my_capacity');
is($crc, 0, 'the view over capacity() still reads after the update');

$node->stop;
done_testing();
