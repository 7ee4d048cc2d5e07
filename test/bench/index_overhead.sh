#!/bin/bash
# test/bench/index_overhead.sh -- CPU instructions per statement that plan
# sampling adds, next to pg_stat_statements.
#
# Usage (as root): bash test/bench/index_overhead.sh
#
# Builds the extension into a private install (test/lib/common.sh), creates
# a pgbench database (scale 1, with primary keys), then runs the server in
# single-user mode under valgrind (cachegrind, no cache simulation) on N
# primary-key selects "SELECT abalance FROM pgbench_accounts WHERE aid = k",
# for N = 200 and N = 1200, in these configurations:
#   none      no library preloaded
#   pgss      pg_stat_statements
#   sa_off    scale_advisor, scale_advisor.plan_sample_rate = 0
#   sa_def    scale_advisor, default plan_sample_rate (0.01)
#   sa_all    scale_advisor, plan_sample_rate = 1 (every statement sampled)
# The instructions of the 1,000 extra statements divided by 1,000 is the
# per-statement count (start-up cancels out).  Prints one line per
# configuration and the differences to "none".  Then the same for a
# statement whose plan lacks an index and so is captured when sampled,
# "SELECT bbalance FROM pgbench_branches WHERE bid = 1" (a sequential scan
# with a filter), in sa_off, sa_def and sa_all: the cost of one capture.
# Last, a backend that runs many statements: 2,048 distinct primary-key
# selects (each its own query id: a different list of columns), run once,
# then twice; the instructions of the second round divided by 2,048 give
# what a statement the backend has run before costs, in sa_off and sa_def
# (the first execution of each statement in a backend is looked up, and
# walked when it is not captured: it must stay the first one only).
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
work=$(mktemp -d /var/tmp/sa_bench.XXXXXX); chmod 755 "$work"
trap 'sa_cluster_stop "$work/c" >/dev/null 2>&1; rm -rf "$work"' EXIT
sa_install_packages
sa_prepare "$work" || exit 1
port=55${RANDOM:0:2}
sa_cluster_start "$work/c" "$port" || exit 1
sa_as pgbench -q -i -s 1 -h "$work/c" -p "$port" postgres >/dev/null 2>&1 || exit 1
sa_as psql -X -q -h "$work/c" -p "$port" -d postgres -c "CREATE EXTENSION scale_advisor" -c "CHECKPOINT" || exit 1
sa_cluster_stop "$work/c"

for n in 200 1200; do
	for i in $(seq 1 $n); do echo "SELECT abalance FROM pgbench_accounts WHERE aid = $(( (i * 7919) % 100000 + 1 ))"; done > "$work/stmts.$n"
	for i in $(seq 1 $n); do echo "SELECT bbalance FROM pgbench_branches WHERE bid = 1"; done > "$work/seq.$n"
done
python3 - "$work" <<'PY'
import itertools, sys
cols = ['aid', 'bid', 'abalance', 'filler']
stmts = []
for n in range(1, 7):
    for combo in itertools.product(cols, repeat=n):
        stmts.append('SELECT %s FROM pgbench_accounts WHERE aid = %d' % (', '.join(combo), len(stmts) % 100000 + 1))
        if len(stmts) == 2048:
            break
    if len(stmts) == 2048:
        break
with open(sys.argv[1] + '/many.1', 'w') as f:
    f.write('\n'.join(stmts) + '\n')
with open(sys.argv[1] + '/many.2', 'w') as f:
    f.write('\n'.join(stmts + stmts) + '\n')
PY
chmod 644 "$work"/stmts.* "$work"/many.*

irefs() {	# config-args... < statements: instructions of one single-user run
	# no run starts with what the one before saved at its shutdown (the
	# statement store, captured plans, cumulative statistics)
	rm -f "$work/c/data/pg_stat/"*
	sa_as valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		postgres --single -D "$work/c/data" -c compute_query_id=on -c max_parallel_workers_per_gather=0 "$@" postgres \
		2>&1 >/dev/null | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}

declare -A per
for cfg in none pgss sa_off sa_def sa_all; do
	case $cfg in
		none) args=(-c "shared_preload_libraries=") ;;
		pgss) args=(-c "shared_preload_libraries=pg_stat_statements") ;;
		sa_off) args=(-c "shared_preload_libraries=scale_advisor" -c scale_advisor.plan_sample_rate=0) ;;
		sa_def) args=(-c "shared_preload_libraries=scale_advisor") ;;
		sa_all) args=(-c "shared_preload_libraries=scale_advisor" -c scale_advisor.plan_sample_rate=1) ;;
	esac
	a=$(irefs "${args[@]}" < "$work/stmts.200")
	b=$(irefs "${args[@]}" < "$work/stmts.1200")
	if [ -z "$a" ] || [ -z "$b" ]; then echo "$cfg: valgrind run failed"; exit 1; fi
	per[$cfg]=$(( (b - a) / 1000 ))
	printf '%-7s %8d instructions per primary-key select\n' "$cfg" "${per[$cfg]}"
done
base=${per[none]}
for cfg in pgss sa_off sa_def sa_all; do
	d=$(( ${per[$cfg]} - base ))
	printf '%-7s +%6d (%s %% of the select)\n' "$cfg" "$d" "$(echo "scale=1; 100 * $d / $base" | bc)"
done
printf 'plan sampling at the default rate: %+d instructions per statement (sa_def - sa_off)\n' $(( ${per[sa_def]} - ${per[sa_off]} ))

declare -A seq
for cfg in sa_off sa_def sa_all; do
	case $cfg in
		sa_off) args=(-c "shared_preload_libraries=scale_advisor" -c scale_advisor.plan_sample_rate=0) ;;
		sa_def) args=(-c "shared_preload_libraries=scale_advisor") ;;
		sa_all) args=(-c "shared_preload_libraries=scale_advisor" -c scale_advisor.plan_sample_rate=1) ;;
	esac
	a=$(irefs "${args[@]}" < "$work/seq.200")
	b=$(irefs "${args[@]}" < "$work/seq.1200")
	seq[$cfg]=$(( (b - a) / 1000 ))
	printf 'seq scan %-7s %8d instructions per statement\n' "$cfg" "${seq[$cfg]}"
done
printf 'one capture (sa_all - sa_off): %d instructions; at the default rate: %+d per statement\n' \
	$(( ${seq[sa_all]} - ${seq[sa_off]} )) $(( ${seq[sa_def]} - ${seq[sa_off]} ))

declare -A many
for cfg in sa_off sa_def; do
	case $cfg in
		sa_off) args=(-c "shared_preload_libraries=scale_advisor" -c scale_advisor.plan_sample_rate=0) ;;
		sa_def) args=(-c "shared_preload_libraries=scale_advisor") ;;
	esac
	a=$(irefs "${args[@]}" < "$work/many.1")
	b=$(irefs "${args[@]}" < "$work/many.2")
	many[$cfg]=$(( (b - a) / 2048 ))
	printf 'many statements %-7s %8d instructions per statement run before\n' "$cfg" "${many[$cfg]}"
done
printf '2,048 statements in one backend, each run before: %+d instructions per statement (sa_def - sa_off)\n' \
	$(( ${many[sa_def]} - ${many[sa_off]} ))
