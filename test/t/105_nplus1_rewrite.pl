# N+1 rewrites return the loop's rows: every kind of suggestion is taken
# from scale_advisor.n_plus_one and executed with the values the loop used,
# bound as its note says ($n by $n), and its result is compared with what
# the loop returned, as multisets (for statements that write: the tables
# they leave, on twin tables, and the rows they return).
#
# The loops are sent as the ORMs' drivers send them (test/np_loop_client.c):
# bound parameters of an unnamed statement (node-postgres, ruby-pg), a named
# prepared statement (ActiveRecord), or values in the text (psycopg2).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;
use IPC::Run;

my $client = "$PostgreSQL::Test::Utils::tmp_check/np_loop_client";
{
	my ($cflags, $libs) = ('', '');
	if (system('pkg-config --exists libpq 2>/dev/null') == 0)
	{
		chomp($cflags = `pkg-config --cflags libpq`);
		chomp($libs = `pkg-config --libs libpq`);
	}
	else
	{
		chomp(my $inc = `pg_config --includedir`);
		chomp(my $lib = `pg_config --libdir`);
		($cflags, $libs) = ("-I$inc", "-L$lib -lpq");
	}
	system_or_bail(split(' ', "cc -O1 -Wall -Werror -o $client $ENV{SA_BUILD}/test/np_loop_client.c $cflags $libs"));
}

my $node = sa_node('rewrite', conf => q{
scale_advisor.n_plus_one_window_ms = 10000
});

my $twin = q{
CREATE TABLE SCH.np_events (id serial PRIMARY KEY, kind text NOT NULL DEFAULT 'none',
  amount int, "createdAt" timestamptz NOT NULL, "updatedAt" timestamptz NOT NULL);
INSERT INTO SCH.np_events (kind, amount, "createdAt", "updatedAt")
  SELECT 'seed', g, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00+00'
    FROM generate_series(1, 20) g;
CREATE TABLE SCH.np_docs (id bigint PRIMARY KEY, title text NOT NULL,
  lock_version int NOT NULL DEFAULT 0, views int NOT NULL DEFAULT 0,
  updated_at timestamp);
INSERT INTO SCH.np_docs (id, title) SELECT g, 'doc ' || g FROM generate_series(1, 40) g;
};
$node->safe_psql('postgres', q{
CREATE EXTENSION scale_advisor;
CREATE TABLE np_authors (id bigint PRIMARY KEY, name text NOT NULL,
                         email text NOT NULL UNIQUE);
INSERT INTO np_authors SELECT g, 'author ' || g, 'a' || g || '@example.com'
  FROM generate_series(1, 60) g;
INSERT INTO np_authors VALUES (1099511627777, 'far author', 'far@example.com');
CREATE TABLE np_posts (id bigint PRIMARY KEY,
                       author_id bigint NOT NULL REFERENCES np_authors,
                       category int NOT NULL, title text NOT NULL);
INSERT INTO np_posts SELECT g, g % 40 + 1, g % 7, 'post ' || g
  FROM generate_series(1, 120) g;
CREATE TABLE np_comments (id serial PRIMARY KEY,
                          post_id bigint NOT NULL REFERENCES np_posts,
                          body text NOT NULL);
INSERT INTO np_comments (post_id, body)
  SELECT (g * 7) % 50 + 1, 'comment ' || g FROM generate_series(1, 200) g;
CREATE TABLE np_tokens (id uuid PRIMARY KEY, label text NOT NULL);
INSERT INTO np_tokens SELECT md5(g::text)::uuid, 'token ' || g
  FROM generate_series(1, 30) g;
CREATE TABLE np_memberships (user_id int, group_id int, role text NOT NULL,
                             PRIMARY KEY (user_id, group_id));
INSERT INTO np_memberships SELECT u, g, 'r' || (u * g % 3)
  FROM generate_series(1, 10) u, generate_series(1, 5) g;
CREATE TABLE np_parts (id bigint PRIMARY KEY, v text NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE np_parts_1 PARTITION OF np_parts FOR VALUES FROM (1) TO (51);
CREATE TABLE np_parts_2 PARTITION OF np_parts FOR VALUES FROM (51) TO (101);
INSERT INTO np_parts SELECT g, 'part ' || g FROM generate_series(1, 100) g;
CREATE TABLE np_inh (id bigint PRIMARY KEY, v text NOT NULL);
CREATE TABLE np_inh_child () INHERITS (np_inh);
INSERT INTO np_inh SELECT g, 'parent ' || g FROM generate_series(1, 30) g;
INSERT INTO np_inh_child SELECT g, 'child ' || g FROM generate_series(1, 30, 2) g;
CREATE SCHEMA s_loop;
CREATE SCHEMA s_batch;
} . ($twin =~ s/SCH/s_loop/gr) . ($twin =~ s/SCH/s_batch/gr));
my $connstr = $node->connstr('postgres');

# ---------------------------------------------------------------------------
# helpers

sub esc
{
	my ($v) = @_;
	return '\N' unless defined $v;
	$v =~ s/\\/\\\\/g;
	$v =~ s/\t/\\t/g;
	$v =~ s/\n/\\n/g;
	return $v;
}

# run client commands; returns { tag => [ row, ... ] }, rows as printed
sub client
{
	my @cmds = @_;
	my $in = join('', map { join("\t", $_->[0], map { esc($_) } @$_[ 1 .. $#$_ ]) . "\n" } @cmds);
	my ($out, $err) = ('', '');
	IPC::Run::run([ $client, $connstr ], '<', \$in, '>', \$out, '2>', \$err)
	  or die "np_loop_client failed: $err\n$in";
	my %rows;
	foreach my $line (split /\n/, $out)
	{
		my ($tag, $rest) = split /\t/, $line, 2;
		push @{ $rows{$tag} }, $rest // '';
	}
	return \%rows;
}

sub pg_array
{
	return '{' . join(',', map { defined $_ ? '"' . (s/([\\"])/\\$1/gr) . '"' : 'NULL' } @_) . '}';
}

# the suggestion split into statements, each with the comment lines above
# it; comment lines after the last statement (a refusal) in {tail}
sub parse_suggestion
{
	my ($text) = @_;
	my (@blocks, @notes);
	foreach my $line (split /\n/, $text)
	{
		if ($line =~ /^--/) { push @notes, $line; next; }
		push @blocks, { notes => [@notes], sql => ($line =~ s/;$//r) };
		@notes = ();
	}
	return { blocks => \@blocks, tail => \@notes };
}

# what each $n of a statement is, from its note
sub legend
{
	my ($notes) = @_;
	my @p;
	foreach (@$notes)
	{
		next unless /^-- \$(\d+) \(([^)]*)\): (.*)$/;
		my ($n, $type, $what) = ($1, $2, $3);
		my $e = { type => $type, what => $what };
		if ($what =~ /^the loop's \$(\d+) of each execution, in order/) { $e->{array} = [$1]; }
		elsif ($what =~ /^column \S+: the loop's ((?:\$\d+(?:, )?)+) of each execution/)
		{
			$e->{array} = [ $1 =~ /\$(\d+)/g ];
		}
		elsif ($what =~ /^the constant of each execution, in order/) { $e->{const} = 1; }
		elsif ($what =~ /^the loop's \$(\d+) \(the same in every execution\)/) { $e->{scalar} = $1; }
		elsif ($what =~ /^the parent's \$(\d+)$/) { $e->{parent} = $1; }
		else { $e->{unknown} = 1; }
		$p[ $n - 1 ] = $e;
	}
	return \@p;
}

# the values to bind to a statement, by its legend; and for each execution
# the values of the arrays (the keys a LATERAL row starts with)
sub bind_values
{
	my ($legend, $c) = @_;
	my (@vals, @keys);
	my $ci = 0;
	my $n = scalar @{ $c->{execs} };
	foreach my $e (@$legend)
	{
		die "parameter missing from the note" unless $e;
		die "note not understood: $e->{what}" if $e->{unknown};
		if ($e->{array})
		{
			my @a;
			for my $i (0 .. $n - 1)
			{
				my @v = map { $c->{execs}[$i][ $_ - 1 ] } @{ $e->{array} };
				push @a, @v;
				push @{ $keys[$i] }, @v;
			}
			push @vals, pg_array(@a);
		}
		elsif ($e->{const})
		{
			my $k = $ci++;
			push @vals, pg_array(map { $c->{consts}[$_][$k] } 0 .. $n - 1);
			push @{ $keys[$_] }, $c->{consts}[$_][$k] for 0 .. $n - 1;
		}
		elsif (defined $e->{scalar}) { push @vals, $c->{execs}[0][ $e->{scalar} - 1 ]; }
		elsif (defined $e->{parent}) { push @vals, $c->{parent_params}[ $e->{parent} - 1 ]; }
	}
	return (\@vals, \@keys);
}

# Without a note (as before notes existed), bind the way the statement
# was once meant: the loop's $k where it was, an array where it varied,
# the constants that varied as the next parameter.
sub unexplained_values
{
	my ($sql, $c) = @_;
	my $max = 0;
	$max = $1 > $max ? $1 : $max while $sql =~ /\$(\d+)/g;
	my (@vals, @keys);
	my $n = scalar @{ $c->{execs} };
	for my $k (1 .. $max)
	{
		my @v = map { $c->{execs}[$_][ $k - 1 ] } 0 .. $n - 1;
		@v = map { $c->{consts}[$_][0] } 0 .. $n - 1 unless defined $v[0];
		my %d = map { ($_ // '') => 1 } @v;
		push @vals, keys %d > 1 ? pg_array(@v) : $v[0];
	}
	return (\@vals, [ map { [] } 1 .. $n ]);
}

sub same_multiset
{
	my ($got, $want, $name) = @_;
	my @g = sort @$got;
	my @w = sort @$want;
	return is_deeply(\@g, \@w, $name) || diag("got:\n  " . join("\n  ", @g) . "\nwanted:\n  " . join("\n  ", @w));
}

sub table_state
{
	my ($schema, $table) = @_;
	return $node->safe_psql('postgres', "SELECT t::text FROM $schema.$table AS t ORDER BY 1");
}

sub reset_twins
{
	my $sql = join('', map { my $s = $_; "DROP TABLE $s.np_events, $s.np_docs;" . ($twin =~ s/SCH/$s/gr) } qw(s_loop s_batch));
	$node->safe_psql('postgres', $sql);
}

# Run a loop (and its parent), read the suggestion for it, run the
# statements it offers with the same values, compare.  Returns the parsed
# suggestion.
#   name, loop (text, or a sub of the constants for the simple protocol),
#   mode (q, p or P), execs (the parameters of each execution) or consts,
#   parent / parent_params, xact, schema/table (writes: twin tables),
#   form (a regex the batched statement must match), join (1: a JOIN is
#   expected and checked), key_col (check that each key's rows keep their
#   order), extra (more values appended to the arrays), refuse (a regex of
#   the reason: no statement expected), batch_already (a multi-row VALUES:
#   not being flagged at all is right too)
sub check_loop
{
	my (%c) = @_;
	my $name = $c{name};
	$c{execs} //= [ map { [] } @{ $c{consts} } ];
	$node->safe_psql('postgres', 'SELECT scale_advisor.n_plus_one_reset()');
	reset_twins() if $c{table};

	my @cmds;
	push @cmds, [ 'q', 'setup', "SET search_path = $c{schema}, public" ] if $c{schema};
	push @cmds, [ 'q', 'begin', 'BEGIN' ] if $c{xact};
	push @cmds, [ 'p', 'parent', $c{parent}, @{ $c{parent_params} // [] } ] if $c{parent};
	for my $i (0 .. $#{ $c{execs} })
	{
		if (($c{mode} // 'p') eq 'q')
		{
			push @cmds, [ 'q', "loop$i", $c{loop}->(@{ $c{consts}[$i] }) ];
		}
		elsif ($c{mode} eq 'P')
		{
			push @cmds, [ 'P', "loop$i", 'a1', $c{loop}, @{ $c{execs}[$i] } ];
		}
		else
		{
			push @cmds, [ 'p', "loop$i", $c{loop}, @{ $c{execs}[$i] } ];
		}
	}
	push @cmds, [ 'q', 'commit', 'COMMIT' ] if $c{xact};
	my $loop = client(@cmds);
	my $loop_state = $c{table} ? table_state('s_loop', $c{table}) : undef;

	my $kind = $node->safe_psql('postgres',
		q{SELECT string_agg(kind, ',') FROM scale_advisor.n_plus_one WHERE kind <> 'repeated_identical'});
	if ($c{batch_already} && $kind eq '')
	{
		# a detector that takes a multi-row VALUES for the batch it is
		# leaves it alone: then there is no suggestion to check
		pass("$name: not flagged (its rows are a batch already)");
		return {};
	}
	is($kind, $c{kind} // 'n_plus_one', "$name: flagged");
	my $text = $node->safe_psql('postgres',
		q{SELECT suggestion FROM scale_advisor.n_plus_one WHERE kind <> 'repeated_identical'});
	my $s = parse_suggestion($text);
	$s->{text} = $text;

	if ($c{refuse})
	{
		is(scalar @{ $s->{blocks} }, 0, "$name: no statement offered");
		like(join("\n", @{ $s->{tail} }), $c{refuse}, "$name: the reason is shown")
		  or diag($text);
		return $s;
	}
	my $b = $s->{blocks}[0];
	ok($b && $b->{sql} =~ $c{form}, "$name: form") or diag($text);
	return $s unless $b;
	my $leg = legend($b->{notes});
	my ($vals, $keys) = eval { bind_values($leg, \%c) };
	ok($vals && @$leg, "$name: its note says what each parameter is") or diag("$@$text");
	($vals, $keys) = unexplained_values($b->{sql}, \%c) unless @$leg;
	my @runs = (0 .. $#{ $c{execs} });
	if ($vals && @$leg && $b->{notes}[0] =~ /each key once/)
	{
		# as the note asks: each key once (the first execution with it)
		my %seen;
		@runs = grep { !$seen{ join("\t", map { $_ // '\N' } @{ $keys->[$_] }) }++ } @runs;
		my %d = (%c, execs => [ @{ $c{execs} }[@runs] ]);
		$d{consts} = [ @{ $c{consts} }[@runs] ] if $c{consts};
		($vals) = bind_values($leg, \%d);
	}
	if ($c{extra})
	{
		# more keys than the loop used, such as one beyond integer
		$vals->[0] =~ s/\}$/,"$c{extra}"}/;
	}

	# the loop's rows, each with its execution's keys in front
	my (@want, @want_keyed);
	for my $i (@runs)
	{
		foreach my $r (@{ $loop->{"loop$i"} // [] })
		{
			push @want, $r;
			push @want_keyed, join("\t", map { $_ // '\N' } @{ $keys->[$i] }, $r);
		}
	}
	push @want, @{ $c{extra_rows} } if $c{extra_rows};

	my @bcmds;
	push @bcmds, [ 'q', 'setup', "SET search_path = s_batch, public" ] if $c{table};
	push @bcmds, [ 'q', 'begin', 'BEGIN' ], [ 'p', 'batched', $b->{sql}, @$vals ];
	push @bcmds, @{ $c{while_batched} } if $c{while_batched};
	push @bcmds, [ 'c1' ], [ 'q', 'commit', 'COMMIT' ];
	# a statement that fails counts as one that returns nothing
	my $got = eval { client(@bcmds) } // {};
	diag($@) if $@;
	my @rows = @{ $got->{batched} // [] };
	if ($b->{notes}[0] =~ /each row: what varied \(the keys\), then the loop's columns/)
	{
		same_multiset(\@rows, \@want_keyed, "$name: the statement returns each execution's rows, with its keys");
	}
	else
	{
		same_multiset(\@rows, \@want, "$name: the statement returns the loop's rows");
	}
	if ($c{table})
	{
		is(table_state('s_batch', $c{table}), $loop_state,
			"$name: it leaves the table as the loop did");
	}
	if (defined $c{key_col})
	{
		# the rows of each key come in the order the loop returned them
		my (%byk_loop, %byk_batch);
		for my $i (0 .. $#{ $c{execs} })
		{
			push @{ $byk_loop{ $c{execs}[$i][0] } }, @{ $loop->{"loop$i"} // [] };
		}
		foreach my $r (@rows)
		{
			push @{ $byk_batch{ (split /\t/, $r)[ $c{key_col} ] } }, $r;
		}
		delete $byk_loop{$_} for grep { !@{ $byk_loop{$_} } } keys %byk_loop;
		is_deeply(\%byk_batch, \%byk_loop, "$name: each key's rows keep the loop's order");
	}
	$c{after}->($got) if $c{after};

	if ($c{join})
	{
		my $j = $s->{blocks}[1];
		ok($j && $j->{sql} =~ /LEFT JOIN LATERAL/, "$name: JOIN offered") or diag($text);
		return $s unless $j;
		my $jleg = legend($j->{notes});
		my ($jvals) = eval { bind_values($jleg, \%c) };
		ok($jvals && @$jleg, "$name: the JOIN's note says what each parameter is") or diag("$@$text");
		$jvals = $c{parent_params} unless @$jleg;
		my $jgot = eval { client([ 'p', 'join', $j->{sql}, @$jvals ]) } // {};
		diag($@) if $@;
		# one row per parent row and row its execution returned, or NULLs
		my @parent = @{ $loop->{parent} };
		my $ncols = $c{loop_cols};
		my @jwant;
		for my $i (0 .. $#parent)
		{
			my @r = @{ $loop->{"loop$i"} // [] };
			@r = (join("\t", ('\N') x $ncols)) unless @r;
			push @jwant, map { "$parent[$i]\t$_" } @r;
		}
		same_multiset($jgot->{join} // [], \@jwant,
			"$name: the JOIN returns each parent row with the loop's rows for it");
	}
	return $s;
}

# ---------------------------------------------------------------------------
# SELECT loops

my @k40 = map { [$_] } 1 .. 40;

# ActiveRecord's find: "WHERE id = $1 LIMIT $2" on the primary key (bigint).
# The LIMIT must go (it returned 1 row for 40 keys), the key array is
# bigint[], and the JOIN numbers the parent's parameters first.
my $s = check_loop(
	name => 'ActiveRecord find',
	mode => 'P',
	parent => 'SELECT "np_posts".* FROM "np_posts" WHERE "np_posts"."id" <= $1 ORDER BY "np_posts"."id" LIMIT $2',
	parent_params => [ 40, 40 ],
	loop => 'SELECT "np_authors".* FROM "np_authors" WHERE "np_authors"."id" = $1 LIMIT $2',
	execs => [ map { [ $_ % 40 + 1, 1 ] } 1 .. 40 ],
	form => qr/^SELECT id, name, email FROM np_authors WHERE id = ANY \(\$1::bigint\[\]\)$/,
	join => 1, loop_cols => 3);
like($s->{text}, qr/its LIMIT is left out: np_authors\.id is unique \(index np_authors_pkey\)/,
	'ActiveRecord find: the note says why the LIMIT goes');
like($s->{text}, qr/\n-- \$1 \(bigint\): the parent's \$1\n-- \$2 \(bigint\): the parent's \$2\n-- \$3 \(bigint\): the loop's \$2 \(the same in every execution\)\n/,
	'ActiveRecord find: the JOIN takes the parent\'s parameters, then the loop\'s LIMIT');

# belongs_to walked over rows that share keys: = ANY wants each key once
# (the note says so), the per-key form takes them as they came.
check_loop(
	name => 'repeated keys, = ANY',
	mode => 'p', xact => 1,
	loop => 'SELECT "np_authors".* FROM "np_authors" WHERE "np_authors"."id" = $1 LIMIT $2',
	execs => [ map { [ $_ % 7 + 1, 1 ] } 1 .. 20 ],
	form => qr/WHERE id = ANY \(\$1::bigint\[\]\)$/);
check_loop(
	name => 'repeated keys, per-key LIMIT',
	mode => 'p', xact => 1,
	loop => 'SELECT "np_comments".* FROM "np_comments" WHERE "np_comments"."post_id" = $1 ORDER BY "np_comments"."id" DESC LIMIT $2',
	execs => [ map { [ $_ % 7 + 1, 2 ] } 1 .. 20 ],
	form => qr/CROSS JOIN LATERAL/);

# the primary key of a partitioned table is unique over its partitions;
# that of an inheritance parent says nothing of its children's rows
check_loop(
	name => 'find on a partitioned table',
	mode => 'p', xact => 1,
	loop => 'SELECT * FROM np_parts WHERE id = $1 LIMIT $2',
	execs => [ map { [ $_ * 7, 1 ] } 1 .. 14 ],
	form => qr/^SELECT id, v FROM np_parts WHERE id = ANY \(\$1::bigint\[\]\)$/);
check_loop(
	name => 'find on an inheritance parent (children share keys)',
	mode => 'p', xact => 1,
	loop => 'SELECT * FROM np_inh WHERE id = $1 LIMIT $2',
	execs => [ map { [ $_, 1 ] } 1 .. 14 ],
	form => qr/CROSS JOIN LATERAL \(SELECT id, v FROM np_inh WHERE id = keys\.id LIMIT \$2\) AS batch$/);

# Django's get() (psycopg2 sends the values in the text): "LIMIT 21" on the
# primary key, a bigint column compared with integer constants: the array
# must be bigint[] (an id past 2^31 must be accepted).
check_loop(
	name => 'Django get() in the text',
	mode => 'q', xact => 1,
	loop => sub { qq{SELECT "np_authors"."id", "np_authors"."name" FROM "np_authors" WHERE "np_authors"."id" = $_[0] LIMIT 21} },
	consts => [ map { [$_] } 1 .. 15 ],
	form => qr/WHERE id = ANY \(\$1::bigint\[\]\)$/,
	extra => '1099511627777', extra_rows => [ "1099511627777\tfar author" ]);

# has_one: the newest comment of each post, LIMIT per key on a key that is
# not unique: the loop's statement per key (LATERAL), with the key.
check_loop(
	name => 'per-key LIMIT (has_one)',
	mode => 'p', xact => 1,
	parent => 'SELECT id, author_id FROM np_posts WHERE id BETWEEN $1 AND $2 ORDER BY id',
	parent_params => [ 41, 60 ],
	loop => 'SELECT "np_comments".* FROM "np_comments" WHERE "np_comments"."post_id" = $1 ORDER BY "np_comments"."id" DESC LIMIT $2',
	execs => [ map { [ $_, 1 ] } 41 .. 60 ],
	form => qr/^SELECT keys\.\*, batch\.\* FROM unnest\(\$1::bigint\[\]\) AS keys\(post_id\) CROSS JOIN LATERAL \(.* LIMIT \$2\) AS batch$/,
	join => 1, loop_cols => 3);

# OFFSET per key
check_loop(
	name => 'per-key LIMIT and OFFSET',
	mode => 'p', xact => 1,
	loop => 'SELECT id, body FROM np_comments WHERE post_id = $1 ORDER BY id LIMIT 2 OFFSET 1',
	execs => [ map { [$_] } 1 .. 12 ],
	form => qr/CROSS JOIN LATERAL \(.*ORDER BY id OFFSET 1 LIMIT 2\) AS batch$/);

# Sequelize hasMany: ORDER BY without LIMIT keeps the = ANY form; each
# key's rows keep their order.
check_loop(
	name => 'ORDER BY (Sequelize hasMany)',
	mode => 'p',
	parent => 'SELECT "id", "title" FROM "np_posts" AS "post" ORDER BY "post"."id" LIMIT $1',
	parent_params => [ 60 ],
	loop => 'SELECT "id", "post_id", "body" FROM "np_comments" AS "comment" WHERE "comment"."post_id" = $1 ORDER BY "comment"."id"',
	execs => [ map { [$_] } 1 .. 60 ],
	form => qr/^SELECT id, post_id, body FROM np_comments comment WHERE post_id = ANY \(\$1::bigint\[\]\) ORDER BY id$/,
	key_col => 1, join => 1, loop_cols => 3);

check_loop(
	name => 'DISTINCT',
	mode => 'p', xact => 1,
	loop => 'SELECT DISTINCT author_id FROM np_posts WHERE category = $1',
	execs => [ map { [ $_ % 7 ] } 0 .. 13 ],
	form => qr/^SELECT keys\.\*, batch\.\* FROM unnest\(\$1::integer\[\]\) AS keys\(category\) CROSS JOIN LATERAL \(SELECT DISTINCT author_id/);

check_loop(
	name => 'aggregate (a count per key, zeros included)',
	mode => 'p', xact => 1,
	loop => 'SELECT count(*) FROM np_comments WHERE post_id = $1',
	execs => [ map { [$_] } 45 .. 60 ],
	form => qr/CROSS JOIN LATERAL \(SELECT count\(\*\) AS count FROM np_comments WHERE post_id = keys\.post_id\) AS batch$/);

check_loop(
	name => 'GROUP BY',
	mode => 'p', xact => 1,
	loop => 'SELECT author_id, count(*) FROM np_posts WHERE category = $1 GROUP BY author_id',
	execs => [ map { [ $_ % 7 ] } 0 .. 13 ],
	form => qr/CROSS JOIN LATERAL \(.*GROUP BY author_id\) AS batch$/);

# FOR UPDATE: = ANY locks the same rows
check_loop(
	name => 'FOR UPDATE',
	mode => 'p', xact => 1,
	loop => 'SELECT id, name FROM np_authors WHERE id = $1 FOR UPDATE',
	execs => [ map { [$_] } 1 .. 12 ],
	form => qr/WHERE id = ANY \(\$1::bigint\[\]\) FOR UPDATE OF np_authors$/,
	while_batched => [ [ 'c2' ],
		[ 'q', 'free', 'SELECT id FROM np_authors WHERE id <= 20 ORDER BY id FOR UPDATE SKIP LOCKED' ] ],
	after => sub {
		is(join(',', @{ $_[0]->{free} }), join(',', 13 .. 20),
			'FOR UPDATE: the statement locks the rows of the keys, and only those');
	});
check_loop(
	name => 'FOR UPDATE with a per-key LIMIT',
	mode => 'p', xact => 1,
	loop => 'SELECT id, body FROM np_comments WHERE post_id = $1 ORDER BY id LIMIT 1 FOR UPDATE',
	execs => [ map { [$_] } 1 .. 12 ],
	form => qr/CROSS JOIN LATERAL \(.*LIMIT 1 FOR UPDATE OF np_comments\) AS batch$/);

check_loop(
	name => 'uuid key',
	mode => 'p', xact => 1,
	loop => 'SELECT label FROM np_tokens WHERE id = $1',
	execs => [ map { [ `printf %s $_ | md5sum` =~ s/^(\w{8})(\w{4})(\w{4})(\w{4})(\w{12}).*/$1-$2-$3-$4-$5/sr ] } 1 .. 12 ],
	form => qr/WHERE id = ANY \(\$1::uuid\[\]\)$/);

check_loop(
	name => 'text key',
	mode => 'p', xact => 1,
	loop => 'SELECT id, name FROM np_authors WHERE email = $1',
	execs => [ map { [ "a$_\@example.com" ] } 1 .. 12 ],
	form => qr/WHERE email = ANY \(\$1::text\[\]\)$/);

check_loop(
	name => 'composite key',
	mode => 'p', xact => 1,
	loop => 'SELECT role FROM np_memberships WHERE user_id = $1 AND group_id = $2',
	execs => [ map { [ $_ % 10 + 1, $_ % 5 + 1 ] } 0 .. 13 ],
	form => qr/^SELECT keys\.\*, batch\.\* FROM unnest\(\$1::integer\[\], \$2::integer\[\]\) AS keys\(user_id, group_id\) CROSS JOIN LATERAL/);

# ---------------------------------------------------------------------------
# UPDATE, DELETE, INSERT loops: the effects on twin tables

$s = check_loop(
	name => 'UPDATE (ActiveRecord save)',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_docs',
	loop => 'UPDATE "np_docs" SET "title" = $1, "updated_at" = $2 WHERE "np_docs"."id" = $3',
	execs => [ map { [ "new title $_", "2024-02-0" . ($_ % 9 + 1) . " 10:00:00", $_ ] } 1 .. 14 ],
	form => qr/^UPDATE np_docs SET title = v\.title, updated_at = v\.updated_at FROM UNNEST\(\$1::text\[\], \$2::timestamp without time zone\[\], \$3::bigint\[\]\) v\(title, updated_at, id\) WHERE np_docs\.id = v\.id$/);
like($s->{text}, qr/^-- one UPDATE for all the rows of the loop/, 'UPDATE: the suggestion speaks of updating');
unlike($s->{text}, qr/fetch|the rows for all keys/, 'UPDATE: not of fetching rows');

check_loop(
	name => 'UPDATE with the values in the text',
	mode => 'q', xact => 1, schema => 's_loop', table => 'np_docs',
	loop => sub { "UPDATE np_docs SET views = views + 1 WHERE id = $_[0]" },
	consts => [ map { [$_] } 1 .. 12 ],
	form => qr/^UPDATE np_docs SET views = views \+ 1 WHERE id = ANY \(\$1::bigint\[\]\)$/);

# Django's save() sends every column as a constant; one that two texts of
# the run share (executions 9 and 10 here, the two compared) still varies
# over the run: each SET value is an array.
check_loop(
	name => 'UPDATE of every column with the values in the text (Django save)',
	mode => 'q', xact => 1, schema => 's_loop', table => 'np_docs',
	loop => sub { qq{UPDATE "np_docs" SET "title" = '$_[0]', "lock_version" = $_[1] WHERE "np_docs"."id" = $_[2]} },
	consts => [ map { [ "edited $_", ($_ == 9 || $_ == 10) ? 7 : $_, $_ ] } 1 .. 14 ],
	form => qr/^UPDATE np_docs SET title = v\.title, lock_version = v\.lock_version FROM UNNEST\(\$1::text\[\], \$2::integer\[\], \$3::bigint\[\]\) v\(title, lock_version, id\) WHERE np_docs\.id = v\.id$/);

check_loop(
	name => 'UPDATE ... RETURNING (Sequelize save)',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'UPDATE "np_events" SET "kind"=$1,"updatedAt"=$2 WHERE "id" = $3 RETURNING "id","kind","amount"',
	execs => [ map { [ "k$_", "2024-03-01 00:00:0$_+00", $_ ] } 1 .. 9, 10 .. 12 ],
	form => qr/^UPDATE np_events SET kind = v\.kind, "updatedAt" = v\."updatedAt" FROM UNNEST\(.*\) v\(kind, "updatedAt", id\) WHERE np_events\.id = v\.id RETURNING np_events\.id, np_events\.kind, np_events\.amount$/);

$s = check_loop(
	name => 'DELETE by key',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_docs',
	loop => 'DELETE FROM "np_docs" WHERE "np_docs"."id" = $1',
	execs => [ map { [$_] } 3 .. 16 ],
	form => qr/^DELETE FROM np_docs WHERE id = ANY \(\$1::bigint\[\]\)$/);
like($s->{text}, qr/^-- one DELETE for all the rows of the loop/, 'DELETE: the suggestion speaks of deleting');

check_loop(
	name => 'DELETE with optimistic locking (two values vary)',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_docs',
	loop => 'DELETE FROM "np_docs" WHERE "np_docs"."id" = $1 AND "np_docs"."lock_version" = $2',
	execs => [ map { [ $_, $_ % 3 ? 0 : 1 ] } 3 .. 16 ],
	form => qr/^DELETE FROM np_docs USING UNNEST\(\$1::bigint\[\], \$2::integer\[\]\) v\(id, lock_version\) WHERE np_docs\.id = v\.id AND np_docs\.lock_version = v\.lock_version$/);

my @ev = map { [ "kind $_", $_ * 10, "2024-01-02 00:00:$_+00", "2024-01-02 00:00:$_+00" ] } 10 .. 23;
$s = check_loop(
	name => 'INSERT with DEFAULT and RETURNING (Sequelize create)',
	kind => 'insert_loop',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'INSERT INTO "np_events" ("id","kind","amount","createdAt","updatedAt") VALUES (DEFAULT,$1,$2,$3,$4) RETURNING "id","kind","amount","createdAt","updatedAt";',
	execs => \@ev,
	form => qr/^INSERT INTO np_events \(kind, amount, "createdAt", "updatedAt"\) SELECT \* FROM unnest\(\$1::text\[\], \$2::integer\[\], \$3::timestamp with time zone\[\], \$4::timestamp with time zone\[\]\) RETURNING id, kind, amount, "createdAt", "updatedAt"$/);
like($s->{text}, qr/^-- one INSERT for all the rows of the loop/, 'INSERT: the suggestion speaks of inserting');

check_loop(
	name => 'INSERT ... RETURNING id (ActiveRecord create)',
	kind => 'insert_loop',
	mode => 'P', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'INSERT INTO "np_events" ("kind", "amount", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4) RETURNING "id"',
	execs => \@ev,
	form => qr/^INSERT INTO np_events \(kind, amount, "createdAt", "updatedAt"\) SELECT \* FROM unnest\(/);

check_loop(
	name => 'INSERT with the values in the text (Django save)',
	kind => 'insert_loop',
	mode => 'q', xact => 1, schema => 's_loop', table => 'np_events',
	loop => sub { qq{INSERT INTO "np_events" ("kind", "amount", "createdAt", "updatedAt") VALUES ('$_[0]', $_[1], '$_[2]'::timestamptz, '$_[3]'::timestamptz) RETURNING "np_events"."id"} },
	consts => \@ev,
	form => qr/^INSERT INTO np_events \(kind, amount, "createdAt", "updatedAt"\) SELECT \* FROM unnest\(\$1::text\[\], \$2::integer\[\], \$3::timestamp with time zone\[\], \$4::timestamp with time zone\[\]\)/);

check_loop(
	name => 'INSERT ... ON CONFLICT DO UPDATE (Sequelize upsert)',
	kind => 'insert_loop',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'INSERT INTO "np_events" ("id","kind","amount","createdAt","updatedAt") VALUES ($1,$2,$3,$4,$5) ON CONFLICT ("id") DO UPDATE SET "kind"=EXCLUDED."kind","amount"=EXCLUDED."amount","updatedAt"=EXCLUDED."updatedAt" RETURNING "id","kind","amount"',
	execs => [ map { [ $_ * 3, "up $_", $_, '2024-01-03 00:00:00+00', '2024-01-03 00:00:00+00' ] } 1 .. 12 ],
	form => qr/SELECT \* FROM unnest\(.*\) ON CONFLICT\(id\) DO UPDATE SET kind = excluded\.kind, amount = excluded\.amount, "updatedAt" = excluded\."updatedAt" RETURNING/);

check_loop(
	name => 'INSERT with a WITH clause and an expression',
	kind => 'insert_loop',
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'WITH src AS (VALUES (1), (2)) INSERT INTO np_events (kind, amount, "createdAt", "updatedAt") VALUES (upper($1), (SELECT count(*) FROM src)::int + $2, $3, $3) RETURNING id, kind, amount',
	execs => [ map { [ "w$_", $_, '2024-01-06 00:00:00+00' ] } 1 .. 12 ],
	form => qr/^WITH src AS \(VALUES \(1\), \(2\)\) INSERT INTO np_events \(kind, amount, "createdAt", "updatedAt"\) SELECT upper\(v\.p1\), .* \+ v\.p2, v\."createdAt", v\."createdAt" FROM unnest\(\$1::text\[\], \$2::integer\[\], \$3::timestamp with time zone\[\]\) AS v\(p1, p2, "createdAt"\) RETURNING id, kind, amount$/);

check_loop(
	name => 'multi-row INSERT',
	kind => 'insert_loop', batch_already => 1,
	mode => 'p', xact => 1, schema => 's_loop', table => 'np_events',
	loop => 'INSERT INTO np_events (kind, amount, "createdAt", "updatedAt") VALUES ($1, $2, $3, $3), ($4, $5, $6, $6)',
	execs => [ map { [ "a$_", $_, '2024-01-04 00:00:00+00', "b$_", -$_, '2024-01-05 00:00:00+00' ] } 1 .. 12 ],
	form => qr/^INSERT INTO np_events \(kind, amount, "createdAt", "updatedAt"\) SELECT \* FROM unnest\(\$1::text\[\], \$2::integer\[\], \$3::timestamp with time zone\[\], \$4::timestamp with time zone\[\]\)$/);

# ---------------------------------------------------------------------------
# no safe single statement: the reason is shown

check_loop(
	name => 'UPDATE whose rows are not known by a key',
	mode => 'p', xact => 1, schema => 's_loop',
	loop => 'UPDATE np_docs SET title = $1 WHERE id > $2',
	execs => [ map { [ "t$_", 40 - $_ ] } 1 .. 12 ],
	refuse => qr/no single statement replaces this loop safely: no "column = value" condition of its WHERE clause takes a value that varied/);
check_loop(
	name => 'UPDATE that reads the table it changes',
	mode => 'p', xact => 1, schema => 's_loop',
	loop => 'UPDATE np_docs SET views = (SELECT max(views) + 1 FROM np_docs) WHERE id = $1',
	execs => [ map { [$_] } 1 .. 12 ],
	refuse => qr/it reads the table it changes/);
check_loop(
	name => 'multi-row INSERT with DEFAULT in some rows',
	kind => 'insert_loop', batch_already => 1,
	mode => 'p', xact => 1, schema => 's_loop',
	loop => 'INSERT INTO np_events (kind, amount, "createdAt", "updatedAt") VALUES ($1, $2, $3, $3), (DEFAULT, $4, $3, $3)',
	execs => [ map { [ "a$_", $_, '2024-01-04 00:00:00+00', -$_ ] } 1 .. 12 ],
	refuse => qr/value 1 of its rows is DEFAULT in some rows and not in others/);
check_loop(
	name => 'INSERT with a varying value in ON CONFLICT',
	kind => 'insert_loop',
	mode => 'p', xact => 1, schema => 's_loop',
	loop => 'INSERT INTO np_events (id, kind, "createdAt", "updatedAt") VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO UPDATE SET kind = $2',
	execs => [ map { [ $_, "k$_", '2024-01-04 00:00:00+00' ] } 1 .. 12 ],
	refuse => qr/a value that varies is used in its ON CONFLICT clause/);

# ---------------------------------------------------------------------------
# what the viewer may see: no value of the loop in any rewrite, and other
# roles see no rewrite of it

$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE ROLE monitor LOGIN IN ROLE pg_read_all_stats;
CREATE ROLE other LOGIN;
CREATE TABLE np_cards (number text PRIMARY KEY, holder text NOT NULL, spent int NOT NULL);
ALTER TABLE np_cards OWNER TO app;
INSERT INTO np_cards SELECT 'secret-4111-' || g, 'holder ' || g, g FROM generate_series(1, 20) g;
GRANT SELECT ON np_posts TO other;
GRANT other TO app;
});
$node->safe_psql('postgres', 'SELECT scale_advisor.n_plus_one_reset()');
{
	my $app = $node->connstr('postgres') . ' user=app';
	my @cmds = ([ 'q', 'b', 'BEGIN' ],
		[ 'q', 'sr', 'SET ROLE other' ],
		[ 'q', 'parent', 'SELECT id FROM np_posts WHERE id <= 14 ORDER BY id' ],
		[ 'q', 'rr', 'RESET ROLE' ]);
	push @cmds, [ 'p', "l$_", 'SELECT holder FROM np_cards WHERE number = $1 LIMIT $2', "secret-4111-$_", 7 ] for 1 .. 14;
	push @cmds, [ 'q', "c$_", "SELECT holder FROM np_cards WHERE spent > $_ AND number = 'secret-4111-$_'" ] for 1 .. 14;
	push @cmds, [ 'q', 'c', 'COMMIT' ];
	my $in = join('', map { join("\t", map { esc($_) } @$_) . "\n" } @cmds);
	my ($out, $err) = ('', '');
	IPC::Run::run([ $client, $app ], '<', \$in, '>', \$out, '2>', \$err) or die $err;
}
my $rw = q{SELECT string_agg(coalesce(suggestion, '') || coalesce(batched_query, '') || coalesce(join_query, ''), E'\n')
  FROM scale_advisor.n_plus_one WHERE userid = 'app'::regrole};
my $app_sees = $node->safe_psql('postgres', $rw, extra_params => [ '-U', 'app' ]);
like($app_sees, qr/number = ANY \(\$1::text\[\]\)/, 'security: the owner of the loop sees its rewrite');
my $monitor_sees = $node->safe_psql('postgres', $rw, extra_params => [ '-U', 'monitor' ]);
is($monitor_sees, $app_sees, 'security: a pg_read_all_stats member sees the same rewrite');
unlike($app_sees, qr/secret|4111|LIMIT 7|holder \d/, 'security: no value of the loop (keys, LIMIT, constants) is in a rewrite');
unlike($app_sees, qr/np_posts|LEFT JOIN/, 'security: no JOIN with a statement another role ran');
my $other_sees = $node->safe_psql('postgres', $rw, extra_params => [ '-U', 'other' ]);
unlike($other_sees, qr/np_cards|number|ANY|SELECT/, 'security: another role sees no rewrite of the loop');
like($other_sees, qr/insufficient privilege/, 'security: ... only <insufficient privilege>');

$node->stop;
done_testing();
