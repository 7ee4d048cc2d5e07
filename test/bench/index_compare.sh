#!/bin/bash
# test/bench/index_compare.sh -- throughput of the index-advice evaluation
# workload (test/bench/index_workload/) with no advice taken, and with the
# advice of each tool: scale_advisor, pg_qualstats 2.0.4's advisor, and a
# dexter-style search with hypopg (hypo_search.sql).
#
# Usage: bash test/bench/index_compare.sh [CAPTURE_S] [RUN_S] [ROUNDS]
#        (defaults 60, 30, 3; run as root)
#
# Builds the extension into a private install (test/lib/common.sh), starts a
# throwaway PostgreSQL 15 cluster with scale_advisor and pg_qualstats
# preloaded, loads the workload (schema.sql, fixed seed), resets every
# tool's statistics and runs the read mix (mix.txt, 2 clients, prepared
# protocol) for CAPTURE_S seconds while the writers insert 50 events and
# update 200 sessions a second (and the count of active sessions runs every
# 20 seconds on average).  Then each tool's advice is read (only the
# statements that run: pg_qualstats's "USING gin (... gist_trgm_ops)" does
# not).  For each round and each configuration, in the same order every
# round (none, scale_advisor, pg_qualstats, hypopg): the indexes of the
# previous configuration are dropped, the configuration's are built
# (scale_advisor's drop_sql is applied too), VACUUM ANALYZE, and the same
# read mix runs RUN_S seconds with the writers.  Prints the read mix's
# transactions per second of each run, the median per configuration and
# its ratio to no advice, and the writers' mean latency.  PostgreSQL 15
# only: pg_qualstats and hypopg are packaged for it alone here.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export SA_PGVER=15
. "$SA_ROOT/test/lib/common.sh"
capture=${1:-60}
run=${2:-30}
rounds=${3:-3}
wl=$SA_ROOT/test/bench/index_workload
work=$(mktemp -d "${SA_TMPDIR:-/var/tmp}/sa_cmp.XXXXXX"); chmod 755 "$work"
trap 'sa_cluster_stop "$work/c" >/dev/null 2>&1; rm -rf "$work"' EXIT
sa_install_packages
sa_prepare "$work" || exit 1
port=55${RANDOM:0:2}
sa_cluster_start "$work/c" "$port" "shared_preload_libraries = 'scale_advisor, pg_qualstats'" \
	"max_parallel_workers_per_gather = 0" "scale_advisor.plan_sample_rate = 0.2" \
	"pg_qualstats.sample_rate = 1" || exit 1
cp -r "$wl" "$work/wl"; chmod -R a+rX "$work/wl"
psql_() { sa_as psql -X -q -v ON_ERROR_STOP=1 -h "$work/c" -p "$port" -d wl "$@"; }
sa_as psql -X -q -h "$work/c" -p "$port" -d postgres -c "CREATE DATABASE wl" || exit 1
psql_ -c "CREATE EXTENSION scale_advisor; CREATE EXTENSION pg_trgm; CREATE EXTENSION pg_qualstats; CREATE EXTENSION hypopg;" || exit 1
psql_ -f "$work/wl/schema.sql" >/dev/null || exit 1
psql_ -f "$work/wl/hypo_search.sql" || exit 1
base=$(psql_ -At -c "SELECT string_agg(quote_literal(indexname), ',') FROM pg_indexes WHERE schemaname = 'public'")
basedefs=$(psql_ -At -c "SELECT indexdef || ';' FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'")

mix=()
while read -r f w; do
	case "$f" in '#'*|'') continue ;; esac
	mix+=(-f "$work/wl/$f@$w")
done < "$wl/mix.txt"
conn="host=$work/c port=$port dbname=wl"

# run_mix SECONDS: the writers and the read mix; prints "tps writer_ms writer_ms"
run_mix() {
	local s=$1
	sa_as pgbench -n -c 1 -R 50 -T "$s" -f "$work/wl/w_events.sql" "$conn" >"$work/w1.out" 2>&1 &
	local p1=$!
	sa_as pgbench -n -c 1 -R 200 -T "$s" -f "$work/wl/w_sessions.sql" "$conn" >"$work/w2.out" 2>&1 &
	local p2=$!
	sa_as pgbench -n -c 1 -R 0.05 -T "$s" -f "$work/wl/q12_sessions_active.sql" "$conn" >"$work/q12.out" 2>&1 &
	local p3=$!
	sa_as pgbench -n -M prepared -c 2 -T "$s" "${mix[@]}" "$conn" >"$work/mix.out" 2>&1
	wait $p1 $p2 $p3
	printf '%s %s %s\n' \
		"$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/mix.out")" \
		"$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/w1.out")" \
		"$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$work/w2.out")"
}

psql_ -c "SELECT pg_stat_reset(), pg_qualstats_reset(), scale_advisor.index_workload_reset(), scale_advisor.reset()" >/dev/null
echo "capture: $(run_mix "$capture") (tps, writers' latency ms)"

# each tool's advice, as statements that run
psql_ -At -c "SELECT replace(index_sql, 'CONCURRENTLY ', '') || ';' FROM scale_advisor.index_advice" > "$work/scale_advisor.sql"
psql_ -At -c "SELECT replace(drop_sql, 'CONCURRENTLY ', '') FROM scale_advisor.index_advice WHERE drop_sql IS NOT NULL" >> "$work/scale_advisor.sql"
psql_ -At -c "SELECT DISTINCT i || ';' FROM json_array_elements_text(pg_qualstats_index_advisor()->'indexes') i" > "$work/pg_qualstats.all"
examples=$(sed "s/'/''/g" "$wl/examples.sql")
psql_ -At -c "SET client_min_messages = warning" -c "SELECT index_sql || ';' FROM hypo_search(string_to_array('$examples', E'\n'))" > "$work/hypopg.sql"
: > "$work/pg_qualstats.sql"
while read -r s; do
	if psql_ -c "BEGIN" -c "$s" -c "ROLLBACK" >/dev/null 2>&1; then
		echo "$s" >> "$work/pg_qualstats.sql"
	else
		echo "pg_qualstats statement that does not run, left out: $s"
	fi
done < "$work/pg_qualstats.all"
: > "$work/none.sql"
for t in scale_advisor pg_qualstats hypopg; do
	echo "-- $t"
	sed 's/^/   /' "$work/$t.sql"
done

# back to the loaded schema's indexes, then build a configuration's
configure() {
	psql_ -At -c "SELECT format('DROP INDEX %I.%I;', schemaname, indexname) FROM pg_indexes
	               WHERE schemaname = 'public' AND indexname NOT IN ($base)" > "$work/drop.sql"
	psql_ -f "$work/drop.sql" >/dev/null
	while read -r d; do
		psql_ -c "$d" >/dev/null 2>&1 || true    # the loaded ones that were dropped
	done <<< "$basedefs"
	psql_ -f "$work/$1.sql" >/dev/null || return 1
	psql_ -c "VACUUM ANALYZE" >/dev/null
}

declare -A tps
for r in $(seq 1 "$rounds"); do
	for t in none scale_advisor pg_qualstats hypopg; do
		configure "$t" || { echo "configuration $t failed"; exit 1; }
		res=$(run_mix "$run")
		tps[$t]="${tps[$t]:-} ${res%% *}"
		echo "round $r $t: $res (tps, writers' latency ms)"
	done
done
med() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
none=$(med "${tps[none]}")
echo
printf '%-14s %-28s %10s %8s\n' configuration "tps per round" median "vs none"
for t in none scale_advisor pg_qualstats hypopg; do
	m=$(med "${tps[$t]}")
	printf '%-14s %-28s %10s %7.1fx\n' "$t" "${tps[$t]# }" "$m" "$(awk -v a="$m" -v b="$none" 'BEGIN {print (b > 0) ? a / b : 0}')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
