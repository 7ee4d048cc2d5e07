#!/bin/bash
# test/bench/index_advice_time.sh -- time to compute index advice over 1,000
# captured statements.
#
# Usage (as root): bash test/bench/index_advice_time.sh [TABLES] [order|mixed]
#
# Builds the extension into a private install (test/lib/common.sh), starts a
# throwaway cluster, creates TABLES tables (default 10) of 20,000 rows with
# 10 integer columns, runs 100 distinct statements per table once each with
# scale_advisor.plan_sample_rate = 1 (SELECT cS FROM tT WHERE cF = k, for
# every pair S, F: 10 x 10 = 100 query ids per table; the statistics are
# reset after the load so that it does not count as the tables' write rate),
# then times reading
# scale_advisor.index_advice five times and prints the medians of the wall
# time and of the backend's CPU time.  With "order" the statements are
# SELECT cS FROM tT WHERE cF = k ORDER BY cG LIMIT 10 (G = F + 1), whose
# candidates (cF) and (cF, cG) tie and are weighed by planning them again
# with the tables grown.  With "mixed" each table also has a jsonb and an
# int[] column, and the statements that filtered on c9 and c10 test
# j @> '{"k": 5}' and arr && ARRAY[5] instead (a fifth of the statements
# then get GIN candidates).  Each reading also records the advice's
# predictions (index_advice_predictions), included in the times.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
tables=${1:-10}
shape=${2:-eq}
work=$(mktemp -d "${SA_TMPDIR:-/var/tmp}/sa_bench.XXXXXX"); chmod 755 "$work"
trap 'sa_cluster_stop "$work/c" >/dev/null 2>&1; rm -rf "$work"' EXIT
sa_install_packages
sa_prepare "$work" || exit 1
port=54${RANDOM:0:2}
sa_cluster_start "$work/c" "$port" "max_parallel_workers_per_gather = 0" \
	"scale_advisor.plan_max = 2000" || exit 1
psql_() { sa_as psql -X -q -h "$work/c" -p "$port" -d postgres "$@"; }
psql_ -c "CREATE EXTENSION scale_advisor" || exit 1
gen="$work/gen.sql"
{
	for t in $(seq 1 "$tables"); do
		echo "CREATE TABLE bench_t$t (id int, c1 int, c2 int, c3 int, c4 int, c5 int, c6 int, c7 int, c8 int, c9 int, c10 int);"
		echo "INSERT INTO bench_t$t SELECT i, i % 1000, i % 997, i % 991, i % 983, i % 977, i % 971, i % 967, i % 953, i % 947, i % 941 FROM generate_series(1, 20000) i;"
		if [ "$shape" = mixed ]; then
			echo "ALTER TABLE bench_t$t ADD COLUMN j jsonb, ADD COLUMN arr int[];"
			echo "UPDATE bench_t$t SET j = jsonb_build_object('k', id % 1000), arr = ARRAY[id % 1000, id % 997];"
			echo "VACUUM FULL bench_t$t;"
		fi
	done
	echo "VACUUM ANALYZE;"
	echo "SELECT pg_stat_force_next_flush();"
	echo "SELECT pg_stat_reset();"
	echo "SELECT scale_advisor.index_workload_reset();"
	echo "SET scale_advisor.plan_sample_rate = 1;"
	for t in $(seq 1 "$tables"); do
		for s in $(seq 1 10); do
			for f in $(seq 1 10); do
				if [ "$shape" = order ]; then
					echo "SELECT c$s FROM bench_t$t WHERE c$f = 5 ORDER BY c$((f % 10 + 1)) LIMIT 10 \\g /dev/null"
				elif [ "$shape" = mixed ] && [ "$f" = 9 ]; then
					echo "SELECT c$s FROM bench_t$t WHERE j @> '{\"k\": 5}' \\g /dev/null"
				elif [ "$shape" = mixed ] && [ "$f" = 10 ]; then
					echo "SELECT c$s FROM bench_t$t WHERE arr && ARRAY[5] \\g /dev/null"
				else
					echo "SELECT c$s FROM bench_t$t WHERE c$f = 5 \\g /dev/null"
				fi
			done
		done
	done
} > "$gen"
chmod 644 "$gen"
psql_ -f "$gen" >/dev/null || exit 1
psql_ -At -c "SELECT count(DISTINCT queryid) AS captured FROM scale_advisor.index_workload"
# wall time (psql \timing) and the backend's CPU time (/proc/self/stat,
# user + system, in 10 ms ticks): the CPU time does not depend on what else
# the machine is doing
cat > "$work/time.sql" <<'SQL'
SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
     + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint AS t0 \gset
\timing on
SELECT count(*) FROM scale_advisor.index_advice;
\timing off
SELECT 'cpu ' || 10 * (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
     + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint - :t0);
SQL
chmod 644 "$work/time.sql"
walls=() cpus=()
for i in 1 2 3 4 5; do
	out=$(psql_ -At -f "$work/time.sql")
	walls+=("$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')")
	cpus+=("$(echo "$out" | sed -n 's/^cpu \([0-9]*\)$/\1/p')")
done
psql_ -At -c "SELECT count(*) AS advice_rows, count(*) FILTER (WHERE cardinality(queryids) > 1) AS shared FROM scale_advisor.index_advice"
psql_ -At -c "SELECT count(*) AS skipped FROM scale_advisor.index_advice_skipped"
echo "wall ms: ${walls[*]}"
echo "cpu ms:  ${cpus[*]}"
printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p | xargs printf 'median advice time over 5 reads: %s ms wall, '
printf '%s\n' "${cpus[@]}" | sort -n | sed -n 3p | xargs printf '%s ms CPU\n'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
