-- Snapshots, their bound, growth, capacity and the workload script.
-- keep the statement store as the statement-store tests expect it
SET scale_advisor.track = none;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scale_advisor;
SELECT scale_advisor.history_reset();

-- the history stays bounded: snapshots past snapshot_keep are deleted
SET scale_advisor.snapshot_keep = 3;
SELECT scale_advisor.snapshot() > 0 AS taken FROM generate_series(1, 5);
SELECT count(*) FROM scale_advisor.snapshots;
SELECT count(*) = 0 AS no_orphans FROM scale_advisor.snapshot_tables t
WHERE NOT EXISTS (SELECT 1 FROM scale_advisor.snapshots s WHERE s.snap_id = t.snap_id);
-- reset_history(), the 1.0 name of history_reset(), still empties the history
SELECT scale_advisor.reset_history();
SELECT count(*) AS snapshots_left FROM scale_advisor.snapshots;
SET scale_advisor.snapshot_keep = 0;
RESET scale_advisor.snapshot_keep;
SELECT current_setting('scale_advisor.snapshot_keep');

-- growth: a table that grows between two snapshots a day apart
SELECT scale_advisor.history_reset();
CREATE TABLE readiness_grow (id int, pad text);
INSERT INTO readiness_grow SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;
SELECT pg_stat_force_next_flush();
SELECT scale_advisor.snapshot() > 0 AS taken;
-- no growth measured within the same hour
SELECT rows_per_day, bytes_per_day FROM scale_advisor.growth WHERE relname = 'readiness_grow';
SELECT status, detail FROM scale_advisor.capacity(2) WHERE item = 'storage in 30 days';
-- the storage rows as a person reads them; NULL on the other rows
SELECT item, readable = format('%s -> %s', pg_size_pretty(current), pg_size_pretty(projected)) AS readable
  FROM scale_advisor.capacity(2) WHERE unit = 'bytes' ORDER BY item;
SELECT count(*) AS readable_elsewhere FROM scale_advisor.capacity(2)
 WHERE unit <> 'bytes' AND readable IS NOT NULL;
UPDATE scale_advisor.snapshots SET taken_at = taken_at - interval '1 day';
INSERT INTO readiness_grow SELECT g, repeat('x', 100) FROM generate_series(1001, 5000) g;
SELECT pg_stat_force_next_flush();
SELECT scope, rows_now, rows_per_day BETWEEN 3900 AND 4100 AS about_4000_a_day,
	   bytes_per_day > 0 AS grows, days_to_limit, snapshots
FROM scale_advisor.growth WHERE relname = 'readiness_grow';
SELECT bytes_per_day > 0 AS grows FROM scale_advisor.growth WHERE scope = 'database';
-- days until a table size limit
SELECT scale_advisor.set_threshold('table_size_limit_bytes', pg_total_relation_size('readiness_grow') * 2) > 0 AS set;
SELECT days_to_limit > 0 AND days_to_limit < 10 AS soon FROM scale_advisor.growth WHERE relname = 'readiness_grow';
SELECT scale_advisor.set_threshold('table_size_limit_bytes', NULL);
-- the database limit: days to limit, then an alert
SELECT scale_advisor.set_threshold('db_size_limit_bytes', pg_database_size(current_database()) + 1024 * 1024 * 1024) > 0 AS set;
SELECT days_to_limit > 30 AS far FROM scale_advisor.growth WHERE scope = 'database';
SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'database_size_limit';
SELECT scale_advisor.set_threshold('db_size_limit_bytes', pg_database_size(current_database()) + 1024) > 0 AS set;
SELECT days_to_limit < 7 AS close FROM scale_advisor.growth WHERE scope = 'database';
SELECT severity, alert FROM scale_advisor.alerts WHERE alert = 'database_size_limit';
SELECT status FROM scale_advisor.capacity(2) WHERE item LIKE 'storage%';
SELECT scale_advisor.set_threshold('db_size_limit_bytes', NULL);
-- growth per day beyond the limit
SELECT count(*) FROM scale_advisor.alerts WHERE alert = 'database_growth';
SELECT scale_advisor.set_threshold('db_growth_bytes_per_day', 1000);
SELECT severity, alert, threshold FROM scale_advisor.alerts WHERE alert = 'database_growth';
SELECT scale_advisor.set_threshold('db_growth_bytes_per_day', NULL);
SELECT status FROM scale_advisor.capacity(3) WHERE item = 'storage in 90 days';

-- capacity: bad input, and the rows it gives
SELECT * FROM scale_advisor.capacity(0);
SELECT * FROM scale_advisor.capacity(NULL);
SELECT item, unit FROM scale_advisor.capacity(2) WHERE item NOT LIKE 'statement %';

-- workload script: bad input; with nothing recorded it replays nothing
SELECT scale_advisor.workload_script(0);
SELECT scale_advisor.workload_script(NULL);

-- histogram helpers: 408 of the store's buckets (gamma = 1.0199 / 0.9801),
-- from its bucket 58 (10 us)
SELECT scale_advisor._hist_quantile(ARRAY[1, 2]::bigint[], 0.5);
SELECT scale_advisor._hist_quantile(array_fill(0::bigint, ARRAY[408]), 0.5);
SELECT scale_advisor._hist_quantile(array_fill(1::bigint, ARRAY[408]), 1.5);
-- nearest rank, read back as the bucket's time: 19 executions in bucket
-- 300 (the store's 358), 1 in bucket 400 (458): p95 is bucket 300's, p99
-- bucket 400's
WITH h AS (SELECT array_fill(0::bigint, ARRAY[300]) || 19::bigint || array_fill(0::bigint, ARRAY[99])
				  || 1::bigint || array_fill(0::bigint, ARRAY[7]) AS b,
				  1.0199 / 0.9801 AS g)
SELECT round(scale_advisor._hist_quantile(b, 0.95)::numeric, 3) = round((2 * power(g, 358) / (g + 1) / 1000)::numeric, 3) AS p95_bucket_300,
	   round(scale_advisor._hist_quantile(b, 0.99)::numeric, 1) = round((2 * power(g, 458) / (g + 1) / 1000)::numeric, 1) AS p99_bucket_400,
	   scale_advisor._hist_count_above(b, 100) AS over_100ms,
	   scale_advisor._hist_count_above(b, 1000) AS over_1s,
	   scale_advisor._hist_count_above(b, 10000) AS over_10s
FROM h;
-- histograms of snapshots taken by 1.0 (48 buckets of sqrt(2)) still read
-- 100 executions in the bucket [10.24 ms, 14.48 ms): p50 inside it
SELECT round(scale_advisor._hist_quantile(array_fill(0::bigint, ARRAY[21]) || 100::bigint || array_fill(0::bigint, ARRAY[26]), 0.5)::numeric, 2);
SELECT scale_advisor._hist_count_above(array_fill(0::bigint, ARRAY[21]) || 100::bigint || array_fill(0::bigint, ARRAY[26]), 10);
SELECT scale_advisor._hist_count_above(array_fill(0::bigint, ARRAY[21]) || 100::bigint || array_fill(0::bigint, ARRAY[26]), 20);
SELECT scale_advisor._hist_count_above(array_fill(0::bigint, ARRAY[21]) || 100::bigint || array_fill(0::bigint, ARRAY[26]), 12.36);
-- differences modulo 2^32 (the counts wrap), a alone without b or when b
-- has 1.0's 48 buckets; 1.0 histograms: a alone when b is larger
SELECT scale_advisor._hist_sub(ARRAY[5, 5]::bigint[], ARRAY[1, 2]::bigint[]),
	   scale_advisor._hist_sub(ARRAY[5, 5]::bigint[], ARRAY[6, 2]::bigint[]),
	   scale_advisor._hist_sub(ARRAY[5, 5]::bigint[], NULL),
	   scale_advisor._hist_sub(ARRAY[5, 5]::bigint[], array_fill(1::bigint, ARRAY[48]));
SELECT scale_advisor._hist_sub(array_fill(5::bigint, ARRAY[48]), array_fill(1::bigint, ARRAY[48])) = array_fill(4::bigint, ARRAY[48]) AS v1_sub,
	   scale_advisor._hist_sub(array_fill(5::bigint, ARRAY[48]), array_fill(6::bigint, ARRAY[48])) = array_fill(5::bigint, ARRAY[48]) AS v1_reset;
-- the p95 of one execution is within 2 % of its time (1.0's buckets put a
-- 1,372.55 ms execution at 1,826.5 ms)
SELECT scale_advisor.history_reset();
SET scale_advisor.track = top;
SELECT pg_sleep(0.0137);
SET scale_advisor.track = none;
SELECT abs(scale_advisor._hist_quantile(h.buckets, 0.95) / q.max_exec_ms - 1) <= 0.02 AS within_2_pct
FROM scale_advisor._history() h JOIN scale_advisor.query_stats q ON q.queryid = h.queryid
WHERE q.query = 'SELECT pg_sleep($1)';
SELECT scale_advisor._host_cpus() > 0 AS cpus;

DROP TABLE readiness_grow;
DELETE FROM scale_advisor.thresholds;
-- leave the server as the next test expects it
SELECT scale_advisor.history_reset();
DROP EXTENSION scale_advisor;
