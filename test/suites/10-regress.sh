# test/suites/10-regress.sh -- pg_regress suites.
#
# test/sql/*.sql run against a temporary instance with scale_advisor
# preloaded (test/regress.conf); test/sql/nopreload_*.sql run against a
# second instance without it.  Expected output is in expected/.  Set
# SA_REGRESS to a word to run only the tests whose name contains it.
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1
PGR=$SA_PGXS/src/test/regress/pg_regress

pass=0 fail=0
run_pgr() {
	local label=$1; shift
	local out="$SA_WORK/regress.$label.out"
	sa_as "$PGR" --bindir="$SA_BIN" --inputdir=test --dbname=contrib_regression "$@" >"$out" 2>&1
	cat "$out"
	local n m
	if n=$(sed -n 's/^[# ]*All \([0-9]*\) tests passed.*/\1/p' "$out") && [ -n "$n" ]; then
		pass=$((pass + n))
	elif m=$(sed -n 's/^[# ]*\([0-9]*\) of \([0-9]*\) tests failed.*/\1 \2/p' "$out") && [ -n "$m" ]; then
		set -- $m
		fail=$((fail + $1)); pass=$((pass + $2 - $1))
		[ -f regression.diffs ] && head -300 regression.diffs
	else
		fail=$((fail + 1))
	fi
	[ -f regression.diffs ] && cp regression.diffs "$SA_WORK/regression.$label.diffs"
}

tests=() np=()
for f in test/sql/*.sql; do
	t=$(basename "$f" .sql)
	case "$t" in *"${SA_REGRESS:-}"*) ;; *) continue ;; esac
	case "$t" in nopreload_*) np+=("$t") ;; *) tests+=("$t") ;; esac
done
[ ${#tests[@]} -gt 0 ] && run_pgr preload --temp-instance=./tmp_check_regress --temp-config=test/regress.conf "${tests[@]}"
[ ${#np[@]} -gt 0 ] && run_pgr nopreload --temp-instance=./tmp_check_nopreload "${np[@]}"
echo "$pass $fail" > "$SA_RESULT"
