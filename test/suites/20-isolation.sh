# test/suites/20-isolation.sh -- isolation tests (test/specs/*.spec),
# through the Makefile's installcheck-isolation target (as a PGXS user runs
# them).  Every spec counts; a run that ends without pg_isolation_regress's
# verdict counts as one more failure.
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1
specs=()
for f in test/specs/*.spec; do [ -e "$f" ] && specs+=("$(basename "$f" .spec)"); done
if [ ${#specs[@]} -eq 0 ]; then echo "0 0" > "$SA_RESULT"; exit 0; fi
out="$SA_WORK/isolation.out"
rm -f regression.diffs
sa_as make -C "$SA_BUILD" PG_CONFIG="$SA_BIN/pg_config" installcheck-isolation \
	ISOLATION="${specs[*]}" >"$out" 2>&1
rc=$?
cat "$out"
pass=0 fail=0
if r=$(sa_regress_result "$out"); then
	read -r pass fail <<<"$r"
	[ "$fail" -gt 0 ] && [ -f regression.diffs ] && head -300 regression.diffs
else
	echo "make installcheck-isolation ended without a result (status $rc)"
	fail=1
fi
if [ $rc -ne 0 ] && [ $fail -eq 0 ]; then
	echo "make installcheck-isolation failed (status $rc) after its tests passed"
	fail=1
fi
echo "$pass $fail" > "$SA_RESULT"
