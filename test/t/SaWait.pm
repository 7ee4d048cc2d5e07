# test/t/SaWait.pm -- waiting for a server that restarts after a crash.
#
# PostgreSQL 18's poll_query_until feeds its query to psql through stdin;
# while the server is still in crash recovery psql exits at once, and
# writing the query then fails with EPIPE, which IPC::Run raises (15's
# version passed the query with -c).  sa_wait_back retries such an attempt.
package SaWait;
use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Utils;

our @EXPORT = qw(sa_wait_back);

# Wait until $node answers queries again after a backend or the server was
# killed; true when it does within the default timeout.
sub sa_wait_back
{
	my ($node) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	while (time < $deadline)
	{
		my $ok = eval { $node->poll_query_until('postgres', 'SELECT true') };
		return 1 if $ok;
		usleep(100_000);
	}
	return 0;
}

1;
