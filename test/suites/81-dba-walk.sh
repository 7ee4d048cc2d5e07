# test/suites/81-dba-walk.sh -- a DBA's first day, following only README.md
# (and the docs it links to) on a Debian-managed cluster.
#
# As root, the way the README says: make && make install into the system's
# PostgreSQL 15 (from a copy of the tree, not the checkout), a cluster of
# its own made with pg_createcluster (unique name and port; Debian's
# default pg_hba.conf: peer on the socket, scram-sha-256 on 127.0.0.1),
# shared_preload_libraries in /etc/postgresql/15/<name>/postgresql.conf,
# pg_ctlcluster restart, CREATE EXTENSION as the postgres OS user with
# runuser; then every feature: statements and slow_queries, the N+1 view,
# index advice, archiving (from the postgres user's crontab command line
# and from pg_cron with the docs' cron.host), partitioning, the checklist,
# history (snapshots from the background worker), the Prometheus exporter
# connected as the docs say (role prometheus, peer authentication), and
# DROP EXTENSION leaving nothing.  The cluster is dropped at the end; the
# installed files are removed again unless scale_advisor was installed
# before.  Suites that install into the system's PostgreSQL (this one and
# 80-package.sh), also of concurrent runs, take turns through a lock file.
# PostgreSQL 15 only (Debian's).
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"

SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SYS_PGC=/usr/lib/postgresql/15/bin/pg_config
name=sa_walk_$$
port=
W=$SA_WORK/dba-walk
installed_before=no
exporter_pid=
mkdir -p "$W"
chmod 755 "$W"

cleanup() {
	[ -n "$exporter_pid" ] && kill "$exporter_pid" 2>/dev/null
	if [ -n "$port" ] && PATH=$SYS_PATH pg_lsclusters -h 2>/dev/null | awk '{print $2}' | grep -qx "$name"; then
		PATH=$SYS_PATH pg_dropcluster --stop 15 "$name" >/dev/null 2>&1
	fi
	if [ "$installed_before" = no ] && [ -d "$W/src" ]; then
		PATH=$SYS_PATH make -s -C "$W/src" PG_CONFIG=$SYS_PGC uninstall >/dev/null 2>&1
	fi
	rl_result
}
trap cleanup EXIT
# need NAME STATUS [detail]: a check the rest of the walk depends on
need() { rl_check "$1" "$2" "${3:-}"; [ "$2" = 0 ] || exit 1; }

if [ "$(id -u)" != 0 ] || [ ! -x "$SYS_PGC" ] || ! command -v pg_createcluster >/dev/null; then
	echo "the DBA walk needs root and Debian's postgresql-15 with pg_createcluster"
	rl_notok "DBA walk prerequisites (root, postgresql-15, postgresql-common)"
	exit 1
fi

# one suite at a time installs into the system's PostgreSQL
exec 9>/var/lock/scale_advisor-system-install.lock
flock -w 1800 9 || { rl_notok "waited 30 minutes for another suite installing into the system"; exit 1; }

[ -f "$($SYS_PGC --sharedir)/extension/scale_advisor.control" ] && installed_before=yes

# --- Install (README "Install"), as root, from a copy of the tree
(cd "$SA_ROOT" && tar --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - .) |
	(mkdir -p "$W/src" && cd "$W/src" && tar -xf -)
(cd "$W/src" && PATH=$SYS_PATH make -s && PATH=$SYS_PATH make -s install) >"$W/install.log" 2>&1
need "make && make install as root into the system's PostgreSQL 15" $? "$(tail -5 "$W/install.log")"

# a free port and a new cluster of our own (Debian's defaults otherwise)
for p in $(seq $((55400 + $$ % 90)) 55499) $(seq 55400 55499); do
	if ! PATH=$SYS_PATH pg_lsclusters -h | awk '{print $3}' | grep -qx "$p" &&
		! ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE "[:.]$p\$" &&
		[ ! -e "/var/run/postgresql/.s.PGSQL.$p" ]; then
		port=$p
		break
	fi
done
PATH=$SYS_PATH pg_createcluster 15 "$name" -p "$port" >"$W/create.log" 2>&1
need "pg_createcluster 15 $name -p $port" $? "$(tail -5 "$W/create.log")"
conf=/etc/postgresql/15/$name/postgresql.conf
log=/var/log/postgresql/postgresql-15-$name.log
sql() { runuser -u postgres -- env PATH=$SYS_PATH psql -X -q -At -v ON_ERROR_STOP=1 -p "$port" "$@"; }

# README: shared_preload_libraries and compute_query_id in postgresql.conf;
# docs/archiving.md: pg_cron beside it, through the socket
cat >>"$conf" <<EOF
shared_preload_libraries = 'scale_advisor,pg_cron'   # add to the list if there is one
compute_query_id = on                        # or auto (the default): scale_advisor turns it on
cron.database_name = 'shop'
cron.host = '/var/run/postgresql'
EOF
PATH=$SYS_PATH pg_ctlcluster 15 "$name" restart >"$W/start.log" 2>&1 ||
	PATH=$SYS_PATH pg_ctlcluster 15 "$name" start >>"$W/start.log" 2>&1
need "pg_ctlcluster 15 $name restart with the library preloaded" $? "$(tail -5 "$W/start.log"; tail -5 "$log")"
grep -q 'scale_advisor takes a history snapshot of every database with the extension every 900 s' "$log"
rl_check "the server log says at start where and when history is kept" $?

# the application: database shop, a role app logging in over TCP with a password
sql -d postgres -c "CREATE DATABASE shop" -c "CREATE ROLE app LOGIN PASSWORD 'app-secret'" \
	-c "ALTER DATABASE shop OWNER TO app" >/dev/null
rl_check "database shop and role app" $?

# README: CREATE EXTENSION as the postgres OS user, in the database
out=$(sql -d shop -c 'CREATE EXTENSION scale_advisor;' 2>&1)
rl_check "CREATE EXTENSION scale_advisor (runuser -u postgres -- psql -d shop)" $? "$out"
[ "$(sql -d shop -c "SELECT nspname FROM pg_namespace WHERE nspname = 'scale_advisor'")" = scale_advisor ]
rl_check "the schema scale_advisor exists" $?

app() { PGPASSWORD=app-secret env PATH=$SYS_PATH psql -X -q -At -v ON_ERROR_STOP=1 \
	"host=127.0.0.1 port=$port dbname=shop user=app" "$@"; }
app >/dev/null <<'SQL'
CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts, body text NOT NULL);
CREATE INDEX ON comments (post_id);
INSERT INTO posts SELECT g, 'post ' || g FROM generate_series(1, 50) g;
INSERT INTO comments SELECT g, g % 50 + 1, 'comment ' || g FROM generate_series(1, 500) g;
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, region int NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.com', g % 100 FROM generate_series(1, 200000) g;
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL,
  kind text, PRIMARY KEY (id, created_at));
INSERT INTO events (created_at, kind)
  SELECT now() - g * interval '10 minutes', 'k' || g % 5 FROM generate_series(1, 30000) g;
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL,
  total numeric, PRIMARY KEY (id, created_at));
INSERT INTO orders (created_at, total)
  SELECT now() - g * interval '1 hour', g FROM generate_series(1, 5000) g;
ANALYZE posts, comments, customers, events, orders;
SQL
rl_check "the application's tables, made by app over TCP with its password" $?

# --- statements and slow_queries
for i in $(seq 1 12); do echo "SELECT pg_sleep(0.12), count(*) FROM posts WHERE id > $i;"; done | app >/dev/null
app -c "SELECT count(*) FROM posts" >/dev/null
[ "$(sql -d shop -c "SELECT calls FROM scale_advisor.query_stats WHERE query = 'SELECT count(*) FROM posts'")" = 1 ]
rl_check "query_stats counts the application's statement" $?
slow=$(sql -d shop -c "SELECT query || ' | ' || calls || ' | ' || p95 FROM scale_advisor.slow_queries")
echo "$slow" | grep -q 'pg_sleep($1), count(\*) FROM posts WHERE id > $2 | 12 | 12[0-9] ms'
rl_check "slow_queries lists the slow statement, with a readable p95" $? "$slow"
echo "$slow" | grep -qiE 'CREATE|INSERT INTO customers|ANALYZE|scale_advisor\.'
[ $? -ne 0 ]; rl_check "slow_queries has no setup statement, bulk load or own read" $? "$slow"

# --- N+1: one query per row of the posts read before it
{
	echo "BEGIN;"
	echo "SELECT id FROM posts ORDER BY id LIMIT 30;"
	for i in $(seq 1 30); do echo "SELECT id, body FROM comments WHERE post_id = $i ORDER BY id;"; done
	echo "COMMIT;"
} | app >/dev/null
np=$(sql -d shop -c "SELECT kind || ' | ' || max_run || ' | ' || query FROM scale_advisor.n_plus_one")
echo "$np" | grep -qE '^n_plus_one \| 30 \| SELECT id, body FROM comments WHERE post_id = (\$1|[0-9]+)'
rl_check "n_plus_one shows the loop" $? "$np"

# --- index advice: a search by an unindexed column, run often
printf '\\set r random(1, 100)\nSELECT count(*) FROM customers WHERE region = :r AND email LIKE %s;\n' "'c1%'" >"$W/search.sql"
chmod 644 "$W/search.sql"
PGPASSWORD=app-secret env PATH=$SYS_PATH pgbench -n -M prepared -t 400 -f "$W/search.sql" \
	-h 127.0.0.1 -p "$port" -U app shop >"$W/pgbench.log" 2>&1
rl_check "pgbench runs the application's search" $? "$(tail -3 "$W/pgbench.log")"
adv=$(sql -d shop -c "SELECT index_sql || ' | ' || time_saved_per_hour FROM scale_advisor.index_advice")
echo "$adv" | grep -qE 'CREATE INDEX .*customers.*region'
rl_check "index_advice suggests an index on customers (region)" $? "$adv"

# --- archiving, from the command line of the postgres user's crontab
sql -d shop -c "INSERT INTO scale_advisor.archive_policies (relation, time_column, older_than)
                VALUES ('public.events', 'created_at', '90 days')" >/dev/null
rl_check "an archive policy" $?
out=$(runuser -u postgres -- env PATH=$SYS_PATH psql -X -q -p "$port" -d shop -c 'CALL scale_advisor.run_archive_policies()' 2>&1)
rl_check "the crontab line of docs/archiving.md runs (postgres user, socket, peer)" $? "$out"
moved=$(sql -d shop -c "SELECT count(*) FROM public.events_archive")
left=$(sql -d shop -c "SELECT count(*) FROM public.events WHERE created_at < now() - interval '90 days'")
[ "${moved:-0}" -gt 10000 ] && [ "$left" = 0 ]
rl_check "old events moved to events_archive ($moved rows), none left" $?

# --- pg_cron, as docs/archiving.md sets it up (Debian's pg_hba: scram on 127.0.0.1)
out=$(sql -d shop -c "CREATE EXTENSION IF NOT EXISTS pg_cron;" \
	-c "SELECT cron.schedule('archive', '* * * * *', 'CALL scale_advisor.run_archive_policies()');" 2>&1)
rl_check "pg_cron schedules the archiving job" $? "$out"
st=
for i in $(seq 1 80); do
	st=$(sql -d shop -c "SELECT status || ': ' || coalesce(return_message, '') FROM cron.job_run_details ORDER BY start_time DESC LIMIT 1")
	case "$st" in succeeded*|failed*) break ;; esac
	sleep 2
done
case "$st" in succeeded*) true ;; *) false ;; esac
rl_check "the pg_cron job runs through the socket (cron.host = '/var/run/postgresql')" $? "$st"

# --- partitioning
out=$(sql -d shop -c "CALL scale_advisor.partition_table('public.orders', 'created_at', '1 month')" 2>&1)
rl_check "partition_table converts orders" $? "$out"
echo "$out" | grep -qE '^public\.orders is partitioned by created_at, 1 month a partition: [0-9]+ partitions .*exclusive lock held [0-9.]+ ms; verbose => true lists the statements run$'
rl_check "partition_table says what it did in one line" $? "$out"
[ "$(sql -d shop -c "SELECT relkind FROM pg_class WHERE oid = 'public.orders'::regclass")" = p ]
rl_check "orders is partitioned" $?
out=$(sql -d shop -c "CALL scale_advisor.maintain_partitions()" 2>&1)
rl_check "maintain_partitions runs" $? "$out"

# --- checklist and alerts
cl=$(sql -d shop -c "SELECT \"check\" || ' ' || status FROM scale_advisor.checklist")
[ "$(echo "$cl" | wc -l)" -ge 28 ]; rl_check "the checklist answers every check" $? "$cl"
echo "$cl" | awk '{ r = ($2 == "fail") ? 0 : ($2 == "warn") ? 1 : 2; if (r < prev) bad = 1; prev = r } END { exit bad }'
rl_check "the checklist lists the worst first" $? "$cl"
echo "$cl" | grep -q '^statement_timeout fail'
rl_check "statement_timeout fails for app, which has none" $?
adv=$(sql -d shop -c "SELECT advice FROM scale_advisor.checklist WHERE \"check\" = 'statement_timeout'")
[ "$adv" = "ALTER ROLE app SET statement_timeout = '30s';" ]
rl_check "its advice names the application role, not the monitoring one" $? "$adv"

# --- history: the worker snapshots every database with the extension,
# the first time when the server starts
PATH=$SYS_PATH pg_ctlcluster 15 "$name" restart >>"$W/start.log" 2>&1
rl_check "pg_ctlcluster restart" $?
n=0
for i in $(seq 1 30); do
	n=$(sql -d shop -c "SELECT count(*) FROM scale_advisor.snapshots")
	[ "${n:-0}" -ge 1 ] && break
	sleep 1
done
[ "${n:-0}" -ge 1 ]; rl_check "a snapshot of shop after the restart (history in every database)" $?
grep -E 'FATAL:.*terminating background worker "scale_advisor|background worker "scale_advisor[^"]*" \(PID [0-9]+\) exited with exit code 1' "$log" >/dev/null
[ $? -ne 0 ]; rl_check "no worker error at the clean restarts" $? "$(grep -E 'scale_advisor' "$log" | tail -5)"
sql -d shop -c "SELECT count(*) FROM scale_advisor.growth" >/dev/null
rl_check "growth reads the history" $?

# --- the exporter, as docs/readiness.md sets it up: role prometheus,
# peer authentication over the socket, the queries file
if [ -x /usr/bin/prometheus-postgres-exporter ] && id prometheus >/dev/null 2>&1; then
	sql -d shop -c "CREATE ROLE prometheus LOGIN;" -c "GRANT pg_monitor TO prometheus;" >/dev/null
	cp "$SA_ROOT/docs/monitoring/scale_advisor_queries.yaml" "$W/queries.yaml"
	chmod 644 "$W/queries.yaml"
	mport=$((19100 + $$ % 800))
	runuser -u prometheus -- env DATA_SOURCE_NAME="host=/var/run/postgresql port=$port dbname=shop user=prometheus" \
		/usr/bin/prometheus-postgres-exporter --web.listen-address=127.0.0.1:$mport \
		--extend.query-path="$W/queries.yaml" >"$W/exporter.log" 2>&1 &
	exporter_pid=$!
	metrics=
	for i in $(seq 1 30); do
		metrics=$(curl -s "http://127.0.0.1:$mport/metrics" 2>/dev/null)
		echo "$metrics" | grep -q '^scale_advisor_checklist_status' && break
		sleep 1
	done
	echo "$metrics" | grep -q '^scale_advisor_checklist_status{check="statement_timeout".*} 2'
	rl_check "the exporter (role prometheus, peer authentication) serves the checklist" $? "$(tail -5 "$W/exporter.log")"
	echo "$metrics" | grep -q '^pg_up 1'
	rl_check "the exporter is connected (pg_up 1)" $?
	kill "$exporter_pid" 2>/dev/null; exporter_pid=
else
	rl_notok "prometheus-postgres-exporter is installed (test/lib/packages.txt)"
fi

# --- DROP EXTENSION leaves nothing behind
sql -d postgres -c "CREATE DATABASE scratch" >/dev/null
sql -d scratch -c "CREATE EXTENSION scale_advisor" -c "DROP EXTENSION scale_advisor" >/dev/null
rl_check "CREATE and DROP EXTENSION in another database" $?
[ "$(sql -d scratch -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'scale_advisor'")" = 0 ]
rl_check "DROP EXTENSION drops the schema CREATE EXTENSION made" $?
