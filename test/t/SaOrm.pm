# test/t/SaOrm.pm -- what the ORM N+1 test (110_nplus1_orm.pl) needs to
# check a detection against what the application really ran.
#
# The server logs every statement with its duration, query id and bound
# parameters (log_min_duration_statement = 0, jsonlog).  From that log this
# module takes the executions of a loop and of its parent, replays them with
# psql to get the rows the loop fetched (or the table the loop left), binds
# the same values to a suggested rewrite, runs it, and compares the two as
# multisets.
#
# Binding rules (what a suggestion's parameters must mean; docs/n-plus-one.md
# "Running a suggestion" says the same):
#   batched SELECT/UPDATE/DELETE with one varying key: the parameter of an
#     array type takes the loop's distinct keys in the order the loop used
#     them; any other $n takes the loop's own $n (constant over the run).
#   batched INSERT/UPDATE whose rows differ in several values: each array
#     parameter $n takes the loop's $n over all executions, in order (for
#     the simple protocol: the values of the n-th constant that varies).
#   JOIN: $1..$m are the parent's own parameters (run once per distinct
#     parent execution, results added up), $m+1.. the loop's parameters
#     other than its key, in order.
package SaOrm;
use strict;
use warnings;
use Exporter 'import';
use JSON::PP;
use IPC::Run;

our @EXPORT = qw(read_statement_log literals varying loop_key
  replay_select check_batched_select check_join check_dml sql_quote);

# All statements the server logged (jsonlog files in $dir), in order: a
# list of { app, pid, db, qid, proto ('simple' | 'ext'), text, params }.
# params is a list of values (undef for NULL), for the extended protocol.
sub read_statement_log
{
	my ($dir) = @_;
	my @out;
	my $json = JSON::PP->new;
	foreach my $f (sort glob("$dir/*.json"))
	{
		open my $fh, '<', $f or die "$f: $!";
		while (my $line = <$fh>)
		{
			my $e = eval { $json->decode($line) } or next;
			next unless defined $e->{message};
			next
			  unless $e->{message} =~
			  /^duration: [\d.]+ ms  (statement|execute [^:]*): (.*)$/s;
			my ($how, $text) = ($1, $2);
			my @params;
			if ($how ne 'statement' && defined $e->{detail}
				&& $e->{detail} =~ /^parameters: (.*)$/si)
			{
				my $d = $1;
				while ($d =~ /\$(\d+) = (NULL|'((?:[^']|'')*)')/g)
				{
					my ($n, $v) = ($1, $2 eq 'NULL' ? undef : $3);
					$v =~ s/''/'/g if defined $v;
					$params[ $n - 1 ] = $v;
				}
			}
			push @out,
			  {
				app => $e->{application_name} // '',
				pid => $e->{pid},
				db => $e->{dbname},
				qid => $e->{query_id} // 0,
				proto => ($how eq 'statement' ? 'simple' : 'ext'),
				text => $text,
				params => \@params,
			  };
		}
		close $fh;
	}
	return \@out;
}

# The constants of a statement's text, in order: quoted strings (without
# their quotes), numbers, true, false and NULL (undef).  Quoted names and $n
# parameters are skipped.
sub literals
{
	my ($text) = @_;
	my @lits;
	while (
		$text =~ /\G(?:
			  ("(?:[^"]|"")*")
			| '((?:[^']|'')*)'
			| (\$\d+)
			| ([A-Za-z_][A-Za-z_0-9]*)
			| (\d+(?:\.\d+)?)
			| (.)
		  )/gsx)
	{
		if (defined $2)
		{
			(my $v = $2) =~ s/''/'/g;
			push @lits, $v;
		}
		elsif (defined $4)
		{
			my $w = lc $4;
			push @lits, $w if $w eq 'true' || $w eq 'false';
			push @lits, undef if $w eq 'null';
		}
		elsif (defined $5)
		{
			push @lits, $5;
		}
	}
	return \@lits;
}

# The inputs of an execution: its parameters (extended protocol) or the
# constants of its text (simple protocol).
sub inputs
{
	my ($e) = @_;
	return $e->{proto} eq 'ext' ? $e->{params} : literals($e->{text});
}

sub same
{
	my ($a, $b) = @_;
	return 1 if !defined $a && !defined $b;
	return 0 if !defined $a || !defined $b;
	return $a eq $b;
}

# Indexes (0-based) of the inputs that differ between the executions.
sub varying
{
	my ($execs) = @_;
	my $first = inputs($execs->[0]);
	my %v;
	foreach my $e (@$execs)
	{
		my $in = inputs($e);
		my $n = @$in > @$first ? @$in : @$first;
		for my $i (0 .. $n - 1)
		{
			$v{$i} = 1 unless same($in->[$i], $first->[$i]);
		}
	}
	return [ sort { $a <=> $b } keys %v ];
}

# The one varying input of a lookup loop: its index, or undef when none or
# several vary.
sub loop_key
{
	my ($execs) = @_;
	my $v = varying($execs);
	return @$v == 1 ? $v->[0] : undef;
}

sub sql_quote
{
	my ($v) = @_;
	return 'NULL' unless defined $v;
	(my $q = $v) =~ s/'/''/g;
	return "'$q'";
}

# an array literal of the values, cast to the type
sub array_literal
{
	my ($vals, $type) = @_;
	my @el = map {
		defined $_
		  ? do { (my $x = $_) =~ s/(["\\])/\\$1/g; qq{"$x"} }
		  : 'NULL'
	} @$vals;
	return sql_quote('{' . join(',', @el) . '}') . "::$type";
}

# Run a psql script on $db; returns (exit ok, stdout, stderr).  Output is
# unaligned with \x1f between fields, NULL shown as <NULL>, no footers.
sub psql_script
{
	my ($node, $db, $script) = @_;
	my ($out, $err) = ('', '');
	my $head = "\\pset footer off\n\\pset null '<NULL>'\n\\set ON_ERROR_STOP 1\n";
	my $ok = IPC::Run::run(
		[
			$node->installed_command('psql'), '-X', '-q', '-A',
			'-F', "\x1f", '-h', $node->host, '-p', $node->port,
			'-d', $db, '-f', '-'
		],
		'<', \($head . $script), '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

# Split psql output at "\echo @@N" markers: { N => [ header, rows... ] }.
sub sections
{
	my ($out) = @_;
	my (%s, $cur);
	foreach my $l (split /\n/, $out)
	{
		if ($l =~ /^\@\@(\S+)$/) { $cur = $1; $s{$cur} = []; next; }
		push @{ $s{$cur} }, $l if defined $cur;
	}
	return \%s;
}

# The statement that runs one execution again.
sub exec_sql
{
	my ($e, $name) = @_;
	return "$e->{text};" if $e->{proto} eq 'simple';
	my $args = join(', ', map { sql_quote($_) } @{ $e->{params} });
	return "EXECUTE $name" . ($args ne '' ? "($args)" : '') . ';';
}

sub prepare_sql
{
	my ($e, $name) = @_;
	return '' if $e->{proto} eq 'simple';
	(my $t = $e->{text}) =~ s/;\s*$//;
	return "PREPARE $name AS $t;\n";
}

# The rows each execution of a SELECT loop returned, run again in one
# transaction (rolled back): [ { header => [...], rows => [ [..], ...] } ]
# per execution, or dies with the error.
sub replay_select
{
	my ($node, $db, $execs) = @_;
	my $script = "BEGIN;\n";
	my %prepared;
	for my $i (0 .. $#$execs)
	{
		my $e = $execs->[$i];
		if ($e->{proto} eq 'ext' && !$prepared{ $e->{text} })
		{
			$prepared{ $e->{text} } = 'l' . scalar(keys %prepared);
			$script .= prepare_sql($e, $prepared{ $e->{text} });
		}
		$script .= "\\echo \@\@$i\n" . exec_sql($e, $prepared{ $e->{text} } // '') . "\n";
	}
	$script .= "ROLLBACK;\n";
	my ($ok, $out, $err) = psql_script($node, $db, $script);
	die "replaying the loop failed: $err" unless $ok;
	my $s = sections($out);
	my @res;
	for my $i (0 .. $#$execs)
	{
		my @lines = @{ $s->{$i} // [] };
		my $h = shift @lines // '';
		push @res,
		  {
			header => [ split /\x1f/, $h, -1 ],
			rows => [ map { [ split /\x1f/, $_, -1 ] } @lines ]
		  };
	}
	return \@res;
}

# PREPARE a rewrite and return the types of its parameters (regtype
# names), or die with the server's error.
sub rewrite_types
{
	my ($node, $db, $sql) = @_;
	(my $t = $sql) =~ s/;\s*$//;
	my ($ok, $out, $err) = psql_script($node, $db,
		"BEGIN;\nPREPARE r AS $t;\n\\echo \@\@types\n"
		  . "SELECT coalesce(array_to_string(parameter_types::text[], E'\\x1e'), '') AS t FROM pg_prepared_statements WHERE name = 'r';\nROLLBACK;\n");
	die "the rewrite does not prepare: $err" unless $ok;
	my $s = sections($out)->{types};
	my $line = $s->[1] // '';
	return [ $line eq '' ? () : split /\x1e/, $line ];
}

# Run a prepared rewrite once per list of arguments; returns the header and
# the rows, all lists of arguments together.
sub run_rewrite
{
	my ($node, $db, $sql, $arglists, $before, $after) = @_;
	(my $t = $sql) =~ s/;\s*$//;
	my $script = "BEGIN;\n" . ($before // '') . "PREPARE r AS $t;\n";
	for my $i (0 .. $#$arglists)
	{
		my $a = $arglists->[$i];
		$script .= "\\echo \@\@$i\nEXECUTE r" . (@$a ? '(' . join(', ', @$a) . ')' : '') . ";\n";
	}
	$script .= $after // '';
	$script .= "ROLLBACK;\n";
	my ($ok, $out, $err) = psql_script($node, $db, $script);
	die "running the rewrite failed: $err" unless $ok;
	return sections($out);
}

sub row_key { join("\x1f", map { $_ // '<NULL>' } @{ $_[0] }) }

# compare two lists of rows as multisets; '' when equal, else a description
sub multiset_diff
{
	my ($want, $got) = @_;
	my %c;
	$c{ row_key($_) }++ foreach @$want;
	$c{ row_key($_) }-- foreach @$got;
	my @missing = grep { $c{$_} > 0 } sort keys %c;
	my @extra = grep { $c{$_} < 0 } sort keys %c;
	return '' unless @missing || @extra;
	my $fmt = sub { my $k = shift; (my $x = $k) =~ s/\x1f/|/g; $x };
	my $d = sprintf('loop rows %d, rewrite rows %d', scalar @$want, scalar @$got);
	$d .= '; missing: ' . join('; ', map { $fmt->($_) . " (x$c{$_})" } @missing[ 0 .. ($#missing > 2 ? 2 : $#missing) ])
	  if @missing;
	$d .= '; extra: ' . join('; ', map { $fmt->($_) . ' (x' . -$c{$_} . ')' } @extra[ 0 .. ($#extra > 2 ? 2 : $#extra) ])
	  if @extra;
	return $d;
}

# bind the value of the loop's input $n (1-based) for a scalar parameter
sub scalar_arg
{
	my ($execs, $n, $vary) = @_;
	die "cannot bind \$$n: the loop sent no parameters (its constants are in the text)\n"
	  if $execs->[0]{proto} ne 'ext';
	die "cannot bind \$$n: it is not a parameter of the loop\n"
	  if $n > @{ $execs->[0]{params} };
	die "cannot bind \$$n: the loop's \$$n varies, the rewrite takes one value\n"
	  if grep { $_ == $n - 1 } @$vary;
	return sql_quote($execs->[-1]{params}[ $n - 1 ]);
}

# Check the batched rewrite of a SELECT loop: '' when it returns the rows of
# the loop's distinct executions, else why not.
sub check_batched_select
{
	my ($node, $db, $execs, $sql) = @_;
	my $r = eval {
		my $key = loop_key($execs);
		die "the loop has no single varying key\n" unless defined $key;
		my $types = rewrite_types($node, $db, $sql);
		my (@keys, %seen, %seen_exec, @distinct);
		for my $i (0 .. $#$execs)
		{
			my $in = inputs($execs->[$i]);
			my $k = $in->[$key];
			push @keys, $k unless $seen{ $k // '<NULL>' }++;
			push @distinct, $i
			  unless $seen_exec{ $execs->[$i]{text} . "\0" . join("\0", map { $_ // '<NULL>' } @{ $execs->[$i]{params} }) }++;
		}
		my @args;
		my $arrays = 0;
		for my $n (1 .. @$types)
		{
			if ($types->[ $n - 1 ] =~ /\[\]$/)
			{
				push @args, array_literal(\@keys, $types->[ $n - 1 ]);
				$arrays++;
			}
			else
			{
				push @args, scalar_arg($execs, $n, [$key]) . '::' . $types->[ $n - 1 ];
			}
		}
		die "the rewrite takes no array of keys\n" unless $arrays == 1;
		my $loop = replay_select($node, $db, $execs);
		my @want = map { @{ $loop->[$_]{rows} } } @distinct;
		my $lh = $loop->[0]{header};
		my $s = run_rewrite($node, $db, $sql, [ \@args ]);
		my @lines = @{ $s->{0} // [] };
		my $rh = [ split /\x1f/, (shift @lines // ''), -1 ];
		my @got = map { [ split /\x1f/, $_, -1 ] } @lines;
		if (join("\x1f", @$rh) ne join("\x1f", @$lh))
		{
			my %pos;
			@pos{@$rh} = (0 .. $#$rh);
			if (!grep { !exists $pos{$_} } @$lh)
			{
				@got = map { my $row = $_; [ map { $row->[ $pos{$_} ] } @$lh ] } @got;
			}
			elsif (@$rh != @$lh)
			{
				die 'the rewrite returns the columns (' . join(', ', @$rh)
				  . '), the loop (' . join(', ', @$lh) . ")\n";
			}
		}
		multiset_diff(\@want, \@got);
	};
	return $@ ? "error: $@" : $r;
}

# Check the JOIN rewrite of a SELECT loop against the parent's executions:
# '' when its loop columns hold the rows of every execution of the loop.
sub check_join
{
	my ($node, $db, $execs, $parents, $sql) = @_;
	my $r = eval {
		die "no execution of the parent in the log\n" unless @$parents;
		my $key = loop_key($execs);
		die "the loop has no single varying key\n" unless defined $key;
		my $types = rewrite_types($node, $db, $sql);
		my $m = $parents->[0]{proto} eq 'ext' ? scalar @{ $parents->[0]{params} } : 0;
		my @others;
		if ($execs->[0]{proto} eq 'ext')
		{
			@others = grep { $_ != $key } 0 .. $#{ $execs->[0]{params} };
		}
		die 'the rewrite has ' . scalar(@$types) . ' parameters, the parent '
		  . "$m and the loop " . scalar(@others) . " besides its key\n"
		  if @$types != $m + @others;
		my (@arglists, %seen);
		foreach my $p (@$parents)
		{
			my @a;
			for my $n (1 .. $m)
			{
				push @a, sql_quote($p->{params}[ $n - 1 ]) . '::' . $types->[ $n - 1 ];
			}
			for my $j (0 .. $#others)
			{
				push @a, sql_quote($execs->[-1]{params}[ $others[$j] ]) . '::' . $types->[ $m + $j ];
			}
			my $k = join("\0", @a);
			push @arglists, \@a unless $seen{$k}++;
		}
		# a parent without parameters is the same statement every time
		@arglists = ($arglists[0]) if $m == 0;
		my $loop = replay_select($node, $db, $execs);
		my @want = map { @{ $_->{rows} } } @$loop;
		my $lcols = scalar @{ $loop->[0]{header} };
		my $s = run_rewrite($node, $db, $sql, \@arglists);
		my @got;
		for my $i (0 .. $#arglists)
		{
			my @lines = @{ $s->{$i} // [] };
			shift @lines;
			foreach my $l (@lines)
			{
				my @f = split /\x1f/, $l, -1;
				die "the rewrite returns fewer columns than the loop\n" if @f < $lcols;
				my @b = @f[ $#f - $lcols + 1 .. $#f ];
				# a parent row the loop found nothing for
				next unless grep { $_ ne '<NULL>' } @b;
				push @got, \@b;
			}
		}
		multiset_diff(\@want, \@got);
	};
	return $@ ? "error: $@" : $r;
}

# split "a, 'b,c', f(d, e)" at top-level commas
sub split_list
{
	my ($s) = @_;
	my @parts;
	my ($cur, $depth, $q) = ('', 0, '');
	foreach my $ch (split //, $s)
	{
		if ($q) { $q = '' if $ch eq $q; $cur .= $ch; next; }
		if ($ch eq "'" || $ch eq '"') { $q = $ch; $cur .= $ch; next; }
		$depth++ if $ch eq '(';
		$depth-- if $ch eq ')';
		if ($ch eq ',' && $depth == 0) { push @parts, $cur; $cur = ''; next; }
		$cur .= $ch;
	}
	push @parts, $cur;
	s/^\s+|\s+$//g foreach @parts;
	return @parts;
}

# Check the batched rewrite of an INSERT or UPDATE loop: the loop and the
# rewrite each run in a transaction that is rolled back, and the table's
# rows after each are compared (for an INSERT only the columns the loop
# gave values for: keys from a sequence differ).
sub check_dml
{
	my ($node, $db, $execs, $sql) = @_;
	my $r = eval {
		my $first = $execs->[0]{text};
		my ($table, $cols);
		if ($first =~ /^\s*INSERT\s+INTO\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)/si)
		{
			$table = $1;
			my @c = split_list($2);
			my @v = split_list($3);
			$v[-1] =~ s/\)\s*RETURNING.*$//si;
			$cols = join(', ', map { $c[$_] } grep { $v[$_] !~ /^DEFAULT$/i } 0 .. $#c);
		}
		elsif ($first =~ /^\s*UPDATE\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/si)
		{
			$table = $1;
			$cols = '*';
		}
		else
		{
			die "not an INSERT or UPDATE loop\n";
		}
		my $types = rewrite_types($node, $db, $sql);
		my $vary = varying($execs);
		my @args;
		my $nth = 0;
		for my $n (1 .. @$types)
		{
			my $t = $types->[ $n - 1 ];
			if ($t =~ /\[\]$/)
			{
				my $idx;
				if ($execs->[0]{proto} eq 'ext')
				{
					$idx = $n - 1;
				}
				else
				{
					die "cannot bind \$$n: only " . scalar(@$vary) . " constants vary\n"
					  if $nth > $#$vary;
					$idx = $vary->[ $nth++ ];
				}
				push @args, array_literal([ map { inputs($_)->[$idx] } @$execs ], $t);
			}
			else
			{
				push @args, scalar_arg($execs, $n, $vary) . "::$t";
			}
		}
		my $snap = "\\echo \@\@table\nSELECT $cols FROM $table;\n";
		# the loop, replayed
		my $script = "BEGIN;\n";
		my %prepared;
		foreach my $e (@$execs)
		{
			if ($e->{proto} eq 'ext' && !$prepared{ $e->{text} })
			{
				$prepared{ $e->{text} } = 'l' . scalar(keys %prepared);
				$script .= prepare_sql($e, $prepared{ $e->{text} });
			}
			$script .= exec_sql($e, $prepared{ $e->{text} } // '') . "\n";
		}
		$script .= $snap . "ROLLBACK;\n";
		# the loop's own output (RETURNING) is not compared
		$script =~ s/^(EXECUTE|INSERT|UPDATE)/\\o \/dev\/null\n$1/mg;
		$script =~ s/^\\echo/\\o\n\\echo/mg;
		my ($ok, $out, $err) = psql_script($node, $db, $script);
		die "replaying the loop failed: $err" unless $ok;
		my @want = map { [ split /\x1f/, $_, -1 ] } @{ sections($out)->{table} };
		shift @want;
		my $s = run_rewrite($node, $db, $sql, [ \@args ], "\\o /dev/null\n", "\\o\n$snap");
		my @got = map { [ split /\x1f/, $_, -1 ] } @{ $s->{table} };
		shift @got;
		multiset_diff(\@want, \@got);
	};
	return $@ ? "error: $@" : $r;
}

1;
