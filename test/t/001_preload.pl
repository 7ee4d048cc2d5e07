# Starts a cluster with scale_advisor preloaded and creates the extension.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $node = sa_node('main');
$node->safe_psql('postgres', 'CREATE EXTENSION scale_advisor');
is($node->safe_psql('postgres', 'SELECT scale_advisor._require_loaded()'), 't', 'library is preloaded');

# PostgreSQL 18 and later: the magic block carries the name and version
if ($node->safe_psql('postgres', 'SHOW server_version_num') >= 180000)
{
	my ($control) = slurp_file("$ENV{SA_ROOT}/scale_advisor.control") =~ /default_version = '([^']+)'/;
	is($node->safe_psql('postgres', q{SELECT module_name || ' ' || version
		FROM pg_get_loaded_modules() WHERE file_name LIKE 'scale_advisor%'}),
		"scale_advisor $control", 'pg_get_loaded_modules() names the module and its version');
}

# Binary-upgrade mode (the servers pg_upgrade starts, with their
# shared_preload_libraries): the library sets nothing up, starts no worker,
# and its functions say it is not loaded.
$node->stop;
$node->command_ok([ 'pg_ctl', '-D', $node->data_dir, '-l', $node->logfile, '-o', '-b', '-w', 'start' ],
	'server starts in binary-upgrade mode');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT scale_advisor._require_loaded()');
like($err, qr/scale_advisor must be loaded via shared_preload_libraries/,
	'in binary-upgrade mode the library is not set up');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type LIKE 'scale_advisor%'}), '0', 'no scale_advisor worker in binary-upgrade mode');
$node->command_ok([ 'pg_ctl', '-D', $node->data_dir, '-m', 'fast', '-w', 'stop' ], 'binary-upgrade server stops');
$node->start;
ok($node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_stat_activity
	WHERE backend_type LIKE 'scale_advisor%'}), 'a normal start runs the workers again');
is($node->safe_psql('postgres', 'SELECT scale_advisor._require_loaded()'), 't', 'and the library is set up');
$node->stop;
done_testing();
