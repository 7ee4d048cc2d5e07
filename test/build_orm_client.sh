#!/bin/sh
# test/build_orm_client.sh OUTPUT -- build test/orm_client.c with libpq.
# Used by the N+1 TAP tests; needs libpq-dev and a C compiler.
set -e
out=${1:?usage: build_orm_client.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libpq; then
	cflags=$(pkg-config --cflags libpq)
	libs=$(pkg-config --libs libpq)
else
	cflags="-I$(pg_config --includedir)"
	libs="-L$(pg_config --libdir) -lpq"
fi
${CC:-cc} -O1 -Wall -Werror -o "$out" "$here/orm_client.c" $cflags $libs
