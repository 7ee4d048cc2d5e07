#!/bin/sh
# test/lib/tap-select.sh -- which TAP files can run on an installation.
#
# Usage: sh test/lib/tap-select.sh EXTENSION_DIR FILE...
#
# Prints (on stdout, one per line) each FILE whose every CREATE EXTENSION
# names an extension with a control file in EXTENSION_DIR; for each other
# FILE prints "FILE: skipped (not installed: ext ...)" on stderr (never for
# scale_advisor itself: a file is not skipped because it is missing).  hypopg
# and pg_cron, for example, are packaged for Debian 12's PostgreSQL 15
# only.  A FILE that reads SA_NODE_MODULES (the npm packages of the ORM
# test, which test/suites/30-tap.sh installs) is skipped the same way when
# that variable does not name a folder.  Used by the Makefile (PROVE_TESTS
# of make installcheck) and by test/suites/30-tap.sh, so both skip the same
# files.  No state, no locks.

extdir=$1
shift
for t in "$@"; do
	[ -f "$t" ] || continue
	missing=
	for ext in $(grep -ohE 'CREATE EXTENSION (IF NOT EXISTS )?[a-z_]+( VERSION|[;'"'"'"])' "$t" |
			sed -E 's/^CREATE EXTENSION (IF NOT EXISTS )?([a-z_]+).*/\2/' | sort -u); do
		# scale_advisor itself must be installed: without it the file fails
		[ "$ext" = scale_advisor ] && continue
		[ -f "$extdir/$ext.control" ] || missing="$missing $ext"
	done
	if grep -q 'SA_NODE_MODULES' "$t" && [ ! -d "${SA_NODE_MODULES:-/nonexistent}" ]; then
		missing="$missing npm packages (SA_NODE_MODULES)"
	fi
	if [ -n "$missing" ]; then
		echo "$t: skipped (not installed:$missing)" >&2
	else
		echo "$t"
	fi
done
