#!/bin/bash
# test/bench/index_upkeep_am.sh -- what one index of each access method
# adds to the cost of writing a row, against a btree: the factors
# scale_advisor's advice applies to a btree's upkeep for GIN and BRIN
# indexes (am_upkeep_factor in src/advisor.c, docs/index-advice.md).
#
# Usage: bash test/bench/index_upkeep_am.sh [ROWS] [ROUNDS]   (defaults 50000, 7; as root)
#
# Builds the extension into a private install (test/lib/common.sh), starts a
# throwaway cluster (fsync off), makes a source table of ROWS rows (a time,
# a title of 38 characters, two tags, a small jsonb, a text of 20 words), and
# for each round and each configuration (no index; a btree on the time; a
# BRIN on it; GIN on the jsonb with jsonb_path_ops and jsonb_ops, on the
# tags, on the title with pg_trgm, on to_tsvector of the text) creates an
# empty table with that one index and measures the backend's CPU time (user
# + system, from /proc/self/stat: it does not depend on what else the
# machine runs, unlike wall time) of INSERT ... SELECT of the rows, pending
# list cleanups of the GIN indexes included (a final one is forced).
# Prints each configuration's times, the median, the CPU time an index adds
# per row (median minus no index) and that as a multiple of the btree's.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
rows=${1:-50000}
rounds=${2:-7}
work=$(mktemp -d "${SA_TMPDIR:-/var/tmp}/sa_upkeep.XXXXXX"); chmod 755 "$work"
trap 'sa_cluster_stop "$work/c" >/dev/null 2>&1; rm -rf "$work"' EXIT
sa_install_packages
sa_prepare "$work" || exit 1
port=56${RANDOM:0:2}
sa_cluster_start "$work/c" "$port" || exit 1
psql_() { sa_as psql -X -q -v ON_ERROR_STOP=1 -h "$work/c" -p "$port" -d postgres "$@"; }
psql_ -c "CREATE EXTENSION pg_trgm" || exit 1
psql_ -c "CREATE TABLE up_src AS SELECT i,
  'Title ' || md5(i::text) AS title,
  ARRAY['t' || (i % 100), 't' || (i % 37)] AS tags,
  jsonb_build_object('type', CASE WHEN i % 100 = 0 THEN 'signup' ELSE 'view' END, 'n', i % 50) AS payload,
  '2024-01-01'::timestamptz + i * interval '1 minute' AS ts,
  (SELECT string_agg('w' || floor(exp(random() * ln(20000)))::int, ' ') FROM generate_series(1, 20) g WHERE g > i * 0) AS body
  FROM generate_series(1, $rows) i" -c "VACUUM ANALYZE up_src" || exit 1

kinds="none btree brin gin_jsonb_path_ops gin_jsonb_ops gin_tags gin_trgm gin_fts"
index_of() {
	case $1 in
		none) echo "" ;;
		btree) echo "CREATE INDEX ON up_t (ts);" ;;
		brin) echo "CREATE INDEX ON up_t USING brin (ts);" ;;
		gin_jsonb_path_ops) echo "CREATE INDEX ON up_t USING gin (payload jsonb_path_ops);" ;;
		gin_jsonb_ops) echo "CREATE INDEX ON up_t USING gin (payload);" ;;
		gin_tags) echo "CREATE INDEX ON up_t USING gin (tags);" ;;
		gin_trgm) echo "CREATE INDEX ON up_t USING gin (title gin_trgm_ops);" ;;
		gin_fts) echo "CREATE INDEX ON up_t USING gin (to_tsvector('english', body));" ;;
	esac
}
psql_ -c "CREATE FUNCTION cpu_ms() RETURNS bigint LANGUAGE sql AS \$\$
  SELECT 10 * (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
             + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint) \$\$" || exit 1
declare -A T
for r in $(seq 1 "$rounds"); do
	for k in $kinds; do
		clean=""
		case $k in gin_*) clean="SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i WHERE i.indrelid = 'up_t'::regclass;" ;; esac
		ms=$(psql_ -At -f - <<SQL 2>&1 | tail -1
DROP TABLE IF EXISTS up_t;
CREATE TABLE up_t (LIKE up_src);
$(index_of "$k")
CHECKPOINT;
SELECT cpu_ms() AS t0 \gset
INSERT INTO up_t SELECT * FROM up_src;
$clean
SELECT cpu_ms() - :t0;
SQL
)
		T[$k]="${T[$k]:-} $ms"
	done
done
med() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
none=$(med "${T[none]}")
btree=$(med "${T[btree]}")
printf '%-20s %10s %14s %10s   %s\n' index "median ms" "us/row added" "x btree" "CPU ms of each round"
for k in $kinds; do
	m=$(med "${T[$k]}")
	awk -v k="$k" -v m="$m" -v n="$none" -v b="$btree" -v r="$rows" -v t="${T[$k]# }" \
		'BEGIN { add = (m - n) * 1000 / r; bt = (b - n) * 1000 / r;
		         printf "%-20s %10.1f %14.2f %10.2f   %s\n", k, m, add, (bt > 0 ? add / bt : 0), t }'
done
echo "rows: $rows, rounds: $rounds, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
