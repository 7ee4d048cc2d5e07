#!/bin/bash
# test/reliability/fetch-pg-regress.sh -- get PostgreSQL 15's own regression
# suite (src/test/regress) from Debian's source package and cache it.
#
# Usage: bash test/reliability/fetch-pg-regress.sh [CACHE-DIR]
# Prints the folder holding sql/, expected/, data/, parallel_schedule,
# resultmap and regress.c.  Uses a private apt configuration (deb-src copy of
# the system's debian.sources, private lists folder): the system's apt
# sources are never touched.  Set SA_PG_SRC_VERSIONS to the versions to try
# (newest first); the default tries the installed server's version, then
# the release of bookworm main.  Exits non-zero with a message when the
# source cannot be had.
set -u
cache=${1:-${SA_PG_SRC_CACHE:-/var/cache/scale_advisor}}
installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null)
versions=${SA_PG_SRC_VERSIONS:-"$installed 15.18-0+deb12u1 15.13-0+deb12u1"}

for v in $versions; do
	[ -n "$v" ] || continue
	d=$cache/pg-regress-$v
	if [ -f "$d/.complete" ]; then echo "$d"; exit 0; fi
done

command -v dpkg-source >/dev/null || { echo "error: dpkg-source missing (install dpkg-dev)" >&2; exit 1; }
mkdir -p "$cache" || { echo "error: cannot create $cache" >&2; exit 1; }
apt_dir=$cache/apt
mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial"
sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$apt_dir/sources/debian-src.sources"
opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$apt_dir/sources"
	-o Dir::State::Lists="$apt_dir/lists" -o APT::Sandbox::User=root)
if ! apt-get "${opts[@]}" update -q >"$cache/apt-update.log" 2>&1; then
	echo "error: apt-get update (deb-src) failed; see $cache/apt-update.log" >&2
	tail -5 "$cache/apt-update.log" >&2
	exit 1
fi
for v in $versions; do
	[ -n "$v" ] || continue
	tmp=$(mktemp -d "$cache/src.XXXXXX")
	if (cd "$tmp" && apt-get "${opts[@]}" source -q "postgresql-15=$v" >"$tmp/get.log" 2>&1); then
		top=$(find "$tmp" -maxdepth 1 -type d -name 'postgresql-15-*' | head -1)
		r=$top/src/test/regress
		if [ -n "$top" ] && [ -f "$r/parallel_schedule" ]; then
			d=$cache/pg-regress-$v
			rm -rf "$d"; mkdir -p "$d"
			cp -a "$r/sql" "$r/expected" "$r/data" "$r/parallel_schedule" "$r/resultmap" "$r/regress.c" "$d/"
			# input/ and output/ hold files pg_regress converts (PG 15 keeps
			# them as .source files in some releases)
			for x in input output; do [ -d "$r/$x" ] && cp -a "$r/$x" "$d/"; done
			touch "$d/.complete"
			rm -rf "$tmp"
			echo "$d"
			exit 0
		fi
	fi
	echo "note: postgresql-15=$v source not available" >&2
	tail -3 "$tmp/get.log" >&2
	rm -rf "$tmp"
done
echo "error: no PostgreSQL 15 source package could be downloaded (tried: $versions)" >&2
exit 1
