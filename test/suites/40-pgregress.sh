# test/suites/40-pgregress.sh -- PostgreSQL's own regression suite, run
# without and with scale_advisor preloaded (every feature on, sampling rate
# 1); the two runs must give the same results.
#
# The suite (src/test/regress of Debian's postgresql-15 source package) is
# downloaded once by test/reliability/fetch-pg-regress.sh and cached under
# /var/cache/scale_advisor.  The cached suite may be a minor release older
# than the server, so a few tests differ from their expected files whatever
# is loaded: the check is that both runs fail the same tests with the same
# diffs, that no backend crashed, and that the extension really recorded
# the run.
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
trap rl_result EXIT

src=$(bash "$SA_ROOT/test/reliability/fetch-pg-regress.sh")
if [ $? -ne 0 ] || [ ! -d "$src" ]; then
	rl_notok "PostgreSQL regression suite downloaded" "could not get the source package (see messages above)"
	exit 1
fi
rl_ok "PostgreSQL regression suite available ($(basename "$src"))"

W=$SA_WORK/pgregress
mkdir -p "$W/suite"
cp -a "$src"/. "$W/suite/"
libdir=$SA_INST/usr/lib/postgresql/$SA_PGVER/lib
printf 'MODULES = regress\nPG_CONFIG = /usr/lib/postgresql/%s/bin/pg_config\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' \
	"$SA_PGVER" > "$W/suite/Makefile"
ln -sf "$libdir/refint.so" "$W/suite/refint.so"
ln -sf "$libdir/autoinc.so" "$W/suite/autoinc.so"
chown -R "$SA_RUNAS" "$W"
if ! sa_as make -s -C "$W/suite" >"$W/make.log" 2>&1; then
	cat "$W/make.log"
	rl_notok "regress.so built"
	exit 1
fi
rl_ok "regress.so built"

PGR=$SA_PGXS/src/test/regress/pg_regress
common=("max_prepared_transactions = 2" "max_connections = 60" "log_line_prefix = '%m [%p] '"
	"autovacuum_naptime = 1min")
port0=$((20000 + $$ % 20000))

# run_one LABEL PORT [conf lines]: one cluster, the whole schedule.
run_one() {
	local label=$1 port=$2; shift 2
	local d=$W/$label
	mkdir -p "$d/out"; chown -R "$SA_RUNAS" "$d"
	sa_cluster_start "$d" "$port" "${common[@]}" "$@" || return 1
	(cd "$W/suite" && sa_as "$PGR" --bindir="$SA_BIN" --inputdir=. --outputdir="$d/out" \
		--dlpath="$W/suite" --host="$d" --port="$port" --user=postgres \
		--schedule=parallel_schedule --max-connections=20 >"$d/pg_regress.out" 2>&1)
	return 0
}

t0=$(date +%s)
# The two runs go one after the other: run at once, the timing-sensitive
# tests of the server's suite would differ because of the load.
run_one plain $port0 "shared_preload_libraries = ''" \
	|| { rl_notok "cluster without scale_advisor started"; exit 1; }
t1=$(date +%s)
run_one preload $((port0 + 1)) "${SA_ALL_ON[@]}" \
	|| { rl_notok "cluster with scale_advisor started"; sa_cluster_stop "$W/plain"; exit 1; }
t2=$(date +%s)
echo "run without scale_advisor: $((t1 - t0)) s, with: $((t2 - t1)) s"

# Proof that the extension was loaded and recording during the run.
P=$W/preload
loaded=$(rl_psql "$P" $((port0 + 1)) -d postgres -Atc "SHOW shared_preload_libraries")
rl_psql "$P" $((port0 + 1)) -d postgres -c "CREATE EXTENSION scale_advisor" >/dev/null
read -r stmts calls nested <<<"$(rl_psql "$P" $((port0 + 1)) -d postgres -AtF' ' -c \
	"SELECT count(*), sum(calls), count(*) FILTER (WHERE NOT toplevel)
	   FROM scale_advisor.query_stats s JOIN pg_database d ON d.oid = s.dbid
	  WHERE d.datname = 'regression'")"
echo "preloaded run recorded: $stmts statements, $calls calls, $nested nested statements"
[ "$loaded" = scale_advisor ] && [ "${calls:-0}" -gt 10000 ] && [ "${nested:-0}" -gt 0 ]
rl_check "scale_advisor was preloaded and recorded the run (statements: ${stmts:-0}, calls: ${calls:-0})" $?
plans=$(rl_psql "$P" $((port0 + 1)) -d postgres -Atc "SELECT count(*) FROM scale_advisor.index_workload" 2>/dev/null || echo '?')
np=$(rl_psql "$P" $((port0 + 1)) -d postgres -Atc "SELECT count(*) FROM scale_advisor.n_plus_one" 2>/dev/null || echo "?")
echo "statements with sampled plans: $plans, N+1 patterns: $np"

for label in plain preload; do
	sa_cluster_stop "$W/$label"
done

# Compare the two runs test by test.  Query ids depend on the OIDs the
# parallel tests happen to get, so "Query Identifier: N" lines of EXPLAIN
# VERBOSE (present in both runs: compute_query_id is on in both) are masked,
# and so is the width of the QUERY PLAN header that follows from them.
norm() { sed -E 's/(Query Identifier:) -?[0-9]+/\1 N/; s/^ +QUERY PLAN +$/QUERY PLAN/; s/^-+$/-/' "$1"; }
total=0 same=0 differ=() failp=0 failq=0
for f in "$W/plain/out/results"/*.out; do
	t=$(basename "$f" .out)
	total=$((total + 1))
	q=$W/preload/out/results/$t.out
	if [ -f "$q" ] && cmp -s <(norm "$f") <(norm "$q"); then
		same=$((same + 1))
	else
		differ+=("$t")
	fi
done
for label in plain preload; do
	echo "$label: $(grep -E 'tests (passed|failed)' "$W/$label/pg_regress.out" | tr -s ' ') (against the $(basename "$src") expected files)"
done
[ "$total" -gt 150 ] && [ "$(ls "$W/preload/out/results" | wc -l)" -eq "$total" ]
rl_check "the whole schedule ran in both ($total tests)" $?
if [ ${#differ[@]} -eq 0 ]; then
	rl_ok "all $total tests give the same output with and without scale_advisor"
else
	rl_notok "all $total tests give the same output with and without scale_advisor" "differ: ${differ[*]}"
	for t in "${differ[@]}"; do
		diff -u <(norm "$W/plain/out/results/$t.out") <(norm "$W/preload/out/results/$t.out" 2>/dev/null) | head -40
	done
fi
n=$(rl_crashes "$W/preload/server.log")
rl_check "no backend crashed with scale_advisor preloaded" $([ "$n" = 0 ]; echo $?) \
	"$(grep -E 'terminated by signal|PANIC' "$W/preload/server.log" | head -5)"
grep -i 'scale_advisor' "$W/preload/server.log" | grep -viE 'snapshot worker|saver' | head -5
