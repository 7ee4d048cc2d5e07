# N+1 loops that one backend alone does not see whole: spread over the
# connections of a pool (Promise.all over 50 findByPk on a pool of 5), over
# the server connections a transaction-mode pooler hands out statement by
# statement or transaction by transaction, and loops whose statement is
# slow (the idle time between executions, not the time from start to start,
# keeps a loop together), against a poller that is no loop.  Other roles
# and other application names never join a loop, nor see its texts.
#
# Each session is a psql process driven statement by statement, so that
# the order of the statements across sessions is the one a pool produces.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('nplus1_pool');
$node->init;
# a generous idle window: the machine is shared, the test must not depend
# on how fast the sessions are scheduled
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.n_plus_one_window_ms = 2000
max_connections = 40
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE pl_users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE pl_posts (id int PRIMARY KEY, user_id int NOT NULL REFERENCES pl_users,
                       title text NOT NULL);
INSERT INTO pl_users SELECT g, 'user ' || g FROM generate_series(1, 100) g;
INSERT INTO pl_posts SELECT g, g, 'post ' || g FROM generate_series(1, 100) g;
CREATE TABLE pl_jobs (id int, state text);
INSERT INTO pl_jobs VALUES (1, 'queued');
CREATE ROLE app LOGIN;
CREATE ROLE other LOGIN;
GRANT SELECT, UPDATE ON pl_users, pl_posts, pl_jobs TO app, other;
});

my $timeout = IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default);

# a psql session: [harness, \stdin, \stdout, \stderr]; over TCP from
# 127.0.0.1 (another client address) when $tcp is set
sub session
{
	my ($app, $user, $tcp) = @_;
	my ($in, $out, $err) = ('', '', '');
	my $cs = ($tcp
		? 'host=127.0.0.1 port=' . $node->port . ' dbname=postgres'
		: $node->connstr('postgres')) . " application_name=$app user=$user";
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $cs ],
		'<', \$in, '>', \$out, '2>', \$err, $timeout);
	return [ $h, \$in, \$out, \$err ];
}

# run one statement in a session and wait for it to finish
sub run
{
	my ($s, $sql) = @_;
	my ($h, $in, $out, $err) = @$s;
	$$out = '';
	$sql .= ';' unless $sql =~ /;\s*$/;
	$$in .= "$sql\n\\echo __done__\n";
	$h->pump until $$out =~ /__done__/ || $$err ne '';
	die "psql: $$err" if $$err ne '';
	my $r = $$out;
	$r =~ s/__done__\n?//;
	chomp $r;
	return $r;
}

# end sessions and wait for their backends to publish and go
sub finish
{
	foreach my $s (@_)
	{
		my ($h, $in) = @$s;
		$$in .= "\\q\n";
		$h->finish;
	}
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'pl_%'")
	  or die "sessions did not end";
}

sub rows
{
	my ($app) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT string_agg(format('%s|%s|%s|%s|%s|%s', kind,
			  coalesce(parent_query, '-'), coalesce(parent_rows, 0), last_run,
			  detections, repeated_calls), E'\\n' ORDER BY query)
		  FROM scale_advisor.n_plus_one WHERE application_name = '$app'});
}

my $parent = 'SELECT id, user_id FROM pl_posts ORDER BY id LIMIT 50';

# 1. Promise.all over 50 lookups on a pool of five connections: the
# connection that listed the posts takes the first lookup, the other four
# (idle in the pool until then) the next ones, in turn.
{
	my @pool = map { session('pl_pool', 'app') } 1 .. 5;
	run($pool[0], $parent);
	for my $i (1 .. 50)
	{
		run($pool[($i - 1) % 5], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish(@pool);
	is(rows('pl_pool'), "n_plus_one|$parent|50|50|1|50",
		'pool of five: one loop of 50 lookups, the list of posts (50 rows) as parent');
}

# 1b. Two pages in a row on the same pool: two loops.  (Where one page ends
# for the connections that did not list the rows is known only
# approximately: their counts may move between the two pages.)
{
	my @pool = map { session('pl_pages', 'app') } 1 .. 5;
	for my $page (0, 1)
	{
		run($pool[0], $parent);
		for my $i (1 .. 50)
		{
			run($pool[($i - 1) % 5], "SELECT id, name FROM pl_users WHERE id = $i");
		}
	}
	finish(@pool);
	is($node->safe_psql('postgres', q{
		SELECT format('%s|%s|%s|%s|%s', kind, parent_query, parent_rows, detections,
			  repeated_calls)
		  FROM scale_advisor.n_plus_one WHERE application_name = 'pl_pages'}),
		"n_plus_one|$parent|50|2|100",
		'two pages on a pool of five: two loops, 100 lookups in all');
}

# 2. Behind a transaction-mode pooler, an autocommit loop whose statements
# go to two server connections in turn.
{
	my @srv = map { session('pl_hop', 'app') } 1 .. 2;
	run($srv[0], $parent);
	for my $i (1 .. 12)
	{
		run($srv[$i % 2], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish(@srv);
	is(rows('pl_hop'), "n_plus_one|$parent|50|12|1|12",
		'statements handed to two server connections in turn: one loop of 12');
}

# 3. The same with each iteration its own transaction (ActiveRecord's save
# behind a transaction-mode pooler).
{
	my @srv = map { session('pl_xact', 'app') } 1 .. 2;
	run($srv[0], $parent);
	for my $i (1 .. 12)
	{
		run($srv[$i % 2],
			"BEGIN; UPDATE pl_posts SET title = 'seen' WHERE id = $i; COMMIT;");
	}
	finish(@srv);
	like(rows('pl_xact'), qr/^n_plus_one\|\Q$parent\E\|50\|12\|1\|12$/,
		'transactions handed to two server connections in turn: one UPDATE loop of 12');
}

# 4. Sessions of another role, or of another application, running the same
# lookups at the same time do not join the loop (nor get its parent).
{
	my $own = session('pl_own', 'app');
	my @others = (map({ session('pl_own', 'other') } 1 .. 2),
		map({ session('pl_else', 'app') } 1 .. 2));
	run($own, $parent);
	for my $i (1 .. 50)
	{
		my $k = ($i - 1) % 5;
		run($k == 0 ? $own : $others[$k - 1],
			"SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish($own, @others);
	is(rows('pl_own'), "n_plus_one|$parent|50|10|1|10",
		"the loop counts only its own role's and application's lookups");
	is($node->safe_psql('postgres', q{
		SELECT count(*) FROM scale_advisor.n_plus_one
		 WHERE application_name = 'pl_else'
		    OR userid = 'other'::regrole}),
		'0', 'the lookups of the other role and application alone are no loop');
	# the other role sees the row, but none of its texts
	is($node->safe_psql('postgres', q{
		SET ROLE other;
		SELECT string_agg(format('%s|%s|%s', query, coalesce(parent_query, '-'),
			  coalesce(queryid::text, '-')), E'\n')
		  FROM scale_advisor.n_plus_one WHERE application_name = 'pl_own'}),
		'<insufficient privilege>|<insufficient privilege>|-',
		"another role sees neither the loop's text nor its parent's");
}

# 5. A slow loop: each lookup takes 400 ms, more than the idle window of
# 300 ms, and the application sends the next one at once.  A poller that
# runs the same statement after 600 ms of idle time each is no loop.
{
	my $s = session('pl_slow', 'app');
	run($s, 'SET scale_advisor.n_plus_one_window_ms = 300');
	run($s, 'SELECT id FROM pl_posts ORDER BY id LIMIT 12');
	for my $i (1 .. 12)
	{
		run($s, "SELECT name, pg_sleep(0.4) FROM pl_users WHERE id = $i");
	}
	finish($s);
	like(rows('pl_slow'), qr/^n_plus_one\|SELECT id FROM pl_posts ORDER BY id LIMIT 12\|12\|12\|1\|12$/,
		'a loop of 400 ms lookups is found with its parent');

	my $p = session('pl_poll', 'app');
	run($p, 'SET scale_advisor.n_plus_one_window_ms = 300');
	for my $i (1 .. 12)
	{
		run($p, "SELECT count(*) FROM pl_jobs WHERE state = 'queued'");
		run($p, "SELECT id FROM pl_jobs WHERE state = 'queued' AND id = $i");
		select(undef, undef, undef, 0.6);
	}
	finish($p);
	is(rows('pl_poll'), '', 'a poller idle 600 ms between polls is no loop');
}

# 6. A pooler hands the server connection to another client and sets its
# application_name: the first client's loop is counted in full under its
# own name, and the next client's lookups, with no parent of their own,
# neither lengthen it nor make a loop.
{
	my $s = session('pl_cli1', 'app');
	run($s, $parent);
	for my $i (1 .. 12)
	{
		run($s, "SELECT id, name FROM pl_users WHERE id = $i");
	}
	run($s, "SET application_name = 'pl_cli2'");
	for my $i (13 .. 30)
	{
		run($s, "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish($s);
	is(rows('pl_cli1'), "n_plus_one|$parent|50|12|1|12",
		"the first client's loop: 12 lookups under its own name");
	is(rows('pl_cli2'), '', "the next client's lookups are no loop");
}

# 7. Two clients take turns on one server connection (a transaction-mode
# pooler sets each one's application_name before its statement): the loop
# of the first is followed whole, the other's lookups stay apart.
{
	my $s = session('pl_ctx_a', 'app');
	run($s, $parent);
	for my $i (1 .. 12)
	{
		run($s, "SET application_name = 'pl_ctx_a'");
		run($s, "SELECT id, name FROM pl_users WHERE id = $i");
		run($s, "SET application_name = 'pl_ctx_b'");
		run($s, "SELECT id, name FROM pl_users WHERE id = " . (100 - $i));
	}
	finish($s);
	is(rows('pl_ctx_a'), "n_plus_one|$parent|50|12|1|12",
		"clients taking turns on one connection: the first one's loop of 12");
	is(rows('pl_ctx_b'), '', "the other client's lookups are no loop, nor part of it");
}

# 8. A pooler gives the server connection to a client whose transaction
# runs only utility statements, then to a third one: two changes of
# application_name with no other statement between.  The third client's
# name gets the memory the first one's had (freed by the change in
# between; the name the connection started with is kept for RESET), so
# the detector, which compares the setting by address, took the third
# client's statements for the first one's: neither loop was found (the
# third one's parent counted in the first one's context; with the old code
# this sequence gave no detection at all, while a SET TIME ZONE in place of
# the SHOW took the freed memory and hid the fault).  Each client's loop is
# found with its own parent.
{
	my $s = session('pl_ab_start', 'app');
	run($s, "SET application_name = 'pl_ab_a'");
	run($s, $parent);
	run($s, "SELECT id, name FROM pl_users WHERE id = 1");
	run($s, "SET application_name = 'pl_ab_b'");
	run($s, 'SHOW application_name');
	run($s, "SET application_name = 'pl_ab_c'");
	run($s, $parent);
	for my $i (1 .. 12)
	{
		run($s, "SET application_name = 'pl_ab_c'");
		run($s, "SELECT id, name FROM pl_users WHERE id = " . (50 - $i));
		run($s, "SET application_name = 'pl_ab_a'");
		run($s, "SELECT id, name FROM pl_users WHERE id = " . ($i + 1));
	}
	finish($s);
	is(rows('pl_ab_a'), "n_plus_one|$parent|50|13|1|13",
		"names set twice with no statement between: the first client's loop of 13");
	is(rows('pl_ab_c'), "n_plus_one|$parent|50|12|1|12",
		"names set twice with no statement between: the third client's loop of 12");
	is(rows('pl_ab_b') . rows('pl_ab_start'), '', 'the client that ran only SET has nothing');
}

# 9. A connection of the pool that runs the loop's statement only once.
# Late: a connection that came last (a slow connect under load) takes only
# the last lookup, after the others' pooled run exists; it joins that run.
# Early: its one lookup comes before any other connection ran the
# statement twice (no pooled run yet); it joins when its run ends (here,
# when the session ends).  The code before counted neither lookup (49).
foreach my $order ('late', 'early')
{
	my $app = "pl_one_$order";
	my @pool = map { session($app, 'app') } 1 .. 3;
	run($pool[0], $parent);
	my @who = $order eq 'late'
	  ? ((map { $_ % 2 } 0 .. 48), 2)
	  : (0, 1, 2, map { $_ % 2 } 1 .. 47);
	for my $i (1 .. 50)
	{
		run($pool[ $who[ $i - 1 ] ], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish(@pool);
	is(rows($app), "n_plus_one|$parent|50|50|1|50",
		"pool of three, one connection running a single lookup ($order): the loop of 50");
}

# 10. After a loop on a pool, other requests of the application run the
# same lookup once each, on connections idle until then, one a second (the
# window is 2 s).  Those within a window of the loop's end may be counted
# in it; they do not keep it going, so the stream does not become one
# endless loop (the code before chained them all: 20 + 6).
{
	my @pool = map { session('pl_stream', 'app') } 1 .. 2;
	run($pool[0], $parent);
	for my $i (1 .. 20)
	{
		run($pool[ ($i - 1) % 2 ], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	my @late = map { session('pl_stream', 'app') } 1 .. 6;
	foreach my $i (0 .. 5)
	{
		select(undef, undef, undef, 1.0);
		run($late[$i], 'SELECT id, name FROM pl_users WHERE id = ' . (60 + $i));
	}
	finish(@pool, @late);
	my ($kind, $run) = split /\|/, $node->safe_psql('postgres', q{
		SELECT kind || '|' || max_run FROM scale_advisor.n_plus_one
		 WHERE application_name = 'pl_stream'});
	is($kind, 'n_plus_one', 'a loop followed by a stream of single lookups: the loop is found');
	ok($run >= 20 && $run <= 22,
		"the single lookups after it do not keep it going (max_run $run, 20 to 22)");
}

# 11. Pool connections that ran the lookup once for earlier requests (a
# middleware loading the current user), seconds before a loop of it, then
# sat idle in the pool; the loop then runs on the pool, those connections
# taking part later.  Their old single lookup, tried again when they come
# back, is no part of the loop: a loop of 8 stays under the threshold (the
# code before counted both old lookups: a loop of 10), one of 12 is 12.
foreach my $n (8, 12)
{
	my $app = "pl_old_$n";
	my @pool = map { session($app, 'app') } 1 .. 4;
	run($pool[2], 'SELECT id, name FROM pl_users WHERE id = 90');
	run($pool[3], 'SELECT id, name FROM pl_users WHERE id = 91');
	select(undef, undef, undef, 2.5);
	run($pool[0], $parent);
	my @who = (0, 1, 0, 1, 2, 3, (map { $_ % 2 } 0 .. $n - 7));
	for my $i (1 .. $n)
	{
		run($pool[ $who[ $i - 1 ] ], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish(@pool);
	is(rows($app), $n < 10 ? '' : "n_plus_one|$parent|50|$n|1|$n",
		"a loop of $n after two old single lookups on the pool: they are not counted in it");
}

# 12. While a loop runs on a pool, single lookups of the same statement by
# another role, another application, and the same role and application
# from another client address (over TCP) do not join it, when they run nor
# when their sessions end.
{
	my @pool = map { session('pl_iso', 'app') } 1 .. 2;
	my @others = (session('pl_iso', 'other'), session('pl_iso_b', 'app'),
		session('pl_iso', 'app', 1));
	run($pool[0], $parent);
	for my $i (1 .. 20)
	{
		run($pool[ ($i - 1) % 2 ], "SELECT id, name FROM pl_users WHERE id = $i");
		run($others[ ($i - 11) / 3 ], "SELECT id, name FROM pl_users WHERE id = " . (60 + $i))
		  if $i > 10 && ($i - 11) % 3 == 0 && $i < 20;
	}
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'pl_iso' AND client_addr = '127.0.0.1'}), '1',
		'one session of the loop application comes from another client address');
	finish(@pool, @others);
	is(rows('pl_iso'), "n_plus_one|$parent|50|20|1|20",
		'single lookups of another role, application or client address are not counted in the loop');
	is(rows('pl_iso_b'), '', 'the other application has no loop');
}

# 13. While a loop runs on a pool, another request of the application, on
# another connection, runs the same list and looks up one of its rows (a
# page that shows its first author): its single lookup neither joins the
# loop (another execution of the parent) nor ends it for the connections
# that have no parent.
{
	my @pool = map { session('pl_one_page', 'app') } 1 .. 5;
	my $other = session('pl_one_page', 'app');
	run($pool[0], $parent);
	for my $i (1 .. 50)
	{
		run($pool[ ($i - 1) % 5 ], "SELECT id, name FROM pl_users WHERE id = $i");
		if ($i == 20)
		{
			run($other, $parent);
			run($other, 'SELECT id, name FROM pl_users WHERE id = 99');
		}
	}
	finish(@pool, $other);
	is(rows('pl_one_page'), "n_plus_one|$parent|50|50|1|50",
		'a single lookup after another execution of the parent does not cut the loop');
}

# 14. Behind a transaction-mode pooler, a server connection runs one lookup
# of a client's loop (before any pooled run of it exists), then serves
# another client (another application_name) that runs the same statement,
# then a third after an idle window.  The single lookup is tried again
# under the name it ran with, when its context has been idle a window (at
# the third client's statement), and is counted in the first client's loop,
# not in the other client's lookups.
{
	my @pool = map { session('pl_tx_a', 'app') } 1 .. 2;
	my $srv = session('pl_tx_s', 'app');
	run($pool[0], $parent);
	run($srv, "SET application_name = 'pl_tx_a'");
	run($srv, 'SELECT id, name FROM pl_users WHERE id = 1');
	for my $i (2 .. 20)
	{
		run($pool[ $i % 2 ], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	run($srv, "SET application_name = 'pl_tx_b'");
	for my $i (1 .. 12)
	{
		run($srv, 'SELECT id, name FROM pl_users WHERE id = ' . (40 + $i));
	}
	foreach my $s (@pool)
	{
		${ $s->[1] } .= "\\q\n";
		$s->[0]->finish;
	}
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'pl_tx_a'")
	  or die "sessions did not end";
	select(undef, undef, undef, 2.5);
	run($srv, "SET application_name = 'pl_tx_c'");
	run($srv, 'SELECT count(*) FROM pl_jobs');
	is(rows('pl_tx_a'), "n_plus_one|$parent|50|20|1|20",
		"a single lookup on a pooler's server connection is tried again under its own name: the loop of 20");
	finish($srv);
	is(rows('pl_tx_a') . rows('pl_tx_b') . rows('pl_tx_c') . rows('pl_tx_s'),
		"n_plus_one|$parent|50|20|1|20",
		'the other clients of that connection have no loop, and the loop stays 20');
}

# 15. The pooled run of a loop begins without its parent (a connection that
# did not list the rows ran the lookup twice first); another request, on
# another connection, then lists the rows again and looks up one of them.
# Its lookup does not give the run its list as parent (the connection
# with the real list then started a second run: two detections, the
# longest 35, in place of one of 50).
{
	my @pool = map { session('pl_adopt', 'app') } 1 .. 3;
	my $other = session('pl_adopt', 'app');
	run($pool[0], $parent);
	run($pool[0], 'SELECT id, name FROM pl_users WHERE id = 1');
	run($pool[1], 'SELECT id, name FROM pl_users WHERE id = 2');
	run($pool[1], 'SELECT id, name FROM pl_users WHERE id = 3');
	run($other, $parent);
	run($other, 'SELECT id, name FROM pl_users WHERE id = 99');
	for my $i (4 .. 50)
	{
		run($pool[ $i % 3 ], "SELECT id, name FROM pl_users WHERE id = $i");
	}
	finish(@pool, $other);
	is(rows('pl_adopt'), "n_plus_one|$parent|50|50|1|50",
		"another request's list and single lookup neither take the loop's parent nor split it");
}

$node->stop;
done_testing();
