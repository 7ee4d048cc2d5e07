-- Scale readiness, part 1: thresholds, statement history, snapshots.
--
-- Thresholds are rows of scale_advisor.thresholds (only the ones a user
-- changed; the defaults live in _threshold_defaults()), read through
-- _t(name).  Snapshots copy the latency histograms that src/snapshot.c
-- keeps per statement, the database totals and the sizes of the largest
-- tables into the snapshot tables, from which the growth, regressions and
-- capacity views are computed.

-- Every threshold the checklist, the alerts and the history views use.
CREATE FUNCTION @extschema@._threshold_defaults()
RETURNS TABLE (name text, default_value numeric, unit text, description text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
VALUES
	('slow_statement_ms', 100, 'ms', 'checklist: p95 execution time a statement must stay under'),
	('slow_statement_min_calls', 10, 'calls', 'statements with fewer calls are not judged'),
	('seq_scan_min_rows', 10000, 'rows', 'checklist: tables this large read mostly by sequential scans need an index'),
	('cacheable_min_calls', 1000, 'calls', 'checklist: a read repeated this often may be cached'),
	('cacheable_share_pct', 10, '%', 'checklist: ... when it is at least this share of all calls'),
	('connections_warning_pct', 80, '%', 'connections in use against max_connections: warning'),
	('connections_critical_pct', 90, '%', 'connections in use against max_connections: critical'),
	('idle_sessions_pct', 50, '%', 'checklist: idle sessions above this share of all sessions call for a pooler'),
	('idle_sessions_min', 10, 'sessions', 'checklist: ... when there are at least this many idle sessions'),
	('idle_in_transaction_s', 60, 's', 'checklist: sessions idle in a transaction longer than this'),
	('statement_timeout_max_ms', 60000, 'ms', 'checklist: longest statement_timeout accepted for application roles'),
	('log_min_duration_max_ms', 1000, 'ms', 'checklist: log_min_duration_statement must be on and at most this'),
	('archive_max_age_s', 3600, 's', 'WAL archiving: age of the last archived segment, while WAL is written'),
	('dead_tuple_pct', 20, '%', 'checklist: dead tuples against all tuples of a table: warn'),
	('dead_tuple_critical_pct', 50, '%', 'checklist: dead tuples against all tuples of a table: fail'),
	('dead_tuple_min', 1000, 'rows', 'checklist: tables with fewer dead tuples are not judged'),
	('analyze_max_age_days', 7, 'days', 'checklist: statistics of a modified table older than this are stale'),
	('table_bloat_pct', 50, '%', 'checklist: estimated table bloat'),
	('index_bloat_pct', 50, '%', 'checklist: estimated B-tree index bloat'),
	('bloat_min_bytes', 10485760, 'bytes', 'checklist: relations smaller than this are not judged for bloat'),
	('cache_hit_pct', 99, '%', 'checklist: buffer cache hit ratio: warn below'),
	('cache_hit_critical_pct', 90, '%', 'checklist: buffer cache hit ratio: fail below'),
	('pagination_rows', 1000, 'rows', 'checklist: rows per call of a SELECT without LIMIT'),
	('partition_min_bytes', 10737418240, 'bytes', 'checklist: tables with a time column larger than this are archiving or partitioning candidates'),
	('unused_index_min_bytes', 1048576, 'bytes', 'checklist: unused indexes smaller than this are not reported'),
	('xid_age_warning', 1000000000, 'xids', 'transaction ID age of the database: warning'),
	('xid_age_critical', 1500000000, 'xids', 'transaction ID age of the database: critical'),
	('alert_p95_ms', 1000, 'ms', 'alert: p95 of a statement in the last window'),
	('alert_slow_statement_ms', 500, 'ms', 'alert: executions slower than this in the last window'),
	('alert_error_rate_warning_pct', 1, '%', 'alert: failed statements against all statements: warning'),
	('alert_error_rate_critical_pct', 5, '%', 'alert: failed statements against all statements: critical'),
	('alert_error_min_calls', 100, 'calls', 'alert: the error rate is judged from this many statements on'),
	('replication_lag_warning_s', 30, 's', 'alert: replay lag of a standby: warning'),
	('replication_lag_critical_s', 300, 's', 'alert: replay lag of a standby: critical'),
	('replication_slot_max_bytes', 1073741824, 'bytes', 'alert: WAL retained by an inactive replication slot'),
	('db_growth_bytes_per_day', 1073741824, 'bytes/day', 'alert: database growth per day (0: off)'),
	('db_size_limit_bytes', 0, 'bytes', 'database size limit, for days until full (0: none)'),
	('table_size_limit_bytes', 0, 'bytes', 'table size limit, for days until full (0: none)'),
	('days_to_limit_warning', 30, 'days', 'alert: days until the database reaches db_size_limit_bytes: warning'),
	('days_to_limit_critical', 7, 'days', 'alert: days until the database reaches db_size_limit_bytes: critical'),
	('maintenance_overdue_hours', 26, 'hours', 'alert: archiving or partition maintenance last succeeded longer ago than this'),
	('regression_window_s', 3600, 's', 'regressions: length of the recent window'),
	('regression_baseline_s', 604800, 's', 'regressions: length of the baseline before the window'),
	('regression_ratio', 1.5, 'ratio', 'regressions: window p95 against baseline p95'),
	('regression_min_ms', 5, 'ms', 'regressions: smallest p95 increase reported'),
	('regression_min_calls', 20, 'calls', 'regressions: calls needed in both the window and the baseline'),
	('growth_window_days', 30, 'days', 'growth: snapshots this recent are used'),
	('snapshot_max_tables', 200, 'tables', 'snapshots: sizes of this many largest tables are kept')
$$;

-- true when name is a known threshold (for the CHECK of thresholds)
CREATE FUNCTION @extschema@._threshold_known(p_name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@._threshold_defaults() d WHERE d.name = p_name) $$;

-- Thresholds changed by the user.  pg_dump keeps these rows.
CREATE TABLE @extschema@.thresholds (
	name text PRIMARY KEY CHECK (@extschema@._threshold_known(name)),
	value numeric NOT NULL CHECK (value >= 0),
	changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.thresholds', '');

-- The value of a threshold: the user's, or the default.
CREATE FUNCTION @extschema@._t(p_name text)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT t.value FROM @extschema@.thresholds t WHERE t.name = p_name),
				(SELECT d.default_value FROM @extschema@._threshold_defaults() d WHERE d.name = p_name))
$$;

-- The one rule of a slow statement (slow_queries, the checklist's
-- slow_statements, the statement alerts and capacity() use it): an
-- application statement (_app_statement) that ran at least
-- slow_statement_min_calls times with a p95 over slow_statement_ms.
CREATE FUNCTION @extschema@._is_slow(p_query text, p_calls bigint, p_p95_ms double precision)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT p_calls >= @extschema@._t('slow_statement_min_calls')
	   AND p_p95_ms > @extschema@._t('slow_statement_ms')
	   AND @extschema@._app_statement(p_query)
$$;

-- Slow statements (_is_slow: application statements with at least
-- slow_statement_min_calls calls and a p95 over slow_statement_ms), slowest
-- first, with their share of the execution time of all statements and
-- rows per call.
CREATE VIEW @extschema@.slow_queries AS
  SELECT s.queryid, s.dbid, s.userid, s.toplevel, s.query, s.calls, s.errors,
         s.p50_ms, s.p95_ms, s.p99_ms, s.max_exec_ms, s.mean_exec_ms,
         s.total_exec_ms,
         round((s.total_exec_ms / NULLIF(s.all_ms, 0) * 100)::numeric, 1)::float8
           AS pct_of_total_time,
         s.rows / NULLIF(s.calls, 0) AS rows_per_call,
         s.shared_blks_read, s.last_seen,
         @extschema@._ms_pretty(s.p95_ms) AS p95,
         @extschema@._ms_pretty(s.total_exec_ms) AS total_time
  FROM (SELECT q.*, sum(q.total_exec_ms) OVER () AS all_ms
          FROM @extschema@.query_stats q) s
  WHERE @extschema@._is_slow(s.query, s.calls, s.p95_ms)
  ORDER BY s.p95_ms DESC, s.total_exec_ms DESC;
GRANT SELECT ON @extschema@.slow_queries TO PUBLIC;

CREATE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings')
ORDER BY d.name;

-- Set a threshold (NULL value: back to the default).
CREATE FUNCTION @extschema@.set_threshold(p_name text, p_value numeric)
RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('set_threshold()');
	IF p_name IS NULL OR NOT @extschema@._threshold_known(p_name) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown threshold %L', p_name),
			HINT = 'SELECT name FROM scale_advisor.threshold_settings lists the thresholds.';
	END IF;
	IF p_value IS NULL THEN
		DELETE FROM @extschema@.thresholds WHERE name = p_name;
	ELSIF p_value < 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('threshold %s must not be negative', p_name),
			HINT = 'Use 0 or a positive number.';
	ELSIF p_value IN ('NaN'::numeric, 'Infinity'::numeric) THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('threshold %s must be a finite number, not %s', p_name, p_value),
			HINT = 'Use 0 or a positive number.';
	ELSE
		INSERT INTO @extschema@.thresholds (name, value) VALUES (p_name, p_value)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = pg_catalog.now();
	END IF;
	RETURN @extschema@._t(p_name);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.set_threshold(text, numeric) FROM PUBLIC;

-- The statement histograms and examples kept in shared memory.
CREATE FUNCTION @extschema@._history(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT calls bigint,
	OUT rows bigint, OUT total_exec_ms double precision, OUT buckets bigint[],
	OUT first_seen timestamptz, OUT last_seen timestamptz,
	OUT sample_query text, OUT param_types regtype[], OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history';

-- Every example kept (up to four per statement, renewed over time), oldest
-- first: the caller's statements, or all when it may read all statistics;
-- parameter values only for the example's own role and superusers.
CREATE FUNCTION @extschema@._history_examples(
	OUT dbid oid, OUT queryid bigint, OUT userid oid, OUT example integer,
	OUT taken_at timestamptz, OUT sample_query text, OUT param_types regtype[],
	OUT param_values text[])
RETURNS SETOF record
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_history_examples';

CREATE FUNCTION @extschema@._history_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_history_reset';
REVOKE ALL ON FUNCTION @extschema@._history_reset() FROM PUBLIC;

CREATE FUNCTION @extschema@._hist_quantile(buckets bigint[], q double precision)
RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_quantile';

CREATE FUNCTION @extschema@._hist_count_above(buckets bigint[], ms double precision)
RETURNS bigint
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_count_above';

CREATE FUNCTION @extschema@._host_cpus()
RETURNS integer
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_host_cpus';

-- a - b bucket by bucket: the histogram of the executions between two
-- readings of the same statement.  The counts of _history() are kept
-- modulo 2^32, so is the difference.  a alone when b is missing or has
-- another number of buckets (a snapshot of version 1.0); for 1.0's 48
-- buckets, also when b is larger somewhere (the counters were reset).
CREATE FUNCTION @extschema@._hist_sub(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN b IS NULL OR cardinality(a) <> cardinality(b) THEN a
			WHEN cardinality(a) = 48 AND bool_or(u.x < coalesce(b[u.i], 0)) THEN a
			WHEN cardinality(a) = 48 THEN array_agg(u.x - coalesce(b[u.i], 0) ORDER BY u.i)
			ELSE array_agg(((u.x - coalesce(b[u.i], 0)) % 4294967296 + 4294967296) % 4294967296
						   ORDER BY u.i) END
FROM unnest(a) WITH ORDINALITY AS u(x, i)
$$;

-- true when the extension schema has a relation of that name (another part
-- of scale_advisor that may not be installed yet)
CREATE FUNCTION @extschema@._has(p_name text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.to_regclass(pg_catalog.format('%I.%I', '@extschema@', p_name)) IS NOT NULL $$;

-- true when relation p_name of the extension schema has column p_col
CREATE FUNCTION @extschema@._has_col(p_name text, p_col text)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
			   WHERE a.attrelid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', '@extschema@', p_name))
				 AND a.attname = p_col AND a.attnum > 0 AND NOT a.attisdropped)
$$;

-- The OID of the current database: the default of snapshots.dbid.
CREATE FUNCTION @extschema@._current_dbid()
RETURNS pg_catalog.oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
$$;

-- History: one row per snapshot, with the database totals.  dbid: the
-- database it was taken in (a database copied with CREATE DATABASE ...
-- TEMPLATE holds the history of its template, whose tables have the same
-- OIDs but other counters).
CREATE TABLE @extschema@.snapshots (
	snap_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	taken_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	db_bytes bigint,
	numbackends integer,
	active_sessions integer,
	active_time_ms double precision,
	xact_commit bigint,
	xact_rollback bigint,
	stmt_calls bigint,
	stmt_errors bigint,
	stmt_exec_ms double precision,
	-- tables whose size could not be read without waiting for a lock
	-- another session held (they are missing from snapshot_tables)
	locked_tables text[],
	dbid pg_catalog.oid DEFAULT @extschema@._current_dbid()
);
CREATE INDEX ON @extschema@.snapshots (taken_at);

-- Cumulative histogram of every statement whose count changed since the
-- snapshot before (a statement's figures at a snapshot are those of its
-- latest row at or before it).
CREATE TABLE @extschema@.snapshot_statements (
	snap_id bigint NOT NULL REFERENCES @extschema@.snapshots ON DELETE CASCADE,
	dbid oid NOT NULL,
	queryid bigint NOT NULL,
	first_seen timestamptz NOT NULL,
	calls bigint NOT NULL,
	rows bigint NOT NULL,
	total_exec_ms double precision NOT NULL,
	buckets bigint[] NOT NULL,
	PRIMARY KEY (snap_id, dbid, queryid)
);
CREATE INDEX ON @extschema@.snapshot_statements (dbid, queryid, snap_id);

-- Rows and bytes of the largest tables of the database, per snapshot, and
-- their cumulative write counters (pg_stat_user_tables: rows inserted,
-- updated, of them HOT, deleted), from which the index advice takes the
-- write rate of a recent window (_index_table_activity()).
CREATE TABLE @extschema@.snapshot_tables (
	snap_id bigint NOT NULL REFERENCES @extschema@.snapshots ON DELETE CASCADE,
	relid oid NOT NULL,
	schemaname name NOT NULL,
	relname name NOT NULL,
	n_live_tup bigint,
	total_bytes bigint,
	n_tup_ins bigint,
	n_tup_upd bigint,
	n_tup_hot_upd bigint,
	n_tup_del bigint,
	PRIMARY KEY (snap_id, relid)
);

-- Monitoring: superusers and roles with the privileges of pg_read_all_stats
-- (pg_monitor) read the history and the thresholds (the growth, regressions,
-- capacity, checklist and alerts functions run as the caller and read
-- them); threshold_settings refuses other roles with a hint.  The
-- thresholds themselves are no secret: every role may read them, so that
-- the functions reach their privilege check.
GRANT SELECT ON @extschema@.snapshots, @extschema@.snapshot_statements,
  @extschema@.snapshot_tables TO pg_read_all_stats;
GRANT SELECT ON @extschema@.thresholds, @extschema@.threshold_settings TO PUBLIC;

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

	IF @extschema@._has('query_stats') THEN
		EXECUTE pg_catalog.format(
			'SELECT sum(calls)::bigint, sum(errors)::bigint, sum(total_exec_ms)::float8 FROM %I.query_stats WHERE dbid = $1',
			'@extschema@')
			INTO v_calls, v_errors, v_ms
			USING (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database());
	END IF;

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

-- Forget the history: the snapshots and the statement histograms.
CREATE FUNCTION @extschema@.reset_history()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('reset_history()');
	DELETE FROM @extschema@.snapshots;
	PERFORM @extschema@._history_reset();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.reset_history() FROM PUBLIC;

-- The statements of the current database: from the statement store
-- (query_stats) when it is installed, else from the histograms above.
-- Statements that read scale_advisor's own views (monitoring, this
-- checklist) are left out: they are not the application's.
CREATE TYPE @extschema@._statement AS (
	dbid oid, userid oid, queryid bigint, query text, calls bigint,
	errors bigint, rows bigint, total_exec_ms double precision,
	mean_exec_ms double precision, p95_ms double precision,
	max_exec_ms double precision, first_seen timestamptz,
	last_seen timestamptz);

CREATE FUNCTION @extschema@._statements()
RETURNS SETOF @extschema@._statement
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
BEGIN
	PERFORM @extschema@._require_loaded();
	IF @extschema@._has('query_stats') THEN
		RETURN QUERY EXECUTE pg_catalog.format(
			'SELECT q.dbid, q.userid, q.queryid, q.query, q.calls::bigint, q.errors::bigint,'
			'       q.rows::bigint, q.total_exec_ms::float8, q.mean_exec_ms::float8,'
			'       q.p95_ms::float8, q.max_exec_ms::float8, q.first_seen, q.last_seen'
			'  FROM %I.query_stats q WHERE q.dbid = $1'
			'   AND strpos(coalesce(q.query, ''''), $2) = 0', '@extschema@')
			USING v_db, '@extschema@.';
	ELSE
		RETURN QUERY
		SELECT h.dbid, h.userid, h.queryid, h.sample_query, h.calls, NULL::bigint,
			   h.rows, h.total_exec_ms, h.total_exec_ms / greatest(h.calls, 1),
			   @extschema@._hist_quantile(h.buckets, 0.95), NULL::float8,
			   h.first_seen, h.last_seen
		FROM @extschema@._history() h
		WHERE h.dbid = v_db AND h.calls > 0
		  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0;
	END IF;
END
$$;

-- Per statement of the current database: the histogram of the window (the
-- time since the latest snapshot at least p_window old) and of the
-- baseline (the p_baseline before that).
CREATE FUNCTION @extschema@._windows(p_window interval, p_baseline interval)
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
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the window and baseline snapshots (ids grow with time)
	SELECT s.taken_at, s.snap_id INTO v_w, v_wid FROM @extschema@.snapshots s
	WHERE s.taken_at <= pg_catalog.now() - p_window
	ORDER BY s.taken_at DESC, s.snap_id DESC LIMIT 1;
	SELECT s.snap_id INTO v_bid FROM @extschema@.snapshots s
	WHERE s.taken_at <= v_w - p_baseline
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
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0;
END
$$;
