# test/suites/60-load.sh -- many connections with scale_advisor preloaded
# and every feature on (sampling rate 1).
#
# 1. 300 clients at once (max_connections = 320), a mixed pgbench workload
#    (TPC-B-like, simple-update and select-only scripts, prepared protocol).
# 2. A spike: 10 clients working (simple protocol), then 290 more connect at
#    once and work beside them.
# Checks: pgbench reports no failed transaction and no aborted client, no
# error in the server log, no backend crashed, no backend left behind, and
# scale_advisor.query_stats counts exactly the statements pgbench ran
# (transactions of each script x statements in that script).
# SA_LOAD_TX (default 10) sets transactions per client of the 300-client run.
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
trap 'rl_result; sa_cluster_stop "$D"' EXIT

D=$SA_WORK/load
port=$((20000 + ($$ + 13) % 20000))
tx=${SA_LOAD_TX:-10}
sa_cluster_start "$D" "$port" "${SA_ALL_ON[@]}" "max_connections = 320" \
	"shared_buffers = 64MB" "log_line_prefix = '%m [%p] %u '" \
	|| { rl_notok "cluster with max_connections = 320 started"; exit 1; }
psqlc() { rl_psql "$D" "$port" "$@"; }

psqlc -d postgres -c "CREATE DATABASE bench" -c "CREATE ROLE bench LOGIN" >/dev/null &&
sa_as pgbench -h "$D" -p "$port" -U postgres -i -s 10 -q bench >"$D/init.log" 2>&1 &&
psqlc -d bench >/dev/null <<'SQL'
CREATE EXTENSION scale_advisor;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO bench;
SELECT scale_advisor.reset();
SQL
[ $? -eq 0 ]; rl_check "pgbench database (scale 10) and extension ready" $? || { cat "$D/init.log"; exit 1; }

# statements (not meta-commands) in a built-in script
stmts_in() { sa_as pgbench --show-script="$1" 2>&1 | grep -vE '^\s*(\\|--|$)|^"' | grep -cE '^\s*[A-Za-z]'; }
declare -A per
for s in tpcb-like simple-update select-only; do per[$s]=$(stmts_in "$s"); done
echo "statements per transaction: tpcb-like ${per[tpcb-like]}, simple-update ${per[simple-update]}, select-only ${per[select-only]}"

# expected_from LOG: statements the pgbench run in LOG completed
expected_from() {
	local log=$1 total=0 name n
	while read -r name n; do
		total=$((total + n * ${per[$name]}))
	done < <(sed -nE 's/^SQL script [0-9]+: <builtin: ([^>]*)>.*/\1/p; s/^ - ([0-9]+) transactions .*/\1/p' "$log" |
		paste - - | sed -E 's/TPC-B \(sort of\)/tpcb-like/; s/simple update/simple-update/; s/select only/select-only/')
	if [ "$total" = 0 ]; then
		# one script only: pgbench prints no per-script section
		n=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$log")
		name=$(sed -nE 's/^transaction type: <builtin: ([^>]*)>.*/\1/p' "$log" |
			sed -E 's/TPC-B \(sort of\)/tpcb-like/; s/simple update/simple-update/; s/select only/select-only/')
		total=$((n * ${per[$name]:-0}))
	fi
	echo "$total"
}
failed_of() { sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$1"; }
# calls and errors of role bench, and the calls of the two queries pgbench
# itself runs once per run before the clients start (the scale, from
# pgbench_branches, and whether pgbench_accounts is partitioned)
store_calls() {
	psqlc -d bench -Atc "SELECT coalesce(sum(calls), 0) || ' ' || coalesce(sum(errors), 0) || ' ' ||
			coalesce(sum(calls) FILTER (WHERE query ~* 'count\\(\\*\\) from pgbench_branches|partstrat'), 0)
		FROM scale_advisor.query_stats WHERE userid = 'bench'::regrole AND toplevel"
}
# what the store holds for role bench, statement by statement, against what
# each script's transactions in the pgbench logs $@ ran (for a failure)
store_detail() {
	echo "store, role bench, top level (calls, rows, query):"
	psqlc -d bench -Atc "SELECT calls || ' ' || rows || ' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 90)
		FROM scale_advisor.query_stats WHERE userid = 'bench'::regrole AND toplevel ORDER BY query"
	grep -hE '^(SQL script|transaction type| - [0-9]+ transactions)' "$@"
}
# Largest number of backends seen waiting on one of scale_advisor's locks.
watch_locks() {
	local max=0 n
	while [ -f "$D/watching" ]; do
		n=$(psqlc -d postgres -Atc "SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'LWLock' AND wait_event ILIKE '%scale%advisor%'" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt "$max" ] && max=$n
		sleep 0.5
	done
	echo "$max" > "$D/lockwait.max"
}

# 1. 300 clients at once
touch "$D/watching"; watch_locks & w=$!
t0=$(date +%s)
sa_as pgbench -h "$D" -p "$port" -U bench -n -c 300 -j 2 -t "$tx" -M prepared \
	-b tpcb-like@2 -b simple-update@1 -b select-only@7 bench >"$D/run300.log" 2>&1
rc=$?
t1=$(date +%s)
rm -f "$D/watching"; wait $w
grep -E '^(number of|latency average|tps|initial connection)' "$D/run300.log"
echo "300 clients: $((t1 - t0)) s; most backends seen waiting on a scale_advisor lock: $(cat "$D/lockwait.max")"
[ $rc = 0 ] && [ "$(failed_of "$D/run300.log")" = 0 ] && ! grep -q 'aborted' "$D/run300.log"
rl_check "300 clients: pgbench finished, no failed transaction, no client aborted" $? \
	"$(grep -iE 'error|abort|fatal' "$D/run300.log" | head -5)"
exp1=$(expected_from "$D/run300.log")
read -r c1 e1 s1 <<<"$(store_calls)"
[ "$exp1" -gt 0 ] && [ "$c1" -eq $((exp1 + 2)) ] && [ "$s1" = 2 ] && [ "$e1" = 0 ]
rl_check "300 clients: the store counts every statement ($c1 calls = $exp1 run by the clients + $s1 by pgbench at start; errors $e1)" $? \
	"$(store_detail "$D/run300.log")"

# 2. spike: 10 clients, then 290 more at once
psqlc -d bench -c "SELECT scale_advisor.reset()" >/dev/null
# the 10 clients must still be working when the 290 have connected: their
# run lasts 10 s plus twice the time 300 clients took to connect above
conn=$(sed -nE 's/^initial connection time = ([0-9]+).*/\1/p' "$D/run300.log")
dur=$((10 + 2 * ${conn:-10000} / 1000)); [ $dur -gt 45 ] && dur=45
echo "10 clients for $dur s, the 290 join after 3 s"
sa_as pgbench -h "$D" -p "$port" -U bench -n -c 10 -j 1 -T "$dur" -b tpcb-like@1 -b select-only@4 \
	bench >"$D/spike10.log" 2>&1 & base=$!
sleep 3
t0=$(date +%s)
sa_as pgbench -h "$D" -p "$port" -U bench -n -c 290 -j 2 -t 5 -b select-only bench >"$D/spike290.log" 2>&1
rc2=$?
t1=$(date +%s)
wait $base; rc1=$?
grep -E '^(number of|tps|initial connection)' "$D/spike10.log" "$D/spike290.log"
echo "spike of 290 clients: $((t1 - t0)) s"
[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$(failed_of "$D/spike10.log")" = 0 ] && [ "$(failed_of "$D/spike290.log")" = 0 ] &&
	! grep -q 'aborted' "$D/spike10.log" "$D/spike290.log"
rl_check "spike 10 -> 300 clients: no failed transaction, no client aborted" $? \
	"$(grep -ihE 'error|abort|fatal' "$D/spike10.log" "$D/spike290.log" | head -5)"
exp2=$(( $(expected_from "$D/spike10.log") + $(expected_from "$D/spike290.log") ))
read -r c2 e2 s2 <<<"$(store_calls)"
[ "$exp2" -gt 0 ] && [ "$c2" -eq $((exp2 + 4)) ] && [ "$s2" = 4 ] && [ "$e2" = 0 ]
rl_check "spike: the store counts every statement ($c2 calls = $exp2 run by the clients + $s2 by the two pgbench runs at start; errors $e2)" $? \
	"$(store_detail "$D/spike10.log" "$D/spike290.log")"

# no backend left behind
left=1
for i in $(seq 1 20); do
	n=$(psqlc -d postgres -Atc "SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
	[ "$n" = 0 ] && { left=0; break; }
	sleep 0.5
done
rl_check "no client backend left behind after the runs" $left \
	"$(psqlc -d postgres -Atc "SELECT pid, state, wait_event_type, wait_event, left(query, 60) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")"
n=$(grep -cE ' (ERROR|FATAL|PANIC): ' "$D/server.log")
rl_check "no error in the server log" $([ "$n" = 0 ]; echo $?) "$(grep -E ' (ERROR|FATAL|PANIC): ' "$D/server.log" | head -5)"
n=$(rl_crashes "$D/server.log")
rl_check "no backend crashed" $([ "$n" = 0 ]; echo $?)
