#!/bin/bash
# test/reliability/ubsan-regress.sh -- build scale_advisor with gcc's
# UndefinedBehaviorSanitizer (-fsanitize=undefined -fno-sanitize-recover=all:
# the first undefined operation aborts the backend) and run
#   1. the pg_regress and isolation suites exactly as the test command does
#      (test/suites/10-regress.sh, 20-isolation.sh: outputs compared), and
#   2. test/reliability/smoke.sql and every preloaded test/sql file against
#      a cluster with every feature on at sampling rate 1 (SA_ALL_ON;
#      outputs not compared, the settings change some of them).
# Checks: no "runtime error" from the sanitizer in any server log, no
# backend crash.  Only the extension is instrumented (the server is
# Debian's).  AddressSanitizer cannot be used the same way: its runtime must
# be the first library of the process, and the postmaster is not built
# with it.
#
# Usage (as root, from the repository): bash test/reliability/ubsan-regress.sh [--keep]
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
keep=no; [ "${1:-}" = --keep ] && keep=yes
sa_install_packages
SA_WORK=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_ubsan.XXXXXX"); chmod 755 "$SA_WORK"; export SA_WORK
D=$SA_WORK/allon
cleanup() { sa_cluster_stop "$D"; [ $keep = no ] && rm -rf "$SA_WORK" || echo "work folder kept: $SA_WORK"; }
trap cleanup EXIT
t0=$(date +%s)
# the last COPT on make's command line wins: the test command's warnings
# plus the sanitizer (with_llvm=no: no bitcode, clang would need the flag
# too).  Without -Werror: the instrumented code makes gcc 12 report
# -Wclobbered for locals that only come into scope after a PG_TRY block
# (nplus1.c, np_flag); the warnings are listed below.
sa_prepare "$SA_WORK" with_llvm=no \
	COPT='-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -fsanitize=undefined -fno-sanitize-recover=all' \
	|| exit 1
grep -A3 'warning:' "$SA_WORK/build.log"
ldd "$SA_INST"/usr/lib/postgresql/$SA_PGVER/lib/scale_advisor.so | grep -q libubsan \
	|| { echo "scale_advisor.so is not linked with libubsan"; exit 1; }
echo "built with -fsanitize=undefined in $(( $(date +%s) - t0 )) s"
# every report also goes to a file of its own (the server logs of the two
# pg_regress instances share one path, the second overwrites the first)
mkdir -p "$SA_WORK/ubsan"; chown "$SA_RUNAS" "$SA_WORK/ubsan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$SA_WORK/ubsan/report"
pass=0 fail=0
for s in 10-regress 20-isolation; do
	export SA_RESULT=$SA_WORK/result.$s
	bash "$SA_ROOT/test/suites/$s.sh" </dev/null >"$SA_WORK/$s.out" 2>&1
	read -r p f <"$SA_RESULT" || { p=0 f=1; }
	echo "$s: $p passed, $f failed"
	[ "$f" = 0 ] || tail -40 "$SA_WORK/$s.out"
	pass=$((pass + p)); fail=$((fail + f))
done
# 2. every feature on
port=$((20000 + ($$ + 31) % 20000))
sa_cluster_start "$D" "$port" "${SA_ALL_ON[@]}" "scale_advisor.snapshot_interval = 5" || exit 1
cp "$SA_ROOT/test/reliability/smoke.sql" "$D/"; chown "$SA_RUNAS" "$D/smoke.sql"
sa_as psql -X -h "$D" -p "$port" -U postgres -d postgres -f "$D/smoke.sql" >"$D/smoke.out" 2>&1
sa_as createdb -h "$D" -p "$port" -U postgres contrib_regression
n=0
for f in "$SA_BUILD"/test/sql/*.sql; do
	case "$(basename "$f")" in nopreload_*) continue ;; esac
	sa_as psql -X -h "$D" -p "$port" -U postgres -d contrib_regression -f "$f" >"$D/$(basename "$f" .sql).out" 2>&1
	n=$((n + 1))
done
sa_as psql -X -h "$D" -p "$port" -U postgres -d postgres -Atc "SELECT 1" >/dev/null
alive=$?
sa_cluster_stop "$D"
echo "every feature on: smoke.sql and $n test files run; server answered afterwards: $([ $alive = 0 ] && echo yes || echo no)"
logs=("$D/server.log" "$SA_BUILD"/log/*.log "$SA_WORK"/ubsan/report*)
ub=$(cat "${logs[@]}" 2>/dev/null | grep -c 'runtime error')
cr=0; for l in "${logs[@]}"; do [ -f "$l" ] && cr=$((cr + $(rl_crashes "$l"))); done
echo "sanitizer reports (runtime error): $ub; crashes: $cr; logs checked: $(ls "${logs[@]}" 2>/dev/null | wc -l)"
[ "$ub" = 0 ] || cat "${logs[@]}" 2>/dev/null | grep -B2 -A8 'runtime error' | head -80
echo "suites: $pass passed, $fail failed; $(( $(date +%s) - t0 )) s"
[ "$ub" = 0 ] && [ "$cr" = 0 ] && [ "$fail" = 0 ] && [ $alive = 0 ]
