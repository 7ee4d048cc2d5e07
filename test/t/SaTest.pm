# test/t/SaTest.pm -- what the TAP tests of scale_advisor share.
#
# Owns: a node with the extension preloaded (sa_node), waiting for a server
# that restarts after a crash (sa_wait_back), for processes to go
# (sa_wait_gone), for a backend to block on a lock (sa_wait_blocked), for
# any other condition (sa_poll), a power cut (sa_kill_server), psql as
# another role (sa_as_role, sa_try_as_role, sa_rolsuper), and pgbench
# writers in the background (sa_start_writers, sa_wait_writers,
# sa_finish_writers).  Waiting on the server goes through
# PostgreSQL::Test::Cluster's poll_query_until, whose timeout is
# PostgreSQL::Test::Utils::timeout_default (PG_TEST_TIMEOUT_DEFAULT); other
# waits (sa_poll) have the same bound unless told otherwise.
#
# Every function takes the node it works on; none keeps state between
# calls.  test/t/SaSession.pm (psql sessions in the background) builds on
# these.
package SaTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(sa_node sa_wait_back sa_wait_gone sa_wait_blocked
  sa_poll sa_kill_server sa_as_role sa_try_as_role sa_rolsuper
  sa_start_writers sa_wait_writers sa_finish_writers);

# sa_node(NAME, OPTIONS): a new node, initialised and (unless start => 0)
# started, with these lines in postgresql.conf:
#   shared_preload_libraries = 'scale_advisor'   (preload => LIST to name
#                                                 others; preload => undef
#                                                 leaves the line out)
#   compute_query_id = on                        (query_id => VALUE)
#   the lines of conf => TEXT
# init => { ... } is passed to PostgreSQL::Test::Cluster's init
# (allows_streaming, extra, ...).  The extension itself is not created.
sub sa_node
{
	my ($name, %o) = @_;
	my $preload = exists $o{preload} ? $o{preload} : 'scale_advisor';
	my $conf = '';
	$conf .= "shared_preload_libraries = '$preload'\n" if defined $preload;
	$conf .= 'compute_query_id = ' . ($o{query_id} // 'on') . "\n";
	$conf .= $o{conf} if defined $o{conf};

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $o{init} // {} });
	$node->append_conf('postgresql.conf', $conf);
	$node->start if $o{start} // 1;
	return $node;
}

# sa_wait_back(NODE[, DB]): wait until NODE answers queries again after a
# backend or the server was killed; true when it does within the default
# timeout.  PostgreSQL 18's poll_query_until feeds its query to psql
# through stdin: while the server is still in crash recovery psql exits at
# once, and writing the query then fails with EPIPE, which IPC::Run raises
# (15's version did not); such an attempt is retried.
sub sa_wait_back
{
	my ($node, $db) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (time < $deadline)
	{
		my $ok = eval { $node->poll_query_until($db // 'postgres', 'SELECT true') };
		return 1 if $ok;
		usleep(100_000);
	}
	return 0;
}

# sa_wait_gone(PID...): wait (at most 60 s in all) until each process has
# exited or is a zombie nobody reaped yet (a killed postmaster whose parent
# does not wait for it).
sub sa_wait_gone
{
	my @pids = @_;
	my $deadline = time + 60;
	for my $pid (@pids)
	{
		while (kill(0, $pid) && time < $deadline)
		{
			my $state = '';
			if (open(my $fh, '<', "/proc/$pid/stat"))
			{
				my $line = <$fh>;
				close $fh;
				$state = (split / /, $line)[2] // '';
			}
			last if $state eq 'Z';
			usleep(20_000);
		}
	}
}

# sa_wait_blocked(NODE, PID, CONDITION): wait until backend PID waits for a
# lock it has not been granted, one of pg_locks' rows matching CONDITION
# (SQL over pg_locks' columns); dies when it never does.
sub sa_wait_blocked
{
	my ($node, $pid, $what) = @_;
	$node->poll_query_until('postgres',
		"SELECT true FROM pg_locks WHERE pid = $pid AND NOT granted AND $what")
	  or die "session $pid never blocked on $what";
}

# sa_poll(CODE[, SECONDS]): call CODE every 10 ms until it returns true;
# returns true then, or false when SECONDS (default timeout_default) have
# passed first.  For what poll_query_until cannot ask the server: a file,
# a pipe, an IPC::Run harness to pump.  Callers fail the test on false
# (ok(...) or "or die").
sub sa_poll
{
	my ($code, $seconds) = @_;
	my $deadline = time + ($seconds // $PostgreSQL::Test::Utils::timeout_default);
	while (1)
	{
		return 1 if $code->();
		return 0 if time >= $deadline;
		usleep(10_000);
	}
}

# sa_kill_server(NODE): a power cut.  The postmaster and every child die
# at once (kill -9); their lock files go, as after a reboot (nobody reaped
# the postmaster, so its PID may still be taken); then the node starts
# again.  Returns the number of children killed.
sub sa_kill_server
{
	my ($node) = @_;
	my $pm = $node->{_pid};
	my @children = grep { /^\d+$/ } split /\s+/, `ps -o pid= --ppid $pm`;
	$node->kill9;
	kill 'KILL', @children;
	sa_wait_gone($pm, @children);
	unlink($node->data_dir . '/postmaster.pid',
		$node->host . '/.s.PGSQL.' . $node->port . '.lock');
	$node->start;
	return scalar @children;
}

# sa_as_role(NODE, ROLE, SQL[, DB]): safe_psql connected as ROLE.
sub sa_as_role
{
	my ($node, $role, $sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', $sql,
		extra_params => [ '-U', $role ]);
}

# sa_try_as_role(NODE, ROLE, SQL[, DB]): psql connected as ROLE; its output,
# or "error: " and what it wrote to stderr when it failed.
sub sa_try_as_role
{
	my ($node, $role, $sql, $db) = @_;
	my ($ret, $out, $err) = $node->psql($db // 'postgres', $sql,
		extra_params => [ '-U', $role ]);
	return $ret == 0 ? $out : "error: $err";
}

# sa_rolsuper(NODE, ROLE): is ROLE a superuser ('t' or 'f')?
sub sa_rolsuper
{
	my ($node, $role) = @_;
	return $node->safe_psql('postgres',
		"SELECT rolsuper FROM pg_roles WHERE rolname = '$role'");
}

# sa_start_writers(NODE, OPTIONS): pgbench in the background, no vacuum
# (-n): script => FILE, seconds => S (-T), clients => N (-c, default 2),
# jobs => N (-j, default 2), db => DB (default postgres), log_prefix =>
# PREFIX (writes a log of every transaction: --log --log-prefix).  The
# writers' sessions have application_name sa_writers (the TAP modules set
# PGAPPNAME to the test file's name for every client).  Returns the handle
# sa_finish_writers takes.
sub sa_start_writers
{
	my ($node, %o) = @_;
	my ($out, $err) = ('', '');
	my @cmd = (
		'pgbench', '-n', '-c', $o{clients} // 2,
		'-j', $o{jobs} // 2, '-T', $o{seconds}, '-f', $o{script});
	push @cmd, '--log', "--log-prefix=$o{log_prefix}" if defined $o{log_prefix};
	push @cmd, '-h', $node->host, '-p', $node->port, $o{db} // 'postgres';
	local $ENV{PGAPPNAME} = 'sa_writers';
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err, prefix => $o{log_prefix} };
}

# sa_wait_writers(NODE, N[, DB]): wait until N sessions of
# sa_start_writers' writers are connected to DB (default postgres) and
# running a statement or between two; dies when they never are.
sub sa_wait_writers
{
	my ($node, $n, $db) = @_;
	$db //= 'postgres';
	$node->poll_query_until($db, qq{
SELECT count(*) >= $n FROM pg_stat_activity
WHERE application_name = 'sa_writers' AND datname = current_database()
  AND state IN ('active', 'idle', 'idle in transaction')})
	  or die "$n writers never connected to $db";
}

# sa_finish_writers(HANDLE): wait for the writers to end.  Returns a hash
# ref: rc (pgbench's exit status), processed ("number of transactions
# actually processed"), failed ("number of failed transactions", 0 when
# pgbench does not print it), logged (transactions in the transaction log)
# and max_ms (the longest of them, in milliseconds) when a log_prefix was
# given, out and err (pgbench's output).
sub sa_finish_writers
{
	my ($w) = @_;
	$w->{h}->finish;
	my %r = (
		rc => $w->{h}->result(0),
		out => ${ $w->{out} },
		err => ${ $w->{err} },
		logged => 0,
		max_ms => 0);
	($r{processed}) = $r{out} =~ /number of transactions actually processed: (\d+)/;
	($r{failed}) = $r{out} =~ /number of failed transactions: (\d+)/;
	$r{processed} //= 0;
	$r{failed} //= 0;
	if (defined $w->{prefix})
	{
		my $max_us = 0;
		# one log file per pgbench thread: PREFIX.PID[.THREAD]
		for my $f (glob("$w->{prefix}.*"))
		{
			open(my $l, '<', $f) or die "$f: $!";
			while (<$l>)
			{
				my @c = split;
				$r{logged}++;
				$max_us = $c[2] if $c[2] > $max_us;
			}
			close $l;
		}
		$r{max_ms} = $max_us / 1000.0;
	}
	return \%r;
}

1;
