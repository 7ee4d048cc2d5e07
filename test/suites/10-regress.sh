# test/suites/10-regress.sh -- pg_regress suites, through the Makefile's
# installcheck targets (as a PGXS user runs them).
#
# test/sql/*.sql run against a temporary instance with scale_advisor
# preloaded (test/regress.conf; make installcheck-preload); test/sql/
# nopreload_*.sql run against a second instance without it (make
# installcheck-nopreload).  Expected output is in expected/.  Set
# SA_REGRESS to a word to run only the tests whose name contains it.
# Every test counts; a run that ends without pg_regress's verdict (make or
# the temporary instance failed) counts as one more failure.
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1

pass=0 fail=0
# run_make LABEL TARGET VAR=LIST: one pg_regress run through make.
run_make() {
	local label=$1 target=$2; shift 2
	local out="$SA_WORK/regress.$label.out" rc r n m
	rm -f regression.diffs
	sa_as make -C "$SA_BUILD" PG_CONFIG="$SA_BIN/pg_config" "$target" "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	if r=$(sa_regress_result "$out"); then
		read -r n m <<<"$r"
		pass=$((pass + n)); fail=$((fail + m))
		if [ "$m" -gt 0 ]; then
			[ -f regression.diffs ] && head -300 regression.diffs
		elif [ $rc -ne 0 ]; then
			echo "make $target failed (status $rc) after its tests passed"
			fail=$((fail + 1))
		fi
	else
		echo "make $target ended without a pg_regress result (status $rc)"
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
[ ${#tests[@]} -gt 0 ] && run_make preload installcheck-preload REGRESS="${tests[*]}"
[ ${#np[@]} -gt 0 ] && run_make nopreload installcheck-nopreload NOPRELOAD="${np[*]}"
echo "$pass $fail" > "$SA_RESULT"
