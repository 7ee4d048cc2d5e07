# Alerting end to end: a real Prometheus server (Debian's prometheus) scrapes
# two real postgres_exporters (prometheus-postgres-exporter) with
# docs/monitoring/scale_advisor_queries.yaml, one over a primary and one over
# its streaming standby, and evaluates docs/monitoring/scale_advisor_rules.yml.
#  - both targets are up and both send scale_advisor metrics (the exporter
#    role is a plain pg_monitor member, as the docs say);
#  - no scale_advisor alert fires at first; then a condition is created on the
#    primary (the connections threshold set to 0 %: every session counts as
#    too many), it reaches the standby by replication, and Prometheus fires
#    ScaleAdvisorConnections for both servers, with the view's severity and
#    the rule's runbook;
#  - the checklist's failing checks become ScaleAdvisorCheckFailing alerts.
# The rules' `for:` durations (minutes to hours) are set to 0s in the copy
# Prometheus loads here; promtool's unit tests (test/release) check the
# durations themselves.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
my $prometheus = '/usr/bin/prometheus';
plan skip_all => "$exporter is not installed" unless -x $exporter;
plan skip_all => "$prometheus is not installed" unless -x $prometheus;

my $root = $ENV{SA_BUILD} // $ENV{SA_ROOT};
my $queries = "$root/docs/monitoring/scale_advisor_queries.yaml";
my $rules_src = "$root/docs/monitoring/scale_advisor_rules.yml";

my $primary = PostgreSQL::Test::Cluster->new('alerting_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.snapshot_interval = 0
});
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION scale_advisor;
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
	CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g;
});
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('alerting_standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# one exporter per server, as the monitoring role
my %exp;
my @handles;
for my $node ($primary, $standby)
{
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $dsn = 'host=' . $node->host . ' port=' . $node->port
	  . ' user=monitor dbname=postgres sslmode=disable';
	my ($out, $err) = ('', '');
	push @handles, IPC::Run::start(
		[
			$exporter, "--web.listen-address=127.0.0.1:$port",
			"--extend.query-path=$queries", '--disable-default-metrics',
			'--disable-settings-metrics', '--log.level=warn'
		],
		'<', \undef, '>', \$out, '2>', \$err,
		init => sub { $ENV{DATA_SOURCE_NAME} = $dsn });
	$exp{ $node->name } = "127.0.0.1:$port";
}

# Prometheus: scrape both every second, evaluate the rules every second
my $dir = PostgreSQL::Test::Utils::tempdir();
my $rules = slurp_file($rules_src);
my $nfor = ($rules =~ s/^(\s+for:) \S+$/$1 0s/mg);
ok($nfor >= 16, "the rules' for: durations set to 0s for this test ($nfor)");
open my $fh, '>', "$dir/rules.yml" or die;
print $fh $rules;
close $fh;
my $pport = PostgreSQL::Test::Cluster::get_free_port();
open $fh, '>', "$dir/prometheus.yml" or die;
print $fh qq{global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [ "$dir/rules.yml" ]
scrape_configs:
  - job_name: postgres
    static_configs:
      - targets: [ "$exp{alerting_primary}" ]
        labels: { role: primary }
      - targets: [ "$exp{alerting_standby}" ]
        labels: { role: standby }
};
close $fh;
my ($pout, $perr) = ('', '');
push @handles, IPC::Run::start(
	[
		$prometheus, "--config.file=$dir/prometheus.yml",
		"--storage.tsdb.path=$dir/data", "--web.listen-address=127.0.0.1:$pport",
		'--log.level=warn'
	],
	'<', \undef, '>', \$pout, '2>', \$perr);

sub api
{
	my ($path) = @_;
	my $body = `curl -s --max-time 10 'http://127.0.0.1:$pport/api/v1/$path'`;
	my $r = eval { JSON::PP::decode_json($body) };
	return $r && $r->{status} eq 'success' ? $r->{data} : undef;
}

# wait until a condition on the API holds (at most $secs seconds)
sub wait_for
{
	my ($secs, $cond) = @_;
	for (1 .. $secs)
	{
		my $v = $cond->();
		return $v if $v;
		sleep 1;
	}
	return $cond->();
}

sub firing
{
	my ($name) = @_;
	my $d = api('alerts') or return ();
	return grep { $_->{labels}{alertname} eq $name && $_->{state} eq 'firing' }
	  @{ $d->{alerts} };
}

# both targets up, both with scale_advisor metrics
my $up = wait_for(120, sub {
	my $d = api('query?query=' . 'count(up%7Bjob%3D%22postgres%22%7D%3D%3D1)') or return 0;
	return @{ $d->{result} } && $d->{result}[0]{value}[1] == 2;
});
ok($up, 'Prometheus scrapes both exporters (primary and standby)');
my $both = wait_for(120, sub {
	my $d = api('query?query=' . 'count%20by%20(role)%20(scale_advisor_checklist_status)') or return 0;
	return scalar(@{ $d->{result} }) == 2;
});
ok($both, 'scale_advisor checklist metrics come from the primary and the standby');
my $rl = api('rules');
my @groups = $rl ? map { $_->{name} } @{ $rl->{groups} } : ();
is(join(',', sort @groups), 'scale_advisor.alerts,scale_advisor.checklist,scale_advisor.exporter',
	'Prometheus loaded the three rule groups');
# let a few evaluations run, then no connections alert may fire yet
sleep 5;
is(scalar(firing('ScaleAdvisorConnections')), 0, 'no connections alert before the condition');
is(scalar(firing('ScaleAdvisorMetricsMissing')), 0,
	'no metrics-missing alert: the exporters read scale_advisor as pg_monitor members');
my $rh = api('rules');
my @bad = $rh ? grep { ($_->{health} // '') eq 'err' } map { @{ $_->{rules} } } @{ $rh->{groups} } : ('no rules');
is(scalar(@bad), 0, 'every rule evaluates without error');

# create the condition on the primary; it replicates to the standby
$primary->safe_psql('postgres', "SELECT scale_advisor.set_threshold('connections_warning_pct', 0)");
$primary->wait_for_catchup($standby);
# the exporter caches the alerts query for 60 s
my @f = ();
wait_for(180, sub { @f = firing('ScaleAdvisorConnections'); return @f == 2; });
is(scalar(@f), 2, 'ScaleAdvisorConnections fires for both servers once the condition exists');
is(join(',', sort map { $_->{labels}{role} } @f), 'primary,standby', 'one alert per server');
ok((grep { $_->{labels}{severity} eq 'warning' } @f) == 2, "the alert carries the view's severity");
like($f[0]{annotations}{runbook} // '', qr/pg_stat_activity/, 'the alert carries its runbook');
like($f[0]{annotations}{summary} // '', qr/127\.0\.0\.1:\d+/, 'the summary names the server');

# failing checklist items fire as well (WAL archiving is off on both)
my @c = ();
wait_for(60, sub { @c = grep { $_->{labels}{check} eq 'wal_archiving' } firing('ScaleAdvisorCheckFailing'); return @c == 2; });
is(scalar(@c), 2, 'ScaleAdvisorCheckFailing fires for the failing wal_archiving check on both servers');

$_->kill_kill for @handles;
$_->finish for @handles;
note "prometheus stderr: $perr" if $perr ne '';
$standby->stop;
$primary->stop;
done_testing();
