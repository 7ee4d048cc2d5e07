# test/suites/35-upgrade.sh -- pg_upgrade from PostgreSQL 15 to the server
# under test (18), with scale_advisor installed and its tables filled.
#
# Runs in the newer server's pass of test/run-all.sh (not on 15).  The old
# cluster runs Debian 12's PostgreSQL 15.18 (bookworm main): its packages
# postgresql-15, postgresql-client-15 and postgresql-server-dev-15 are
# fetched with apt-get download and unpacked with dpkg -x into a cache
# folder (nothing is installed), and scale_advisor is built for it with
# those headers (built with 15.20's, it would need 15.20: the inline
# heap_getattr of 15.20 calls a function 15.18 does not have).  Not the
# installed 15.20 as the old server: Debian's 15.20
# writes an attribute option pg_attver into every column it creates, which
# the PostgreSQL 18.6 release (older than 15.20) does not know, so
# pg_upgrade from 15.20 to 18.6 fails for any cluster with a table, with or
# without scale_advisor ('unrecognized parameter "pg_attver"' when the
# schema is restored).  The new cluster runs the server under test with
# scale_advisor built for it.  Both preload the library.
#
# Database "app" has the extension at the current version (1.1) with rows in
# every table a user fills or the extension keeps: archive policies (and a
# run of them), a partition set made by partition_table, thresholds,
# snapshots (history), N+1 ignore rules, written by an application role
# (created_by, row-level security).  Database "app10" has the released 1.0.
# After pg_upgrade (which starts both servers in binary-upgrade mode: the
# library must set nothing up there, so no worker may start), in "app":
# ALTER EXTENSION UPDATE, every row kept, and the extension works
# (statements are recorded, a snapshot, an archive run and partition
# maintenance work on the upgraded tables).  In "app10": the 1.0 SQL works
# against the 1.1 library on the new server, ALTER EXTENSION UPDATE reaches
# 1.1, keeps the rows, and gives the same objects as a fresh CREATE
# EXTENSION there.  SA_UPGRADE_FROM names another Debian version of
# postgresql-15 to upgrade from.
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
W=$SA_WORK/upgrade
OLD=$W/old NEW=$W/new
declare -A BINOF
stop_all() {
	local d
	for d in "$OLD" "$NEW"; do
		[ -f "$d/data/postmaster.pid" ] &&
			sa_as "${BINOF[$d]}/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null 2>&1
	done
	return 0
}
trap 'rl_result; stop_all' EXIT
# must NAME STATUS [DETAIL]: a check the rest of the suite depends on.
must() { rl_check "$@"; [ "$2" = 0 ] || exit 1; }
rm -rf "$W"
mkdir -p "$W"
chown "$SA_RUNAS" "$W"

if [ "$SA_PGVER" = 15 ]; then
	echo "the upgrade goes from 15 to a newer server: nothing to do on 15"
	exit 0
fi
NEW_BIN=$SA_BIN
from=${SA_UPGRADE_FROM:-15.18-0+deb12u1}

# The old server: Debian's packages of version $from, unpacked and cached.
old15_root() {
	local d=${SA_PG18_CACHE:-/var/cache/scale_advisor}/pg15-$from f
	if [ -f "$d/complete" ]; then echo "$d/root"; return 0; fi
	[ "$(id -u)" = 0 ] || { echo "no cached PostgreSQL $from packages: run once as root" >&2; return 1; }
	rm -rf "$d"
	mkdir -p "$d/debs" "$d/root"
	(cd "$d/debs" && apt-get download -q "postgresql-15=$from" "postgresql-client-15=$from" \
		"postgresql-server-dev-15=$from") \
		>"$d/download.log" 2>&1 </dev/null || { cat "$d/download.log" >&2; return 1; }
	for f in "$d"/debs/*.deb; do dpkg -x "$f" "$d/root" || return 1; done
	rm -rf "$d/debs"
	printf 'postgresql-15 %s, unpacked %s\n' "$from" "$(date -u +%FT%TZ)" > "$d/complete"
	echo "$d/root"
}
root=$(old15_root)
must "Debian's PostgreSQL $from packages unpacked" $? || exit 1
# a private copy of the old installation, with scale_advisor installed in it
# (its pg_config gives the paths of the copy: PostgreSQL is relocatable)
mkdir -p "$W/old-inst"
cp -a "$root"/. "$W/old-inst/"
pgc15=$W/old-inst/usr/lib/postgresql/15/bin/pg_config
mkdir -p "$W/build15"
(cd "$SA_ROOT" && tar --exclude=.git --exclude=./results --exclude=./tmp_check \
	--exclude='*.o' --exclude='*.so' -cf - .) | (cd "$W/build15" && tar -xf -)
chown -R "$SA_RUNAS" "$W"
sa_as make -s -C "$W/build15" PG_CONFIG="$pgc15" >"$W/build15.log" 2>&1 &&
	sa_as make -s -C "$W/build15" PG_CONFIG="$pgc15" install >>"$W/build15.log" 2>&1
must "scale_advisor built and installed for the old server" $? "$(tail -20 "$W/build15.log")"
OLD_BIN=$("$pgc15" --bindir)
BINOF[$OLD]=$OLD_BIN
BINOF[$NEW]=$NEW_BIN
oldver=$("$OLD_BIN/postgres" --version)
newver=$("$NEW_BIN/postgres" --version)
echo "old: $oldver ($OLD_BIN)"
echo "new: $newver ($NEW_BIN)"

port_old=$((20000 + ($$ + 23) % 20000))
port_new=$((port_old + 1))

# cluster_init DIR BIN PORT [initdb options]: a cluster that preloads
# scale_advisor, reachable only through the socket in DIR.
cluster_init() {
	local dir=$1 bin=$2 port=$3; shift 3
	mkdir -p "$dir"; chown "$SA_RUNAS" "$dir"
	sa_as "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync \
		--encoding=UTF8 --locale=C "$@" >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log"; return 1; }
	cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
shared_preload_libraries = 'scale_advisor'
compute_query_id = on
scale_advisor.track_history = on
# no snapshot by the worker (it takes one at start): the test compares the
# history row by row and takes its snapshots itself
scale_advisor.snapshot_interval = 0
EOF
}
start() { sa_as "${BINOF[$1]}/pg_ctl" -D "$1/data" -l "$1/server.log" -w start >/dev/null; }
stop() { sa_as "${BINOF[$1]}/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null; }
# q DIR DB SQL: one psql call, unaligned, tuples only
q() {
	local dir=$1 port db=$2; shift 2
	[ "$dir" = "$OLD" ] && port=$port_old || port=$port_new
	sa_as "${BINOF[$dir]}/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$db" "$@"
}

cluster_init "$OLD" "$OLD_BIN" "$port_old" && start "$OLD"
must "old cluster ($oldver) started with scale_advisor preloaded" $? "$(tail -5 "$OLD/server.log" 2>/dev/null)"

# The rows of every table a user fills or the extension keeps, in a stable
# order (without the columns of the moment: run times).
rows_11() {
	q "$1" app -c "
	SELECT 'policy', p.relation, p.time_column, p.older_than, p.target, p.batch_size, p.created_by
	  FROM scale_advisor.archive_policies p ORDER BY 2;
	SELECT 'set', s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	       s.retention, s.created_at, s.created_by
	  FROM scale_advisor.partition_sets s ORDER BY 2, 3;
	SELECT 'threshold', t.name, t.value, t.changed_at FROM scale_advisor.thresholds t ORDER BY 2;
	SELECT 'ignore', i.queryid, i.application_name, i.note, i.added_at, i.created_by
	  FROM scale_advisor.n_plus_one_ignore_list i ORDER BY 2, 3;
	SELECT 'snapshot', s.snap_id, s.taken_at, s.stmt_calls, s.db_bytes FROM scale_advisor.snapshots s ORDER BY 2;
	SELECT 'snapshot_statements', count(*), sum(calls) FROM scale_advisor.snapshot_statements;
	SELECT 'snapshot_tables', st.snap_id, st.relname, st.n_live_tup
	  FROM scale_advisor.snapshot_tables st WHERE st.schemaname = 'public' ORDER BY 2, 3;
	SELECT 'archive_run', r.run_id, r.relation, r.rows_moved, r.status FROM scale_advisor.archive_runs r ORDER BY 2;
	SELECT 'partition_log', count(*), count(*) FILTER (WHERE ok) FROM scale_advisor.partition_log;
	SELECT 'partitions', count(*) FROM pg_inherits WHERE inhparent = 'public.metrics'::regclass;
	SELECT 'events', count(*), (SELECT count(*) FROM public.events_archive) FROM public.events;
	SELECT 'metrics', count(*), sum(v) FROM public.metrics;"
}
rows_10() {
	q "$1" app10 -c "
	SELECT 'policy', p.relation, p.time_column, p.older_than, p.target FROM scale_advisor.archive_policies p ORDER BY 2;
	SELECT 'threshold', t.name, t.value, t.changed_at FROM scale_advisor.thresholds t ORDER BY 2;
	SELECT 'ignore', i.queryid, i.note, i.added_at FROM scale_advisor.n_plus_one_ignore_list i ORDER BY 2;
	SELECT 'snapshot', s.snap_id, s.taken_at, s.stmt_calls FROM scale_advisor.snapshots s ORDER BY 2;
	SELECT 'events', count(*) FROM public.events;"
}

# Version 1.1 (the current one) in "app", with an application role that
# owns the tables and writes its own configuration rows (created_by, RLS).
q "$OLD" postgres >"$W/fill.log" 2>&1 <<'SQL'
CREATE ROLE app_owner LOGIN;
CREATE DATABASE app OWNER app_owner;
CREATE DATABASE app10 OWNER app_owner;
\c app
CREATE EXTENSION scale_advisor;
-- the application role may do everything here (what it may do is the
-- security tests' business; this one is about the upgrade)
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA scale_advisor TO app_owner;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA scale_advisor TO app_owner;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA scale_advisor TO app_owner;
SET ROLE app_owner;
CREATE TABLE public.events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, v text);
INSERT INTO public.events SELECT i, now() - i * interval '1 day', 'x' || i FROM generate_series(1, 300) i;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than, batch_size)
	VALUES ('public.events', 'created_at', '200 days', 40);
CALL scale_advisor.run_archive_policies();
UPDATE scale_advisor.archive_policies SET older_than = '100 days';
CREATE TABLE public.metrics (at timestamptz NOT NULL, v integer);
INSERT INTO public.metrics SELECT date_trunc('month', now()) - i * interval '1 day', i FROM generate_series(0, 80) i;
CALL scale_advisor.partition_table('public.metrics', 'at', '1 month', premake => 2);
SELECT scale_advisor.n_plus_one_ignore(4242, NULL, 'kept across pg_upgrade');
SELECT scale_advisor.n_plus_one_ignore_application('report-job', 'app rule');
RESET ROLE;
SELECT scale_advisor.set_threshold('slow_statement_ms', 250);
SELECT scale_advisor.set_threshold('seq_scan_min_rows', 123456);
SELECT count(*) FROM public.events WHERE id = 7;
SELECT scale_advisor.snapshot();
SELECT count(*) FROM public.events WHERE id = 8;
SELECT scale_advisor.snapshot();
\c app10
CREATE EXTENSION scale_advisor VERSION '1.0';
CREATE TABLE public.events (id bigint PRIMARY KEY, created_at timestamptz NOT NULL, v text);
ALTER TABLE public.events OWNER TO app_owner;
INSERT INTO public.events SELECT i, now() - i * interval '1 day', 'y' FROM generate_series(1, 50) i;
INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than)
	VALUES ('public.events', 'created_at', '30 days');
SELECT scale_advisor.set_threshold('slow_statement_ms', 300);
SELECT scale_advisor.n_plus_one_ignore(777, NULL, '1.0 rule');
SELECT scale_advisor.snapshot();
SQL
rc=$?
must "old cluster: databases app (scale_advisor $(q "$OLD" app -c "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'")) and app10 (1.0) filled" $rc \
	"$(tail -5 "$W/fill.log")"
rows_11 "$OLD" > "$W/app.before" && rows_10 "$OLD" > "$W/app10.before"
n=$(grep -c . "$W/app.before")
grep -q '^archive_run|.*|done$' "$W/app.before" && grep -q '^set|public|metrics' "$W/app.before" &&
	[ "$(grep -c '^snapshot|' "$W/app.before")" = 2 ] && [ "$(grep -c '^ignore|' "$W/app.before")" = 2 ] &&
	[ "$(grep -c '^threshold|' "$W/app.before")" = 2 ]
must "every table has rows before the upgrade ($n lines: archive runs, a partition set, 2 snapshots, 2 ignore rules, 2 thresholds)" $? \
	"$(cat "$W/app.before")"
stop "$OLD"

# 18's initdb turns data checksums on by default; the old cluster has none
cluster_init "$NEW" "$NEW_BIN" "$port_new" --no-data-checksums
must "new cluster ($newver) initialized" $?

# pg_upgrade writes its logs into the new cluster (kept with --retain) and
# into the current folder.
(cd "$W" && sa_as "$NEW_BIN/pg_upgrade" --retain -b "$OLD_BIN" -B "$NEW_BIN" \
	-d "$OLD/data" -D "$NEW/data" -p "$port_old" -P "$port_new" -s "$W" -U postgres) >"$W/pg_upgrade.out" 2>&1
rc=$?
must "pg_upgrade from $oldver to $newver" $rc "$(tail -20 "$W/pg_upgrade.out"; grep -h -A3 'error' $(find "$NEW/data" -name 'pg_upgrade_dump_*.log') 2>/dev/null | head -20)"
# the servers pg_upgrade started (binary-upgrade mode) ran no worker of ours
logs=$(find "$NEW/data" "$W" -name 'pg_upgrade_server*.log' 2>/dev/null)
[ -n "$logs" ] && ! grep -h 'scale_advisor' $logs | grep -qiE 'worker started|snapshot worker'
rl_check "in binary-upgrade mode the library started no worker (server logs: $(echo $logs | wc -w))" $? \
	"$(grep -h scale_advisor $logs 2>/dev/null | head -5)"

start "$NEW"
must "new cluster starts with the upgraded data" $? "$(tail -20 "$NEW/server.log")"

# app: the extension at 1.1 with every row
v=$(q "$NEW" app -c "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'")
out=$(q "$NEW" app -c 'ALTER EXTENSION scale_advisor UPDATE' 2>&1)
rl_check "app: ALTER EXTENSION scale_advisor UPDATE at $v ($out)" $?
rows_11 "$NEW" > "$W/app.after"
diff "$W/app.before" "$W/app.after" >"$W/app.diff"
rl_check "app: every row of the extension's tables and of the user tables is kept" $? "$(cat "$W/app.diff")"
[ "$(q "$NEW" app -c "SELECT count(*) FROM scale_advisor.archive_policies WHERE created_by = 'app_owner'::regrole")" = 1 ]
rl_check "app: created_by still names the role that wrote the policy" $?
r=$(q "$NEW" app -c "SET ROLE app_owner; SELECT count(*) FROM scale_advisor.n_plus_one_ignore_list")
[ "$r" = 2 ]
rl_check "app: row-level security still lets the role see its own rules ($r)" $?

# app: the extension works on the new server
q "$NEW" app -c "SELECT count(*) FROM public.events WHERE id = 9" >/dev/null
c=$(q "$NEW" app -c "SELECT sum(calls) FROM scale_advisor.query_stats WHERE query LIKE 'SELECT count(*) FROM public.events WHERE id = \$1'")
[ "${c:-0}" -ge 1 ]
rl_check "app: statements are recorded on the new server (calls: ${c:-none})" $?
s=$(q "$NEW" app -c "SELECT scale_advisor.snapshot(); SELECT count(*) FROM scale_advisor.snapshots")
[ "$(echo "$s" | tail -1)" = 3 ]
rl_check "app: snapshot() adds to the upgraded history" $? "$s"
before=$(q "$NEW" app -c "SELECT count(*) FROM public.events_archive")
out=$(q "$NEW" app -c "SET ROLE app_owner" -c "CALL scale_advisor.run_archive_policies()" 2>&1)
after=$(q "$NEW" app -c "SELECT count(*) FROM public.events_archive")
left=$(q "$NEW" app -c "SELECT count(*) FROM public.events WHERE created_at < now() - interval '100 days'")
[ "$after" -gt "$before" ] && [ "$left" = 0 ] && [ $((after + $(q "$NEW" app -c "SELECT count(*) FROM public.events"))) = 300 ]
rl_check "app: the archive policy runs on the new server ($before -> $after archived rows, none older than 100 days left)" $? "$out"
out=$(q "$NEW" app -c "CALL scale_advisor.maintain_partitions()" 2>&1)
ok=$(q "$NEW" app -c "SELECT last_error IS NULL AND last_success IS NOT NULL FROM scale_advisor.partition_set_state WHERE parent_table = 'metrics'")
[ "$ok" = t ]
rl_check "app: maintain_partitions keeps the upgraded partition set" $? "$out $(q "$NEW" app -c "SELECT last_error FROM scale_advisor.partition_set_state")"
out=$(q "$NEW" app -c "SELECT count(*) >= 0 FROM scale_advisor.checklist" 2>&1)
rl_check "app: the checklist reads the upgraded thresholds and history" $([ "$out" = t ]; echo $?) "$out"

# app10: 1.0 SQL against the current library, then the update
for sql in "SELECT count(*) >= 0 FROM scale_advisor.query_stats" "SELECT count(*) >= 0 FROM scale_advisor.checklist"; do
	out=$(q "$NEW" app10 -c "$sql" 2>&1)
	rl_check "app10: 1.0 SQL works against the library on the new server: $sql" $([ "$out" = t ]; echo $?) "$out"
done
out=$(q "$NEW" app10 -c 'ALTER EXTENSION scale_advisor UPDATE' 2>&1)
v=$(q "$NEW" app10 -c "SELECT extversion FROM pg_extension WHERE extname = 'scale_advisor'")
cur=$(q "$NEW" postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'scale_advisor'")
[ "$v" = "$cur" ] && [ "$v" != 1.0 ]
rl_check "app10: ALTER EXTENSION UPDATE from 1.0 reaches $cur on the new server" $? "$out"
rows_10 "$NEW" > "$W/app10.after"
diff "$W/app10.before" "$W/app10.after" >"$W/app10.diff"
rl_check "app10: the 1.0 rows are kept" $? "$(cat "$W/app10.diff")"
[ "$(q "$NEW" app10 -c "SELECT count(*) FROM scale_advisor.archive_policies WHERE created_by IS NOT NULL")" = 1 ]
rl_check "app10: the update gave the 1.0 policy a creator" $?

# The updated objects equal a fresh installation on the new server (the
# description is the one test/t/050_upgrade.pl compares).
q "$NEW" postgres -c "CREATE DATABASE fresh" && q "$NEW" fresh -c "CREATE EXTENSION scale_advisor"
describe=$(sed -n '/^my \$describe = q{$/,/^) s ORDER BY 1};$/p' "$SA_ROOT/test/t/050_upgrade.pl" | sed '1d; s/^) s ORDER BY 1};$/) s ORDER BY 1/')
if [ -z "$describe" ]; then
	rl_notok "the object description of test/t/050_upgrade.pl found"
else
	q "$NEW" app10 -c "$describe" > "$W/app10.objects"
	q "$NEW" fresh -c "$describe" > "$W/fresh.objects"
	diff "$W/app10.objects" "$W/fresh.objects" > "$W/objects.diff"
	rl_check "app10: after pg_upgrade and the update, the objects equal a fresh install ($(wc -l < "$W/fresh.objects") lines)" \
		$([ -s "$W/fresh.objects" ] && [ ! -s "$W/objects.diff" ]; echo $?) "$(head -20 "$W/objects.diff")"
fi
n=$(rl_crashes "$NEW/server.log")
rl_check "no backend crashed on the new server" $([ "$n" = 0 ]; echo $?)
stop "$NEW"
