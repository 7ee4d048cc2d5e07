# test/reliability/lib.sh -- shell helpers shared by the reliability suites
# (test/suites/40-70).  Source after test/lib/common.sh.

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

rl_pass=0
rl_fail=0
# rl_check NAME CONDITION-EXIT-STATUS [detail]: count one check.
rl_ok() { rl_pass=$((rl_pass + 1)); echo "ok - $1"; }
rl_notok() { rl_fail=$((rl_fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && printf '    %s\n' "$2"; return 0; }
rl_check() {
	local name=$1 cond=$2
	if [ "$cond" = 0 ]; then rl_ok "$name"; else rl_notok "$name" "${3:-}"; fi
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

# rl_vg_start DIR PORT [conf lines]: a cluster whose postmaster (and so every
# backend and background worker it forks) runs under valgrind's memcheck.
# Logs go to DIR/vg.<pid>.log.  Stop it with sa_cluster_stop DIR.  Extra
# valgrind options (e.g. --suppressions=FILE) may be given in RL_VG_OPTS.
rl_vg_start() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir"; chown "$SA_RUNAS" "$dir"
	sa_as initdb -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; return 1; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "port = $port"
		echo "fsync = off"
		echo "shared_preload_libraries = 'scale_advisor'"
		echo "compute_query_id = on"
		echo "max_connections = 20"
		echo "max_worker_processes = 8"
		echo "max_parallel_workers_per_gather = 0"
		local l; for l in "$@"; do echo "$l"; done
	} >> "$dir/data/postgresql.conf"
	# --vgdb=no: no gdbserver pipes; --error-limit=no: count every error;
	# no leak check (backends exit without freeing their memory contexts)
	sa_as bash -c "cd '$dir' && exec valgrind --quiet --tool=memcheck --trace-children=yes \
		--vgdb=no --error-limit=no --num-callers=40 --leak-check=no --read-var-info=no \
		${RL_VG_OPTS:-} --log-file='$dir/vg.%p.log' $SA_BIN/postgres -D '$dir/data'" >"$dir/server.log" 2>&1 &
	local i
	for i in $(seq 1 240); do
		sa_as pg_isready -q -h "$dir" -p "$port" && return 0
		sleep 0.5
	done
	echo "valgrind cluster did not start" >&2; tail -20 "$dir/server.log" >&2
	return 1
}

# rl_vg_report DIR: print a summary; prints on the last line the number of
# valgrind errors in scale_advisor code: those with one of the 3 innermost
# frames outside libc in scale_advisor.so (our source files).  Deeper frames
# do not count: our executor hooks are on nearly every stack, and the
# server's own reports (padding bytes written to WAL and to the relcache
# init file, the regex cache's overlapping copy; PostgreSQL's
# src/tools/valgrind.supp suppresses them) are not ours.
rl_vg_report() {
	local dir=$1 all ours
	all=$(cat "$dir"/vg.*.log 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Syscall param|Mismatched|Source and destination|Argument)')
	awk -v out="$dir/vg.ours" '
		function ours_frame(l) {
			return l ~ /scale_advisor\.so\)/ ||
				l ~ /\((advisor|archive|compat|hooks|normalize|nplus1|partition|plans|scale_advisor|sketch|snapshot|stats_sql|store|whatif|worker)\.[ch]:[0-9]+\)/
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
	ours=$(cat "$dir/vg.ours" 2>/dev/null || echo 0)
	echo "valgrind: $(ls "$dir"/vg.*.log 2>/dev/null | wc -l) processes, $all errors in all (the server's own, without PostgreSQL's suppressions), $ours in scale_advisor code"
	[ "$ours" -gt 0 ] && head -120 "$dir/vg.ours.txt"
	echo "$ours"
}
