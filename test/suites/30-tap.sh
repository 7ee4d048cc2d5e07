# test/suites/30-tap.sh -- TAP tests (test/t/*.pl) with PostgreSQL::Test::Cluster,
# through the Makefile's installcheck-tap target (as a PGXS user runs them).
#
# Each file runs on its own (make installcheck-tap PROVE_TESTS=file); the
# counts are prove's own summary's (sa_prove_result: its tests and failed
# tests), and a file that dies, misses its plan or whose make fails counts
# as one more failure.  Set SA_TAP to a word to run only
# the files whose name contains it.  A file that creates an extension the
# server under test does not have (hypopg, pg_qualstats and pg_cron are
# packaged for Debian 12's PostgreSQL 15 only) is skipped, and named: the
# same choice as make installcheck's (test/lib/tap-select.sh).
. "$SA_ROOT/test/lib/common.sh"
cd "$SA_BUILD" || exit 1
pass=0 fail=0
SA_NODE_MODULES=
for t in test/t/*.pl; do
	[ -e "$t" ] || continue
	case "$t" in *"${SA_TAP:-}"*) ;; *) continue ;; esac
	name=$(basename "$t" .pl)
	log="$SA_WORK/tap.$name.log"
	# the ORM test's Sequelize application needs its npm packages: here a
	# failed install is a failure (make installcheck skips the file instead)
	if grep -q SA_NODE_MODULES "$t" && [ -z "${SA_NODE_MODULES:-}" ]; then
		SA_NODE_MODULES=$(sa_npm_install "$SA_ROOT/test/orm/sequelize") || SA_NODE_MODULES=
		if [ -z "$SA_NODE_MODULES" ]; then
			echo "$name: 0 passed, 1 failed (its npm packages could not be installed)"
			fail=$((fail + 1))
			continue
		fi
	fi
	SA_NODE_MODULES=${SA_NODE_MODULES:-} sh test/lib/tap-select.sh "$SA_SHAREDIR/extension" "$t" \
		>/dev/null 2>"$log.skip"
	if [ -s "$log.skip" ]; then
		missing=$(sed -n 's/.*(not installed:\(.*\))$/\1/p' "$log.skip")
		echo "$name: skipped on $SA_PGVERSION (not installed:$missing)"
		echo "$name (no$missing)" >> "$SA_RESULT.skipped"
		continue
	fi
	sa_log "tap $name"
	sa_as env SA_NODE_MODULES="${SA_NODE_MODULES:-}" \
		make -C "$SA_BUILD" PG_CONFIG="$SA_BIN/pg_config" installcheck-tap \
		PROVE_TESTS="$t" PROVE_FLAGS=-v >"$log" 2>&1
	rc=$?
	read -r p f < <(sa_prove_result "$log" || echo 0 1)
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
