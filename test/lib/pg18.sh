#!/bin/bash
# test/lib/pg18.sh -- a PostgreSQL 18 installation to test scale_advisor on.
#
# Owns: building PostgreSQL 18 from Debian's source package postgresql-18
# (suite sid) into a cache folder outside the checkout, and reusing it.
#
# Debian 12 ships only PostgreSQL 15 as binaries, so the second server the
# tests run on is built here from the upstream tarball of Debian's source
# package (the .orig.tar.bz2; Debian's own patches are not applied).  The
# source is fetched through a private apt configuration under the cache
# folder: the system's sources.list stays untouched.
#
# The installation lives in
#     $SA_PG18_CACHE/pg18-<version>-<hash of the configure options>/inst
# and is complete when the stamp file "complete" beside it exists; the stamp
# is written last, so an interrupted build is redone by the next run.  A
# lock file (flock) makes two test runs that start at the same time build
# once: the second one waits and then reuses the result.
#
# Sourced: defines sa_pg18_prefix, which prints the installation prefix
# (building it first when needed).  Run: prints the prefix.  Must run as root
# when the build is needed (it installs build dependencies with apt-get); the
# compiler and make run as the unprivileged $SA_RUNAS user, niced.  Needs no
# stdin.

SA_PG18_VERSION=${SA_PG18_VERSION:-18.6}
SA_PG18_CACHE=${SA_PG18_CACHE:-/var/cache/scale_advisor}
SA_PG18_CONFIGURE=${SA_PG18_CONFIGURE:---enable-tap-tests --enable-debug --enable-cassert}
SA_PG18_DEPS=${SA_PG18_DEPS:-bison flex libreadline-dev zlib1g-dev pkg-config libipc-run-perl libicu-dev make gcc bzip2}

# Print a line to stderr.
sa_pg18_log() { printf '== pg18: %s\n' "$*" >&2; }

# The hash that names the cache folder: the configure options.
sa_pg18_hash() {
	printf '%s\n' "$SA_PG18_CONFIGURE" | sha1sum | cut -c1-10
}

# Print the prefix of a complete installation of version $1 (or of any 18.x
# when none of $1 is there) with the current configure options, if any.
sa_pg18_find() {
	local h d
	h=$(sa_pg18_hash)
	d=$SA_PG18_CACHE/pg18-$1-$h
	if [ -f "$d/complete" ]; then
		echo "$d/inst"
		return 0
	fi
	for d in "$SA_PG18_CACHE"/pg18-18.*-"$h"; do
		[ -f "$d/complete" ] && { echo "$d/inst"; return 0; }
	done
	return 1
}

# Install the missing build dependencies (needs root).
sa_pg18_deps() {
	local missing=() p
	for p in $SA_PG18_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
			|| missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || { sa_pg18_log "build dependencies missing (${missing[*]}): run as root"; return 1; }
	sa_pg18_log "installing build dependencies ${missing[*]}"
	mkdir -p "$SA_PG18_CACHE"
	{
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}"
	} </dev/null >"$SA_PG18_CACHE/apt-install.log" 2>&1 \
		|| { cat "$SA_PG18_CACHE/apt-install.log" >&2; return 1; }
}

# Download the upstream tarball of postgresql-18 into $1 through a private
# apt configuration under $1/apt; print the upstream version obtained.
sa_pg18_download() {
	local dir=$1 apt=$1/apt debver
	mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/archives/partial"
	# deb-src entries of the system's Debian mirror, suite sid.
	sed -e 's/^Types:.*/Types: deb-src/' \
		-e 's/^Suites:.*/Suites: sid/' \
		/etc/apt/sources.list.d/debian.sources |
		awk 'BEGIN { RS = ""; ORS = "\n\n" } !/debian-security/' \
		> "$apt/sources.list.d/sid-src.sources"
	local opts=(-o Dir::Etc::SourceList=/dev/null
		-o Dir::Etc::SourceParts="$apt/sources.list.d"
		-o Dir::State::Lists="$apt/lists"
		-o Dir::Cache::archives="$apt/archives"
		-o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache=""
		-o APT::Sandbox::User=root)
	apt-get "${opts[@]}" -q update </dev/null >"$dir/apt.log" 2>&1 \
		|| { cat "$dir/apt.log" >&2; return 1; }
	# The Debian revision of the wanted upstream version, else the newest.
	debver=$(apt-cache "${opts[@]}" showsrc postgresql-18 2>/dev/null |
		awk '/^Version:/ { print $2 }' | grep "^$SA_PG18_VERSION-" | head -1)
	if [ -z "$debver" ]; then
		debver=$(apt-cache "${opts[@]}" showsrc postgresql-18 2>/dev/null |
			awk '/^Version:/ { print $2 }' | sort -V | tail -1)
		[ -n "$debver" ] || { sa_pg18_log "no source package postgresql-18 in sid"; return 1; }
		sa_pg18_log "postgresql-18 $SA_PG18_VERSION is gone from sid; using $debver"
	fi
	(cd "$dir" && apt-get "${opts[@]}" -q source --download-only \
		"postgresql-18=$debver" </dev/null >>"$dir/apt.log" 2>&1) \
		|| { cat "$dir/apt.log" >&2; return 1; }
	echo "${debver%-*}"
}

# Build and install PostgreSQL 18 into the cache; print the prefix.
sa_pg18_build() {
	local h tmp ver dest src
	h=$(sa_pg18_hash)
	[ "$(id -u)" = 0 ] || { sa_pg18_log "no complete build in $SA_PG18_CACHE: run once as root to build it"; return 1; }
	sa_pg18_deps || return 1
	tmp=$SA_PG18_CACHE/tmp-$h
	rm -rf "$tmp"
	mkdir -p "$tmp"
	sa_pg18_log "fetching the source package postgresql-18 (sid)"
	ver=$(sa_pg18_download "$tmp") || return 1
	dest=$SA_PG18_CACHE/pg18-$ver-$h
	rm -rf "$dest"
	mkdir -p "$dest"
	src=$dest/src
	mkdir -p "$src"
	tar -xjf "$tmp/postgresql-18_$ver.orig.tar.bz2" -C "$src" --strip-components=1 \
		|| { sa_pg18_log "cannot unpack the source"; return 1; }
	cp "$tmp"/postgresql-18_*.dsc "$dest/" 2>/dev/null
	rm -rf "$tmp"
	chown -R "$SA_RUNAS" "$dest"
	sa_pg18_log "building PostgreSQL $ver ($SA_PG18_CONFIGURE) in $dest; log: $dest/build.log"
	local t0=$SECONDS
	# shellcheck disable=SC2086
	if ! runuser -u "$SA_RUNAS" -- env -C "$src" nice -n "${SA_PG18_NICE:-10}" sh -c \
		"./configure --prefix='$dest/inst' $SA_PG18_CONFIGURE &&
		 make -j2 world-bin && make install-world-bin" \
		>"$dest/build.log" 2>&1 </dev/null; then
		tail -40 "$dest/build.log" >&2
		sa_pg18_log "build failed; log: $dest/build.log"
		return 1
	fi
	# Keep the installation, a record of how it was made, and the sources of
	# the regression suite; drop the object files.
	chown -R root:root "$dest/inst"
	chmod -R go-w "$dest/inst"
	runuser -u "$SA_RUNAS" -- make -s -C "$src" clean >/dev/null 2>&1
	printf 'version %s\nconfigure %s\nbuilt %s in %d s\n' "$ver" "$SA_PG18_CONFIGURE" \
		"$(date -u +%FT%TZ)" $((SECONDS - t0)) > "$dest/complete"
	sa_pg18_log "built in $((SECONDS - t0)) s"
	echo "$dest/inst"
}

# Print the prefix of the PostgreSQL 18 installation, building it first if
# no complete one is in the cache.
sa_pg18_prefix() {
	local p rc
	SA_RUNAS=${SA_RUNAS:-postgres}
	if p=$(sa_pg18_find "$SA_PG18_VERSION"); then
		echo "$p"
		return 0
	fi
	mkdir -p "$SA_PG18_CACHE" 2>/dev/null
	[ -w "$SA_PG18_CACHE" ] || { sa_pg18_log "no complete build in $SA_PG18_CACHE and cannot write there"; return 1; }
	# One build at a time: a second run waits for the first and reuses it.
	exec 9>"$SA_PG18_CACHE/.lock"
	flock 9
	if p=$(sa_pg18_find "$SA_PG18_VERSION"); then
		rc=0
	else
		p=$(sa_pg18_build)
		rc=$?
	fi
	flock -u 9
	exec 9>&-
	[ $rc -eq 0 ] && echo "$p"
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	sa_pg18_prefix
fi
