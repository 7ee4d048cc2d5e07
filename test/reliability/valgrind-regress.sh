#!/bin/bash
# test/reliability/valgrind-regress.sh -- run the extension's own pg_regress
# suites (test/sql, those that run with the library preloaded) against a
# cluster whose postmaster runs under valgrind's memcheck, and report the
# valgrind errors in scale_advisor code.  Too slow for test/run-all.sh
# (tens of minutes); the result is recorded in docs/reliability.md.
#
# Usage (as root, from the repository): bash test/reliability/valgrind-regress.sh [--keep]
# Exit status 0 when every test passed and valgrind found nothing in our code.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
keep=no; [ "${1:-}" = --keep ] && keep=yes
sa_install_packages
SA_WORK=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_vg.XXXXXX"); chmod 755 "$SA_WORK"; export SA_WORK
D=$SA_WORK/vg
cleanup() { sa_cluster_stop "$D"; [ $keep = no ] && rm -rf "$SA_WORK" || echo "work folder kept: $SA_WORK"; }
trap cleanup EXIT
sa_prepare "$SA_WORK" || exit 1
port=$((20000 + ($$ + 23) % 20000))
conf=()
while read -r l; do [ -n "$l" ] && conf+=("$l"); done < "$SA_ROOT/test/regress.conf"
t0=$(date +%s)
rl_vg_start "$D" "$port" "${conf[@]}" || exit 1
tests=()
for f in "$SA_BUILD"/test/sql/*.sql; do
	t=$(basename "$f" .sql)
	case "$t" in nopreload_*) continue ;; esac
	tests+=("$t")
done
cd "$SA_BUILD" || exit 1
sa_as "$SA_PGXS/src/test/regress/pg_regress" --bindir="$SA_BIN" --inputdir=test \
	--host="$D" --port="$port" --user=postgres --dbname=contrib_regression "${tests[@]}" \
	>"$SA_WORK/regress.out" 2>&1
cat "$SA_WORK/regress.out"
ok_tests=$(grep -q 'tests passed' "$SA_WORK/regress.out" && echo yes || echo no)
sa_cluster_stop "$D"
echo "time: $(( $(date +%s) - t0 )) s"
echo "crashes: $(rl_crashes "$D/server.log")"
ours=$(rl_vg_report "$D" | tail -1)
rl_vg_report "$D" | head -1
[ "$ok_tests" = yes ] && [ "$ours" = 0 ] && [ "$(rl_crashes "$D/server.log")" = 0 ]
