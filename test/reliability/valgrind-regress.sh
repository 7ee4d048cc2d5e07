#!/bin/bash
# test/reliability/valgrind-regress.sh -- run every pg_regress file of the
# extension (test/sql/*.sql) and the isolation specs (test/specs/*.spec)
# against clusters whose postmaster, backends and background workers run
# under valgrind's memcheck, one file at a time, and report the valgrind
# errors of each file.  Too slow for test/run-all.sh (20 minutes to an
# hour on 2 busy cores); the results are in docs/reliability.md, section 4.
#
# Clusters (one at a time, never two valgrind clusters at once):
#   preload:   scale_advisor preloaded, every feature on at sampling rate 1
#              (SA_ALL_ON of test/reliability/lib.sh) plus test/regress.conf;
#              runs test/sql/*.sql but nopreload_*, then test/specs/*.spec
#   nopreload: the library not preloaded; runs test/sql/nopreload_*.sql
# Before the valgrind runs, the same files run against the same two
# configurations without valgrind (the baseline, a minute or two): an output
# that differs under valgrind but not in the baseline is a difference caused
# by valgrind's slowness (timing), counted apart from memory errors.  The
# every-feature-on settings change some outputs (nested statements recorded,
# for example); such files differ in the baseline too and are reported so.
#
# Each valgrind error is classified by its stacks:
#   ours     one of the 3 innermost frames of the error's stack (libc and
#            valgrind's preload frames skipped) is in scale_advisor.so
#   through  scale_advisor.so is deeper in the error's stack or in the stack
#            of the allocation/origin valgrind names (our hooks are on
#            nearly every stack; printed for review, not counted as ours)
#   server   no scale_advisor frame at all
# Errors of a file are those written to any process's log while the file
# ran; what the long-lived processes write at shutdown is listed apart.
#
# Debian's server is not built with USE_VALGRIND: its memory contexts do
# not tell memcheck which parts of their blocks are allocated, so memcheck
# sees palloc'd memory as one malloc'd block (use after pfree and overruns
# inside a block go unseen; reads of never-written bytes are still seen).
# SA_VG_PG=PREFIX runs against a PostgreSQL 15 installed in PREFIX instead,
# built as the project's valgrind record was (docs/reliability.md):
#   ./configure --prefix=PREFIX --enable-debug --enable-cassert \
#     CPPFLAGS=-DUSE_VALGRIND CFLAGS='-O1 -g' --without-readline ...
#   make install; make -C contrib/postgres_fdw install;
#   make -C src/test/isolation install; cp src/tools/valgrind.supp PREFIX/
#
# Usage (as root, from the repository):
#   bash test/reliability/valgrind-regress.sh [--keep] [--no-baseline] [WORD ...]
# WORDs restrict the run to the tests whose name contains one of them.
# Environment: SA_VG_PG (above); SA_VG_SUPP=FILE (PostgreSQL's
# src/tools/valgrind.supp; found, or taken from Debian's source package,
# when unset; SA_VG_SUPP=none runs without it); SA_VG_TEST_TIMEOUT
# (seconds per file, default 3600); SA_VG_ERROR_EXITCODE=N (adds --error-exitcode=N; off by default: a
# backend exiting with a non-zero code makes the postmaster restart every
# session, so one report would fail every test running after it; errors are
# counted from the logs instead).
# Exit status 0 when no valgrind error is in scale_advisor code and no
# backend crashed.  Output differences are reported, not fatal.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
keep=no baseline=yes words=()
for a in "$@"; do
	case "$a" in
	--keep) keep=yes ;;
	--no-baseline) baseline=no ;;
	-*) echo "usage: $0 [--keep] [--no-baseline] [WORD ...]" >&2; exit 2 ;;
	*) words+=("$a") ;;
	esac
done
timeout_s=${SA_VG_TEST_TIMEOUT:-3600}
sa_install_packages
SA_WORK=$(mktemp -d "${SA_TMPDIR:-/tmp}/scale_advisor_vg.XXXXXX"); chmod 755 "$SA_WORK"; export SA_WORK
cur=""
cleanup() {
	[ -n "$cur" ] && sa_cluster_stop "$cur"
	[ $keep = no ] && rm -rf "$SA_WORK" || echo "work folder kept: $SA_WORK"
}
trap cleanup EXIT
if [ -z "${SA_VG_PG:-}" ]; then
	sa_prepare "$SA_WORK" || exit 1
else
	# a PostgreSQL of our own build (see the header): copy its installation
	# (the binaries find their files relative to themselves) and build and
	# install the extension into the copy.  Without -Werror: assertion-
	# enabled headers may warn where Debian's do not.
	SA_BUILD=$SA_WORK/build SA_INST=$SA_WORK/inst
	mkdir -p "$SA_BUILD" "$SA_INST"
	(cd "$SA_ROOT" && tar --exclude=.git --exclude=./results --exclude=./tmp_check \
		--exclude='*.o' --exclude='*.so' -cf - .) | (cd "$SA_BUILD" && tar -xf -)
	cp -a "$SA_VG_PG" "$SA_INST/pg" || exit 1
	chown -R "$SA_RUNAS" "$SA_WORK"
	pgc=$SA_INST/pg/bin/pg_config
	sa_as make -s -C "$SA_BUILD" PG_CONFIG="$pgc" COPT='-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers' \
		>"$SA_WORK/build.log" 2>&1 && sa_as make -s -C "$SA_BUILD" PG_CONFIG="$pgc" install >>"$SA_WORK/build.log" 2>&1 \
		|| { cat "$SA_WORK/build.log"; exit 1; }
	grep -A3 'warning:' "$SA_WORK/build.log"
	SA_BIN=$SA_INST/pg/bin
	SA_PGXS=$(cd "$(dirname "$("$pgc" --pgxs)")/../.." && pwd)
	export SA_BUILD SA_INST SA_BIN SA_PGXS PATH="$SA_BIN:$PATH"
	echo "server: $("$SA_BIN/postgres" --version), from $SA_VG_PG ($("$pgc" --configure | grep -o "USE_VALGRIND\|enable-cassert" | tr '\n' ' '))"
fi
cd "$SA_BUILD" || exit 1
PGR=$SA_PGXS/src/test/regress/pg_regress
PGI=$SA_PGXS/src/test/isolation/pg_isolation_regress

# PostgreSQL's suppressions (Debian ships no valgrind.supp): take the file
# from the source package of the installed major version, with the private
# apt configuration of fetch-pg-regress.sh (the system's is never touched).
vg_supp() {
	local c=${SA_PG_SRC_CACHE:-/var/cache/scale_advisor} v f
	for f in "${SA_VG_PG:-/nonexistent}/valgrind.supp" "$SA_PGXS/src/tools/valgrind.supp" /usr/lib/postgresql/$SA_PGVER/lib/pgxs/src/tools/valgrind.supp \
		"$c"/valgrind-supp-*/valgrind.supp; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	[ -d "$c/apt/sources" ] || { bash "$SA_ROOT/test/reliability/fetch-pg-regress.sh" >/dev/null || return 1; }
	local opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$c/apt/sources"
		-o Dir::State::Lists="$c/apt/lists" -o APT::Sandbox::User=root)
	for v in $(dpkg-query -W -f='${Version}' postgresql-$SA_PGVER) 15.18-0+deb12u1; do
		local tmp; tmp=$(mktemp -d "$c/supp.XXXXXX")
		if (cd "$tmp" && apt-get "${opts[@]}" source --download-only -q "postgresql-$SA_PGVER=$v" >get.log 2>&1) &&
			(cd "$tmp" && tar -xjf ./*.orig.tar.bz2 --wildcards '*/src/tools/valgrind.supp') 2>/dev/null; then
			mkdir -p "$c/valgrind-supp-$v"
			cp "$tmp"/*/src/tools/valgrind.supp "$c/valgrind-supp-$v/" && rm -rf "$tmp" &&
				{ echo "$c/valgrind-supp-$v/valgrind.supp"; return 0; }
		fi
		rm -rf "$tmp"
	done
	return 1
}
supp=${SA_VG_SUPP:-}
[ -z "$supp" ] && { supp=$(vg_supp) || { echo "note: PostgreSQL's valgrind.supp not found; running without it"; supp=none; }; }
RL_VG_OPTS=""
if [ "$supp" != none ]; then cp "$supp" "$SA_WORK/valgrind.supp"; chmod 644 "$SA_WORK/valgrind.supp"; RL_VG_OPTS="--suppressions=$SA_WORK/valgrind.supp"; fi
[ -n "${SA_VG_ERROR_EXITCODE:-}" ] && RL_VG_OPTS="$RL_VG_OPTS --error-exitcode=$SA_VG_ERROR_EXITCODE"
export RL_VG_OPTS
echo "valgrind $(valgrind --version | sed 's/valgrind-//'); suppressions: $supp; extra options: ${RL_VG_OPTS:-none}"

want() {
	[ ${#words[@]} -eq 0 ] && return 0
	local w; for w in "${words[@]}"; do case "$1" in *"$w"*) return 0 ;; esac; done
	return 1
}
pre=() np=() specs=()
for f in test/sql/*.sql; do
	t=$(basename "$f" .sql); want "$t" || continue
	case "$t" in nopreload_*) np+=("$t") ;; *) pre+=("$t") ;; esac
done
for f in test/specs/*.spec; do
	[ -e "$f" ] || continue; t=$(basename "$f" .spec); want "$t" && specs+=("$t")
done
regress_conf=()
while read -r l; do [ -n "$l" ] && regress_conf+=("$l"); done < test/regress.conf
conf_pre=("${SA_ALL_ON[@]}" "${regress_conf[@]}")
conf_np=("shared_preload_libraries = ''")
echo "preload: ${pre[*]:-none}; isolation: ${specs[*]:-none}; nopreload: ${np[*]:-none}"

# run_one KIND NAME DIR PORT OUTDIR: one pg_regress (KIND sql) or
# pg_isolation_regress (KIND spec) run of one file against the running
# cluster; prints ok or FAILED.  pg_regress (15) reads expected/ from its
# output folder, hence the link.
run_one() {
	local kind=$1 t=$2 dir=$3 port=$4 out=$5 prog db
	mkdir -p "$out"; ln -sfn "$SA_BUILD/expected" "$out/expected"; chown -R "$SA_RUNAS" "$out"
	if [ "$kind" = spec ]; then prog=$PGI db=isolation_regression; else prog=$PGR db=contrib_regression; fi
	sa_as timeout "$timeout_s" "$prog" --bindir="$SA_BIN" --inputdir="$SA_BUILD/test" --outputdir="$out" \
		--host="$dir" --port="$port" --user=postgres --dbname=$db "$t" >"$out/pg_regress.out" 2>&1
	local rc=$?
	if [ $rc = 124 ]; then
		echo "timeout after $timeout_s s" >>"$out/pg_regress.out"
		sa_as psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c \
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()" >/dev/null 2>&1
	fi
	if grep -qE 'All [0-9]+ tests passed' "$out/pg_regress.out"; then echo ok; else echo FAILED; fi
}

# ---- baseline: the same files and settings without valgrind
declare -A base
if [ $baseline = yes ]; then
	t0=$(date +%s)
	port=$((20000 + ($$ + 29) % 20000))
	for phase in pre np; do
		B=$SA_WORK/base-$phase
		if [ $phase = pre ]; then
			[ ${#pre[@]} -gt 0 ] || [ ${#specs[@]} -gt 0 ] || continue
			sa_cluster_start "$B" "$port" "${conf_pre[@]}" || exit 1
		else
			[ ${#np[@]} -gt 0 ] || continue
			sa_cluster_start "$B" "$port" "${conf_np[@]}" || exit 1
		fi
		cur=$B
		if [ $phase = pre ]; then
			for t in "${pre[@]}"; do base[$t]=$(run_one sql "$t" "$B" "$port" "$B/out/$t"); done
			for t in "${specs[@]}"; do base[$t]=$(run_one spec "$t" "$B" "$port" "$B/out/$t"); done
		else
			for t in "${np[@]}"; do base[$t]=$(run_one sql "$t" "$B" "$port" "$B/out/$t"); done
		fi
		sa_cluster_stop "$B"; cur=""
	done
	echo "baseline (no valgrind) in $(( $(date +%s) - t0 )) s"
fi

# vg_classify LOG...: the valgrind errors in the logs, classified; prints
# "total ours through server" and appends every error with a scale_advisor
# frame to $SA_WORK/vg-sa-errors.txt.  A frame is scale_advisor's when it
# is in scale_advisor.so or names one of its source files.
sa_sources=$(rl_sa_sources)
vg_classify() {
	awk -v dump="$SA_WORK/vg-sa-errors.txt" -v label="$vg_label" -v sources="$sa_sources" '
		BEGIN { src_re = "\\((" sources ")\\.[ch]:[0-9]+\\)" }
		function sa(l) {
			return l ~ /scale_advisor\.so\)/ || l ~ src_re
		}
		function finish(   i, k, kind) {
			kind = "server"; k = 0
			for (i = 1; i <= ne; i++) {
				if (st[i] ~ /libc\.so|vgpreload|ld-linux/) continue
				if (sa(st[i])) { kind = "ours"; break }
				if (++k >= 3) break
			}
			if (kind == "server")
				for (i = 1; i <= na; i++) if (sa(all[i])) { kind = "through"; break }
			c[kind]++; n++
			if (kind != "server") print "[" label "] " kind ":\n" blk >> dump
			inb = 0
		}
		/^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument|Jump to the invalid)/ {
			if (inb) finish()
			inb = 1; blk = $0 "\n"; ne = 0; na = 0; instack = 1; next }
		inb && /^==[0-9]+== *$/ { finish(); next }
		inb {
			blk = blk $0 "\n"
			if ($0 ~ /^==[0-9]+== +(at|by) 0x/) { all[++na] = $0; if (instack) st[++ne] = $0 }
			else instack = 0
		}
		END { if (inb) finish(); printf "%d %d %d %d\n", n, c["ours"], c["through"], c["server"] }' "$@"
}

# size of every valgrind log before a file runs; the new bytes after it are
# that file's
declare -A vgsize
vg_mark() { local f; vgsize=(); for f in "$1"/vg.*.log; do [ -f "$f" ] && vgsize[$f]=$(stat -c %s "$f"); done; }
vg_delta() {
	local dir=$1 to=$2 f
	: >"$to"
	for f in "$dir"/vg.*.log; do
		[ -f "$f" ] || continue
		tail -c +$(( ${vgsize[$f]:-0} + 1 )) "$f" >>"$to"
		echo >>"$to"
	done
}

rows=() tot_err=0 tot_ours=0 tot_through=0 tot_server=0 n_fail=0 n_vgdiff=0 n_basediff=0 crashes=0
: >"$SA_WORK/vg-sa-errors.txt"
record() {	# record NAME SECONDS RESULT COUNTS DIFF-AGAINST-BASELINE
	local t=$1 secs=$2 res=$3 vsb=$5; set -- $4
	local b=${base[$t]:-n/a} why
	tot_err=$((tot_err + $1)); tot_ours=$((tot_ours + $2)); tot_through=$((tot_through + $3)); tot_server=$((tot_server + $4))
	if [ "$res" = ok ]; then why="same as expected"
	elif [ "$b" = FAILED ] && [ ! -s "$vsb" ]; then why="differs as without valgrind"; n_basediff=$((n_basediff + 1))
	elif [ "$b" = FAILED ]; then why="differs, more under valgrind"; n_basediff=$((n_basediff + 1)); n_vgdiff=$((n_vgdiff + 1))
	elif [ "$b" = ok ]; then why="differs only under valgrind"; n_vgdiff=$((n_vgdiff + 1))
	else why="differs (no baseline)"; n_fail=$((n_fail + 1))
	fi
	rows+=("$(printf '%-22s %6s s  %-7s %-31s %5s %5s %7s %6s' "$t" "$secs" "$res" "$why" "$1" "$2" "$3" "$4")")
	echo "${rows[-1]}"
}

t_all=$(date +%s)
port=$((20000 + ($$ + 23) % 20000))
for phase in pre np; do
	D=$SA_WORK/vg-$phase
	if [ $phase = pre ]; then
		[ ${#pre[@]} -gt 0 ] || [ ${#specs[@]} -gt 0 ] || continue
		conf=("${conf_pre[@]}")
	else
		[ ${#np[@]} -gt 0 ] || continue
		conf=("${conf_np[@]}")
	fi
	t0=$(date +%s)
	rl_vg_start "$D" "$port" "${conf[@]}" || exit 1
	cur=$D
	echo "== $phase: cluster under valgrind started in $(( $(date +%s) - t0 )) s"
	vg_label="$phase startup"; set -- $(vg_classify "$D"/vg.*.log)
	rows+=("$(printf '%-22s %6s s  %-7s %-31s %5s %5s %7s %6s' "($phase startup)" "$(( $(date +%s) - t0 ))" - - "$1" "$2" "$3" "$4")")
	tot_err=$((tot_err + $1)); tot_ours=$((tot_ours + $2)); tot_through=$((tot_through + $3)); tot_server=$((tot_server + $4))
	if [ $phase = pre ]; then list=("${pre[@]/#/sql:}" "${specs[@]/#/spec:}"); else list=("${np[@]/#/sql:}"); fi
	for item in "${list[@]}"; do
		kind=${item%%:*} t=${item#*:}
		vg_mark "$D"; t1=$(date +%s)
		res=$(run_one "$kind" "$t" "$D" "$port" "$D/out/$t")
		secs=$(( $(date +%s) - t1 ))
		vg_delta "$D" "$D/out/$t/valgrind.log"
		if [ "$res" != ok ] && [ -n "${base[$t]:-}" ]; then
			# what valgrind's slowness changed: valgrind result against
			# the baseline result of the same file
			diff -u "$SA_WORK/base-$phase/out/$t/results/$t.out" "$D/out/$t/results/$t.out" \
				>"$D/out/$t/vs-baseline.diff" 2>&1
		fi
		vg_label=$t; record "$t" "$secs" "$res" "$(vg_classify "$D/out/$t/valgrind.log")" "$D/out/$t/vs-baseline.diff"
	done
	vg_mark "$D"; t1=$(date +%s)
	sa_cluster_stop "$D"; cur=""
	vg_delta "$D" "$D/shutdown.vglog"
	vg_label="$phase shutdown"; set -- $(vg_classify "$D/shutdown.vglog")
	rows+=("$(printf '%-22s %6s s  %-7s %-31s %5s %5s %7s %6s' "($phase shutdown)" "$(( $(date +%s) - t1 ))" - - "$1" "$2" "$3" "$4")")
	tot_err=$((tot_err + $1)); tot_ours=$((tot_ours + $2)); tot_through=$((tot_through + $3)); tot_server=$((tot_server + $4))
	c=$(rl_crashes "$D/server.log"); crashes=$((crashes + c))
	echo "== $phase: $(ls "$D"/vg.*.log | wc -l) processes under valgrind, $c crashes, $(( $(date +%s) - t0 )) s"
done

echo
echo "== summary (errors: valgrind errors while the file ran; ours/through/server as in the header)"
printf '%-22s %8s  %-7s %-31s %5s %5s %7s %6s\n' file time result output errors ours through server
printf '%s\n' "${rows[@]}"
printf '%-22s %6s s  %-7s %-31s %5s %5s %7s %6s\n' TOTAL "$(( $(date +%s) - t_all ))" "" \
	"$n_vgdiff by valgrind, $n_basediff by settings" "$tot_err" "$tot_ours" "$tot_through" "$tot_server"
echo "crashes: $crashes"
for d in "$SA_WORK"/vg-*/out/*/; do
	t=$(basename "$d")
	[ -s "$d/vs-baseline.diff" ] && { echo "== $t: valgrind result against the baseline result"; head -60 "$d/vs-baseline.diff"; }
	[ -s "$d/regression.diffs" ] && [ "${base[$t]:-}" != ok ] && { echo "== $t: against expected (differs without valgrind too)"; head -60 "$d/regression.diffs"; }
done
if [ -s "$SA_WORK/vg-sa-errors.txt" ]; then
	echo "== errors with a scale_advisor frame"
	head -400 "$SA_WORK/vg-sa-errors.txt"
fi
[ "$tot_ours" = 0 ] && [ "$crashes" = 0 ]
