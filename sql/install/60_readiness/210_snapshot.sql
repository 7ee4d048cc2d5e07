
-- Take a snapshot now, then delete the snapshots past
-- scale_advisor.snapshot_keep.  Returns the new snapshot's id.  It never
-- waits for a lock held on a user table: a table locked by another session
-- is left out of snapshot_tables, named in snapshots.locked_tables and in a
-- WARNING.  lock_timeout bounds any other wait (on its own tables).
CREATE FUNCTION @extschema@.snapshot()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '10s'
AS $$
DECLARE
	v_snap bigint;
	v_keep integer;
	v_oldest bigint;
	v_calls bigint;
	v_errors bigint;
	v_ms double precision;
	v_locked text[];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('snapshot()');
	v_keep := pg_catalog.current_setting('scale_advisor.snapshot_keep')::integer;

	SELECT sum(q.calls)::bigint, sum(q.errors)::bigint, sum(q.total_exec_ms)::float8
	INTO v_calls, v_errors, v_ms
	FROM @extschema@.query_stats q
	WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
					WHERE d.datname = pg_catalog.current_database());

	INSERT INTO @extschema@.snapshots (db_bytes, numbackends, active_sessions,
		active_time_ms, xact_commit, xact_rollback, stmt_calls, stmt_errors, stmt_exec_ms)
	SELECT pg_catalog.pg_database_size(d.datid),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'),
		   (SELECT count(*) FROM pg_catalog.pg_stat_activity a
			WHERE a.backend_type = 'client backend' AND a.state NOT IN ('idle')),
		   d.active_time, d.xact_commit, d.xact_rollback,
		   v_calls, v_errors, v_ms
	FROM pg_catalog.pg_stat_database d
	WHERE d.datname = pg_catalog.current_database()
	RETURNING snap_id INTO v_snap;

	-- statements whose count changed since their latest row
	INSERT INTO @extschema@.snapshot_statements
		(snap_id, dbid, queryid, first_seen, calls, rows, total_exec_ms, buckets)
	SELECT v_snap, h.dbid, h.queryid, h.first_seen, h.calls, h.rows, h.total_exec_ms, h.buckets
	FROM @extschema@._history() h
	WHERE NOT EXISTS (
		SELECT 1 FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid
		  AND s.snap_id = (SELECT max(s2.snap_id) FROM @extschema@.snapshot_statements s2
						   WHERE s2.dbid = h.dbid AND s2.queryid = h.queryid)
		  AND s.first_seen = h.first_seen AND s.calls = h.calls);

	-- sizes read without waiting: a NULL size of a table that still
	-- exists means another session holds a conflicting lock on it
	WITH sz AS MATERIALIZED (
		SELECT s.relid, s.schemaname, s.relname, s.n_live_tup,
			   @extschema@._relation_size_nowait(s.relid) AS bytes,
			   s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.schemaname <> '@extschema@'
	), ins AS (
		INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes,
			n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del)
		SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes,
			   t.n_tup_ins, t.n_tup_upd, t.n_tup_hot_upd, t.n_tup_del
		FROM sz t
		WHERE t.bytes IS NOT NULL
		ORDER BY t.bytes DESC
		LIMIT (SELECT @extschema@._t('snapshot_max_tables'))
		RETURNING 1
	)
	SELECT array_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname) ORDER BY t.schemaname, t.relname)
	INTO v_locked
	FROM sz t
	WHERE t.bytes IS NULL
	  AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.relid);
	IF v_locked IS NOT NULL THEN
		UPDATE @extschema@.snapshots SET locked_tables = v_locked WHERE snap_id = v_snap;
		RAISE WARNING USING ERRCODE = 'lock_not_available',
			MESSAGE = pg_catalog.format('snapshot %s left out %s table(s) locked by other sessions: %s',
										v_snap, pg_catalog.cardinality(v_locked),
										pg_catalog.array_to_string(v_locked, ', ')),
			HINT = 'Their sizes are taken by the next snapshot; scale_advisor.snapshots.locked_tables lists them.';
	END IF;

	-- keep the newest snapshot_keep snapshots
	SELECT min(k.snap_id) INTO v_oldest
	FROM (SELECT s.snap_id FROM @extschema@.snapshots s
		  ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT v_keep) k;
	IF EXISTS (SELECT 1 FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest) THEN
		-- a statement still tracked keeps its latest row: move it to the
		-- oldest snapshot kept when that has none of its own
		UPDATE @extschema@.snapshot_statements s SET snap_id = v_oldest
		FROM (SELECT DISTINCT ON (x.dbid, x.queryid) x.snap_id, x.dbid, x.queryid
			  FROM @extschema@.snapshot_statements x
			  WHERE x.snap_id < v_oldest
			  ORDER BY x.dbid, x.queryid, x.snap_id DESC) l
		WHERE s.snap_id = l.snap_id AND s.dbid = l.dbid AND s.queryid = l.queryid
		  AND NOT EXISTS (SELECT 1 FROM @extschema@.snapshot_statements y
						  WHERE y.snap_id >= v_oldest AND y.dbid = s.dbid AND y.queryid = s.queryid)
		  AND EXISTS (SELECT 1 FROM @extschema@._history() h
					  WHERE h.dbid = s.dbid AND h.queryid = s.queryid AND h.first_seen = s.first_seen);
		DELETE FROM @extschema@.snapshots s WHERE s.snap_id < v_oldest;
	END IF;
	RETURN v_snap;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.snapshot() FROM PUBLIC;
