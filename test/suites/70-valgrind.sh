# test/suites/70-valgrind.sh -- a valgrind (memcheck) smoke test: a cluster
# whose postmaster runs under valgrind (so do all its backends and background
# workers), with scale_advisor preloaded and every feature on at sampling
# rate 1, runs test/reliability/smoke.sql (statements through every hook,
# prepared statements, errors, N+1 loops in PL/pgSQL, plan sampling, index
# advice with hypothetical indexes, snapshots, every view, the resets).
# Checks: no valgrind error whose stack goes through scale_advisor.so, no
# crash.  The full run of our pg_regress suites under valgrind is
# test/reliability/valgrind-regress.sh (too slow for the test command).
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
trap 'rl_result; sa_cluster_stop "$D"' EXIT

D=$SA_WORK/valgrind
port=$((20000 + ($$ + 19) % 20000))
command -v valgrind >/dev/null || { rl_notok "valgrind installed"; exit 1; }
t0=$(date +%s)
rl_vg_start "$D" "$port" "${SA_ALL_ON[@]}" "scale_advisor.snapshot_interval = 5" \
	|| { rl_notok "cluster under valgrind started"; exit 1; }
echo "started under valgrind in $(( $(date +%s) - t0 )) s"
cp "$SA_ROOT/test/reliability/smoke.sql" "$D/smoke.sql"; chown "$SA_RUNAS" "$D/smoke.sql"
sa_as psql -X -h "$D" -p "$port" -U postgres -d postgres -f "$D/smoke.sql" >"$D/smoke.out" 2>&1
stmts=$(grep -cvE '^\s*$' "$D/smoke.sql")
errs=$(grep -c 'ERROR:' "$D/smoke.out")
echo "smoke: $stmts statements in $(( $(date +%s) - t0 )) s, $errs errors (2 are meant: division by zero, unknown table)"
[ "$errs" = 2 ]
rl_check "smoke statements ran (only the 2 intended errors)" $? "$(grep 'ERROR:' "$D/smoke.out" | head -5)"
sa_as psql -X -h "$D" -p "$port" -U postgres -d postgres -Atc "SELECT 1" >/dev/null
rl_check "the server answers" $?
sa_cluster_stop "$D"
n=$(rl_crashes "$D/server.log")
rl_check "no crash under valgrind" $([ "$n" = 0 ]; echo $?) "$(grep -E 'terminated by signal|PANIC' "$D/server.log" | head -3)"
rl_vg_report "$D"
[ "$RL_VG_OURS" = 0 ]
rl_check "no valgrind error in scale_advisor code" $?
