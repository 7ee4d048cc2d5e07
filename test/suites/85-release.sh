# test/suites/85-release.sh -- what a release ships besides the code:
# META.json against the PGXN Meta Spec 1.0.0, the zip `make dist` makes for
# PGXN, the version numbers every file states, CHANGELOG.md, and the
# Prometheus alert rules (promtool check rules and promtool test rules).
# Runs once, on the first server of the run.
. "$SA_ROOT/test/lib/common.sh"

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() {	# check DESCRIPTION COMMAND...: one check, passing when COMMAND succeeds
	local d=$1; shift
	if out=$("$@" 2>&1); then ok "$d"; else echo "$out" | tail -20; notok "$d"; fi
}

first=${SA_SERVERS%% *}
if [ "$SA_PGVER" != "${first:-15}" ]; then
	echo "0 0" > "$SA_RESULT"
	exit 0
fi

rel=$SA_ROOT/test/release
work=$SA_WORK/release
rm -rf "$work"; mkdir -p "$work"
ver=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$SA_ROOT/scale_advisor.control")

# --- META.json -------------------------------------------------------------
validate() {	# validate FILE: exit 0 when FILE is valid PGXN 1.0.0 metadata
	python3 - "$rel/pgxn-meta-1.0.0.schema.json" "$1" <<'EOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
errors = list(jsonschema.Draft7Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
for e in errors:
    print("%s: %s" % ("/".join(map(str, e.path)) or "(top)", e.message))
sys.exit(1 if errors else 0)
EOF
}
check "META.json is valid PGXN Meta Spec 1.0.0 metadata" validate "$SA_ROOT/META.json"

# the schema refuses what the spec refuses (each mutation must be rejected)
mutate() {	# mutate NAME PYTHON-STATEMENT: a copy of META.json changed by the statement
	python3 - "$SA_ROOT/META.json" "$work/$1.json" "$2" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], "w"))
EOF
}
while IFS='|' read -r name stmt; do
	mutate "$name" "$stmt"
	if validate "$work/$name.json" >/dev/null 2>&1; then
		notok "the schema accepts META.json with $name"
	else
		ok "the schema refuses META.json with $name"
	fi
done <<'EOF'
no license|del m["license"]
no provides|del m["provides"]
a version that is not semantic (1.1)|m["version"] = "1.1"
a provides entry without file|del m["provides"]["scale_advisor"]["file"]
an unknown license string|m["license"] = "postgres"
an unknown top-level key|m["homepage"] = "x"
another meta-spec version|m["meta-spec"]["version"] = "2.0.0"
a bad prereq version|m["prereqs"]["runtime"]["requires"]["PostgreSQL"] = "15"
EOF

# versions agree: control 1.1 is PGXN's 1.1.0, debian/changelog's upstream 1.1
semver=$ver; case "$semver" in *.*.*) ;; *) semver=$semver.0 ;; esac
meta() { python3 -c "import json,sys; m=json.load(open('$SA_ROOT/META.json')); print($1)"; }
check "META.json version $(meta 'm["version"]') is the control file's $ver" \
	test "$(meta 'm["version"]')" = "$semver"
check "META.json provides scale_advisor $(meta 'm["provides"]["scale_advisor"]["version"]')" \
	test "$(meta 'm["provides"]["scale_advisor"]["version"]')" = "$semver"
dver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SA_ROOT/debian/changelog")
check "debian/changelog's version $dver is of upstream $ver" test "${dver%-*}" = "$ver"
check "CHANGELOG.md has a section for $ver" grep -Eq "^## \[?$ver\]?([^0-9.]|$)" "$SA_ROOT/CHANGELOG.md"
# prereqs: the versions tested are the ones run-all.sh runs and the README lists
tested=$(meta '" ".join(m["x_tested_postgresql"])')
runall=$(sed -n 's/^SA_SERVERS=\${SA_SERVERS:-\(.*\)}$/\1/p' "$SA_ROOT/test/run-all.sh")
check "META.json's tested versions ($tested) are those test/run-all.sh runs ($runall)" \
	test "$tested" = "$runall"
readme=$(sed -n 's/^| \([0-9][0-9]*\) | tested:.*/\1/p' "$SA_ROOT/README.md" | paste -sd' ')
check "META.json's tested versions ($tested) are those the README calls tested ($readme)" \
	test "$tested" = "$readme"
lowest=${tested%% *}
check "META.json requires PostgreSQL $lowest.0.0 at run time (the oldest tested)" \
	test "$(meta 'm["prereqs"]["runtime"]["requires"]["PostgreSQL"]')" = "$lowest.0.0"
check "debian/pgversions starts at $lowest" grep -qx "$lowest+" "$SA_ROOT/debian/pgversions"

# --- make dist ---------------------------------------------------------------
if git -C "$SA_ROOT" rev-parse HEAD >/dev/null 2>&1; then
	mkdir -p "$work/dist"
	if make -s -C "$work/dist" -f "$SA_ROOT/Makefile" VPATH="$SA_ROOT" \
		PG_CONFIG="$(sa_pg_config)" dist > "$work/dist.log" 2>&1; then
		zip=$(ls "$work"/dist/scale_advisor-*.zip)
		ok "make dist made $(basename "$zip")"
		unzip -Z1 "$zip" > "$work/zip.list"
		top=$(basename "$zip" .zip)
		check "the zip's top folder is $top/ (name-version)" test "$top" = "scale_advisor-$semver"
		check "every entry of the zip is under $top/" sh -c "! grep -v '^$top/' '$work/zip.list'"
		for f in META.json scale_advisor.control Makefile LICENSE \
			$(meta '" ".join(sorted({v["file"] for v in m["provides"].values()} | {v["docfile"] for v in m["provides"].values() if "docfile" in v}))') \
			"sql/scale_advisor--1.0--$ver.sql" "sql/scale_advisor--1.0.sql"; do
			check "the zip holds $f" grep -qx "$top/$f" "$work/zip.list"
		done
		check "the zip holds no .git" sh -c "! grep -q '/\.git/' '$work/zip.list'"
		# the install script in the zip is the one sql/install/ makes
		# (every piece, in byte order of its path, as the Makefile's sort)
		(cd "$SA_ROOT" && find sql/install -name '*.sql' | LC_ALL=C sort | xargs cat) > "$work/install.sql"
		check "the zip's install script is sql/install/**/*.sql in order" \
			sh -c "unzip -p '$zip' '$top/sql/scale_advisor--$ver.sql' | cmp -s - '$work/install.sql'"
	else
		cat "$work/dist.log"
		notok "make dist"
	fi
else
	echo "skipped: make dist needs the git checkout (none at $SA_ROOT)"
fi

# --- Prometheus rules ----------------------------------------------------------
rules=$SA_ROOT/docs/monitoring/scale_advisor_rules.yml
check "promtool check rules docs/monitoring/scale_advisor_rules.yml" promtool check rules "$rules"
check "promtool test rules test/release/scale_advisor_rules_test.yml" \
	sh -c "cd '$rel' && promtool test rules scale_advisor_rules_test.yml"
# every alert the alerts view can raise has its rule, and every rule an alert
grep -rho --include='*.sql' "alert := '[a-z_0-9]*'" "$SA_ROOT"/sql/install | sed "s/alert := '\(.*\)'/\1/" > "$work/alerts.sql"
# maintenance alerts are made from their kind and state
for k in archive partition; do for s in overdue failing; do echo "${k}_maintenance_$s"; done; done >> "$work/alerts.sql"
sort -u -o "$work/alerts.sql" "$work/alerts.sql"
grep -o 'alert="[a-z_0-9]*"' "$rules" | sed 's/alert="\(.*\)"/\1/' | sort -u > "$work/alerts.rules"
check "each alert of scale_advisor.alerts has a Prometheus rule, and no rule names another ($(wc -l < "$work/alerts.sql") alerts)" \
	diff "$work/alerts.sql" "$work/alerts.rules"
grep -o 'alertname: [A-Za-z]*' "$rel/scale_advisor_rules_test.yml" | sort -u | sed 's/alertname: //' > "$work/tested.rules"
grep -o 'alert: [A-Za-z]*' "$rules" | sed 's/alert: //' | sort -u > "$work/all.rules"
check "every rule has a unit test ($(wc -l < "$work/all.rules") rules)" diff "$work/all.rules" "$work/tested.rules"

echo "$pass $fail" > "$SA_RESULT"
