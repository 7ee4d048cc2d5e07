# test/lib/common.sh -- shell functions shared by the demo and the tests.
#
# Owns: installing the Debian packages listed in test/lib/packages.txt,
# making a build copy owned by the unprivileged "postgres" user, building it,
# installing it into a private copy of the PostgreSQL installation (so that a
# test run never touches the system's extension directory and two runs cannot
# see each other's build), starting/stopping throwaway clusters, and
# reading the counts of pg_regress's and prove's own summaries.
#
# Every function is safe to call as root; servers always run as postgres.
#
# SA_PGVER selects the server: 15 is Debian 12's packages, 18 the build that
# test/lib/pg18.sh makes (and caches) from Debian's source package.
# SA_PG_CONFIG, when set, names the pg_config of another installation.

SA_PGVER=${SA_PGVER:-15}
SA_ROOT=${SA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SA_RUNAS=${SA_RUNAS:-postgres}
. "$SA_ROOT/test/lib/pg18.sh"

sa_log() { printf '== %s\n' "$*" >&2; }
sa_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as the unprivileged server user (or directly when we are
# already that user).
sa_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$SA_RUNAS" -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

# Install whatever in packages.txt is missing.  Runs apt-get update only
# when something has to be installed.
sa_install_packages() {
	local missing=() p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done < "$SA_ROOT/test/lib/packages.txt"
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || sa_die "packages missing (${missing[*]}): run as root"
		sa_log "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null || sa_die "apt-get update failed"
		apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
			|| sa_die "apt-get install failed"
	fi
	# Debian's packages may start a system cluster; the tests never use it.
	id "$SA_RUNAS" >/dev/null 2>&1 || sa_die "user $SA_RUNAS does not exist"
}

# sa_npm_install DIR: install the npm packages of DIR/package.json (exact
# versions) into a cache folder outside the checkout, reused by later runs
# (/var/cache/scale_advisor/npm/<hash of package.json>, SA_NPM_CACHE
# overrides the parent folder), and print its node_modules folder.  Installs
# Debian's npm first when there is no npm command (a node from elsewhere
# may bring its own npm).  Run as root: the cache is written once and read
# by the unprivileged test user.
sa_npm_install() {
	local dir=$1 base=${SA_NPM_CACHE:-/var/cache/scale_advisor/npm} key target tmp
	command -v node >/dev/null 2>&1 || sa_die "node is not installed (nodejs in test/lib/packages.txt)"
	key=$(sha256sum "$dir/package.json" | cut -c1-16)
	target=$base/$(basename "$dir")-$key
	if [ ! -f "$target/complete" ]; then
		if ! command -v npm >/dev/null 2>&1; then
			[ "$(id -u)" = 0 ] || sa_die "npm missing: run as root"
			sa_log "installing npm"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm \
				</dev/null >/dev/null || sa_die "apt-get install npm failed"
		fi
		sa_log "npm install $(basename "$dir") into $target"
		mkdir -p "$base" || return 1
		tmp=$(mktemp -d "$base/.install.XXXXXX") || return 1
		cp "$dir/package.json" "$tmp/"
		(cd "$tmp" && npm install --no-audit --no-fund --no-update-notifier \
			--cache "$tmp/.npm" </dev/null >npm.log 2>&1) \
			|| { cat "$tmp/npm.log" >&2; rm -rf "$tmp"; sa_log "npm install failed"; return 1; }
		rm -rf "$tmp/.npm"
		touch "$tmp/complete"
		chmod -R a+rX "$tmp"
		# another run may have finished first: keep its copy
		mv -T "$tmp" "$target" 2>/dev/null || rm -rf "$tmp"
	fi
	echo "$target/node_modules"
}

# Print the pg_config of the server SA_PGVER selects (building PostgreSQL
# 18 first if it is not in the cache yet).
sa_pg_config() {
	if [ -n "${SA_PG_CONFIG:-}" ]; then
		echo "$SA_PG_CONFIG"
		return 0
	fi
	case "$SA_PGVER" in
		18)
			local p
			p=$(sa_pg18_prefix) || return 1
			echo "$p/bin/pg_config"
			;;
		*) echo "/usr/lib/postgresql/$SA_PGVER/bin/pg_config" ;;
	esac
}

# sa_prepare WORKDIR [extra make args]: copy the source tree to
# WORKDIR/build, build it as postgres with warnings as errors, and install
# it into WORKDIR/inst, a private copy of the PostgreSQL installation (its
# bin, lib and share folders at the same paths under WORKDIR/inst: the
# server finds its libraries and extensions relative to its binary).
# Sets SA_BUILD, SA_INST, SA_BIN, SA_PGXS, SA_SHAREDIR, SA_PGVERSION (the
# server's version string) and puts SA_BIN first in PATH.
sa_prepare() {
	local work=$1; shift
	local pgc bindir pkglibdir sharedir pgxs d
	pgc=$(sa_pg_config) && [ -x "$pgc" ] \
		|| { sa_log "no PostgreSQL $SA_PGVER installation"; return 1; }
	bindir=$("$pgc" --bindir)
	pkglibdir=$("$pgc" --pkglibdir)
	sharedir=$("$pgc" --sharedir)
	pgxs=$("$pgc" --pgxs)
	SA_BUILD=$work/build
	SA_INST=$work/inst
	mkdir -p "$SA_BUILD" "$SA_INST"
	(cd "$SA_ROOT" && tar --exclude=.git --exclude=./results --exclude=./tmp_check \
		--exclude='*.o' --exclude='*.so' -cf - .) | (cd "$SA_BUILD" && tar -xf -)
	for d in "$bindir" "$pkglibdir" "$sharedir"; do
		mkdir -p "$SA_INST$(dirname "$d")"
		cp -a "$d" "$SA_INST$(dirname "$d")/"
	done
	chown -R "$SA_RUNAS" "$work" 2>/dev/null || true
	local cflags='-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers'
	sa_log "building for $("$pgc" --version) (${cflags})"
	sa_as make -s -C "$SA_BUILD" PG_CONFIG="$pgc" COPT="$cflags" "$@" >"$work/build.log" 2>&1 \
		|| { cat "$work/build.log" >&2; sa_log "build failed"; return 1; }
	sa_as make -s -C "$SA_BUILD" PG_CONFIG="$pgc" DESTDIR="$SA_INST" install >>"$work/build.log" 2>&1 \
		|| { cat "$work/build.log" >&2; sa_log "install failed"; return 1; }
	SA_BIN=$SA_INST$bindir
	SA_PGXS=$SA_INST${pgxs%/src/makefiles/pgxs.mk}
	SA_SHAREDIR=$SA_INST$sharedir
	SA_PGVERSION=$("$pgc" --version)
	export SA_BUILD SA_INST SA_BIN SA_PGXS SA_SHAREDIR SA_PGVERSION
	export PATH="$SA_BIN:$PATH"
}

# sa_cluster_start DIR PORT [conf line ...]: a throwaway cluster in DIR,
# reachable only through the unix socket in DIR.  Extra arguments are
# appended to postgresql.conf.  Stop it with sa_cluster_stop DIR.
sa_cluster_start() {
	local dir=$1 port=$2; shift 2
	mkdir -p "$dir"; chown "$SA_RUNAS" "$dir"
	sa_as initdb -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; return 1; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "port = $port"
		echo "fsync = off"
		echo "shared_preload_libraries = 'scale_advisor'"
		echo "compute_query_id = on"
		local l; for l in "$@"; do echo "$l"; done
	} >> "$dir/data/postgresql.conf"
	sa_as pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null \
		|| { cat "$dir/server.log" >&2; return 1; }
}

sa_cluster_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] && sa_as pg_ctl -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

# sa_regress_result OUT: the counts of pg_regress's (or
# pg_isolation_regress's) own summary in OUT, "All N tests passed." or "M
# of N tests failed." (PostgreSQL 18 prints them after "# "), printed as
# "PASSED FAILED"; prints nothing and returns 1 when OUT holds no summary
# (make or the temporary instance failed first).
sa_regress_result() {
	local n m
	n=$(sed -n 's/^[# ]*All \([0-9]*\) tests passed.*/\1/p' "$1")
	if [ -n "$n" ]; then
		echo "$n 0"
		return 0
	fi
	m=$(sed -n 's/^[# ]*\([0-9]*\) of \([0-9]*\) tests failed.*/\1 \2/p' "$1")
	[ -n "$m" ] || return 1
	set -- $m
	echo "$(($2 - $1)) $1"
}

# sa_prove_result LOG: the counts of prove's own summary in LOG, printed as
# "PASSED FAILED": its "Files=F, Tests=N" line and, when a file failed,
# that file's line of the Test Summary Report ("(Wstat: ... Tests: N
# Failed: K)").  A run whose summary does not say "Result: PASS" but
# counts no failed test (a file that died or missed its plan) counts one
# failure.  Prints nothing and returns 1 when LOG holds no summary (make
# failed before prove ran).
sa_prove_result() {
	local tests failed
	tests=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$1" | tail -1)
	[ -n "$tests" ] || return 1
	failed=$(sed -n 's/.*(Wstat: .* Tests: [0-9]* Failed: \([0-9]*\))$/\1/p' "$1" |
		awk '{ n += $1 } END { print n + 0 }')
	if [ "$failed" -eq 0 ] && ! grep -qx 'Result: PASS' "$1"; then
		echo "$tests 1"
	else
		echo "$((tests - failed)) $failed"
	fi
}
