#!/bin/bash
# test/run-all.sh -- run every test suite of scale_advisor.
#
# Usage: sudo bash test/run-all.sh [--keep] [SUITE ...]
#
# Installs the packages the tests need (test/lib/packages.txt), builds the
# extension with -Wall -Wextra -Werror into a private copy of the PostgreSQL
# installation, then runs each suite in test/suites/ (or only those whose
# name contains one of the SUITE words).  Each suite starts and stops its own
# throwaway clusters as the unprivileged postgres user.  The last line is
# "N passed, N failed" summed over every suite; the exit code is non-zero
# when anything failed.  --keep leaves the work folder for inspection.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SA_ROOT/test/lib/common.sh"

keep=no
filters=()
for a in "$@"; do
	case "$a" in
		--keep) keep=yes ;;
		-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
		*) filters+=("$a") ;;
	esac
done

sa_install_packages
SA_WORK=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_test.XXXXXX")
chmod 755 "$SA_WORK"
export SA_WORK
cleanup() {
	# stop any server a suite left behind
	local pid
	for pid in $(find "$SA_WORK" -name postmaster.pid 2>/dev/null); do
		sa_as pg_ctl -D "$(dirname "$pid")" -m immediate -w stop >/dev/null 2>&1
	done
	if [ "$keep" = no ]; then rm -rf "$SA_WORK"; else echo "work folder kept: $SA_WORK"; fi
}
trap cleanup EXIT

start=$(date +%s)
if ! sa_prepare "$SA_WORK"; then
	echo "0 passed, 1 failed"
	exit 1
fi

total_pass=0
total_fail=0
summary=()
for suite in "$SA_ROOT"/test/suites/*.sh; do
	name=$(basename "$suite" .sh)
	if [ ${#filters[@]} -gt 0 ]; then
		match=no
		for f in "${filters[@]}"; do case "$name" in *"$f"*) match=yes ;; esac; done
		[ $match = yes ] || continue
	fi
	sa_log "suite $name"
	export SA_RESULT="$SA_WORK/result.$name"
	rm -f "$SA_RESULT"
	t0=$(date +%s)
	bash "$suite" </dev/null
	rc=$?
	p=0 f=0
	if [ -s "$SA_RESULT" ]; then
		read -r p f < "$SA_RESULT"
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "suite $name exited with status $rc"
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	summary+=("$(printf '%-24s %5d passed %5d failed %5ds' "$name" "$p" "$f" $(( $(date +%s) - t0 )))")
done

echo
echo "Summary ($(( $(date +%s) - start )) s):"
for s in "${summary[@]}"; do echo "  $s"; done
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] && [ $total_pass -gt 0 ]
