#!/bin/bash
# test/run-all.sh -- run every test suite of scale_advisor.
#
# Usage (as root): bash test/run-all.sh [--keep] [SUITE ...]
#
# Installs the packages the tests need (test/lib/packages.txt), builds the
# extension with -Wall -Wextra -Werror into a private copy of the PostgreSQL
# installation, then runs each suite in test/suites/ (or only those whose
# name contains one of the SUITE words).  Each suite starts and stops its own
# throwaway clusters as the unprivileged postgres user.
#
# First, "compile": scale_advisor compiled with -Werror against the headers
# of PostgreSQL 16 and 17 (SA_COMPILE_VERSIONS), which no server here runs
# (test/lib/compile-check.sh; a version without a source tree is listed as
# skipped and counts neither as passed nor as failed).  Then the suites run
# on PostgreSQL 15 (Debian 12's packages), and the pg_regress, isolation,
# TAP and pg_upgrade suites (SA_PG18_SUITES) on PostgreSQL 18, built once
# from Debian's source package by test/lib/pg18.sh into
# /var/cache/scale_advisor and reused (SA_SERVERS="15" runs on 15 only,
# SA_SERVERS="18" on 18 only).  The pg_regress, isolation and TAP suites run
# through the Makefile's installcheck targets, as a PGXS user runs them;
# the upgrade suite (pg_upgrade from 15) runs in the newer server's pass
# only.  TAP files that need an extension the server does not have (hypopg,
# pg_qualstats and pg_cron exist only for 15 here) are skipped on it and
# listed.  Each summary line names the server.  The last line is "N
# passed, N failed" summed over every suite and server; the exit code is
# non-zero when anything failed.  --keep leaves the work folder for
# inspection.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$SA_ROOT/test/lib/common.sh"

keep=no
filters=()
for a in "$@"; do
	case "$a" in
		--keep) keep=yes ;;
		-h|--help) sed -n '2,29p' "$0"; exit 0 ;;
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
SA_PG18_SUITES=${SA_PG18_SUITES:-10-regress 20-isolation 30-tap 35-upgrade}
# suites that only make sense on a server newer than 15
SA_NEWER_ONLY=${SA_NEWER_ONLY:-35-upgrade}
SA_COMPILE_VERSIONS=${SA_COMPILE_VERSIONS:-16 17}
start=$(date +%s)
total_pass=0
total_fail=0
summary=()
base_path=$PATH

# wanted NAME: does NAME match one of the SUITE words (or were none given)?
wanted() {
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do case "$1" in *"$f"*) return 0 ;; esac; done
	return 1
}

if wanted compile; then
	sa_log "compile checks (PostgreSQL $SA_COMPILE_VERSIONS headers)"
	t0=$(date +%s)
	res=$SA_TOP/compile.result
	: > "$res"
	# shellcheck disable=SC2086
	SA_RESULT=$res bash "$SA_ROOT/test/lib/compile-check.sh" $SA_COMPILE_VERSIONS </dev/null
	for v in $SA_COMPILE_VERSIONS; do
		line=$(grep "^$v " "$res" | tail -1)
		read -r _ st detail <<<"$line"
		case "${st:-}" in
			ok) p=1 f=0 ;;
			skipped)
				summary+=("$(printf '%-24s skipped: %s' "compile (pg$v)" "$detail")")
				continue ;;
			*) p=0 f=1; [ -n "$line" ] || detail="no result" ;;
		esac
		total_pass=$((total_pass + p))
		total_fail=$((total_fail + f))
		summary+=("$(printf '%-24s %5d passed %5d failed %5ds  %s' "compile (pg$v)" $p $f \
			$(( $(date +%s) - t0 )) "$detail")")
	done
fi
for ver in $SA_SERVERS; do
	export SA_PGVER=$ver
	export SA_WORK=$SA_TOP/pg$ver
	export PATH=$base_path
	mkdir -p "$SA_WORK"
	suites=()
	for suite in "$SA_ROOT"/test/suites/*.sh; do
		name=$(basename "$suite" .sh)
		wanted "$name" || continue
		if [ "$ver" != 15 ]; then
			case " $SA_PG18_SUITES " in *" $name "*) ;; *) continue ;; esac
		else
			case " $SA_NEWER_ONLY " in *" $name "*) continue ;; esac
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
