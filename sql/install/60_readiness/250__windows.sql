
-- Per statement of the current database: the histogram of the window (the
-- time since the latest snapshot at least window_length old) and of the
-- baseline (the baseline_length before that).
CREATE FUNCTION @extschema@._windows(window_length interval, baseline_length interval)
RETURNS TABLE (dbid oid, queryid bigint, window_start timestamptz,
			   window_calls bigint, window_exec_ms double precision,
			   window_buckets bigint[], baseline_calls bigint,
			   baseline_buckets bigint[], last_seen timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_w timestamptz;
	v_wid bigint;
	v_bid bigint;
	v_own bigint[];
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the extension's own statements (calls of its functions and reads of
	-- its views), known by their normalized text: an example's text is
	-- shown only to its own role
	v_own := ARRAY(SELECT st.queryid FROM @extschema@._statements() st
				   WHERE strpos(st.query, '@extschema@.') > 0);
	-- the window and baseline snapshots (ids grow with time)
	SELECT s.taken_at, s.snap_id INTO v_w, v_wid FROM @extschema@.snapshots s
	WHERE s.taken_at <= pg_catalog.now() - window_length
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	SELECT s.snap_id INTO v_bid FROM @extschema@.snapshots s
	WHERE s.taken_at <= v_w - baseline_length
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	-- a reading taken since the statement's history started (same
	-- first_seen, as many buckets, no fewer calls) is subtracted; without
	-- one, the window is everything since the history started
	RETURN QUERY
	SELECT h.dbid, h.queryid, v_w,
		   CASE WHEN w.calls IS NULL THEN h.calls ELSE h.calls - w.calls END,
		   CASE WHEN w.calls IS NULL THEN h.total_exec_ms
				ELSE h.total_exec_ms - w.total_exec_ms END,
		   CASE WHEN w.calls IS NULL THEN h.buckets
				ELSE @extschema@._hist_sub(h.buckets, w.buckets) END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint
				WHEN b.calls IS NULL THEN w.calls
				ELSE w.calls - b.calls END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint[]
				WHEN b.calls IS NULL THEN w.buckets
				ELSE @extschema@._hist_sub(w.buckets, b.buckets) END,
		   h.last_seen
	FROM @extschema@._history() h
	LEFT JOIN LATERAL (
		SELECT s.calls, s.total_exec_ms, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_wid
		ORDER BY s.snap_id DESC LIMIT 1) w0 ON true
	LEFT JOIN LATERAL (SELECT w0.* WHERE w0.first_seen = h.first_seen
						 AND cardinality(w0.buckets) = cardinality(h.buckets)
						 AND w0.calls <= h.calls) w ON true
	LEFT JOIN LATERAL (
		SELECT s.calls, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_bid
		ORDER BY s.snap_id DESC LIMIT 1) b0 ON true
	LEFT JOIN LATERAL (SELECT b0.* WHERE b0.first_seen = w.first_seen
						 AND cardinality(b0.buckets) = cardinality(w.buckets)
						 AND b0.calls <= w.calls) b ON true
	WHERE h.dbid = v_db
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0
	  AND h.queryid <> ALL (v_own);
END
$$;
