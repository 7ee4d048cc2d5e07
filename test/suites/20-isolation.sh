# test/suites/20-isolation.sh -- isolation tests (test/specs/*.spec).
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1
specs=()
for f in test/specs/*.spec; do [ -e "$f" ] && specs+=("$(basename "$f" .spec)"); done
if [ ${#specs[@]} -eq 0 ]; then echo "0 0" > "$SA_RESULT"; exit 0; fi
out="$SA_WORK/isolation.out"
sa_as "$SA_PGXS/src/test/isolation/pg_isolation_regress" --bindir="$SA_BIN" --inputdir=test \
	--outputdir=. --temp-instance=./tmp_check_iso --temp-config=test/regress.conf \
	--dbname=isolation_regression "${specs[@]}" >"$out" 2>&1
cat "$out"
pass=0 fail=0
if n=$(sed -n 's/^[# ]*All \([0-9]*\) tests passed.*/\1/p' "$out") && [ -n "$n" ]; then
	pass=$n
elif m=$(sed -n 's/^[# ]*\([0-9]*\) of \([0-9]*\) tests failed.*/\1 \2/p' "$out") && [ -n "$m" ]; then
	set -- $m; fail=$1; pass=$(($2 - $1))
	[ -f regression.diffs ] && head -300 regression.diffs
else
	fail=1
fi
echo "$pass $fail" > "$SA_RESULT"
