# SaFuzz: helpers for the bad-input and fuzz TAP tests (630_fuzz.pl,
# 631_fuzz_badinput.pl).
#
# Inputs are rows of fz.inputs (id, q, a, b, c, d): q is a statement with
# up to four parameters $1..$4 (text), filled from a..d.  They are loaded
# with COPY, so any text reaches the server unchanged, and run by
# fz.try(), which executes one input in a subtransaction that is always
# rolled back (also when the call succeeded) and returns "ok" or the
# SQLSTATE and message of the error.  "!pwned" is prefixed when the call
# made fz.pwned() run: every injection string of the tests calls it, and it
# bumps a sequence, which no rollback undoes.  "!lock" is prefixed when the
# call left a session-level advisory lock held (the rollback does not
# release those either; fz.try then releases them).  The sequence is
# called once at setup, so that every later call changes last_value.
#
# Inputs run in batches (one statement each); when a batch fails as a whole
# (a crash, or a statement timeout: fz.try does not catch a cancel), its
# inputs are run again one by one, so that the input to blame is found.  A
# crash is reported as "CRASH", an input that hit the timeout alone as
# "FAILED ... statement timeout"; the server restarts (restart_after_crash)
# and the tests check the log for it.
package SaFuzz;

use strict;
use warnings;
use Exporter 'import';
use SaTest qw(sa_wait_back);

our @EXPORT = qw(fz_setup fz_load fz_run fz_bad_result fz_lit fz_utf8_ok);

# SQL run once per database: the fz schema with the runner.
my $setup = q{
CREATE SCHEMA fz;
CREATE SEQUENCE fz.pwned_seq;
SELECT nextval('fz.pwned_seq');
CREATE FUNCTION fz.pwned() RETURNS int LANGUAGE sql VOLATILE
	AS $$ SELECT nextval('fz.pwned_seq')::int $$;
GRANT USAGE ON SCHEMA fz TO PUBLIC;
GRANT EXECUTE ON FUNCTION fz.pwned() TO PUBLIC;
GRANT USAGE, UPDATE, SELECT ON SEQUENCE fz.pwned_seq TO PUBLIC;
CREATE TABLE fz.inputs (id int PRIMARY KEY, q text NOT NULL, a text, b text, c text, d text);
GRANT SELECT ON fz.inputs TO PUBLIC;
CREATE FUNCTION fz.try(q text, a text, b text, c text, d text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	res text;
	before bigint;
	after bigint;
	locks bigint;
BEGIN
	SELECT s.last_value INTO before FROM fz.pwned_seq s;
	SELECT count(*) INTO locks FROM pg_locks l
	 WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid();
	BEGIN
		EXECUTE q USING a, b, c, d;
		RAISE SQLSTATE 'FZ000';
	EXCEPTION
		WHEN SQLSTATE 'FZ000' THEN
			res := 'ok';
		WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			res := st || ' ' || msg;
	END;
	SELECT s.last_value INTO after FROM fz.pwned_seq s;
	IF after <> before THEN
		res := '!pwned ' || res;
	END IF;
	-- session-level advisory locks survive the rollback
	IF (SELECT count(*) FROM pg_locks l
		 WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid()) > locks THEN
		res := '!lock ' || res;
		PERFORM pg_advisory_unlock_all();
	END IF;
	RETURN res;
END
$$;
};

sub fz_setup
{
	my ($node, $db) = @_;
	$node->safe_psql($db, $setup);
}

# A Perl string as an SQL literal (standard_conforming_strings on).
sub fz_lit
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/'/''/g;
	return "'$s'";
}

# Is this byte string valid UTF-8?
sub fz_utf8_ok
{
	my ($bytes) = @_;
	return utf8::decode(my $copy = $bytes);
}

sub copy_field
{
	my ($v) = @_;
	return '\N' unless defined $v;
	utf8::encode($v);    # character strings go out as UTF-8
	$v =~ s/\\/\\\\/g;
	$v =~ s/\t/\\t/g;
	$v =~ s/\n/\\n/g;
	$v =~ s/\r/\\r/g;
	return $v;
}

# Replace fz.inputs by the rows given: each [q, a, b, c, d].  Ids from 1.
sub fz_load
{
	my ($node, $db, $rows) = @_;
	my $data = "TRUNCATE fz.inputs;\nCOPY fz.inputs FROM STDIN;\n";
	my $id = 0;
	for my $r (@$rows)
	{
		$id++;
		$data .= join("\t", $id, map { copy_field($r->[$_]) } 0 .. 4) . "\n";
	}
	$data .= "\\.\n";
	my ($out, $err) = ('', '');
	my $ret = $node->psql($db, $data, stdout => \$out, stderr => \$err,
		on_error_stop => 1);
	die "loading fuzz inputs failed: $err" if $ret != 0;
	return $id;
}

# Run inputs first..last of fz.inputs, in batches of $batch.  Returns a
# hash ref id => result.  $opts->{timeout} is the statement_timeout of a
# batch (seconds), $opts->{single_timeout} that of one input run alone,
# $opts->{role} runs as that role.
sub fz_run
{
	my ($node, $db, $first, $last, $batch, $opts) = @_;
	$opts //= {};
	my $timeout = $opts->{timeout} // 60;
	my $single = $opts->{single_timeout} // 10;
	my %res;
	my $run = sub {
		my ($lo, $hi, $tmo) = @_;
		my $sql = "SET statement_timeout = '${tmo}s'; SET lock_timeout = '2s';\n"
		  . ($opts->{role} ? "SET ROLE $opts->{role};\n" : '')
		  . "SELECT id || E'\\t' || translate(fz.try(q, a, b, c, d), E'\\n\\t\\r', '   ')"
		  . " FROM fz.inputs WHERE id BETWEEN $lo AND $hi ORDER BY id;\n";
		my ($out, $err) = ('', '');
		my $ret = $node->psql($db, $sql, stdout => \$out, stderr => \$err,
			on_error_stop => 1);
		return ($ret, $out, $err);
	};
	for (my $lo = $first; $lo <= $last; $lo += $batch)
	{
		my $hi = $lo + $batch - 1;
		$hi = $last if $hi > $last;
		my ($ret, $out, $err) = $run->($lo, $hi, $timeout);
		if ($ret == 0)
		{
			for my $l (split /\n/, $out)
			{
				$res{$1} = $2 if $l =~ /^(\d+)\t(.*)$/s;
			}
			next;
		}
		# the batch failed as a whole: find the input(s) to blame
		sa_wait_back($node, $db);
		for my $id ($lo .. $hi)
		{
			my ($r1, $o1, $e1) = $run->($id, $id, $single);
			if ($r1 == 0 && $o1 =~ /^$id\t(.*)$/m)
			{
				$res{$id} = $1;
			}
			elsif ($e1 =~ /server closed the connection|connection to server was lost|terminating connection/)
			{
				$res{$id} = 'CRASH ' . (split /\n/, $e1)[0];
				sa_wait_back($node, $db);
			}
			else
			{
				$e1 =~ s/\n/ /g;
				$res{$id} = "FAILED $e1";
				sa_wait_back($node, $db);
			}
		}
	}
	return \%res;
}

# Is a result a finding: a crash, an internal error (XX000, e.g. an elog
# without an error code), data corruption (XX001, XX002), a lost
# connection, an injection that ran, or an advisory lock left held?
sub fz_bad_result
{
	my ($r) = @_;
	return 1 if !defined $r;
	return 1 if $r =~ /^(CRASH|FAILED|!pwned|!lock)/;
	return 1 if $r =~ /^XX00[0-2] /;
	return 0;
}

1;
