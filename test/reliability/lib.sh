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
