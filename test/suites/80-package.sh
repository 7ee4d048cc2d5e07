# test/suites/80-package.sh -- the Debian package, built, installed, tested
# and purged the way a DBA would (PostgreSQL 15, Debian's packages only).
#
# 1. Builds the source and binary packages from a copy of the tree with
#    dpkg-buildpackage -us -uc (the orig tarball is made from the same copy,
#    as `make dist` does).
# 2. Installs the .deb with apt-get install ./...deb; files of the same
#    paths that were there before and belong to no package (a `make install`
#    of the demo) are set aside first and put back at the end.
# 3. Makes a cluster with pg_createcluster (its own name, a free port),
#    starts it with pg_ctlcluster with the library preloaded, and runs the
#    pg_regress and isolation suites against it as the installed package
#    provides the extension; then the nopreload_* tests with the library
#    not preloaded.  The cluster is dropped.
# 4. apt-get purge; checks that no file of the package is left.
# Each of these is one check; each pg_regress/isolation test is one more.
. "$SA_ROOT/test/lib/common.sh"

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }
finish() { echo "$pass $fail" > "$SA_RESULT"; }

if [ "$SA_PGVER" != 15 ]; then
	echo "the package is built for Debian 12's PostgreSQL 15 only"
	echo "0 0" > "$SA_RESULT"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	notok "installing a package needs root"
	finish
	exit 0
fi

# one suite at a time installs into the system's PostgreSQL (81-dba-walk.sh
# too), also across concurrent runs
exec 9>/var/lock/scale_advisor-system-install.lock
if ! flock -w 1800 9; then
	notok "waited 30 minutes for another suite installing into the system"
	finish
	exit 0
fi

pkg=postgresql-15-scale-advisor
ver=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$SA_ROOT/scale_advisor.control")
dver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$SA_ROOT/debian/changelog")
work=$SA_WORK/package
rm -rf "$work"
mkdir -p "$work/src"
cluster=sa_pkg_$$
saved=$work/saved
: > "$work/restore.list"

cleanup() {
	pg_dropcluster --stop 15 "$cluster" >/dev/null 2>&1
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		apt-get purge -y -q "$pkg" >/dev/null 2>&1
	fi
	# put back what a make install had there before
	local f
	while read -r f; do
		[ -n "$f" ] && mkdir -p "$(dirname "$f")" && cp -a "$saved$f" "$f"
	done < "$work/restore.list"
}
trap cleanup EXIT

# --- 1. build ------------------------------------------------------------
(cd "$SA_ROOT" && tar --exclude=.git --exclude=./results --exclude=./tmp_check* \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - .) | (cd "$work/src" && tar -xf -)
rm -f "$work/src/sql/scale_advisor--$ver.sql"	# built, not shipped
(cd "$work" && tar -czf "scale-advisor_${dver%-*}.orig.tar.gz" --exclude=src/debian \
	--transform "s,^src,scale-advisor-${dver%-*}," src)
if (cd "$work/src" && dpkg-buildpackage -us -uc) > "$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc built $(cd "$work" && ls *.deb *.dsc | paste -sd' ')"
else
	tail -40 "$work/build.log"
	notok "dpkg-buildpackage -us -uc"
	finish
	exit 0
fi
deb=$(ls "$work"/${pkg}_${dver}_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's,^\.,,' | grep -v '/$' > "$work/files"
for f in /usr/lib/postgresql/15/lib/scale_advisor.so \
	"/usr/share/postgresql/15/extension/scale_advisor.control" \
	"/usr/share/postgresql/15/extension/scale_advisor--$ver.sql" \
	"/usr/share/postgresql/15/extension/scale_advisor--1.0--$ver.sql"; do
	grep -qx "$f" "$work/files" || notok "the package lacks $f"
done

# --- 2. install ----------------------------------------------------------
while read -r f; do
	if [ -e "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1; then
		mkdir -p "$saved$(dirname "$f")"
		cp -a "$f" "$saved$f" && rm -f "$f" && echo "$f" >> "$work/restore.list"
	fi
done < "$work/files"
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" > "$work/install.log" 2>&1 \
	&& dpkg-query -W -f='${Status} ${Version}' "$pkg" | grep -q "ok installed $dver"; then
	ok "apt-get install ./$(basename "$deb")"
else
	cat "$work/install.log"
	notok "apt-get install ./$(basename "$deb")"
	finish
	exit 0
fi
missing=$(while read -r f; do [ -e "$f" ] || echo "$f"; done < "$work/files")
[ -z "$missing" ] && ok "every file of the package is in place" || notok "missing after install: $missing"

# --- 3. a Debian-managed cluster ------------------------------------------
if pg_createcluster 15 "$cluster" --start-conf=manual \
	-o "shared_preload_libraries=scale_advisor" -o "compute_query_id=on" \
	-o "scale_advisor.max_query_length=1024" > "$work/cluster.log" 2>&1 \
	&& pg_ctlcluster 15 "$cluster" start >> "$work/cluster.log" 2>&1; then
	port=$(pg_lsclusters -h | awk -v c="$cluster" '$1 == 15 && $2 == c {print $3}')
	ok "pg_createcluster 15 $cluster (port $port), pg_ctlcluster start"
else
	cat "$work/cluster.log"
	notok "pg_createcluster/pg_ctlcluster"
	finish
	exit 0
fi

# the tests run from a copy postgres may write to; the server is the
# package's, so nothing is built or installed here
tdir=$work/tests
mkdir -p "$tdir"
cp -a "$SA_ROOT/test" "$SA_ROOT/expected" "$tdir/"
chown -R "$SA_RUNAS" "$tdir"
pgxs=/usr/lib/postgresql/15/lib/pgxs/src/test
conn=(--host=/var/run/postgresql --port="$port" --bindir=/usr/lib/postgresql/15/bin)

count_pgr() {	# count_pgr LABEL OUTFILE: add pg_regress's summary to the counts
	local r n m
	if r=$(sa_regress_result "$2"); then
		read -r n m <<<"$r"
		pass=$((pass + n)); fail=$((fail + m))
		if [ "$m" -eq 0 ]; then
			echo "ok - $1: $n tests"
		else
			echo "not ok - $m of $((n + m)) tests failed"
			[ -f "$tdir/regression.diffs" ] && head -200 "$tdir/regression.diffs"
		fi
	else
		cat "$2"; notok "$1 did not run"
	fi
}

tests=() np=() specs=()
for f in "$tdir"/test/sql/*.sql; do
	t=$(basename "$f" .sql)
	case "$t" in nopreload_*) np+=("$t") ;; *) tests+=("$t") ;; esac
done
for f in "$tdir"/test/specs/*.spec; do [ -e "$f" ] && specs+=("$(basename "$f" .spec)"); done

(cd "$tdir" && sa_as "$pgxs/regress/pg_regress" "${conn[@]}" --inputdir=test \
	--dbname=contrib_regression "${tests[@]}") > "$work/regress.out" 2>&1
count_pgr "pg_regress against the packaged extension" "$work/regress.out"
if [ ${#specs[@]} -gt 0 ]; then
	(cd "$tdir" && sa_as "$pgxs/isolation/pg_isolation_regress" "${conn[@]}" --inputdir=test \
		--outputdir=. --dbname=isolation_regression "${specs[@]}") > "$work/iso.out" 2>&1
	count_pgr "isolation against the packaged extension" "$work/iso.out"
fi

# the same cluster without the library preloaded
sed -i "s/^shared_preload_libraries.*/shared_preload_libraries = ''/" \
	"/etc/postgresql/15/$cluster/postgresql.conf"
if pg_ctlcluster 15 "$cluster" restart >> "$work/cluster.log" 2>&1; then
	(cd "$tdir" && sa_as "$pgxs/regress/pg_regress" "${conn[@]}" --inputdir=test \
		--dbname=contrib_regression "${np[@]}") > "$work/nopreload.out" 2>&1
	count_pgr "pg_regress without the preload" "$work/nopreload.out"
else
	notok "pg_ctlcluster restart without the preload"
fi

if pg_dropcluster --stop 15 "$cluster" >> "$work/cluster.log" 2>&1 \
	&& ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "15/$cluster"; then
	ok "pg_dropcluster --stop 15 $cluster"
else
	notok "pg_dropcluster"
fi

# --- 4. purge ------------------------------------------------------------
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" > "$work/purge.log" 2>&1 \
	&& ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed'; then
	ok "apt-get purge $pkg"
else
	cat "$work/purge.log"
	notok "apt-get purge $pkg"
fi
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done < "$work/files")
for d in /usr/share/doc/$pkg /usr/lib/postgresql/15/lib/bitcode/scale_advisor; do
	[ -e "$d" ] && left="$left $d"
done
[ -z "$left" ] && ok "apt-get purge left no file of the package" || notok "left after purge: $left"
finish
