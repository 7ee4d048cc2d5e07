#!/bin/bash
# test/lib/compile-check.sh -- compile scale_advisor against the headers of
# PostgreSQL versions this machine cannot run (16 and 17; 19 on request).
#
# Usage: bash test/lib/compile-check.sh [VERSION ...]     (default: 16 17)
#
# Owns: preparing a header tree per version (a PostgreSQL source tree,
# configured with --enable-cassert, with the generated headers made: no
# server is built) in a cache folder outside the checkout, and compiling
# every src/*.c against it with the server's own CFLAGS plus the test
# build's -Wall -Wextra -Werror.  Nothing is linked or run: a version
# checked here is "compile-checked", not tested.
#
# Where the headers of version V come from (first found):
#   1. a tree prepared before: $SA_PG_SRC_CACHE/headers-V-*/ with the stamp
#      file "complete" (the newest; SA_PG_SRC_CACHE defaults to
#      /var/cache/scale_advisor);
#   2. SA_PG_SOURCE, a clone of PostgreSQL's git repository (a bare one
#      will do) that has the branch REL_V_STABLE: the branch's tree is
#      archived, prepared and cached as in 1 (a newer commit of the branch
#      gets a new folder);
#   3. SA_PG<V>_SRC, an unpacked source tree (a release tarball), copied,
#      prepared and cached the same way.
# With none of them the version is reported "skipped: no source" and is
# neither a pass nor a failure.
#
# Prints one line per version: "compile (pgV): ok (N files, <what>)",
# "compile (pgV): FAILED (...)" with the compiler's errors before it, or
# "compile (pgV): skipped: no source".  With SA_RESULT set, also writes
# "V ok|failed|skipped DETAIL" lines to that file (test/run-all.sh reads
# it).  Exit status: 1 if a version failed, else 0.
#
# Preparing a tree needs perl, bison and flex (installed with apt-get when
# missing and run as root) and takes about 20 s; compiling takes about 30 s
# per version.  Run as root the preparation runs as $SA_RUNAS (postgres).

set -u
SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SA_RUNAS=${SA_RUNAS:-postgres}
SA_PG_SRC_CACHE=${SA_PG_SRC_CACHE:-/var/cache/scale_advisor}
CC_WARN='-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers'
CONFIGURE_OPTS='--enable-cassert --without-icu --without-readline --without-zlib'

cc_log() { printf '== compile-check: %s\n' "$*" >&2; }

# Run a command as the unprivileged user when we are root.
cc_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$SA_RUNAS" -- "$@"
	else
		"$@"
	fi
}

# Install perl, bison and flex when missing (root only).
cc_deps() {
	local missing=() p
	for p in perl bison flex make gcc; do
		command -v "$p" >/dev/null || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || { cc_log "missing ${missing[*]}: install them or run as root"; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" </dev/null >/dev/null 2>&1 || { cc_log "apt-get install ${missing[*]} failed"; return 1; }
}

# Print the newest complete prepared tree of version $1, if any.
cc_find() {
	local d best=
	for d in $(ls -dt "$SA_PG_SRC_CACHE"/headers-"$1"-* 2>/dev/null); do
		[ -f "$d/complete" ] && { best=$d; break; }
	done
	[ -n "$best" ] && echo "$best/src"
}

# cc_prepare V DEST WHAT FILLER...: make DEST/src with the command FILLER
# (which writes the source tree into its last argument), configure it and
# generate the headers; stamp DEST/complete, naming the source WHAT.
# Prints DEST/src.
cc_prepare() {
	local v=$1 dest=$2 what=$3; shift 3
	cc_deps || return 1
	mkdir -p "$SA_PG_SRC_CACHE" 2>/dev/null
	[ -w "$SA_PG_SRC_CACHE" ] || { cc_log "cannot write to $SA_PG_SRC_CACHE"; return 1; }
	rm -rf "$dest"
	mkdir -p "$dest/src"
	"$@" "$dest/src" || { cc_log "could not get the source of $v"; rm -rf "$dest"; return 1; }
	[ "$(id -u)" = 0 ] && chown -R "$SA_RUNAS" "$dest"
	cc_log "preparing the headers of PostgreSQL $v in $dest (configure $CONFIGURE_OPTS)"
	if ! cc_as sh -c "cd '$dest/src' && ./configure $CONFIGURE_OPTS >'$dest/configure.log' 2>&1 &&
			make -C src/backend generated-headers >'$dest/make.log' 2>&1"; then
		tail -20 "$dest/configure.log" "$dest/make.log" >&2 2>/dev/null
		cc_log "preparing $v failed; logs in $dest"
		return 1
	fi
	printf 'version %s\nsource %s\nprepared %s\n' \
		"$(sed -n 's/^AC_INIT(\[PostgreSQL\], \[\([^]]*\)\].*/\1/p' "$dest/src/configure.ac")" \
		"$what" "$(date -u +%FT%TZ)" > "$dest/complete"
	echo "$dest/src"
}

# Write the tree of git ref $2 of repository $1 into $3.
cc_fill_git() { git -C "$1" archive "$2" | tar -x -C "$3"; }
# Copy the source tree $1 into $2.
cc_fill_dir() { (cd "$1" && tar --exclude=.git -cf - .) | tar -x -C "$2"; }

# Print the prepared tree of version $1, preparing it when a source is
# given; nothing (status 2) when there is no source.
cc_tree() {
	local v=$1 t ref commit srcvar
	if [ -n "${SA_PG_SOURCE:-}" ]; then
		for ref in "REL_${v}_STABLE" "origin/REL_${v}_STABLE"; do
			commit=$(git -C "$SA_PG_SOURCE" rev-parse -q --verify "$ref^{commit}" 2>/dev/null) && break
		done
		if [ -n "${commit:-}" ]; then
			t=$SA_PG_SRC_CACHE/headers-$v-${commit:0:10}
			if [ -f "$t/complete" ]; then echo "$t/src"; return 0; fi
			cc_prepare "$v" "$t" "$ref ${commit:0:10}" cc_fill_git "$SA_PG_SOURCE" "$commit"
			return
		fi
	fi
	srcvar=SA_PG${v}_SRC
	if [ -n "${!srcvar:-}" ] && [ -f "${!srcvar}/configure.ac" ]; then
		t=$SA_PG_SRC_CACHE/headers-$v-tree-$(printf '%s' "$(cd "${!srcvar}" && pwd)" | sha1sum | cut -c1-10)
		if [ -f "$t/complete" ]; then echo "$t/src"; return 0; fi
		cc_prepare "$v" "$t" "tree ${!srcvar}" cc_fill_dir "${!srcvar}"
		return
	fi
	cc_find "$v" && return 0
	return 2
}

# cc_compile V TREE: compile every src/*.c against TREE; print the result.
cc_compile() {
	local v=$1 tree=$2 tmp flags ver c n=0 bad=0 extver
	tmp=$(mktemp -d)
	cat > "$tmp/flags.mk" <<'EOF'
include $(top_builddir)/src/Makefile.global
print-flags:
	@echo '$(CC) $(CFLAGS) $(CFLAGS_SL) $(CPPFLAGS)'
EOF
	flags=$(make -s -f "$tmp/flags.mk" top_builddir="$tree" print-flags 2>"$tmp/err") \
		|| { cat "$tmp/err" >&2; rm -rf "$tmp"; return 1; }
	ver=$(sed -n 's/^#define PG_VERSION_STR "\(PostgreSQL [^ ]*\).*/\1/p' "$tree/src/include/pg_config.h")
	extver=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$SA_ROOT/scale_advisor.control")
	for c in "$SA_ROOT"/src/*.c; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		if ! $flags $CC_WARN -I"$SA_ROOT/src" -DSA_VERSION="\"$extver\"" \
				-c -o "$tmp/$(basename "$c" .c).o" "$c" >"$tmp/out" 2>&1; then
			bad=$((bad + 1))
			sed -n '1,40p' "$tmp/out" >&2
		fi
	done
	rm -rf "$tmp"
	CC_DETAIL="$n files against $ver headers, $(sed -n 's/^source //p' "$(dirname "$tree")/complete" 2>/dev/null)"
	[ $bad -eq 0 ] || { CC_DETAIL="$bad of $n files do not compile against $ver headers"; return 1; }
	return 0
}

cc_main() {
	local versions=("$@") v tree rc status=0
	[ ${#versions[@]} -gt 0 ] || versions=(16 17)
	for v in "${versions[@]}"; do
		tree=$(cc_tree "$v")
		rc=$?
		if [ $rc -eq 2 ] || [ -z "$tree" ]; then
			if [ $rc -eq 2 ]; then
				echo "compile (pg$v): skipped: no source"
				[ -n "${SA_RESULT:-}" ] && echo "$v skipped no source" >> "$SA_RESULT"
				continue
			fi
			echo "compile (pg$v): FAILED (the headers could not be prepared)"
			[ -n "${SA_RESULT:-}" ] && echo "$v failed headers not prepared" >> "$SA_RESULT"
			status=1
			continue
		fi
		CC_DETAIL=
		if cc_compile "$v" "$tree"; then
			echo "compile (pg$v): ok ($CC_DETAIL)"
			[ -n "${SA_RESULT:-}" ] && echo "$v ok $CC_DETAIL" >> "$SA_RESULT"
		else
			echo "compile (pg$v): FAILED ($CC_DETAIL)"
			[ -n "${SA_RESULT:-}" ] && echo "$v failed $CC_DETAIL" >> "$SA_RESULT"
			status=1
		fi
	done
	return $status
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cc_main "$@"
fi
