#!/bin/bash
# test/bench/index_upkeep.sh -- measure what an index costs writes, for the
# upkeep model of the index advice (src/advisor.c, docs/index-advice.md).
#
# Usage: sudo bash test/bench/index_upkeep.sh [ROWS] [ROUNDS]
#
# Builds the extension into a private install (test/lib/common.sh), starts a
# throwaway cluster (fsync off, autovacuum off) and, ROUNDS times (default
# 5), on fresh tables of ROWS rows (default 200,000), measures the backend's
# CPU time (user + system from /proc/self/stat: it does not depend on what
# else the machine runs, unlike wall time) of:
#   - INSERT of ROWS rows with random keys into a table without secondary
#     index and with one btree index on a column of 4, 8, 16, 40 or 100
#     bytes: the cost of one index entry, as a line e0 + e1 x width;
#   - ROWS / 2 UPDATEs of one random row each, each in its own transaction
#     (fillfactor 70), of a column no index holds (HOT) and of an indexed
#     column (not HOT), on a table with a primary key and one more index,
#     and the VACUUM after each: the extra cost of an update that is not
#     HOT, beyond the index entries it writes, and of removing a dead index
#     entry.
#   - statements of five shapes on cached data (a sequential scan with a
#     filter, a primary-key lookup, an index range scan of 1,000 rows, a
#     sort under a LIMIT, a hash join), each run in a loop: CPU microseconds
#     per unit of the planner's cost, the cap of a statement's time at
#     normal load.
# Prints each scenario's median in microseconds per row and the constants
# derived from them.  The results of a run are in docs/index-advice.md.
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"
rows=${1:-200000}
rounds=${2:-5}
updates=$((rows / 2))
work=$(mktemp -d "${SA_TMPDIR:-/var/tmp}/sa_bench.XXXXXX"); chmod 755 "$work"
trap 'sa_cluster_stop "$work/c" >/dev/null 2>&1; rm -rf "$work"' EXIT
sa_install_packages
sa_prepare "$work" || exit 1
port=54${RANDOM:0:2}
sa_cluster_start "$work/c" "$port" "max_parallel_workers_per_gather = 0" \
	"autovacuum = off" "shared_buffers = 512MB" "max_wal_size = 4GB" \
	"maintenance_work_mem = 256MB" || exit 1
psql_() { sa_as psql -X -q -At -v ON_ERROR_STOP=1 -h "$work/c" -p "$port" -d postgres "$@"; }

# CPU microseconds of this backend so far
psql_ -c "
CREATE FUNCTION cpu_us() RETURNS bigint LANGUAGE sql AS \$\$
  SELECT 10000 * (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
                + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint) \$\$;
CREATE TABLE results (round int, scenario text, us_per_row float8);
-- n updates of one random row each, of column col, each committed
CREATE PROCEDURE upd_rows(col text, n int, nrows int) LANGUAGE plpgsql AS \$\$
BEGIN
  FOR i IN 1 .. n LOOP
    EXECUTE format('UPDATE upd SET %I = %I + 1 WHERE id = \$1', col, col)
      USING 1 + (random() * (nrows - 1))::int;
    COMMIT;
  END LOOP;
END \$\$;" || exit 1

# one round: each scenario on fresh tables, in the same backend
round_sql() {
	local r=$1 w
	cat <<SQL
SET synchronous_commit = off;
SELECT setseed(0.$r);
SQL
	for w in 4 8 16 40 100; do
		local expr
		case $w in
			4) expr="(random() * 2e9)::int, null::bigint, null::text, null::text, null::text" ;;
			8) expr="null::int, (random() * 9e18)::bigint, null::text, null::text, null::text" ;;
			16) expr="null::int, null::bigint, substr(md5(random()::text), 1, 15), null::text, null::text" ;;
			40) expr="null::int, null::bigint, null::text, substr(md5(random()::text) || md5(random()::text), 1, 39), null::text" ;;
			100) expr="null::int, null::bigint, null::text, null::text, substr(repeat(md5(random()::text), 4), 1, 99)" ;;
		esac
		cat <<SQL
-- the same rows without an index, then with one on the column
DROP TABLE IF EXISTS ins;
CREATE TABLE ins (id bigint, k4 int, k8 bigint, k16 text, k40 text, k100 text);
SELECT setseed(0.$r);
SELECT cpu_us() AS t0 \gset
INSERT INTO ins SELECT i, $expr FROM generate_series(1, $rows) i;
INSERT INTO results SELECT $r, 'insert, rows of the $w-byte case, no index', (cpu_us() - :t0)::float8 / $rows;
DROP TABLE ins;
CREATE TABLE ins (id bigint, k4 int, k8 bigint, k16 text, k40 text, k100 text);
CREATE INDEX ON ins (k$w);
SELECT setseed(0.$r);
SELECT cpu_us() AS t0 \gset
INSERT INTO ins SELECT i, $expr FROM generate_series(1, $rows) i;
INSERT INTO results SELECT $r, 'insert, index of $w bytes', (cpu_us() - :t0)::float8 / $rows;
SQL
	done
	cat <<SQL
DROP TABLE ins;
-- updates one row at a time, each in its own transaction (as an
-- application does, so that pruning can reclaim the old versions): of a
-- column no index holds (HOT), then of an indexed column (not HOT)
DROP TABLE IF EXISTS upd;
CREATE TABLE upd (id int PRIMARY KEY, v int NOT NULL, u int NOT NULL, pad text)
  WITH (fillfactor = 70);
INSERT INTO upd SELECT i, (random() * 2e9)::int, 0, repeat('p', 40) FROM generate_series(1, $rows) i;
CREATE INDEX ON upd (v);
VACUUM ANALYZE upd;
SELECT pg_stat_reset_single_table_counters('upd'::regclass);
SELECT cpu_us() AS t0 \gset
CALL upd_rows('u', $updates, $rows);
INSERT INTO results SELECT $r, 'update, HOT', (cpu_us() - :t0)::float8 / $updates;
SELECT pg_stat_force_next_flush();
SELECT n_tup_hot_upd * 100 / greatest(n_tup_upd, 1) AS hot_pct FROM pg_stat_user_tables WHERE relname = 'upd' \gset
INSERT INTO results SELECT $r, 'update, HOT share %', :hot_pct;
SELECT cpu_us() AS t0 \gset
VACUUM upd;
INSERT INTO results SELECT $r, 'vacuum after HOT updates', (cpu_us() - :t0)::float8 / $updates;
SELECT pg_stat_reset_single_table_counters('upd'::regclass);
SELECT cpu_us() AS t0 \gset
CALL upd_rows('v', $updates, $rows);
INSERT INTO results SELECT $r, 'update, not HOT', (cpu_us() - :t0)::float8 / $updates;
SELECT pg_stat_force_next_flush();
SELECT n_tup_hot_upd * 100 / greatest(n_tup_upd, 1) AS hot_pct FROM pg_stat_user_tables WHERE relname = 'upd' \gset
INSERT INTO results SELECT $r, 'update, not HOT: HOT share %', :hot_pct;
SELECT cpu_us() AS t0 \gset
VACUUM upd;
INSERT INTO results SELECT $r, 'vacuum after non-HOT updates', (cpu_us() - :t0)::float8 / $updates;
DROP TABLE upd;
SQL
}

# planner cost and CPU time of a statement run n times (from PL/pgSQL, so
# with its cached plan, as an application's prepared statement)
psql_ -c "
CREATE TABLE cu (id int PRIMARY KEY, b int NOT NULL, pad text);
INSERT INTO cu SELECT i, (random() * 999)::int, repeat('x', 60) FROM generate_series(1, 200000) i;
CREATE TABLE cu_small (b int PRIMARY KEY, name text);
INSERT INTO cu_small SELECT i, 'n' || i FROM generate_series(0, 999) i;" -c "VACUUM ANALYZE cu, cu_small" -c "
CREATE FUNCTION plan_cost(q text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN (j -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END \$\$;
CREATE FUNCTION cost_unit(shape text, q text, n int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE t0 bigint; c float8; x int;
BEGIN
  c := plan_cost(replace(q, '\$1', '4242'));
  EXECUTE 'PREPARE cu_q(int) AS ' || q;
  FOR i IN 1 .. 10 LOOP EXECUTE 'EXECUTE cu_q(' || i || ')'; END LOOP;
  t0 := cpu_us();
  FOR i IN 1 .. n LOOP EXECUTE 'EXECUTE cu_q(' || (i % 190000 + 1) || ')'; END LOOP;
  INSERT INTO results SELECT 0, 'cost unit: ' || shape, (cpu_us() - t0)::float8 / n / c;
  DEALLOCATE cu_q;
END \$\$;" || exit 1

for r in $(seq 1 "$rounds"); do
	round_sql "$r" > "$work/round.sql"
	chmod 644 "$work/round.sql"
	psql_ -f "$work/round.sql" >/dev/null || exit 1
	psql_ -c "
SELECT cost_unit('sequential scan with a filter', 'SELECT count(*) FROM cu WHERE b = \$1 % 1000', 50);
SELECT cost_unit('primary key lookup', 'SELECT pad FROM cu WHERE id = \$1', 20000);
SELECT cost_unit('index range of 1000 rows', 'SELECT sum(b) FROM cu WHERE id BETWEEN \$1 AND \$1 + 999', 500);
SELECT cost_unit('sort under a LIMIT', 'SELECT id FROM cu WHERE b > \$1 % 1000 ORDER BY pad, b LIMIT 10', 30);
SELECT cost_unit('hash join', 'SELECT count(*) FROM cu JOIN cu_small s USING (b) WHERE s.name <> \$1::text', 20);" >/dev/null || exit 1
done

echo "PostgreSQL: $SA_PGVERSION; $rows rows, $rounds rounds; CPU microseconds per row (median)"
psql_ -F ' | ' -c "
SELECT scenario, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_row)::numeric, 4)
  FROM results GROUP BY scenario ORDER BY scenario"
# the constants: index entry = e0 + e1 x width (least squares over the
# widths), vacuum of a dead index entry, and the heap's extra for an update
# that is not HOT (beyond its two index entries and their vacuum)
psql_ -F ' | ' -c "
WITH m AS (
  SELECT scenario, percentile_cont(0.5) WITHIN GROUP (ORDER BY us_per_row) AS us
    FROM results GROUP BY scenario
), pts AS (
  SELECT substring(i.scenario from 'index of ([0-9]+) bytes')::float8 AS w,
         i.us - b.us AS entry
    FROM m i JOIN m b
      ON b.scenario = 'insert, rows of the ' || substring(i.scenario from 'index of ([0-9]+) bytes')
                      || '-byte case, no index'
   WHERE i.scenario LIKE 'insert, index of %'
), line AS (
  SELECT regr_intercept(entry, w) AS e0, regr_slope(entry, w) AS e1 FROM pts
), v AS (
  SELECT (SELECT us FROM m WHERE scenario = 'vacuum after non-HOT updates')
       - (SELECT us FROM m WHERE scenario = 'vacuum after HOT updates') AS vac2,
         (SELECT us FROM m WHERE scenario = 'vacuum after non-HOT updates')
       - (SELECT us FROM m WHERE scenario = 'vacuum after HOT updates') AS vacd,
         (SELECT us FROM m WHERE scenario = 'update, not HOT')
       - (SELECT us FROM m WHERE scenario = 'update, HOT') AS upd
)
SELECT 'index entry e0 (us)', round(e0::numeric, 3) FROM line
UNION ALL SELECT 'index entry e1 (us per byte)', round(e1::numeric, 4) FROM line
UNION ALL SELECT 'entry of 16 bytes (us)', round((e0 + 16 * e1)::numeric, 3) FROM line
UNION ALL SELECT 'vacuum of a dead index entry (us)', round((vac2 / 2)::numeric, 3) FROM v
UNION ALL SELECT 'update not HOT, heap extra (us)',
       round((upd - 2 * (e0 + 4 * e1))::numeric, 3) FROM v, line
UNION ALL SELECT 'cost unit, largest of the shapes (us)', round(max(us)::numeric, 3)
  FROM m WHERE scenario LIKE 'cost unit: %'"
