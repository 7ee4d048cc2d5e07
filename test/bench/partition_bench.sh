#!/bin/bash
# test/bench/partition_bench.sh -- convert a populated table into a
# range-partitioned one: scale_advisor.partition_table against pg_partman's
# documented route (rename, new partitioned parent, create_parent, then
# partition_data_proc moves the rows).
#
# Usage (as root): bash test/bench/partition_bench.sh [ROWS ...]
#        (default: 1000000 10000000)
#
# Builds the extension into a private install, starts a throwaway cluster,
# and for each size loads the same table twice (events: bigint identity,
# timestamptz, int, text; primary key (id, created_at); index on
# created_at; rows spread over 400 days), once per method.  Prints, per
# method: total time, and how long the table was closed to its users (the
# longest ACCESS EXCLUSIVE lock for scale_advisor; the whole move for
# pg_partman, whose documented route is offline: while rows move, the
# table under the original name misses them).
set -u
export SA_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$SA_ROOT/test/lib/common.sh"

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)

sa_install_packages
W=$(mktemp -d /tmp/sa_partition_bench.XXXXXX)
chmod 755 "$W"
trap 'sa_cluster_stop "$W/c"; rm -rf "$W"' EXIT
sa_prepare "$W" || exit 1
PORT=$((20000 + RANDOM % 10000))
sa_cluster_start "$W/c" "$PORT" "shared_buffers = 1GB" "max_wal_size = 8GB" \
	"checkpoint_timeout = 30min" "maintenance_work_mem = 512MB" "work_mem = 64MB" || exit 1

q() { sa_as psql -X -q -At -h "$W/c" -p "$PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

q -c 'CREATE EXTENSION scale_advisor' -c 'CREATE SCHEMA partman' -c 'CREATE EXTENSION pg_partman SCHEMA partman'

load() {
	local n=$1
	q <<SQL
DROP TABLE IF EXISTS events, events_old, events_history CASCADE;
DELETE FROM scale_advisor.partition_sets;
DELETE FROM partman.part_config;
CREATE TABLE events (
	id bigint GENERATED ALWAYS AS IDENTITY,
	created_at timestamptz NOT NULL,
	account_id int NOT NULL,
	payload text,
	PRIMARY KEY (id, created_at));
INSERT INTO events (created_at, account_id, payload)
SELECT now() - interval '400 days' + g * (interval '400 days' / $n), g % 1000, md5(g::text)
FROM generate_series(1, $n) g;
CREATE INDEX events_created_at ON events (created_at);
VACUUM ANALYZE events;
CHECKPOINT;
SQL
}

results=()
for n in "${sizes[@]}"; do
	sa_log "loading $n rows (scale_advisor)"
	load "$n"
	t0=$(now)
	q -c "CALL scale_advisor.partition_table('events', 'created_at', '1 month')" >/dev/null
	t1=$(now)
	lock=$(q -c "SELECT round(max(exclusive_lock_ms)::numeric, 1) FROM scale_advisor.partition_log WHERE action = 'partition_table swap' AND ok")
	check=$(q -c "SELECT count(*) FROM events")
	[ "$check" = "$n" ] || sa_die "scale_advisor: $check rows instead of $n"
	results+=("$(printf '| %s | scale_advisor.partition_table | %s s | %s ms (ACCESS EXCLUSIVE: rename + attach) | 0 |' "$n" "$(secs "$t0" "$t1")" "$lock")")
	q -c 'TRUNCATE scale_advisor.partition_log'

	sa_log "loading $n rows (pg_partman)"
	load "$n"
	start=$(q -c "SELECT to_char(date_trunc('month', min(created_at)), 'YYYY-MM-DD') FROM events")
	t0=$(now)
	q <<SQL >/dev/null
ALTER TABLE events RENAME TO events_old;
CREATE TABLE events (LIKE events_old INCLUDING ALL) PARTITION BY RANGE (created_at);
SELECT partman.create_parent('public.events', 'created_at', 'native', 'monthly',
	p_start_partition := '$start', p_jobmon := false);
SQL
	t1=$(now)
	q -c "CALL partman.partition_data_proc('public.events', p_wait := 0, p_source_table := 'public.events_old', p_quiet := true)" >/dev/null 2>&1
	t2=$(now)
	q -c 'VACUUM ANALYZE events' >/dev/null
	t3=$(now)
	check=$(q -c "SELECT count(*) FROM events")
	[ "$check" = "$n" ] || sa_die "pg_partman: $check rows instead of $n"
	copied=$(q -c "SELECT count(*) FROM events_old")
	results+=("$(printf '| %s | pg_partman create_parent + partition_data_proc | %s s (move %s s, vacuum analyze %s s) | %s s (offline for the whole run) | %s (moved once, deleted from the source) |' \
		"$n" "$(secs "$t0" "$t3")" "$(secs "$t1" "$t2")" "$(secs "$t2" "$t3")" "$(secs "$t0" "$t3")" "$n")")
done

echo
echo "| rows | method | total time | table closed to writers | rows rewritten |"
echo "|---|---|---|---|---|"
for r in "${results[@]}"; do echo "$r"; done
