#!/bin/bash
# test/bench/nplus1_callgrind.sh [N] -- instructions the N+1 detector adds to
# each statement, counted with callgrind in single-user mode.
#
# Builds the extension into a private install (like test/run-all.sh), then
# runs three scripts of N statements (default 3000) under callgrind, with
# the detector on and off:
#   pk    primary-key selects with random keys, autocommit (the steady path)
#   orm   a 450-byte ORM-style select with random keys, autocommit
#   loop  one transaction looping over keys: a flagged N+1 run, including
#         the one-time rewrite
# and prints, per script, the instructions of the observer per statement
# and of the whole statement (PostgresMain per statement).  Needs valgrind.
set -eu
N=${1:-3000}
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
sa_install_packages
W=$(mktemp -d "${SA_TMPDIR:-/tmp}/sa_nplus1_bench.XXXXXX")
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
sa_prepare "$W" || exit 1
D=$W/data
sa_as initdb -D "$D" -A trust -U postgres --no-sync >/dev/null
printf "shared_preload_libraries = 'scale_advisor'\ncompute_query_id = on\n" >> "$D/postgresql.conf"
cat > "$W/setup.sql" <<'SQL'
CREATE EXTENSION scale_advisor;
CREATE TABLE pk (id int PRIMARY KEY, v int);
INSERT INTO pk SELECT g, g FROM generate_series(1, 10000) g;
CREATE TABLE orm_comments (id int PRIMARY KEY, post_id int, author_id int, body text, created_at timestamptz, updated_at timestamptz, status text);
INSERT INTO orm_comments SELECT g, g % 500, g % 50, 'c', now(), now(), 'ok' FROM generate_series(1, 5000) g;
CREATE INDEX ON orm_comments (post_id);
VACUUM ANALYZE;
SQL
sa_as postgres --single -D "$D" postgres < "$W/setup.sql" >/dev/null
python3 - "$N" "$W" <<'PY'
import random, sys
n, w = int(sys.argv[1]), sys.argv[2]
random.seed(1)
with open(w + '/pk.sql', 'w') as f:
    f.write("SELECT 1;\n")
    for i in range(n):
        f.write("SELECT v FROM pk WHERE id = %d;\n" % random.randint(1, 10000))
with open(w + '/orm.sql', 'w') as f:
    f.write("SELECT 1;\n")
    for i in range(n):
        f.write('SELECT "orm_comments"."id" AS "orm_comments_id", "orm_comments"."post_id" AS "orm_comments_post_id", "orm_comments"."author_id" AS "orm_comments_author_id", "orm_comments"."body" AS "orm_comments_body", "orm_comments"."created_at" AS "orm_comments_created_at", "orm_comments"."updated_at" AS "orm_comments_updated_at", "orm_comments"."status" AS "orm_comments_status" FROM "orm_comments" WHERE "orm_comments"."post_id" = %d ORDER BY "orm_comments"."id";\n' % random.randint(1, 500))
with open(w + '/loop.sql', 'w') as f:
    f.write("BEGIN;\nSELECT id FROM pk WHERE id <= 10;\n")
    for i in range(n):
        f.write("SELECT v FROM pk WHERE id = %d;\n" % (i % 10000 + 1))
    f.write("COMMIT;\n")
PY
chown -R "$SA_RUNAS" "$W"
printf '%-6s %-4s %12s %12s %8s\n' script det observer/stmt total/stmt share
for s in pk orm loop; do
	for on in on off; do
		out=$W/cg.$s.$on
		sa_as valgrind --tool=callgrind --callgrind-out-file="$out" \
			postgres --single -D "$D" -c scale_advisor.n_plus_one=$on postgres \
			< "$W/$s.sql" >/dev/null 2>"$W/vg.$s.$on.log"
		ann=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null)
		obs=$(echo "$ann" | grep -m1 'np_observe (' | awk '{gsub(",","",$1); print $1}')
		calls=$(echo "$ann" | grep -m1 'np_observe (' | sed 's/.*(\([0-9,]*\)x).*/\1/; s/,//g')
		main=$(echo "$ann" | grep -m1 ':PostgresMain' | awk '{gsub(",","",$1); print $1}')
		awk -v s=$s -v on=$on -v o="$obs" -v c="$calls" -v m="$main" 'BEGIN {
			printf "%-6s %-4s %12.0f %12.0f %7.2f%%\n", s, on, o / c, m / c, 100 * o / m }'
	done
done
