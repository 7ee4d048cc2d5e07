#!/bin/bash
# test/run-all.sh -- run every test suite of scale_advisor.
#
# Usage: sudo bash test/run-all.sh [--keep] [SUITE ...]
#
# Installs the packages the tests need (test/lib/packages.txt), builds the
# extension with -Wall -Wextra -Werror into a private copy of the PostgreSQL
# installation, then runs each suite in test/suites/ (or only those whose
# name contains one of the SUITE words).  Each suite starts and stops its own
# throwaway clusters as the unprivileged postgres user.
#
# The suites run on PostgreSQL 15 (Debian 12's packages), then the
# pg_regress, isolation and TAP suites (SA_PG18_SUITES) again on PostgreSQL
# 18, built once from Debian's source package by test/lib/pg18.sh into
# /var/cache/scale_advisor and reused (SA_SERVERS="15" runs on 15 only,
# SA_SERVERS="18" on 18 only).  TAP files that need an extension the server
# does not have (hypopg, pg_qualstats and pg_cron exist only for 15 here)
# are skipped on it and listed.  Each summary line names the server.  The
# last line is "N passed, N failed" summed over every suite and server; the
# exit code is non-zero when anything failed.  --keep leaves the work folder
# for inspection.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SA_ROOT/test/lib/common.sh"

keep=no
filters=()
for a in "$@"; do
	case "$a" in
		--keep) keep=yes ;;
		-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
		*) filters+=("$a") ;;
	esac
done

sa_install_packages
SA_TOP=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_test.XXXXXX")
chmod 755 "$SA_TOP"
cleanup() {
	# stop any server a suite left behind, with the pg_ctl of its server
	local pid v ctl
	for pid in $(find "$SA_TOP" -name postmaster.pid 2>/dev/null); do
		v=${pid#"$SA_TOP"/}
		v=${v%%/*}
		ctl=$(cat "$SA_TOP/pg_ctl.$v" 2>/dev/null) || ctl=pg_ctl
		sa_as "$ctl" -D "$(dirname "$pid")" -m immediate -w stop >/dev/null 2>&1
	done
	if [ "$keep" = no ]; then rm -rf "$SA_TOP"; else echo "work folder kept: $SA_TOP"; fi
}
trap cleanup EXIT

SA_SERVERS=${SA_SERVERS:-15 18}
SA_PG18_SUITES=${SA_PG18_SUITES:-10-regress 20-isolation 30-tap}
start=$(date +%s)
total_pass=0
total_fail=0
summary=()
base_path=$PATH
for ver in $SA_SERVERS; do
	export SA_PGVER=$ver
	export SA_WORK=$SA_TOP/pg$ver
	export PATH=$base_path
	mkdir -p "$SA_WORK"
	suites=()
	for suite in "$SA_ROOT"/test/suites/*.sh; do
		name=$(basename "$suite" .sh)
		if [ ${#filters[@]} -gt 0 ]; then
			match=no
			for f in "${filters[@]}"; do case "$name" in *"$f"*) match=yes ;; esac; done
			[ $match = yes ] || continue
		fi
		if [ "$ver" != 15 ]; then
			case " $SA_PG18_SUITES " in *" $name "*) ;; *) continue ;; esac
		fi
		suites+=("$suite")
	done
	[ ${#suites[@]} -gt 0 ] || continue
	sa_log "PostgreSQL $ver"
	t0=$(date +%s)
	if ! sa_prepare "$SA_WORK"; then
		total_fail=$((total_fail + 1))
		summary+=("$(printf '%-24s %5d passed %5d failed %5ds' "build (pg$ver)" 0 1 $(( $(date +%s) - t0 )))")
		continue
	fi
	echo "$SA_BIN/pg_ctl" > "$SA_TOP/pg_ctl.pg$ver"
	sa_log "$SA_PGVERSION"
	for suite in "${suites[@]}"; do
		name=$(basename "$suite" .sh)
		sa_log "suite $name (pg$ver)"
		export SA_RESULT="$SA_WORK/result.$name"
		rm -f "$SA_RESULT" "$SA_RESULT.skipped"
		t0=$(date +%s)
		bash "$suite" </dev/null
		rc=$?
		p=0 f=0
		if [ -s "$SA_RESULT" ]; then
			read -r p f < "$SA_RESULT"
		fi
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "suite $name (pg$ver) exited with status $rc"
			f=1
		fi
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		summary+=("$(printf '%-24s %5d passed %5d failed %5ds' "$name (pg$ver)" "$p" "$f" $(( $(date +%s) - t0 )))")
		if [ -s "$SA_RESULT.skipped" ]; then
			summary+=("    skipped: $(paste -sd, "$SA_RESULT.skipped" | sed 's/,/, /g')")
		fi
	done
done

echo
echo "Summary ($(( $(date +%s) - start )) s):"
for s in "${summary[@]}"; do echo "  $s"; done
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] && [ $total_pass -gt 0 ]
