
-- Write rates and growth of tables, for the index advice's upkeep and aging
-- (src/advice_model.c).  Rows inserted, updated (of them HOT) and deleted
-- per second over the last window_s seconds: from the newest snapshot taken
-- at least window_s ago (or, when the history is shorter, the oldest one at
-- least five minutes old) to the counters now, so that a bulk load before
-- the window does not count.  rows_per_day: the slope of the live rows over
-- the snapshots of the last growth_window_days, NULL until they span an
-- hour (as the growth view).  Tables with no such snapshot of this
-- database, or whose counters went back since (a statistics reset, a
-- crash), have no row.  The snapshots' history is monitoring data: the
-- function is not executable by PUBLIC; index_advice (src/advice_model.c)
-- runs it as its owner, only for the tables whose history its reader may
-- see (every table for a reader of all statistics, else the tables whose
-- owner's privileges it has).  It waits at most a second for a lock on
-- them; index_advice then goes on with the statistics' rates.
CREATE FUNCTION @extschema@._index_table_activity(
    relids pg_catalog.oid[], window_s double precision,
    OUT relid pg_catalog.oid, OUT seconds double precision,
    OUT ins_per_s double precision, OUT upd_per_s double precision,
    OUT hot_per_s double precision, OUT del_per_s double precision,
    OUT rows_per_day double precision)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '1s'
AS $$
DECLARE
	v_cut timestamptz := pg_catalog.now()
		- pg_catalog.make_interval(secs => greatest(window_s, 300));
	v_from timestamptz;
BEGIN
	IF pg_catalog.to_regclass('@extschema@.snapshot_tables') IS NULL
	   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
					  WHERE a.attrelid = '@extschema@.snapshot_tables'::pg_catalog.regclass
						AND a.attname = 'n_tup_hot_upd' AND NOT a.attisdropped) THEN
		RETURN;
	END IF;
	v_from := pg_catalog.now() - pg_catalog.make_interval(days =>
		coalesce(@extschema@._t('growth_window_days'), 30)::integer);
	RETURN QUERY EXECUTE $q$
	WITH cur AS (
		SELECT s.relid, s.n_live_tup, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid = ANY ($1)
	), base AS (
		SELECT DISTINCT ON (t.relid) t.relid, n.taken_at,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE t.relid = ANY ($1)
		  AND n.dbid = @extschema@._current_dbid()
		  AND t.n_tup_ins IS NOT NULL
		  AND n.taken_at <= pg_catalog.now() - interval '5 minutes'
		ORDER BY t.relid, (n.taken_at <= $2) DESC,
				 pg_catalog.abs(EXTRACT(epoch FROM n.taken_at - $2))
	), growth AS (
		SELECT p.relid,
			   CASE WHEN max(p.t) - min(p.t) >= 3600
					THEN pg_catalog.regr_slope(p.r, p.t / 86400.0) END AS rpd
		FROM (SELECT t.relid, EXTRACT(epoch FROM n.taken_at)::float8 AS t, t.n_live_tup::float8 AS r
			  FROM @extschema@.snapshot_tables t
			  JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
			  WHERE t.relid = ANY ($1) AND n.taken_at >= $3
				AND n.dbid = @extschema@._current_dbid()
			  UNION ALL
			  SELECT c.relid, EXTRACT(epoch FROM pg_catalog.now())::float8, c.n_live_tup::float8
			  FROM cur c) p
		GROUP BY p.relid
	)
	SELECT c.relid, x.secs,
		   (c.n_tup_ins - b.n_tup_ins)::float8 / x.secs,
		   (c.n_tup_upd - b.n_tup_upd)::float8 / x.secs,
		   (c.n_tup_hot_upd - b.n_tup_hot_upd)::float8 / x.secs,
		   (c.n_tup_del - b.n_tup_del)::float8 / x.secs,
		   g.rpd
	FROM cur c
	JOIN base b ON b.relid = c.relid
	CROSS JOIN LATERAL (SELECT EXTRACT(epoch FROM pg_catalog.now() - b.taken_at)::float8 AS secs) x
	LEFT JOIN growth g ON g.relid = c.relid
	WHERE c.n_tup_ins >= b.n_tup_ins
	  AND c.n_tup_upd >= b.n_tup_upd
	  AND c.n_tup_hot_upd >= b.n_tup_hot_upd
	  AND c.n_tup_del >= b.n_tup_del
	  AND x.secs > 0 $q$
	USING relids, v_cut, v_from;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._index_table_activity(pg_catalog.oid[], double precision) FROM PUBLIC;
