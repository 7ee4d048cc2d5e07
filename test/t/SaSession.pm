# test/t/SaSession.pm -- background psql sessions and crashes for the
# failure-injection tests (402, 403, 620).
#
# A session is a psql reading SQL from a pipe, so a test can leave a
# statement waiting on a lock and go on; its backend's pid is known, to
# cancel or kill it.  kill_backend is kill -9 of one backend (the postmaster
# then restarts every process: a crash restart); kill_server kills the
# postmaster and every child at once (a power cut, SaTest's sa_kill_server)
# and starts the server again.
package SaSession;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;
use SaTest;

our @EXPORT = qw(open_session send_sql session_wait_output close_session
  wait_session_blocked kill_backend kill_server);

# a psql session on the given database, with its backend's pid
sub open_session
{
	my ($node, $db, $appname) = @_;
	my %s = (in => '', out => '', err => '', node => $node);
	$s{h} = IPC::Run::start(
		[
			'psql', '-XAtq', '-v', 'VERBOSITY=verbose', '-d',
			$node->connstr($db) . ' application_name=' . ($appname // 'faults'),
			'-f', '-'
		],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err});
	$s{in} .= "SELECT 'pid=' || pg_backend_pid();\n";
	$s{h}->pump until $s{out} =~ /^pid=(\d+)$/m;
	$s{pid} = $1;
	$s{out} = '';
	return \%s;
}

# hand SQL to the session without waiting for its result
sub send_sql
{
	my ($s, $sql) = @_;
	$s->{in} .= $sql;
	sa_poll(
		sub {
			return 1 if !length $s->{in} || !$s->{h}->pumpable;
			$s->{h}->pump_nb;
			return 0;
		}) or die "psql session $s->{pid} never read its input";
}

# wait until the session's output matches re (or it ends); true on a match
sub session_wait_output
{
	my ($s, $re) = @_;
	sa_poll(
		sub {
			return 1 if $s->{out} =~ $re || !$s->{h}->pumpable;
			eval { $s->{h}->pump_nb; };
			return 0;
		});
	return $s->{out} =~ $re;
}

sub close_session
{
	my ($s) = @_;
	eval {
		$s->{in} .= "\\q\n";
		$s->{h}->finish;
	};
	eval { $s->{h}->kill_kill; };
}

# wait until the session's backend waits for a lock matching the pg_locks
# condition what
sub wait_session_blocked
{
	my ($s, $what) = @_;
	sa_wait_blocked($s->{node}, $s->{pid}, $what);
}

# kill -9 of one backend; returns when the crash restart is over
sub kill_backend
{
	my ($node, $pid) = @_;
	my $offset = -s $node->logfile;
	kill 'KILL', $pid;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$node->wait_for_log(qr/database system is ready to accept connections/, $offset);
	sa_wait_back($node) or die 'server did not come back';
}

# a power cut: the postmaster and every child die at once; then start
sub kill_server
{
	my ($node) = @_;
	sa_kill_server($node);
	sa_wait_back($node) or die 'server did not come back';
}

1;
