# test/suites/30-tap.sh -- TAP tests (test/t/*.pl) with PostgreSQL::Test::Cluster.
#
# Each file runs on its own; every "ok"/"not ok" line counts, and a file
# that dies or misses its plan counts as one more failure.  Set SA_TAP to a
# word to run only the files whose name contains it.  A file that creates an
# extension the server under test does not have (hypopg, pg_qualstats and
# pg_cron are packaged for Debian 12's PostgreSQL 15 only) is skipped, and
# named.
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1
pass=0 fail=0
for t in test/t/*.pl; do
	[ -e "$t" ] || continue
	case "$t" in *"${SA_TAP:-}"*) ;; *) continue ;; esac
	name=$(basename "$t" .pl)
	log="$SA_WORK/tap.$name.log"
	missing=
	for ext in $(grep -ohE 'CREATE EXTENSION (IF NOT EXISTS )?[a-z_]+( VERSION|[;'"'"'"])' "$t" |
			sed -E 's/^CREATE EXTENSION (IF NOT EXISTS )?([a-z_]+).*/\2/' | sort -u); do
		[ -f "$SA_SHAREDIR/extension/$ext.control" ] || missing="$missing $ext"
	done
	if [ -n "$missing" ]; then
		echo "$name: skipped on $SA_PGVERSION (not installed:$missing)"
		echo "$name (no$missing)" >> "$SA_RESULT.skipped"
		continue
	fi
	rm -rf "$SA_BUILD/tmp_check"
	sa_log "tap $name"
	sa_as env TESTDIR="$SA_BUILD" TESTDATADIR="$SA_BUILD/tmp_check" TESTLOGDIR="$SA_BUILD/tmp_check/log" \
		PG_REGRESS="$SA_PGXS/src/test/regress/pg_regress" \
		SA_BUILD="$SA_BUILD" SA_ROOT="$SA_BUILD" \
		prove -v -I "$SA_PGXS/src/test/perl" -I test/t "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ *ok [0-9]+' "$log")
	f=$(grep -cE '^ *not ok [0-9]+' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "$name: $p passed, $f failed"
	if [ "$f" -gt 0 ]; then
		tail -60 "$log"
		for l in "$SA_BUILD"/tmp_check/log/*.log; do
			[ -f "$l" ] && { echo "--- $l"; tail -40 "$l"; }
		done
		mkdir -p "$SA_WORK/tap-logs/$name"; cp -r "$SA_BUILD/tmp_check/log" "$SA_WORK/tap-logs/$name/" 2>/dev/null
	fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "$pass $fail" > "$SA_RESULT"
