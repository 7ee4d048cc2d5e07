# N+1 detection against real ORMs: Django 3.2 + psycopg2, ActiveRecord 6.1 +
# ruby-pg and Sequelize 6 + node-postgres, each running a test application
# of its own (test/orm/*) against a cluster with scale_advisor preloaded,
# then the same applications behind PgBouncer in transaction pooling mode.
#
# For every loop an application runs, the test asserts from
# scale_advisor.n_plus_one its kind, its run length (max_run) and its parent
# statement (the query id the server logged for the statement whose rows the
# loop walked), that nothing else of the scenario is flagged, and that each
# suggestion, run with the values the application really bound (taken from
# the server's statement log), returns the rows the loop returned
# (multisets), or, for INSERT and UPDATE loops, leaves the table as the loop
# did.  Negative controls (eager loading, batched IN lists, deferred foreign
# key checks at COMMIT) must not be flagged at all.
#
# The table of docs/n-plus-one.md ("Real ORMs") is printed at the end
# (diag lines starting with "table:").
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use File::Temp ();
use SaOrm;

my $src = "$ENV{SA_BUILD}/test/orm";
my $python = '/usr/bin/python3';    # Debian's, with python3-django
my $ruby = '/usr/bin/ruby';
my $nodejs = '/usr/bin/node';
my $node_modules = $ENV{SA_NODE_MODULES} // '';

# The clients must be there: a missing one is a failure, not a skip.
ok(system($python, '-c', 'import django, psycopg2; assert django.VERSION[:2] == (3, 2)') == 0,
	'Django 3.2 and psycopg2 are installed')
  or BAIL_OUT('python3-django and python3-psycopg2 are needed');
ok(system($ruby, '-e', 'require "active_record"; require "pg"; exit(ActiveRecord::VERSION::MAJOR == 6 ? 0 : 1)') == 0,
	'ActiveRecord 6 and ruby-pg are installed')
  or BAIL_OUT('ruby-activerecord and ruby-pg are needed');
ok($node_modules ne '' && -d "$node_modules/sequelize" && -d "$node_modules/pg",
	'Sequelize and pg are installed (SA_NODE_MODULES)')
  or BAIL_OUT('run through test/suites/30-tap.sh, which installs the npm packages');

my $node = PostgreSQL::Test::Cluster->new('orm');
$node->init;
# Every statement is logged with its duration, query id and parameters (the
# test reads what the applications really ran from there).  The window is
# generous, so that a loop is not split on a busy machine; the slow loops
# run with the product's default of 100 ms (set by their session).
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.n_plus_one_window_ms = 1000
max_connections = 60
log_statement = 'none'
log_min_duration_statement = 0
logging_collector = on
log_destination = 'jsonlog'
log_directory = 'log'
log_parameter_max_length = -1
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE DATABASE django;
CREATE DATABASE rails;
CREATE DATABASE sequelize;
});
my $user = $node->safe_psql('postgres', 'SELECT current_user');

# Run one application with its scenarios; true when it printed "done" for
# each.  $host/$port default to the server's (the pooler's otherwise).
sub run_app
{
	my ($orm, $scenarios, %o) = @_;
	my %env = (
		PGHOST => $o{host} // $node->host,
		PGPORT => $o{port} // $node->port,
		PGUSER => $user,
		SA_DB => { django => 'django', activerecord => 'rails', sequelize => 'sequelize' }->{$orm},
	);
	$env{SA_APP_PREFIX} = $o{prefix} if $o{prefix};
	$env{SA_NO_OPTIONS} = 1 if $o{no_options};
	$env{SA_NO_PREPARED} = 1 if $o{no_prepared};
	$env{SA_ROW_PAUSE_MS} = $o{pause_ms} if $o{pause_ms};
	$env{SA_START_AT} = $o{start_at} if $o{start_at};
	$env{NODE_PATH} = $node_modules;
	$env{HOME} = $PostgreSQL::Test::Utils::tmp_check;
	my @cmd = {
		django => [ $python, "$src/django/run.py" ],
		activerecord => [ $ruby, "$src/activerecord/run.rb" ],
		sequelize => [ $nodejs, "$src/sequelize/run.js" ],
	}->{$orm};
	my ($out, $err) = ('', '');
	local @ENV{ keys %env } = values %env;
	my $h = IPC::Run::start([ @{ $cmd[0] }, @$scenarios ], '>', \$out, '2>', \$err);
	return $h if $o{background};
	$h->finish;
	my $want = join('', map { "done $_\n" } @$scenarios);
	return 1 if $out eq $want;
	diag("$orm @$scenarios:\n$out$err");
	return 0;
}

# wait until no backend of the applications whose names match is left (a
# session's autocommit runs are published when it ends)
sub wait_apps_gone
{
	my ($re) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name ~ '$re'")
	  or die "backends of $re did not exit";
}

# ----------------------------------------------------------------------
# What each scenario must show.  A loop: the regular expression of its
# statement (as logged), the kind, max_run, the parent's statement and rows;
# batched => 'required' or a pattern the suggestion must contain when it
# honestly offers no single statement; join => 'required', 'optional' (when
# offered it must be right) or 'none' (not checked: UPDATE/INSERT).
my @cases;
sub lookup
{
	my ($what, $re, $run, $parent_what, $parent, $prows, %o) = @_;
	return {
		what => $what, re => $re, kind => 'n_plus_one', run => $run,
		parent_what => $parent_what, parent => $parent, parent_rows => $prows,
		batched => $o{batched} // 'required', join => $o{join} // 'required',
	};
}

sub orm_cases
{
	my ($orm, $p, $t, %o) = @_;
	my ($post, $author, $comment, $user, $account, $invoice, $tag, $slow) = @$t;
	my @c = (
		[ 'lazy', 'lazy loop (posts -> author)', [ lookup('author per post', qr/FROM $author.*WHERE/s, 50, 'posts', qr/FROM $post/, 50) ] ],
		[ 'bigint', 'bigint keys above 2^31', [ lookup('account per invoice', qr/FROM $account.*WHERE/s, 40, 'invoices', qr/FROM $invoice/, 40) ] ],
		[ 'nested', 'nested loops (posts -> comments -> user)', [
			lookup('comments per post', qr/FROM $comment.*WHERE/s, 20, 'posts', qr/FROM $post/, 20),
			# a JOIN with a parent that itself runs once per post may be
			# left out; when offered, run once per parent execution
			lookup('user per comment', qr/FROM $user.*WHERE/s, 60, 'comments per post', qr/FROM $comment.*WHERE/s, 3,
				join => 'optional') ] ],
		[ 'slow', 'slow loop (150 ms per lookup, autocommit)', [ lookup('slow author per post', qr/FROM $slow/, 12, 'posts', qr/FROM $post/, 12) ] ],
		[ 'update', 'UPDATE loop (save per row)', [
			{ %{ lookup('update per post', qr/^UPDATE $post/, 30, 'posts', qr/^SELECT.*FROM $post/s, 30,
				  batched => qr/UPDATE/, join => 'none') }, dml => 1 } ] ],
		[ 'create', 'INSERT loop (create per row)', [
			{ what => 'insert per tag', re => qr/^INSERT INTO $tag/, kind => 'insert_loop', run => 30,
			  batched => 'required', join => 'none', dml => 1 } ] ],
		[ 'limit', 'per-row ORDER BY/LIMIT', [ lookup('2 newest comments per post', qr/FROM $comment.*LIMIT/s, 20, 'posts', qr/FROM $post/, 20,
			batched => qr/LIMIT/, join => 'optional') ] ],
		[ 'distinct', 'per-row DISTINCT', [ lookup('distinct commenters per post', qr/SELECT DISTINCT/, 20, 'posts', qr/FROM $post/, 20,
			batched => qr/DISTINCT/, join => 'optional') ] ],
		[ 'forupdate', 'per-row FOR UPDATE in a transaction', [ lookup('author per post, locked', qr/FOR UPDATE/, 30, 'posts', qr/FROM $post/, 30,
			batched => qr/FOR UPDATE/) ] ],
		[ 'eager', 'eager loading', undef ],
		@{ $o{extra} // [] },
	);
	foreach my $c (@c)
	{
		push @cases, { orm => $orm, app => "${p}_$c->[0]", shape => $c->[1], loops => $c->[2] };
	}
}

orm_cases('Django', 'dj',
	[ map { qr/"blog_$_"/ } qw(post author comment user account invoice tag slow_author) ],
	extra => [
		[ 'batches', 'batches of 25 with prefetch (IN lists)', undef ],
		[ 'deferred', 'bulk_create of 60, deferred FK checks at COMMIT', undef ],
	]);
orm_cases('ActiveRecord', 'ar',
	[ map { qr/"$_"/ } qw(posts authors comments users accounts invoices tags slow_authors) ],
	extra => [
		[ 'find', 'Author.find per row (WHERE id = $1 LIMIT $2)', [ lookup('Author.find per post', qr/FROM "authors".*WHERE/s, 50, 'posts', qr/FROM "posts"/, 50) ] ],
		[ 'coldcache', 'lazy loop, cold schema cache (catalog between)', [ lookup('author per post', qr/FROM "authors".*WHERE/s, 30, 'posts', qr/FROM "posts"/, 30) ] ],
		[ 'findeach', 'includes + find_each(batch_size: 25)', undef ],
	]);
orm_cases('Sequelize', 'sq',
	[ map { qr/"$_"/ } qw(posts authors comments users accounts invoices tags slow_authors) ],
	extra => [
		[ 'pool', 'Promise.all of 50 findByPk on a pool of 5', [ lookup('author per post', qr/FROM "authors".*WHERE/s, 50, 'posts', qr/FROM "posts"/, 50) ] ],
		[ 'batches', 'batches of 25 with include separate (IN lists)', undef ],
	]);

my %scen;
push @{ $scen{ $_->{orm} } }, ($_->{app} =~ /^[a-z]+_(.*)$/)[0] foreach @cases;

# ----------------------------------------------------------------------
# Run the applications, one after the other.
ok(run_app('django', [ 'setup', @{ $scen{Django} } ]), 'Django application ran');
ok(run_app('activerecord', [ 'setup', @{ $scen{ActiveRecord} } ]), 'ActiveRecord application ran');
ok(run_app('sequelize', [ 'setup', @{ $scen{Sequelize} } ]), 'Sequelize application ran');
wait_apps_gone('^(dj|ar|sq)_');

# ----------------------------------------------------------------------
# PgBouncer 1.18 in transaction pooling mode, 2 server connections.
my $pgb_dir = "$PostgreSQL::Test::Utils::tmp_check/pgbouncer";
mkdir $pgb_dir;
my $pgb_port = PostgreSQL::Test::Cluster::get_free_port();
my $host = $node->host;
my $port = $node->port;
PostgreSQL::Test::Utils::append_to_file("$pgb_dir/pgbouncer.ini", qq{
[databases]
* = host=$host port=$port user=$user
[pgbouncer]
listen_addr =
listen_port = $pgb_port
unix_socket_dir = $pgb_dir
auth_type = any
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $pgb_dir/pgbouncer.log
pidfile = $pgb_dir/pgbouncer.pid
});
my $pgb = IPC::Run::start([ '/usr/sbin/pgbouncer', "$pgb_dir/pgbouncer.ini" ],
	'>', "$pgb_dir/stdout", '2>', "$pgb_dir/stderr");
my $pgb_up = 0;
for (1 .. 100)
{
	if (-S "$pgb_dir/.s.PGSQL.$pgb_port") { $pgb_up = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($pgb_up, 'pgbouncer started') or diag(slurp_file("$pgb_dir/stderr"));
my %pgb = (host => $pgb_dir, port => $pgb_port);

# a loop inside a transaction, and a single autocommit client
ok(run_app('django', ['xact'], %pgb, prefix => 'pbx'), 'Django loop in a transaction through PgBouncer');
ok(run_app('django', ['lazy'], %pgb, prefix => 'pba'), 'Django autocommit loop through PgBouncer');
# three autocommit clients at once over the two server connections: they
# start their loops at the same moment and work 20 ms on each row, so that
# the loops overlap (1 s each) whatever the machine's load
my $start_at = time + 4;
my @bg = map {
	run_app('django', ['lazy'], %pgb, prefix => "pbc$_", background => 1,
		pause_ms => 20, start_at => $start_at)
} 1 .. 3;
my $bg_ok = 1;
$_->finish or $bg_ok = 0 foreach @bg;
ok($bg_ok, 'three Django autocommit clients at once through PgBouncer');
# stopping the pooler closes its server connections: autocommit runs are
# published when their session ends
$pgb->signal('INT');
$pgb->finish;
wait_apps_gone('^pb');

# ----------------------------------------------------------------------
# What the server ran, and what it found.
my $log = read_statement_log($node->data_dir . '/log');
my %by_app;
push @{ $by_app{ $_->{app} } }, $_ foreach @$log;
my $rows = decode_json($node->safe_psql('postgres', q{
	SELECT coalesce(json_agg(n), '[]') FROM scale_advisor.n_plus_one n}));
my %view;
push @{ $view{ $_->{application_name} } }, $_ foreach @$rows;

# the one query id of the application's statements that match $re
sub qid_of
{
	my ($app, $re) = @_;
	my %q;
	$q{ $_->{qid} } = 1 foreach grep { $_->{text} =~ $re } @{ $by_app{$app} // [] };
	return (keys %q == 1) ? (keys %q)[0] : undef;
}

sub loop_execs
{
	my ($app, $qid) = @_;
	return [ grep { $_->{qid} eq $qid } @{ $by_app{$app} // [] } ];
}

my @table;
foreach my $c (@cases)
{
	my $app = $c->{app};
	my $db = { Django => 'django', ActiveRecord => 'rails', Sequelize => 'sequelize' }->{ $c->{orm} };
	my @got = @{ $view{$app} // [] };
	if (!$c->{loops})
	{
		my $ok = is(scalar @got, 0, "$app: $c->{shape}: not flagged")
		  or diag(join("\n", map { "  flagged: $_->{kind} max_run $_->{max_run}: $_->{query}" } @got));
		push @table, [ $c->{orm}, "$c->{shape} (negative control)", $ok ? 'not flagged: right' : 'FLAGGED (wrong)', '', '' ];
		next;
	}
	my %expected;
	foreach my $l (@{ $c->{loops} })
	{
		my $tag = "$app: $l->{what}";
		my $qid = qid_of($app, $l->{re});
		ok(defined $qid, "$tag: the application ran it (one query id in the log)")
		  or diag('statements: ' . join("\n", map { $_->{text} } @{ $by_app{$app} // [] }[0..5]));
		$qid //= 'none';
		$expected{$qid} = 1;
		my ($row) = grep { defined $_->{queryid} && $_->{queryid} eq $qid } @got;
		my $found = is($row ? $row->{kind} : 'not flagged', $l->{kind}, "$tag: kind");
		my $runok = is($row ? $row->{max_run} : 0, $l->{run}, "$tag: max_run");
		my $parent_ok = 1;
		if ($l->{parent})
		{
			my $pq = qid_of($app, $l->{parent});
			$parent_ok = is($row ? ($row->{parent_queryid} // 'none') : 'not flagged', $pq // 'not in log',
				"$tag: parent is the $l->{parent_what} statement")
			  or diag('  parent shown: ' . ($row && $row->{parent_query} ? substr($row->{parent_query}, 0, 160) : 'none'));
			$parent_ok = is($row ? ($row->{parent_rows} // 'none') : 'not flagged', $l->{parent_rows},
				"$tag: parent_rows") && $parent_ok;
		}
		my $execs = loop_execs($app, $qid);
		my @rw;
		# the batched statement
		{
			my $name = "$tag: batched suggestion returns the loop's rows";
			$name = "$tag: batched suggestion leaves the table as the loop did" if $l->{dml};
			my $b = $row ? $row->{batched_query} : undef;
			my $res;
			if (!$row) { $res = 'not flagged' }
			elsif (defined $b)
			{
				$res = $l->{dml}
				  ? check_dml($node, $db, $execs, $b)
				  : check_batched_select($node, $db, $execs, $b);
			}
			elsif (ref $l->{batched} && $row->{suggestion} =~ $l->{batched} && $row->{suggestion} !~ /\bfetch\b/i)
			{
				$res = '';
				$name = "$tag: no batched statement, and the suggestion says why";
			}
			else
			{
				$res = 'no batched statement offered; suggestion: ' . ($row->{suggestion} // '');
			}
			push @rw, !is($res, '', $name) ? 'batched WRONG'
			  : defined $b ? 'batched right' : 'no batched statement, says why';
			diag("  batched: " . ($b // 'none')) if $res ne '';
		}
		if ($l->{join} ne 'none')
		{
			my $j = $row ? $row->{join_query} : undef;
			my $res;
			if (!$row) { $res = 'not flagged' }
			elsif (defined $j)
			{
				my $pq = qid_of($app, $l->{parent});
				my $parents = defined $pq ? loop_execs($app, $pq) : [];
				$res = check_join($node, $db, $execs, $parents, $j);
			}
			elsif ($l->{join} eq 'optional') { $res = '' }
			else { $res = 'no JOIN offered' }
			push @rw, is($res, '', "$tag: JOIN suggestion returns the loop's rows")
			  ? (defined $j ? 'join right' : 'no join') : 'join WRONG';
			diag("  join: " . ($j // 'none')) if $res ne '';
		}
		push @table, [ $c->{orm}, "$c->{shape}: $l->{what}",
			($found && $runok ? "found, max_run $l->{run}" : ($row ? "found, max_run $row->{max_run} (not $l->{run})" : 'NOT FOUND')),
			(!$row ? '-' : $l->{parent} ? ($parent_ok ? 'right' : 'WRONG') : 'n/a'),
			($row ? join(', ', @rw) : '-') ];
	}
	my @extra = grep { !defined $_->{queryid} || !$expected{ $_->{queryid} } } @got;
	is(scalar @extra, 0, "$app: nothing else flagged")
	  or diag(join("\n", map { "  also flagged: $_->{kind} max_run $_->{max_run}: " . substr($_->{query}, 0, 120) } @extra));
}

# ----------------------------------------------------------------------
# The checks themselves: hand-written rewrites of the loops above, a right
# one and a wrong one each, bound by the same rules, so that a pass above
# means the rows were compared and a failure is the suggestion's.
{
	my $e = sub { my ($app, $re) = @_; loop_execs($app, qid_of($app, $re) // 'none') };
	my @self = (
		[ 'batched, ActiveRecord find', 'rails', 'b', $e->('ar_find', qr/FROM "authors"/),
		  'SELECT id, name FROM authors WHERE id = ANY ($1::bigint[])',
		  'SELECT id, name FROM authors WHERE id = ANY ($1::bigint[]) LIMIT $2' ],
		[ 'batched, Django per-row LIMIT', 'django', 'b', $e->('dj_limit', qr/FROM "blog_comment"/),
		  'SELECT c.* FROM unnest($1::integer[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM blog_comment WHERE post_id = k.id ORDER BY id DESC LIMIT 2) AS c',
		  'SELECT * FROM blog_comment WHERE post_id = ANY ($1::integer[]) ORDER BY id DESC LIMIT 2' ],
		[ 'JOIN, ActiveRecord find', 'rails', 'j', $e->('ar_find', qr/FROM "authors"/),
		  'SELECT parent.*, batch.* FROM (SELECT * FROM posts ORDER BY id LIMIT $1) AS parent LEFT JOIN LATERAL (SELECT * FROM authors WHERE id = parent.author_id LIMIT $2) AS batch ON true',
		  'SELECT parent.*, batch.* FROM (SELECT * FROM posts ORDER BY id LIMIT $2) AS parent LEFT JOIN LATERAL (SELECT * FROM authors WHERE id = parent.author_id LIMIT $1) AS batch ON true',
		  $e->('ar_find', qr/FROM "posts"/) ],
		[ 'INSERT, Sequelize create', 'sequelize', 'd', $e->('sq_create', qr/^INSERT INTO "tags"/),
		  'INSERT INTO tags (name, created_at, updated_at) SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[])',
		  'INSERT INTO tags (name, created_at, updated_at) SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[]) LIMIT 29' ],
		[ 'UPDATE, Django save', 'django', 'd', $e->('dj_update', qr/^UPDATE "blog_post"/),
		  'UPDATE blog_post AS p SET author_id = v.a, title = v.t, published = v.p FROM unnest($1::integer[], $2::text[], $3::boolean[], $4::integer[]) AS v(a, t, p, id) WHERE p.id = v.id',
		  'UPDATE blog_post SET title = title || \' (edited)\' WHERE id = ANY ($4::integer[])' ],
	);
	foreach my $s (@self)
	{
		my ($what, $db, $k, $execs, $right, $wrong, $parents) = @$s;
		my $check = sub {
			my ($sql) = @_;
			return check_batched_select($node, $db, $execs, $sql) if $k eq 'b';
			return check_join($node, $db, $execs, $parents, $sql) if $k eq 'j';
			return check_dml($node, $db, $execs, $sql);
		};
		is($check->($right), '', "check of the check: a right $what rewrite passes");
		isnt($check->($wrong), '', "check of the check: a wrong $what rewrite fails");
	}
}

# ----------------------------------------------------------------------
# Behind PgBouncer.
diag(join("\n", map { "PgBouncer row: $_->{application_name} $_->{kind} max_run $_->{max_run} last_run $_->{last_run} detections $_->{detections}: "
			. substr($_->{query}, 0, 60) } grep { $_->{application_name} =~ /^pb/ } @$rows));
my $posts_re = qr/FROM "blog_post"/;
my $authors_re = qr/FROM "blog_author".*WHERE/s;
foreach my $app ('pbx_xact', 'pba_lazy')
{
	my $qid = qid_of($app, $authors_re) // 'none';
	my ($row) = grep { $_->{queryid} eq $qid } @{ $view{$app} // [] };
	my $what = $app eq 'pbx_xact' ? 'loop inside a transaction' : 'autocommit loop of one client';
	my $ok = is($row ? "$row->{kind} $row->{max_run}" : 'not flagged', 'n_plus_one 50',
		"PgBouncer: $what: found, max_run 50");
	my $pok = is($row ? ($row->{parent_queryid} // 'none') : 'not flagged', qid_of($app, $posts_re) // 'not in log',
		"PgBouncer: $what: parent is the posts statement");
	push @table, [ 'Django via PgBouncer (transaction mode)', $what, $ok ? 'found' : ($row ? "found, max_run $row->{max_run}" : 'NOT FOUND'),
		$pok ? 'right' : 'WRONG', '' ];
}
# several clients sharing two server connections: each client's loop is
# found under its own application_name, with the posts as parent, and no
# run mixes the executions of two clients (at most the client's 50)
{
	my (@found, @runs);
	foreach my $i (1 .. 3)
	{
		my $app = "pbc${i}_lazy";
		my $qid = qid_of($app, $authors_re) // 'none';
		my @r = grep { $_->{queryid} eq $qid && $_->{kind} eq 'n_plus_one' } @{ $view{$app} // [] };
		my $pq = qid_of($app, $posts_re) // 'none';
		push @found, (@r && ($r[0]{parent_queryid} // '') eq $pq) ? 1 : 0;
		push @runs, @r ? $r[0]{max_run} : 0;
	}
	diag("PgBouncer, 3 autocommit clients on 2 server connections: max_run per client: @runs");
	my $ok = is(join(' ', @found), '1 1 1',
		'PgBouncer: 3 autocommit clients on 2 server connections: each loop found under its application_name, parent the posts');
	my $within = is(join(' ', map { $_ <= 50 ? 'ok' : $_ } @runs), 'ok ok ok',
		'PgBouncer: 3 autocommit clients on 2 server connections: no run longer than its client\'s loop of 50');
	push @table, [ 'Django via PgBouncer (transaction mode)', '3 autocommit clients sharing 2 server connections',
		($ok ? 'found' : 'found for ' . scalar(grep { $_ } @found) . ' of 3') . " (max_run @runs; each client ran 50)"
		  . ($within ? '' : ': runs mix clients'), '', '' ];
}

# the table of docs/n-plus-one.md
diag('table: | ORM | shape | found | right parent | right rewrite |');
diag('table: |---|---|---|---|---|');
diag('table: | ' . join(' | ', @$_) . ' |') foreach @table;

$node->stop;
done_testing();
