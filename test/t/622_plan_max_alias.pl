# scale_advisor.plan_max and its 1.0 name plan_max_statements, both set.
#
# The 1.0 name gives the capacity only when plan_max is left at its
# default.  A configuration that names plan_max explicitly (here with the
# value that happens to be its default, 1000) means that value, whatever
# an older line with the 1.0 name says.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('plan_max_alias',
	conf => "scale_advisor.plan_max_statements = 50\nscale_advisor.plan_max = 1000\n");
is($node->safe_psql('postgres', 'SHOW scale_advisor.plan_max'), '1000',
	'plan_max set explicitly to 1000 wins over the 1.0 name');
$node->stop;

my $other = sa_node('plan_max_alias2',
	conf => "scale_advisor.plan_max_statements = 50\nscale_advisor.plan_max = 2000\n");
is($other->safe_psql('postgres', 'SHOW scale_advisor.plan_max'), '2000',
	'plan_max set explicitly to another value wins over the 1.0 name');
$other->stop;
done_testing();
