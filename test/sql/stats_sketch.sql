-- Latency quantiles: the sketch is within 2 % of the exact quantile.
CREATE EXTENSION scale_advisor;
SET search_path = public;

-- deterministic values: a log-normal-like spread from 1 us to 1 hour
CREATE TEMP TABLE sk_vals AS
  SELECT (exp(ln(0.001) + (ln(3600000.0) - ln(0.001)) * ((g * 7919) % 10007) / 10007.0)) AS ms
  FROM generate_series(1, 10007) g;
-- a realistic one: most around 2 ms, a tail to 400 ms
CREATE TEMP TABLE sk_vals2 AS
  SELECT CASE WHEN g % 100 = 0 THEN 400.0 * ((g * 37) % 101) / 101.0 + 50
              WHEN g % 10 = 0 THEN 20 + ((g * 13) % 97) / 10.0
              ELSE 2 + ((g * 7) % 89) / 100.0 END AS ms
  FROM generate_series(1, 20000) g;

WITH q AS (SELECT ARRAY[0.5, 0.95, 0.99, 0.999]::float8[] AS qs),
     ex AS (SELECT ARRAY[percentile_disc(0.5) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.95) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.99) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.999) WITHIN GROUP (ORDER BY ms)]::float8[] AS e,
                   array_agg(ms)::float8[] AS v FROM sk_vals2),
     sk AS (SELECT scale_advisor._sketch_quantiles(v, qs) AS s, e FROM ex, q)
SELECT i, abs(s[i] - e[i]) / e[i] <= 0.02 AS within_2pct
FROM sk, generate_series(1, 4) i;

-- over the whole 1 us .. 1 h range
WITH ex AS (SELECT ARRAY[percentile_disc(0.5) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.95) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.99) WITHIN GROUP (ORDER BY ms),
                         percentile_disc(0.999) WITHIN GROUP (ORDER BY ms)]::float8[] AS e,
                   array_agg(ms)::float8[] AS v FROM sk_vals),
     sk AS (SELECT scale_advisor._sketch_quantiles(v, ARRAY[0.5, 0.95, 0.99, 0.999]) AS s, e FROM ex)
SELECT i, abs(s[i] - e[i]) / e[i] <= 0.02 AS within_2pct
FROM sk, generate_series(1, 4) i;

-- edge cases
SELECT scale_advisor._sketch_quantiles('{}', '{0.5}') IS NULL AS empty_is_null;
SELECT array(SELECT round(x::numeric, 3) FROM unnest(scale_advisor._sketch_quantiles('{5}', '{0, 0.5, 1}')) x) AS single;
SELECT scale_advisor._sketch_quantiles('{0, -1, 0.0001}', '{0.5}') AS below_1us;

-- a real latency mix: 90 calls of pg_sleep(10 ms), 10 of pg_sleep(100 ms),
-- each also timed by the caller; the store's p50 and p99 agree with the
-- exact quantiles of those timings within 2 % (plus 1 % for the time
-- spent outside the executor)
SELECT scale_advisor.reset() >= 0 AS reset;
SET scale_advisor.track = 'all';
CREATE TEMP TABLE sk_timings (ms float8);
DO $$
DECLARE t0 timestamptz; i int;
BEGIN
  FOR i IN 1..100 LOOP
    t0 := clock_timestamp();
    PERFORM pg_sleep(CASE WHEN i % 10 = 0 THEN 0.1 ELSE 0.01 END);
    INSERT INTO sk_timings VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END $$;
RESET scale_advisor.track;
WITH ex AS (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS e50,
                   percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS e99 FROM sk_timings),
     st AS (SELECT calls, p50_ms, p99_ms FROM scale_advisor.query_stats
            WHERE query LIKE 'SELECT pg_sleep(CASE%')
SELECT calls, abs(p50_ms - e50) / e50 <= 0.03 AS p50_ok,
       abs(p99_ms - e99) / e99 <= 0.03 AS p99_ok,
       p50_ms BETWEEN 9.8 AND 30 AS p50_near_10ms, p99_ms BETWEEN 98 AND 150 AS p99_near_100ms
FROM st, ex;

-- one 30 s outlier among fast executions moves no quantile below it
SELECT array(SELECT round(x::numeric, 3) FROM unnest(scale_advisor._sketch_quantiles(array_agg(v), '{0.5, 0.99, 1}')) x) AS q
FROM (SELECT 0.5::float8 AS v FROM generate_series(1, 999) UNION ALL SELECT 30000) s;

-- more executions than a 16-bit bucket holds: counts are halved, the
-- quantiles stay right
SELECT abs(x[1] - 2.0) / 2.0 <= 0.02 AS p50_ok, abs(x[2] - 40.0) / 40.0 <= 0.02 AS p99_ok
FROM (SELECT scale_advisor._sketch_quantiles(array_agg(CASE WHEN g % 100 = 0 THEN 40.0 ELSE 2.0 END),
                                            '{0.5, 0.995}') AS x
      FROM generate_series(1, 300000) g) s;

DROP EXTENSION scale_advisor;
