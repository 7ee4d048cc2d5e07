# N+1 detection with a real libpq client (test/orm_client.c) that behaves
# like an ORM: list the posts, then one prepared "SELECT ... WHERE post_id =
# $1" per post with an interleaved author lookup.  Checks autocommit and
# transaction mode, transactions spread over two connections as a
# transaction-mode pooler does, many sessions looping at once (each attributed to its
# application_name), the suggested statements, and a batch role that has
# detection turned off.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $client = "$PostgreSQL::Test::Utils::tmp_check/orm_client";
system_or_bail('sh', "$ENV{SA_BUILD}/test/build_orm_client.sh", $client);

my $node = PostgreSQL::Test::Cluster->new('nplus1');
$node->init;
# a generous window: the machine is shared, a loop must not be split by a
# scheduling hiccup
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.n_plus_one_window_ms = 2000
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE orm_authors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE orm_posts (id int PRIMARY KEY,
                        author_id int NOT NULL REFERENCES orm_authors,
                        title text NOT NULL);
CREATE TABLE orm_comments (id serial PRIMARY KEY,
                           post_id int NOT NULL REFERENCES orm_posts,
                           body text NOT NULL);
INSERT INTO orm_authors SELECT g, 'author ' || g FROM generate_series(1, 7) g;
INSERT INTO orm_posts SELECT g, g % 7 + 1, 'post ' || g FROM generate_series(1, 100) g;
INSERT INTO orm_comments (post_id, body)
  SELECT g % 100 + 1, 'comment ' || g FROM generate_series(1, 300) g;
CREATE ROLE batch LOGIN;
GRANT SELECT ON orm_authors, orm_posts, orm_comments TO batch;
ALTER ROLE batch SET scale_advisor.n_plus_one = off;
});
my $connstr = $node->connstr('postgres');

# run clients (one per [application_name, mode, posts, rounds, user]) at
# once and wait for them and their backends to finish
sub run_clients
{
	my @clients = @_;
	my @h;
	foreach my $c (@clients)
	{
		my ($app, $mode, $posts, $rounds, $user) = @$c;
		my $cs = "$connstr application_name=$app";
		$cs .= " user=$user" if $user;
		my ($out, $err) = ('', '');
		push @h, [ IPC::Run::start([ $client, $cs, $mode, $posts, $rounds ],
				'>', \$out, '2>', \$err), \$out, \$err, $app ];
	}
	foreach my $x (@h)
	{
		my ($h, $out, $err, $app) = @$x;
		my $ok = $h->finish;
		ok($ok && $$out =~ /^posts=\d+ comment_queries=\d+/, "client $app finished")
		  or diag($$err);
	}
	# autocommit runs are published when the backend exits
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'orm%'")
	  or die "clients' backends did not exit";
}

sub view
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# 1. One client in autocommit mode, one in a transaction.
run_clients([ 'orm_auto', 'autocommit', 50, 1 ],
	[ 'orm_xact', 'transaction', 50, 1 ]);
foreach my $app ('orm_auto', 'orm_xact')
{
	is( view(qq{
		SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', kind,
			  CASE WHEN query LIKE '%orm_comments%' THEN 'comments' ELSE 'authors' END,
			  parent_query LIKE '%FROM orm_posts%', parent_rows, last_run,
			  detections, max_run),
			  E'\\n' ORDER BY query)
		  FROM scale_advisor.n_plus_one WHERE application_name = '$app'}),
		"n_plus_one|authors|t|50|50|1|50\nn_plus_one|comments|t|50|50|1|50",
		"$app: both loops found with their run length and the list of posts as parent");
}

# the suggested statements run and fetch what the loop fetched
my $sugg = view(q{
	SELECT batched_query || E'\n' || join_query FROM scale_advisor.n_plus_one
	 WHERE application_name = 'orm_xact' AND query LIKE '%orm_comments%'});
my ($batched, $join) = split /\n/, $sugg;
like($batched, qr/post_id = ANY \(\$1::integer\[\]\)/, 'batched form uses an integer array');
my $keys = '{' . join(',', 1 .. 50) . '}';
is( view(qq{
	PREPARE b AS $batched;
	CREATE TEMP TABLE r AS EXECUTE b('$keys');
	SELECT count(*) = (SELECT count(*) FROM orm_comments WHERE post_id <= 50) FROM r;}),
	't', 'batched statement returns the comments of all 50 posts');
like($join, qr/LEFT JOIN LATERAL/, 'join form offered');
is( view(qq{
	PREPARE j AS $join;
	CREATE TEMP TABLE r AS EXECUTE j(50);
	SELECT count(*) = (SELECT count(*) FROM orm_comments WHERE post_id <= 50) FROM r;}),
	't', 'join returns the comments of all 50 posts in one statement');

# 1b. Behind a transaction-mode pooler: each transaction on the next of two
# server connections; every transaction's loops are found on its backend.
run_clients([ 'orm_pooled', 'pooled', 40, 4 ]);
is( view(q{
	SELECT string_agg(format('%s|%s|%s|%s', kind, detections, max_run, repeated_calls),
		  E'\n' ORDER BY query)
	  FROM scale_advisor.n_plus_one WHERE application_name = 'orm_pooled'}),
	"n_plus_one|4|40|160\nn_plus_one|4|40|160",
	'pooled transactions: four runs of 40 per loop over two backends');

# 2. Many sessions looping at once, each attributed to its application.
view('SELECT scale_advisor.n_plus_one_reset()');
my @many;
for my $i (0 .. 7)
{
	push @many, [ "orm_app_$i", ($i % 2 ? 'transaction' : 'autocommit'), 30, 3 ];
}
push @many, [ 'orm_batch', 'transaction', 30, 3, 'batch' ];
run_clients(@many);
is( view(q{
	SELECT count(DISTINCT application_name) FROM scale_advisor.n_plus_one
	 WHERE application_name LIKE 'orm_app_%'}),
	'8', 'all eight looping sessions detected');
is( view(q{
	SELECT count(*) FROM scale_advisor.n_plus_one
	 WHERE application_name LIKE 'orm_app_%'
	   AND kind = 'n_plus_one' AND detections = 3 AND repeated_calls = 90
	   AND max_run = 30 AND parent_rows = 30
	   AND parent_query LIKE '%FROM orm_posts%'}),
	'16', 'each session: two loops, three runs of 30, posts list as parent');
is( view(q{
	SELECT count(*) FROM scale_advisor.n_plus_one WHERE application_name = 'orm_batch'}),
	'0', 'a role with scale_advisor.n_plus_one = off is left alone');

# 3. Silencing an application.
view(q{SELECT scale_advisor.n_plus_one_ignore_application('orm_app_0', 'nightly job')});
is( view(q{
	SELECT count(*) FROM scale_advisor.n_plus_one WHERE application_name = 'orm_app_0'}),
	'0', 'ignored application no longer shown');

$node->stop;
done_testing();
