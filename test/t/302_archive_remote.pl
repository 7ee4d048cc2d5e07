# Archiving into a postgres_fdw foreign table on a second server.  There is
# no two-phase commit: postgres_fdw commits the remote transaction just
# before the local one.  The test kills the local backend exactly between
# the two commits (scale_advisor.archive_test_crash), checks that the rows
# are then in both places with identical contents and nowhere missing, and
# that the next run resolves it; then a remote key holding different
# contents, a full remote disk (simulated with the disk_full error) and a
# stopped remote server each stop the run with nothing lost.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SaTest;

my $remote = PostgreSQL::Test::Cluster->new('remote');
$remote->init;
$remote->start;
$remote->safe_psql('postgres', q{
CREATE TABLE ev_archive (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, account int, payload text);
});

my $node = sa_node('local', conf => q{
restart_after_crash = on
});
my ($rhost, $rport) = ($remote->host, $remote->port);
$node->safe_psql('postgres', qq{
CREATE EXTENSION scale_advisor;
CREATE EXTENSION postgres_fdw;
CREATE SERVER archive_server FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$rhost', port '$rport', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER archive_server;
CREATE FOREIGN TABLE ev_remote (id bigint NOT NULL, created_at timestamptz NOT NULL, account int, payload text)
	SERVER archive_server OPTIONS (table_name 'ev_archive');
CREATE TABLE ev (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, account int, payload text);
INSERT INTO ev SELECT g, now() - (20000 - g) * interval '1 hour' - interval '30 minutes', g % 7, md5(g::text)
FROM generate_series(1, 20000) g;
CREATE TABLE orig AS SELECT * FROM ev;
});

my $check = q{
SELECT (SELECT count(*) FROM ev) + (SELECT count(*) FROM ev_remote) AS total,
	   (SELECT count(*) FROM ev JOIN ev_remote USING (id)) AS in_both,
	   (SELECT count(*) FROM ev e JOIN ev_remote r USING (id)
		WHERE (e.created_at, e.account, e.payload) IS DISTINCT FROM (r.created_at, r.account, r.payload)) AS differing,
	   (SELECT count(*) FROM (SELECT * FROM orig EXCEPT
							  (SELECT * FROM ev UNION SELECT * FROM ev_remote)) y) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM ev UNION SELECT * FROM ev_remote
							  EXCEPT SELECT * FROM orig) x) AS extra,
	   (SELECT count(*) FROM ev_remote) AS archived
};

# two batches to the remote archive
my $res = $node->safe_psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote', batch_size => 2000, max_batches => 2)});
like($res, qr/\|4000\|stopped$/, "two batches moved to the remote archive: $res");
is($node->safe_psql('postgres', $check), '20000|0|0|0|0|4000', 'every row once, 4000 on the remote server');
is($remote->safe_psql('postgres', 'SELECT count(*), min(id), max(id) FROM ev_archive'), '4000|1|4000',
	'the remote server holds them');

# crash between the remote commit and the local commit
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET scale_advisor.archive_test_crash = on;
CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote', batch_size => 2000);
});
isnt($ret, 0, 'the backend died at the local commit');
like($stderr, qr/server closed the connection unexpectedly|terminated abnormally|connection to server was lost/,
	'psql saw the connection end');
sa_wait_back($node) or die 'server did not come back';
ok($node->log_contains('was terminated by signal 9'), 'the server log shows the kill -9');
is($node->safe_psql('postgres', $check), '22000|2000|0|0|0|6000',
	'after the crash: the batch is on both servers, identical, nothing missing');

# the next run finds the rows already archived, checks they are identical,
# and deletes them locally
$res = $node->safe_psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote', batch_size => 2000)});
like($res, qr/\|done$/, "re-run completes: $res");
my $moved_total = $node->safe_psql('postgres', q{
SELECT count(*) FROM orig
WHERE created_at < (SELECT cutoff_to FROM scale_advisor.archive_runs ORDER BY run_id DESC LIMIT 1)});
is($node->safe_psql('postgres', $check), "20000|0|0|0|0|$moved_total", 'after the re-run every row is in one place');
is($node->safe_psql('postgres',
		q{SELECT string_agg(status, ',' ORDER BY run_id) FROM scale_advisor.archive_runs}),
	'stopped,interrupted,done', 'the crashed run is recorded as interrupted');

# bring 30 days of rows back by hand (local insert first, then remote delete)
$node->safe_psql('postgres', q{
INSERT INTO ev SELECT * FROM ev_remote WHERE created_at >= now() - interval '60 days';
DELETE FROM ev_remote WHERE created_at >= now() - interval '60 days';
});
is($node->safe_psql('postgres', $check), "20000|0|0|0|0|" . ($moved_total - 720),
	'720 rows back in the table');

# a remote row with the same key but other contents stops the run
my $oldest = $node->safe_psql('postgres', 'SELECT min(id) FROM ev');
$remote->safe_psql('postgres', qq{
INSERT INTO ev_archive VALUES ($oldest, now() - interval '59 days', 0, 'tampered')});
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote')});
like($stdout, qr/\|0\|failed$/, 'conflicting remote row: the run fails without moving anything');
like($stderr, qr/1 rows of public\.ev have a key that public\.ev_remote already holds with different contents/,
	'and says why');
$remote->safe_psql('postgres', qq{DELETE FROM ev_archive WHERE id = $oldest});
is($node->safe_psql('postgres', $check), "20000|0|0|0|0|" . ($moved_total - 720),
	'nothing lost or doubled by the conflict');

# a full remote disk
$remote->safe_psql('postgres', q{
CREATE SEQUENCE fill;
CREATE FUNCTION archive_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF nextval('public.fill') > 300 THEN
		RAISE EXCEPTION USING ERRCODE = 'disk_full',
			MESSAGE = 'could not extend file "base/5/16390": No space left on device';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER full_disk BEFORE INSERT ON ev_archive FOR EACH ROW EXECUTE FUNCTION archive_full();
});
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote', batch_size => 100)});
like($stdout, qr/\|300\|failed$/, "full remote disk: the run stops after 3 whole batches: $stdout");
like($stderr, qr/No space left on device/, 'the warning carries the remote error');
is($node->safe_psql('postgres', $check), "20000|0|0|0|0|" . ($moved_total - 420),
	'nothing lost or doubled by the full remote disk');
$remote->safe_psql('postgres', 'DROP TRIGGER full_disk ON ev_archive');

# the remote server is down
$remote->stop;
($ret, $stdout, $stderr) = $node->psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote')});
like($stdout, qr/\|0\|failed$/, 'remote server down: the run fails');
like($stderr, qr/could not connect|connection/, 'with the connection error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM ev}), 20000 - $moved_total + 420,
	'no local row was deleted');
$remote->start;
$res = $node->safe_psql('postgres',
	q{CALL scale_advisor.archive('ev', 'created_at', '30 days', target => 'ev_remote')});
like($res, qr/\|420\|done$/, "once the server is back a re-run finishes: $res");
is($node->safe_psql('postgres', $check), "20000|0|0|0|0|$moved_total", 'every row once at the end');

$node->stop;
$remote->stop;
done_testing();
