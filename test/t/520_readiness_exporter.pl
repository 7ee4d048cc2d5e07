# The monitoring face: the real postgres_exporter (Debian's
# prometheus-postgres-exporter) with docs/monitoring/scale_advisor_queries.yaml
# against a test cluster, and the scale_advisor metrics in its /metrics.
# The exporter connects as a plain member of pg_monitor, as docs/monitoring
# and docs/security.md tell a DBA to set it up: not as a superuser.
use strict;
use warnings;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => "$exporter is not installed" unless -x $exporter;

my $node = PostgreSQL::Test::Cluster->new('readiness_exporter');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.snapshot_interval = 0
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION scale_advisor;
	CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g;
	SELECT scale_advisor.snapshot();
	SELECT scale_advisor.set_threshold('connections_warning_pct', 0);
	CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
});
is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'monitor'"),
	'f', 'the exporter role is not a superuser');
$node->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id = 5') for 1 .. 3;

# a free TCP port on 127.0.0.1 (the cluster itself listens on a unix socket)
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $queries = "$ENV{SA_BUILD}/docs/monitoring/scale_advisor_queries.yaml";
ok(-f $queries, 'queries file is in docs/monitoring');
my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' user=monitor dbname=postgres sslmode=disable';
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$queries", '--disable-default-metrics',
		'--disable-settings-metrics', '--log.level=warn'
	],
	'<', \undef, '>', \$out, '2>', \$err,
	init => sub { $ENV{DATA_SOURCE_NAME} = $dsn });

# wait for it to answer
my $metrics = '';
for (1 .. 60)
{
	$metrics = `curl -s --max-time 10 http://127.0.0.1:$port/metrics`;
	last if $metrics =~ /scale_advisor_/;
	sleep 1;
}
$h->kill_kill;
$h->finish;
note "exporter stderr: $err" if $err ne '';

like($metrics, qr/^scale_advisor_checklist_status\{check="wal_archiving",server="[^"]*"\} 2$/m,
	'checklist status: WAL archiving fails (archiving is off)');
like($metrics, qr/^scale_advisor_checklist_status\{check="autovacuum",server="[^"]*"\} 0$/m,
	'checklist status: autovacuum passes');
# every query group of the file answered (as the pg_monitor member)
my $yaml = slurp_file($queries);
my @groups = ($yaml =~ /^(scale_advisor_\w+):\s*$/mg);
ok(@groups >= 8, scalar(@groups) . ' query groups in the queries file');
for my $g (@groups)
{
	like($metrics, qr/^\Q$g\E_\w+\{/m, "query group $g answered for a pg_monitor member");
}
my @checks = ($metrics =~ /^scale_advisor_checklist_status\{/mg);
is(scalar @checks, $node->safe_psql('postgres', 'SELECT count(*) FROM scale_advisor.checklist'),
	'one series per check');
like($metrics, qr/^scale_advisor_alerts_firing\{alert="connections",server="[^"]*",severity="warning"\} 1$/m,
	'firing alert exported');
like($metrics, qr/^scale_advisor_alerts_by_severity_firing\{server="[^"]*",severity="critical"\} 0$/m,
	'alerts by severity: none critical');
like($metrics, qr/^scale_advisor_statements_calls\{queryid="-?\d+",server="[^"]*"\} 3$/m,
	'statement calls exported');
like($metrics, qr/^scale_advisor_statements_p95_ms\{queryid="-?\d+",server="[^"]*"\} [0-9.e+-]+$/m,
	'statement p95 exported');
like($metrics, qr/^scale_advisor_growth_bytes\{relation="postgres",scope="database",server="[^"]*"\} \d/m,
	'database size exported');
like($metrics, qr/^scale_advisor_capacity_projected_2x\{item="connections \(peak\)",server="[^"]*",unit="connections"\} \d+$/m,
	'capacity at twice the load exported');
like($metrics, qr/^scale_advisor_regressions_statements\{server="[^"]*"\} 0$/m, 'regressions exported');
like($metrics, qr/^scale_advisor_history_snapshots\{server="[^"]*"\} 1$/m, 'history exported');
# every metric the Grafana dashboard draws is exported
my $dash_file = "$ENV{SA_BUILD}/docs/monitoring/scale_advisor_dashboard.json";
my $dash = JSON::PP::decode_json(slurp_file($dash_file));
my %wanted;
for my $p (@{ $dash->{panels} })
{
	$wanted{$_} = 1 for map { $_->{expr} =~ /\b(scale_advisor_\w+)/g } @{ $p->{targets} };
}
my @missing = grep { $metrics !~ /^\Q$_\E\{/m } sort keys %wanted;
ok(scalar(keys %wanted) >= 10, 'dashboard draws scale_advisor metrics');
is(join(', ', @missing), '', 'every metric of the dashboard is exported');
unlike($metrics, qr/pg_exporter_user_queries_load_error\{[^}]*\} 1/, 'queries file loads without error');
unlike($err, qr/level=error/, 'exporter logged no error');

$node->stop;
done_testing();
