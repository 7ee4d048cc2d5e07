#!/bin/bash
# test/bench/pgbench.sh -- throughput against no extension and pg_stat_statements.
#
# Usage (as root): bash test/bench/pgbench.sh [SECONDS] [ROUNDS]
#
# One cluster (pgbench scale 10), restarted with each configuration in
# turn: no extension, pg_stat_statements, scale_advisor.  For each client
# count (2, 64, 200) the configurations run interleaved, ROUNDS times
# (default 3), about SECONDS each (default 10: a fixed number of
# transactions, so that connecting 200 clients is not counted), with
# pgbench -S -M prepared; the
# median TPS of each is printed with its ratio to the others.  Then a churn
# run: 8 sessions send 10x scale_advisor.max distinct statements (max and
# pg_stat_statements.max set to 1000, 10,000 distinct statements), timed
# per configuration.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
SECS=${1:-10}
ROUNDS=${2:-3}
CLIENTS=${SA_BENCH_CLIENTS:-"2 64 200"}
CONFIGS="none pg_stat_statements scale_advisor"

sa_install_packages
W=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_bench.XXXXXX"); chmod 755 "$W"
trap 'sa_cluster_stop "$W/c"; rm -rf "$W"' EXIT
sa_prepare "$W" || exit 1
PORT=5493
sa_cluster_start "$W/c" $PORT "max_connections = 250" "shared_buffers = 256MB" || exit 1
CONN=(-h "$W/c" -p $PORT -U postgres)
sa_as pgbench -i -q -s 10 "${CONN[@]}" postgres >/dev/null 2>&1
conf="$W/c/data/postgresql.conf"

use_config() {
	local libs=$1 extra=${2:-}
	[ "$libs" = none ] && libs=
	sed -i '/^shared_preload_libraries/d;/^scale_advisor.max /d;/^pg_stat_statements.max /d' "$conf"
	echo "shared_preload_libraries = '$libs'" >> "$conf"
	[ -n "$extra" ] && printf '%s\n' "$extra" >> "$conf"
	sa_as pg_ctl -D "$W/c/data" -w -m fast restart -l "$W/c/server.log" >/dev/null
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A tps
for c in $CLIENTS; do
	for r in $(seq 1 "$ROUNDS"); do
		for cfg in $CONFIGS; do
			use_config "$cfg"
			# a fixed number of transactions: with -T, connecting 200
			# clients on a busy 2-core machine can eat the whole duration
			t=$(sa_as pgbench -n -S -M prepared -c "$c" -j 2 -t $(( SECS * 1500 / c + 20 )) "${CONN[@]}" postgres 2>/dev/null \
				| sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
			tps[$cfg.$c]="${tps[$cfg.$c]:-} $t"
		done
	done
done

printf '\npgbench -S -M prepared, %s s x %s interleaved rounds, median TPS\n' "$SECS" "$ROUNDS"
printf '%-8s %12s %12s %12s %12s %12s\n' clients none pgss scale_adv "sa/none" "sa/pgss"
for c in $CLIENTS; do
	n=$(echo ${tps[none.$c]} | tr ' ' '\n' | median)
	p=$(echo ${tps[pg_stat_statements.$c]} | tr ' ' '\n' | median)
	s=$(echo ${tps[scale_advisor.$c]} | tr ' ' '\n' | median)
	printf '%-8s %12.0f %12.0f %12.0f %12.3f %12.3f\n' "$c" "$n" "$p" "$s" \
		"$(awk -v a=$s -v b=$n 'BEGIN { print a / b }')" "$(awk -v a=$s -v b=$p 'BEGIN { print a / b }')"
done

# churn: 10,000 distinct statements (target list length x IN-list length)
for i in $(seq 0 7); do
	awk -v s=$i 'BEGIN { for (t = 1; t <= 100; t++) for (k = 1; k <= 100; k++) if ((t * 100 + k) % 8 == s) {
		cols = "aid"; for (j = 2; j <= t; j++) cols = cols ", aid";
		ins = "1"; for (j = 2; j <= k; j++) ins = ins ", " j;
		printf "SELECT %s FROM pgbench_accounts WHERE aid IN (%s);\n", cols, ins } }' > "$W/churn$i.sql"
done
chmod 644 "$W"/churn*.sql
declare -A churn
for r in $(seq 1 "$ROUNDS"); do
	for cfg in $CONFIGS; do
		use_config "$cfg" "scale_advisor.max = 1000
pg_stat_statements.max = 1000"
		t0=$(date +%s.%N)
		for i in $(seq 0 7); do
			sa_as psql -X -q "${CONN[@]}" -f "$W/churn$i.sql" postgres >/dev/null 2>&1 &
		done
		wait
		t1=$(date +%s.%N)
		churn[$cfg]="${churn[$cfg]:-} $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.0f", 10000 / (b - a) }')"
	done
done
printf '\nchurn: 10,000 distinct statements from 8 sessions, max = 1000, median statements/s\n'
n=$(echo ${churn[none]} | tr ' ' '\n' | median)
p=$(echo ${churn[pg_stat_statements]} | tr ' ' '\n' | median)
s=$(echo ${churn[scale_advisor]} | tr ' ' '\n' | median)
printf '%12s %12s %12s %12s %12s\n' none pgss scale_adv "sa/none" "sa/pgss"
printf '%12s %12s %12s %12.3f %12.3f\n' "$n" "$p" "$s" \
	"$(awk -v a=$s -v b=$n 'BEGIN { print a / b }')" "$(awk -v a=$s -v b=$p 'BEGIN { print a / b }')"
use_config scale_advisor "scale_advisor.max = 1000"
sa_as psql -X -q "${CONN[@]}" -c 'CREATE EXTENSION IF NOT EXISTS scale_advisor' postgres >/dev/null
printf '\nshared memory: '
sa_as psql -X -At "${CONN[@]}" -c "SELECT 'entry ' || entry_bytes || ' B + text ' || text_bytes_per_entry || ' B per statement; ' || pg_size_pretty(memory_bytes) || ' at max = ' || max_entries FROM scale_advisor.info" postgres
