#!/bin/bash
# test/bench/instructions.sh -- instructions per statement, deterministic.
#
# Usage (as root): bash test/bench/instructions.sh [N]
#
# Runs N and 2N primary-key selects on pgbench_accounts (scale 1) in
# single-user mode (postgres --single) under valgrind --tool=callgrind, for
# each configuration below, and prints the instructions per statement (the
# difference of the two runs divided by N, so start-up costs cancel out) and
# the overhead against no extension and against pg_stat_statements.
# Configurations: "name|shared_preload_libraries|extra -c settings".
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
N=${1:-2000}
CONFIGS=${SA_BENCH_CONFIGS:-"none||
pg_stat_statements|pg_stat_statements|
scale_advisor|scale_advisor|
scale_advisor+pg_stat_statements|scale_advisor,pg_stat_statements|"}

sa_install_packages
command -v valgrind >/dev/null || sa_die "valgrind is missing"
W=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_bench.XXXXXX"); chmod 755 "$W"
trap 'sa_cluster_stop "$W/c"; rm -rf "$W"' EXIT
sa_prepare "$W" || exit 1
sa_cluster_start "$W/c" 5491 || exit 1
sa_as pgbench -i -q -s 1 -h "$W/c" -p 5491 -U postgres postgres >/dev/null 2>&1
sa_cluster_stop "$W/c"

for n in $N $((2 * N)); do
	awk -v n=$n 'BEGIN { for (i = 1; i <= n; i++) printf "SELECT abalance FROM pgbench_accounts WHERE aid = %d;\n", (i * 7919) % 100000 + 1 }' > "$W/q$n.sql"
done
chmod 644 "$W"/q*.sql

declare -A per
names=()
while IFS='|' read -r name libs extra; do
	[ -n "$name" ] || continue
	names+=("$name")
	tot=()
	for n in $N $((2 * N)); do
		args=(-c "shared_preload_libraries=$libs" -c compute_query_id=on)
		for e in $extra; do args+=(-c "$e"); done
		sa_as valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			postgres --single -D "$W/c/data" "${args[@]}" postgres \
			<"$W/q$n.sql" >"$W/out.$name.$n" 2>"$W/err.$name.$n"
		c=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/err.$name.$n")
		[ -n "$c" ] || { cat "$W/err.$name.$n" | tail -20; sa_die "no count for $name"; }
		tot+=("$c")
	done
	per[$name]=$(( (tot[1] - tot[0]) / N ))
done <<< "$CONFIGS"

base=${per[none]:-0}
pgss=${per[pg_stat_statements]:-0}
printf '%-36s %14s %12s %16s\n' configuration instr/stmt "vs none" "vs pgss overhead"
for name in "${names[@]}"; do
	v=${per[$name]}
	over=$((v - base))
	pct=$(awk -v a=$over -v b=$base 'BEGIN { printf "%+.2f%%", 100 * a / b }')
	if [ "$pgss" -gt 0 ] && [ "$pgss" -ne "$base" ]; then
		rel=$(awk -v a=$over -v b=$((pgss - base)) 'BEGIN { printf "%.2fx", a / b }')
	else
		rel=-
	fi
	printf '%-36s %14d %12s %16s\n' "$name" "$v" "$pct" "$rel"
done
