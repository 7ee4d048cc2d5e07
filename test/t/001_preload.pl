# Starts a cluster with scale_advisor preloaded and creates the extension.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'scale_advisor'\ncompute_query_id = on");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
is($node->safe_psql('postgres', 'SELECT scale_advisor._require_loaded()'), 't', 'library is preloaded');
$node->stop;
done_testing();
