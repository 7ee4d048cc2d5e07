-- Rows and bytes per day of every table in the snapshots, and of the whole
-- database, from a least-squares line through the snapshots of the last
-- growth_window_days and the current size (NULL until they span an hour).
CREATE FUNCTION @extschema@._growth()
RETURNS TABLE (scope text, schemaname name, relname name, rows_now bigint,
			   bytes_now bigint, rows_per_day numeric, bytes_per_day numeric,
			   days_to_limit numeric, snapshots bigint, since timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_from timestamptz := pg_catalog.now() - pg_catalog.make_interval(days => (SELECT @extschema@._t('growth_window_days'))::integer);
	v_dblimit numeric := (SELECT @extschema@._t('db_size_limit_bytes'));
	v_tlimit numeric := (SELECT @extschema@._t('table_size_limit_bytes'));
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.growth');
	RETURN QUERY
	WITH pts AS (
		SELECT t.relid, n.taken_at, t.n_live_tup::float8 AS r, t.total_bytes::float8 AS b
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE n.taken_at >= v_from
		UNION ALL
		SELECT s.relid, pg_catalog.now(), s.n_live_tup::float8,
			   @extschema@._relation_size_nowait(s.relid)::float8
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.relid IN (SELECT t.relid FROM @extschema@.snapshot_tables t)
	), fit AS (
		SELECT p.relid,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.r, extract(epoch FROM p.taken_at) / 86400.0) END AS rpd,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.b, extract(epoch FROM p.taken_at) / 86400.0) END AS bpd,
			   count(*) AS n, min(p.taken_at) AS since
		FROM pts p GROUP BY p.relid
	)
	SELECT 'table'::text, s.schemaname, s.relname, s.n_live_tup,
		   s.bytes,
		   round(f.rpd::numeric, 1), round(f.bpd::numeric, 0),
		   CASE WHEN v_tlimit > 0 AND f.bpd > 0
				THEN round(greatest(v_tlimit - s.bytes, 0) / f.bpd::numeric, 1) END,
		   f.n - 1, f.since
	FROM fit f
	JOIN (SELECT u.relid, u.schemaname, u.relname, u.n_live_tup,
				 @extschema@._relation_size_nowait(u.relid) AS bytes
		  FROM pg_catalog.pg_stat_user_tables u) s ON s.relid = f.relid;

	RETURN QUERY
	WITH pts AS (
		SELECT n.taken_at, n.db_bytes::float8 AS b,
			   (SELECT sum(t.n_live_tup) FROM @extschema@.snapshot_tables t WHERE t.snap_id = n.snap_id)::float8 AS r
		FROM @extschema@.snapshots n WHERE n.taken_at >= v_from
		UNION ALL
		SELECT pg_catalog.now(), pg_catalog.pg_database_size(pg_catalog.current_database())::float8,
			   (SELECT sum(s.n_live_tup) FROM pg_catalog.pg_stat_user_tables s
				WHERE s.relid IN (SELECT t.relid FROM @extschema@.snapshot_tables t))::float8
	), fit AS (
		SELECT CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.r, extract(epoch FROM p.taken_at) / 86400.0) END AS rpd,
			   CASE WHEN max(p.taken_at) - min(p.taken_at) >= interval '1 hour'
					THEN pg_catalog.regr_slope(p.b, extract(epoch FROM p.taken_at) / 86400.0) END AS bpd,
			   count(*) AS n, min(p.taken_at) AS since
		FROM pts p
	)
	SELECT 'database'::text, NULL::name, pg_catalog.current_database()::name,
		   (SELECT sum(s.n_live_tup)::bigint FROM pg_catalog.pg_stat_user_tables s),
		   pg_catalog.pg_database_size(pg_catalog.current_database()),
		   round(f.rpd::numeric, 1), round(f.bpd::numeric, 0),
		   CASE WHEN v_dblimit > 0 AND f.bpd > 0
				THEN round(greatest(v_dblimit - pg_catalog.pg_database_size(pg_catalog.current_database()), 0) / f.bpd::numeric, 1) END,
		   f.n - 1, f.since
	FROM fit f;
END
$$;
