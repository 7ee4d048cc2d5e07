# test/t/SaWorkload.pm -- the index-advice evaluation workload of
# test/bench/index_workload/: loading it, running its statement mix while
# its writers insert events and update sessions, and scoring a tool's
# advice against the indexes an expert would create for it (and those an
# expert would not).  Used by 203_index_workload.pl (scale_advisor alone)
# and 204_index_compare.pl (against pg_qualstats and a hypopg search).
package SaWorkload;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(wl_dir wl_load wl_run wl_examples wl_parse_index wl_score
  wl_expected_labels wl_negative_labels);

# the folder of the workload's files
sub wl_dir
{
	my $root = $ENV{SA_ROOT} // '.';
	return "$root/test/bench/index_workload";
}

# create the tables and data in database $db (fixed seed)
sub wl_load
{
	my ($node, $db) = @_;
	$node->safe_psql($db, slurp_file(wl_dir() . '/schema.sql'),
		timeout => 600);
	return;
}

# pgbench -f arguments of the read mix (mix.txt: script and weight a line)
sub mix_args
{
	my @args;
	open(my $fh, '<', wl_dir() . '/mix.txt') or die "mix.txt: $!";
	while (my $l = <$fh>)
	{
		next if $l =~ /^\s*(#|$)/;
		my ($f, $w) = split ' ', $l;
		push @args, '-f', wl_dir() . "/$f\@$w";
	}
	close $fh;
	return @args;
}

# Run the read mix ($clients clients, prepared protocol) for $secs seconds
# while the two writers insert events (50 a second) and update sessions'
# last_seen_at (200 a second), and the count of active sessions runs every
# 20 seconds on average.  Returns pgbench's output of the mix.
sub wl_run
{
	my ($node, $db, $secs, $clients) = @_;
	my $conn = $node->connstr($db);
	my @writers;
	for my $w ([ 'w_events.sql', 50 ], [ 'w_sessions.sql', 200 ],
		[ 'q12_sessions_active.sql', 0.05 ])
	{
		my ($out, $err) = ('', '');
		push @writers, IPC::Run::start(
			[ 'pgbench', '-n', '-c', '1', '-R', $w->[1], '-T', $secs,
			  '-f', wl_dir() . "/$w->[0]", $conn ],
			'>', \$out, '2>', \$err);
	}
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[ 'pgbench', '-n', '-M', 'prepared', '-c', $clients, '-T', $secs,
		  mix_args(), $conn ],
		'>', \$out, '2>', \$err);
	$_->finish for @writers;
	return $out . $err;
}

# one example of each statement shape, with constants (examples.sql)
sub wl_examples
{
	my @ex = grep { /\S/ } split /\n/, slurp_file(wl_dir() . '/examples.sql');
	return @ex;
}

# split "a, lower(b), c DESC" at the commas outside parentheses
sub split_top
{
	my ($s) = @_;
	my @parts;
	my ($depth, $cur) = (0, '');
	for my $ch (split //, $s)
	{
		$depth++ if $ch eq '(';
		$depth-- if $ch eq ')';
		if ($ch eq ',' && $depth == 0)
		{
			push @parts, $cur;
			$cur = '';
			next;
		}
		$cur .= $ch;
	}
	push @parts, $cur if $cur ne '';
	s/^\s+|\s+$//g for @parts;
	return @parts;
}

# A CREATE INDEX statement as { table, am, keys => [...], pred }: table
# without schema, keys lower-cased with their operator classes and DESC,
# outer parentheses of an expression removed.  undef when it is not one.
sub wl_parse_index
{
	my ($sql) = @_;
	my $s = lc $sql;
	$s =~ s/\s+/ /g;
	return undef
	  unless $s =~ /^create index (?:concurrently )?(?:(?:if not exists )?\S+ )?on (?:only )?(\S+?)(?: using (\w+))? \((.*)$/;
	my ($table, $am, $rest) = ($1, $2 // 'btree', $3);
	$table =~ s/^.*\.//;
	$table =~ s/"//g;
	# the key list ends at the parenthesis that closes the one opened above
	my ($depth, $i) = (1, 0);
	for ($i = 0; $i < length $rest && $depth > 0; $i++)
	{
		my $ch = substr($rest, $i, 1);
		$depth++ if $ch eq '(';
		$depth-- if $ch eq ')';
	}
	my $keys = substr($rest, 0, $i - 1);
	my $tail = substr($rest, $i);
	my ($pred) = $tail =~ /where (.*)$/;
	my @keys = map { my $k = $_; $k =~ s/^\((.*)\)(\s.*)?$/$1 . ($2 \/\/ '')/e; $k } split_top($keys);
	return { table => $table, am => $am, keys => \@keys, pred => $pred // '' };
}

# The indexes an expert would create for the workload: label, description,
# test of a parsed index.
my @expected = (
	[ 'E1', 'accounts btree (lower(email))',
	  sub { $_[0]{table} eq 'accounts' && $_[0]{am} eq 'btree' && $_[0]{keys}[0] =~ /^lower\(email\)/ } ],
	[ 'E2', 'orders btree (account_id, created_at)',
	  sub { $_[0]{table} eq 'orders' && $_[0]{am} eq 'btree' && $_[0]{keys}[0] eq 'account_id'
		  && ($_[0]{keys}[1] // '') =~ /^created_at/ } ],
	[ 'E3', 'orders btree (status, created_at) or (created_at) WHERE status = pending',
	  sub { $_[0]{table} eq 'orders' && $_[0]{am} eq 'btree'
		  && (($_[0]{keys}[0] eq 'status' && ($_[0]{keys}[1] // '') =~ /^created_at/)
			  || ($_[0]{keys}[0] =~ /^created_at/ && $_[0]{pred} =~ /status = 'pending'/)) } ],
	[ 'E4', 'order_items btree (order_id)',
	  sub { $_[0]{table} eq 'order_items' && $_[0]{am} eq 'btree' && $_[0]{keys}[0] eq 'order_id' } ],
	[ 'E5', 'events brin or btree (ts)',
	  sub { $_[0]{table} eq 'events' && $_[0]{am} =~ /^(btree|brin)$/ && $_[0]{keys}[0] =~ /^ts\b/ } ],
	[ 'E6', 'events gin (payload)',
	  sub { $_[0]{table} eq 'events' && $_[0]{am} eq 'gin' && $_[0]{keys}[0] =~ /^payload\b/ } ],
	[ 'E7', 'documents gin (tags)',
	  sub { $_[0]{table} eq 'documents' && $_[0]{am} eq 'gin' && $_[0]{keys}[0] =~ /^tags\b/ } ],
	[ 'E8', "documents gin (to_tsvector('english', body))",
	  sub { $_[0]{table} eq 'documents' && $_[0]{am} eq 'gin'
		  && $_[0]{keys}[0] =~ /^to_tsvector\('english'(::regconfig)?, body\)/ } ],
	[ 'E9', 'documents gin (title gin_trgm_ops) or gist (title gist_trgm_ops)',
	  sub { $_[0]{table} eq 'documents' && $_[0]{am} =~ /^(gin|gist)$/
		  && $_[0]{keys}[0] =~ /^title (?:\w+\.)?(gin|gist)_trgm_ops$/ && $1 eq $_[0]{am} } ],
	[ 'E10', 'sessions btree (user_id)',
	  sub { $_[0]{table} eq 'sessions' && $_[0]{am} eq 'btree' && $_[0]{keys}[0] eq 'user_id' } ],
);

# The indexes an expert would not create: on status alone (90 % of the
# orders are done), on the tiny countries table, on customers (its index
# exists), on the sessions' last_seen_at (every heartbeat update would stop
# being HOT, for a rare query).
my @negative = (
	[ 'N1', 'orders (status) alone',
	  sub { $_[0]{table} eq 'orders' && @{ $_[0]{keys} } == 1 && $_[0]{keys}[0] eq 'status' } ],
	[ 'N2', 'any index on countries', sub { $_[0]{table} eq 'countries' } ],
	[ 'N3', 'any index on customers', sub { $_[0]{table} eq 'customers' } ],
	[ 'N4', 'sessions (last_seen_at)',
	  sub { $_[0]{table} eq 'sessions' && $_[0]{keys}[0] =~ /^last_seen_at\b/ } ],
);

sub wl_expected_labels { return map { $_->[0] } @expected; }
sub wl_negative_labels { return map { $_->[0] } @negative; }

# Score a list of CREATE INDEX statements: (found labels, negative labels
# hit, statements that are not a valid CREATE INDEX for the workload).
sub wl_score
{
	my (@sqls) = @_;
	my (%found, %neg, @bad);
	for my $sql (@sqls)
	{
		my $ix = wl_parse_index($sql);
		if (!$ix)
		{
			push @bad, $sql;
			next;
		}
		for my $e (@expected)
		{
			$found{ $e->[0] } = 1 if $e->[2]->($ix);
		}
		for my $n (@negative)
		{
			$neg{ $n->[0] } = 1 if $n->[2]->($ix);
		}
	}
	my @f = grep { $found{$_} } wl_expected_labels();
	my @n = grep { $neg{$_} } wl_negative_labels();
	return (\@f, \@n, \@bad);
}

1;
