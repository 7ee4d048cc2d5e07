# test/reliability/lib.sh -- shell helpers shared by the reliability suites
# (test/suites/40-70) and the scripts of test/reliability: the settings
# that turn every feature on, counting checks, a cluster under valgrind.
# Clusters are test/lib/common.sh's (sa_cluster_start, sa_cluster_stop);
# this file sources it when it is not loaded yet.

if ! declare -F sa_cluster_start >/dev/null; then
	. "${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/test/lib/common.sh"
fi

# The settings that turn every feature of scale_advisor on, at sampling rate
# 1: every statement (also nested ones) recorded, every execution's plan
# walked for index advice, N+1 detection also for nested statements,
# parameters captured, history kept.
SA_ALL_ON=(
	"scale_advisor.track = 'all'"
	"scale_advisor.track_utility = on"
	"scale_advisor.track_planning = on"
	"scale_advisor.plan_sample_rate = 1"
	"scale_advisor.plan_capture_ms = 0"
	"scale_advisor.n_plus_one = on"
	"scale_advisor.n_plus_one_nested = on"
	"scale_advisor.capture_parameters = on"
	"scale_advisor.track_history = on"
	"scale_advisor.max_query_length = 1024"
)

# Checks print "ok - NAME" or "not ok - NAME" (and a detail) and are
# counted; rl_result writes the counts to $SA_RESULT, where
# test/run-all.sh reads them (the suites call it from their EXIT trap).
rl_pass=0
rl_fail=0
# rl_ok NAME, rl_notok NAME [detail]: count one check that passed, failed.
rl_ok() { rl_pass=$((rl_pass + 1)); echo "ok - $1"; }
rl_notok() { rl_fail=$((rl_fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; return 0; }
# rl_check NAME STATUS [detail]: count one check, passed when STATUS (an
# exit status) is 0; returns 1 when it failed (rl_check ... || exit 1).
rl_check() {
	local name=$1 cond=$2
	if [ "$cond" = 0 ]; then rl_ok "$name"; else rl_notok "$name" "${3:-}"; return 1; fi
}
rl_result() { echo "$rl_pass $rl_fail" > "$SA_RESULT"; }

# rl_psql DIR PORT [psql args]: psql as postgres through the cluster's socket.
rl_psql() {
	local dir=$1 port=$2; shift 2
	sa_as psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}

# rl_crashes LOG: number of backends that died of a signal or crashed.
rl_crashes() {
	grep -cE 'terminated by signal|was terminated by exception|server process .* exited with exit code [^0]|PANIC:' "$1" 2>/dev/null
}

# rl_vg_start DIR PORT [conf lines]: sa_cluster_start's cluster, with at
# most 20 connections, 8 worker processes and no parallel query, whose
# postmaster (and so every backend and background worker it forks) runs
# under valgrind's memcheck.  Logs go to DIR/vg.<pid>.log.  Stop it with
# sa_cluster_stop DIR.  Extra valgrind options (e.g. --suppressions=FILE)
# may be given in RL_VG_OPTS.
#
# pg_ctl starts the postgres that sits beside its own binary (symbolic
# links resolved): DIR/vgbin holds a copy of pg_ctl and, named postgres, a
# script that runs the real one under valgrind.  sa_cluster_start runs
# with DIR/vgbin first in PATH (initdb, found further on, still runs the
# real postgres beside itself) and lets pg_ctl wait up to 120 s for the
# server to accept connections.
rl_vg_start() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir/vgbin"
	cp "$SA_BIN/pg_ctl" "$dir/vgbin/pg_ctl"
	# --vgdb=no: no gdbserver pipes; --error-limit=no: count every error;
	# no leak check (backends exit without freeing their memory contexts)
	{
		echo '#!/bin/sh'
		echo "# $SA_BIN/postgres under valgrind (test/reliability/lib.sh)"
		echo "case \"\$1\" in -V|--version) exec '$SA_BIN/postgres' \"\$@\" ;; esac"
		echo "cd '$dir' && exec valgrind --quiet --tool=memcheck --trace-children=yes" \
			"--vgdb=no --error-limit=no --num-callers=40 --leak-check=no --read-var-info=no" \
			"${RL_VG_OPTS:-} --log-file='$dir/vg.%p.log' '$SA_BIN/postgres' \"\$@\""
	} >"$dir/vgbin/postgres"
	chmod 755 "$dir/vgbin/postgres"
	chown -R "$SA_RUNAS" "$dir"
	PGCTLTIMEOUT=120 PATH="$dir/vgbin:$PATH" sa_cluster_start "$dir" "$port" \
		"max_connections = 20" "max_worker_processes = 8" \
		"max_parallel_workers_per_gather = 0" "$@"
}

# rl_sa_sources: the names of scale_advisor's source files without their
# .c/.h, as an awk alternation (advisor|archive|...): a valgrind stack
# frame "(name.c:123)" is in scale_advisor's code.
rl_sa_sources() {
	local f names=()
	for f in "$SA_ROOT"/src/*.[ch]; do
		f=${f##*/}
		names+=("${f%.[ch]}")
	done
	printf '%s\n' "${names[@]}" | sort -u | paste -sd'|'
}

# rl_vg_report DIR: print a summary of the valgrind logs of DIR and set
# RL_VG_OURS to the number of valgrind errors in scale_advisor code: those
# with one of the 3 innermost frames outside libc in scale_advisor.so (our
# source files).  Deeper frames do not count: our executor hooks are on
# nearly every stack, and the server's own reports (padding bytes written
# to WAL and to the relcache init file, the regex cache's overlapping copy;
# PostgreSQL's src/tools/valgrind.supp suppresses them) are not ours.
rl_vg_report() {
	local dir=$1 all
	all=$(cat "$dir"/vg.*.log 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)')
	awk -v out="$dir/vg.ours" -v sources="$(rl_sa_sources)" '
		BEGIN { src_re = "\\((" sources ")\\.[ch]:[0-9]+\\)" }
		function ours_frame(l) {
			return l ~ /scale_advisor\.so\)/ || l ~ src_re
		}
		function judge(   i, k) {
			k = 0
			for (i = 1; i <= nf; i++) {
				if (fr[i] ~ /libc\.so|vgpreload|ld-linux/) continue
				if (ours_frame(fr[i])) return 1
				if (++k >= 3) return 0
			}
			return 0
		}
		/^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)/ {
			inb = 1; hdr = $0; blk = $0 "\n"; nf = 0; next }
		inb && /^==[0-9]+== *$/ { if (judge()) { n++; print blk > "/dev/stderr" } inb = 0; next }
		inb { blk = blk $0 "\n"; if ($0 ~ /^==[0-9]+== +(at|by) 0x/) fr[++nf] = $0 }
		END { print n + 0 > out }' "$dir"/vg.*.log 2>"$dir/vg.ours.txt"
	RL_VG_OURS=$(cat "$dir/vg.ours" 2>/dev/null || echo 0)
	echo "valgrind: $(ls "$dir"/vg.*.log 2>/dev/null | wc -l) processes, $all errors in all (the server's own, without PostgreSQL's suppressions), $RL_VG_OURS in scale_advisor code"
	[ "$RL_VG_OURS" -gt 0 ] && head -120 "$dir/vg.ours.txt"
	return 0
}
