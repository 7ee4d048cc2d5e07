#!/bin/bash
# test/demo.sh -- see scale_advisor at work in a minute.
#
# Usage (as root): bash test/demo.sh [--keep] [--seconds N]
#
# Installs the Debian packages it needs, builds scale_advisor and installs
# it into the system's PostgreSQL 15, starts a throwaway cluster (as the
# unprivileged postgres user) with scale_advisor preloaded, loads a small
# blog schema, runs a realistic workload with pgbench for N seconds
# (default 20), and prints what the advisor's views show.  With --keep the
# cluster keeps running and the script prints how to connect with psql;
# otherwise it is stopped and removed.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SA_ROOT/test/lib/common.sh"

keep=no
seconds=20
while [ $# -gt 0 ]; do
	case "$1" in
		--keep) keep=yes ;;
		--seconds) shift; seconds=$1 ;;
		-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
		*) sa_die "unknown option $1 (see --help)" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || sa_die "run as root: the demo installs packages and the extension"

sa_install_packages
W=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_demo.XXXXXX")
chmod 755 "$W"
stop_demo() {
	if [ "$keep" = no ]; then
		sa_cluster_stop "$W/cluster"
		rm -rf "$W"
	fi
}
trap stop_demo EXIT

PGBIN=/usr/lib/postgresql/$SA_PGVER/bin
export PATH="$PGBIN:$PATH"

sa_log "building and installing scale_advisor"
mkdir -p "$W/build"
(cd "$SA_ROOT" && tar --exclude=.git --exclude='*.o' --exclude='*.so' -cf - .) | (cd "$W/build" && tar -xf -)
chown -R "$SA_RUNAS" "$W"
sa_as make -s -C "$W/build" PG_CONFIG="$PGBIN/pg_config" >"$W/build.log" 2>&1 \
	|| { cat "$W/build.log"; sa_die "build failed"; }
make -s -C "$W/build" PG_CONFIG="$PGBIN/pg_config" install >>"$W/build.log" 2>&1 \
	|| { cat "$W/build.log"; sa_die "install failed"; }

sa_log "starting a throwaway PostgreSQL $SA_PGVER cluster in $W/cluster"
PORT=5488
sa_cluster_start "$W/cluster" $PORT "log_min_duration_statement = 1000" \
	"scale_advisor.plan_sample_rate = 0.1" >/dev/null || sa_die "could not start the cluster"
# settings of features that are not built yet are ignored with a warning
PSQL=(psql -X -q -h "$W/cluster" -p $PORT -U postgres -d postgres -v ON_ERROR_STOP=1)

sa_log "loading the demo schema (users, posts, comments)"
sa_as "${PSQL[@]}" -c 'CREATE EXTENSION scale_advisor' -f "$SA_ROOT/test/demo/schema.sql" \
	-c 'SELECT scale_advisor.reset()' >/dev/null || sa_die "could not load the schema"

sa_log "running the workload for $seconds s (home feed with N+1 lookups, sign-ins, comments)"
sa_as pgbench -n -h "$W/cluster" -p $PORT -U postgres -c 4 -j 2 -T "$seconds" -M prepared \
	-f "$SA_ROOT/test/demo/feed.sql@3" -f "$SA_ROOT/test/demo/actions.sql@2" postgres \
	>"$W/pgbench.log" 2>&1 || { cat "$W/pgbench.log"; sa_die "workload failed"; }
grep -E '^(number of transactions actually processed|tps)' "$W/pgbench.log" | sed 's/^/   /'

show() {
	local title=$1 sql=$2
	printf '\n=== %s\n' "$title"
	sa_as "${PSQL[@]}" -P pager=off -P null='-' -c "$sql"
}
show "Statements by total time (scale_advisor.query_stats)" \
	"SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query, calls, round(mean_exec_ms::numeric, 3) AS mean_ms,
	        round(p95_ms::numeric, 3) AS p95_ms, round(p99_ms::numeric, 3) AS p99_ms, rows, errors
	 FROM scale_advisor.query_stats WHERE query NOT LIKE '%scale_advisor%'
	 ORDER BY total_exec_ms DESC LIMIT 10"
show "Slow statements: run at least 10 times, p95 over 100 ms (scale_advisor.slow_queries)" \
	"SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 70) AS query, calls, round(p95_ms::numeric, 2) AS p95_ms,
	        round(pct_of_total_time::numeric, 1) AS pct_time FROM scale_advisor.slow_queries LIMIT 10"
# the other advisors
one_line="regexp_replace(%s, '\\s+', ' ', 'g')"
show "N+1 loops (scale_advisor.n_plus_one)" \
	"SELECT kind, left($(printf "$one_line" query), 50) AS query, left($(printf "$one_line" parent_query), 40) AS parent,
	        max_run, round(total_ms::numeric) AS total_ms, $(printf "$one_line" suggestion) AS suggestion
	 FROM scale_advisor.n_plus_one ORDER BY total_ms DESC LIMIT 5"
show "Index advice, checked by the planner (scale_advisor.index_advice)" \
	"SELECT index_sql, calls, improvement_pct AS pct_cheaper, pg_size_pretty(est_size_bytes) AS size
	 FROM scale_advisor.index_advice"
show "Foreign keys without an index (scale_advisor.fk_without_index)" \
	"SELECT relation, columns, index_sql FROM scale_advisor.fk_without_index"
show "Readiness checklist: what is not passing (scale_advisor.checklist)" \
	"SELECT \"check\", status, left(value, 40) AS value, left(advice, 90) AS advice
	 FROM scale_advisor.checklist WHERE status <> 'pass'"
show "Alerts (scale_advisor.alerts)" "SELECT severity, alert, value, threshold FROM scale_advisor.alerts"
show "The store (scale_advisor.info)" "SELECT entries, max_entries, evictions, pg_size_pretty(memory_bytes) AS memory, stats_reset FROM scale_advisor.info"

if [ "$keep" = yes ]; then
	cat <<EOM

The cluster keeps running. Connect with (as root):
  runuser -u postgres -- psql -h $W/cluster -p $PORT postgres
Stop it with (as root):
  runuser -u postgres -- $PGBIN/pg_ctl -D $W/cluster/data stop && rm -rf $W
EOM
fi
