-- 1.0 -> 1.1: the security model of the views and functions (docs/security.md).
--
-- Monitoring views and functions check the reader with
-- _require_stats_reader() and are granted to PUBLIC; the history tables
-- are readable by pg_read_all_stats; N+1 ignore rules record their creator
-- and are shown (row-level security) and applied only to roles whose
-- privileges the creator has; table sizes are read without waiting for
-- locks.  Every definition below is the one of sql/install/.

CREATE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader';

CREATE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait';

CREATE OR REPLACE VIEW @extschema@.info AS
  SELECT * FROM @extschema@._info()
  WHERE @extschema@._require_loaded()
    AND @extschema@._require_stats_reader('scale_advisor.info');

-- N+1 ignore rules: their creator (1.0 rules: the role named in added_by,
-- or the extension's owner when that role no longer exists).
ALTER TABLE @extschema@.n_plus_one_ignore_list
	ADD COLUMN created_by pg_catalog.regrole;
UPDATE @extschema@.n_plus_one_ignore_list AS i
   SET created_by = coalesce(pg_catalog.to_regrole(pg_catalog.quote_ident(i.added_by)),
						  (SELECT e.extowner::pg_catalog.regrole FROM pg_catalog.pg_extension e
							WHERE e.extname = 'scale_advisor'));
ALTER TABLE @extschema@.n_plus_one_ignore_list
	ALTER COLUMN created_by SET DEFAULT (CURRENT_USER)::pg_catalog.regrole,
	ALTER COLUMN created_by SET NOT NULL;
DROP INDEX @extschema@.n_plus_one_ignore_list_key;
CREATE UNIQUE INDEX n_plus_one_ignore_list_key
	ON @extschema@.n_plus_one_ignore_list
	((COALESCE(queryid, 0)), (COALESCE(application_name, '')), created_by);
ALTER TABLE @extschema@.n_plus_one_ignore_list ENABLE ROW LEVEL SECURITY;
CREATE POLICY n_plus_one_ignore_list_creator ON @extschema@.n_plus_one_ignore_list
	USING (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'));

-- the entries function takes the rules' creators (a new signature)
DROP VIEW @extschema@.n_plus_one;
DROP FUNCTION @extschema@._n_plus_one_entries(bigint[], text[]);
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
	ignore_creators oid[] DEFAULT NULL,
	OUT dbid oid,
	OUT userid oid,
	OUT application_name text,
	OUT kind text,
	OUT queryid bigint,
	OUT query text,
	OUT parent_queryid bigint,
	OUT parent_query text,
	OUT parent_rows bigint,
	OUT detections bigint,
	OUT repeated_calls bigint,
	OUT max_run bigint,
	OUT last_run bigint,
	OUT total_ms double precision,
	OUT batched_query text,
	OUT join_query text,
	OUT first_seen timestamptz,
	OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries_1_1';

CREATE VIEW @extschema@.n_plus_one AS
SELECT e.dbid,
	   e.userid,
	   e.application_name,
	   e.kind,
	   e.queryid,
	   e.query,
	   e.parent_queryid,
	   e.parent_query,
	   e.parent_rows,
	   e.detections,
	   e.repeated_calls,
	   e.max_run,
	   round(e.repeated_calls::numeric / NULLIF(e.detections, 0), 1) AS avg_run,
	   e.last_run,
	   round(e.total_ms::numeric, 3) AS total_ms,
	   CASE e.kind
		 WHEN 'n_plus_one' THEN
		   CASE WHEN e.batched_query IS NULL THEN
			 '-- fetch the rows for all keys with one statement (WHERE key = ANY($1)) instead of one statement per key'
		   ELSE
			 '-- one statement for all the keys of the loop (pass them as one array):' || E'\n'
			 || e.batched_query || ';'
		   END
		   || CASE WHEN e.join_query IS NOT NULL THEN
			 E'\n' || '-- or, instead of looping over the rows of the parent query, join to it:' || E'\n'
			 || e.join_query || ';'
		   ELSE '' END
		 WHEN 'insert_loop' THEN
		   CASE WHEN e.batched_query IS NULL THEN
			 '-- insert all the rows with one multi-row INSERT ... VALUES (...), (...) or with COPY instead of one INSERT per row'
		   ELSE
			 '-- one INSERT for all the rows (one array per column), or COPY:' || E'\n'
			 || e.batched_query || ';'
		   END
		 ELSE
		   '-- the same statement ran ' || e.max_run
		   || ' times in a row with the same parameters: run it once and reuse its result'
	   END AS suggestion,
	   e.batched_query,
	   e.join_query,
	   e.first_seen,
	   e.last_seen
  FROM @extschema@._n_plus_one_entries(
		(SELECT pg_catalog.array_agg(i.queryid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.application_name ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i),
		(SELECT pg_catalog.array_agg(i.created_by::pg_catalog.oid ORDER BY i.ctid)
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded();
GRANT SELECT ON @extschema@.n_plus_one TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore(
	queryid bigint,
	application_name text DEFAULT NULL,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore()');
	IF n_plus_one_ignore.queryid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'queryid must not be null',
			HINT = 'Pass the queryid shown in scale_advisor.n_plus_one, or use n_plus_one_ignore_application() to ignore an application.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid = n_plus_one_ignore.queryid
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION @extschema@.n_plus_one_ignore_application(
	application_name text,
	note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_ignore_application()');
	IF n_plus_one_ignore_application.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'application_name must not be null',
			HINT = 'Pass the application_name shown in scale_advisor.n_plus_one.';
	END IF;
	IF EXISTS (SELECT 1 FROM @extschema@.n_plus_one_ignore_list AS i
				WHERE i.queryid IS NULL
				  AND i.application_name = n_plus_one_ignore_application.application_name
				  AND i.created_by = CURRENT_USER::regrole) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;

GRANT SELECT ON @extschema@.index_workload, @extschema@.index_advice,
  @extschema@.index_advice_skipped TO PUBLIC;

CREATE OR REPLACE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
         WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                           WHERE datname = pg_catalog.current_database())) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.unused_indexes')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0;

CREATE OR REPLACE VIEW @extschema@.duplicate_indexes AS
WITH idx AS (
  SELECT i.indexrelid, i.indrelid, i.indisunique, i.indisprimary,
         n.nspname, ic.relname,
         i.indnkeyatts AS nkey,
         (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys,
         (i.indclass::oid[])[0:i.indnkeyatts - 1] AS classes,
         (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS colls,
         (i.indoption::int2[])[0:i.indnkeyatts - 1] AS opts,
         (i.indkey::int2[])[i.indnkeyatts:] AS incl,
         ic.relam,
         pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS exprs,
         pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS pred,
         @extschema@._relation_size_nowait(i.indexrelid, true) AS size
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indisvalid
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
)
SELECT DISTINCT ON (a.indexrelid)
       a.indrelid::pg_catalog.regclass AS relation,
       a.indexrelid::pg_catalog.regclass AS index,
       b.indexrelid::pg_catalog.regclass AS covered_by,
       CASE WHEN a.keys = b.keys AND a.incl = b.incl THEN 'same definition'
            ELSE 'leading columns of covered_by' END AS kind,
       pg_catalog.pg_get_indexdef(a.indexrelid) AS index_def,
       pg_catalog.pg_get_indexdef(b.indexrelid) AS covered_by_def,
       a.size AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', a.nspname, a.relname) AS drop_sql
  FROM idx a
  JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.duplicate_indexes')
   AND a.relam = b.relam
   AND a.pred IS NOT DISTINCT FROM b.pred
   AND a.exprs IS NOT DISTINCT FROM b.exprs
   AND a.nkey <= b.nkey
   AND a.keys = b.keys[1:a.nkey]
   AND a.classes = b.classes[1:a.nkey]
   AND a.colls = b.colls[1:a.nkey]
   AND a.opts = b.opts[1:a.nkey]
   AND (a.incl <@ (b.keys || b.incl))
   AND CASE
         -- identical definitions: keep the constraint index, else the older
         WHEN a.keys = b.keys AND a.incl = b.incl THEN
           a.indisunique = b.indisunique
           AND NOT a.indisprimary
           AND (b.indisprimary
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid))
                OR (EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = b.indexrelid)
                    = EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
                    AND a.indexrelid > b.indexrelid))
         -- a strict prefix (or the same keys with fewer INCLUDE columns)
         ELSE NOT a.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
       END
 ORDER BY a.indexrelid, (a.keys = b.keys AND a.incl = b.incl) DESC, b.nkey, b.indexrelid;

CREATE OR REPLACE VIEW @extschema@.invalid_indexes AS
SELECT c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       i.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS index_def,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.format('REINDEX INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS reindex_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.invalid_indexes')
   AND NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

CREATE OR REPLACE VIEW @extschema@.fk_without_index AS
SELECT k.conrelid::pg_catalog.regclass AS relation,
       k.conname AS constraint_name,
       k.confrelid::pg_catalog.regclass AS referenced_relation,
       ARRAY(SELECT a.attname::text
               FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
               JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = k.conrelid AND a.attnum = u.attnum
              ORDER BY u.ord) AS columns,
       @extschema@._relation_size_nowait(k.conrelid, true) AS table_size_bytes,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %I.%I (%s)',
              n.nspname, c.relname,
              (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
                 FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_catalog.pg_attribute a
                   ON a.attrelid = k.conrelid AND a.attnum = u.attnum)) AS index_sql
  FROM pg_catalog.pg_constraint k
  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.fk_without_index')
   AND k.contype = 'f'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND NOT EXISTS (
         SELECT 1
           FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_catalog.pg_am am ON am.oid = ic.relam
          WHERE i.indrelid = k.conrelid
            AND i.indisvalid
            AND i.indpred IS NULL
            AND am.amname IN ('btree', 'hash')
            AND i.indnkeyatts >= pg_catalog.cardinality(k.conkey)
            -- the first n key columns, as a set, are the FK's columns
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] @> k.conkey
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] <@ k.conkey);

GRANT SELECT ON @extschema@.unused_indexes, @extschema@.duplicate_indexes,
  @extschema@.invalid_indexes, @extschema@.fk_without_index TO PUBLIC;

CREATE OR REPLACE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings');

-- tables whose size a snapshot could not read without waiting for a lock
ALTER TABLE @extschema@.snapshots ADD COLUMN locked_tables text[];

GRANT SELECT ON @extschema@.snapshots, @extschema@.snapshot_statements,
  @extschema@.snapshot_tables TO pg_read_all_stats;
GRANT SELECT ON @extschema@.thresholds, @extschema@.threshold_settings TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.snapshot()
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
			   @extschema@._relation_size_nowait(s.relid) AS bytes
		FROM pg_catalog.pg_stat_user_tables s
		WHERE s.schemaname <> '@extschema@'
	), ins AS (
		INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes)
		SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes
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

CREATE OR REPLACE FUNCTION @extschema@._growth()
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

CREATE OR REPLACE VIEW @extschema@.growth AS
SELECT g.* FROM @extschema@._growth() g
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.growth');

CREATE OR REPLACE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.regressions');

GRANT SELECT ON @extschema@.growth, @extschema@.regressions TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
RETURNS TABLE (item text, current numeric, projected numeric, unit text,
			   status text, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cpus integer := coalesce(@extschema@._host_cpus(), 1);
	v_from timestamptz := pg_catalog.now() - pg_catalog.make_interval(days => (SELECT @extschema@._t('growth_window_days'))::integer);
	v_avg numeric;
	v_peak numeric;
	v_rho numeric;
	v_rho_new numeric;
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	v_peak_conn integer;
	v_proj_conn integer;
	v_pool integer;
	v_target numeric := (SELECT @extschema@._t('slow_statement_ms'));
	v_min_calls numeric := (SELECT @extschema@._t('slow_statement_min_calls'));
	v_infl numeric;
	v_db record;
	v_dblimit numeric := (SELECT @extschema@._t('db_size_limit_bytes'));
	v_n integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_stats_reader('scale_advisor.capacity()');
	IF load_factor IS NULL OR load_factor <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'load_factor must be a positive number',
			HINT = 'Pass the load to plan for as a multiple of today''s, for example 2 or 3.';
	END IF;
	IF load_factor > 1000000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('load_factor must be a number up to 1000000, not %s', load_factor),
			HINT = 'Pass the load to plan for as a multiple of today''s, for example 2 or 3.';
	END IF;

	-- busy time: active_time of the database between snapshots (and now)
	WITH pts AS (
		SELECT n.taken_at AS t, n.active_time_ms AS a
		FROM @extschema@.snapshots n
		WHERE n.taken_at >= v_from AND n.active_time_ms IS NOT NULL
		UNION ALL
		SELECT pg_catalog.now(), d.active_time
		FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()
	), steps AS (
		SELECT p.a - lag(p.a) OVER w AS da,
			   extract(epoch FROM p.t - lag(p.t) OVER w) * 1000 AS dt
		FROM pts p WINDOW w AS (ORDER BY p.t)
	)
	SELECT sum(s.da) FILTER (WHERE s.da >= 0) / nullif(sum(s.dt) FILTER (WHERE s.da >= 0), 0),
		   max(s.da / s.dt) FILTER (WHERE s.da >= 0 AND s.dt >= 1000)
	INTO v_avg, v_peak
	FROM steps s WHERE s.dt > 0;
	IF v_peak IS NULL THEN
		-- no history yet: what is active right now
		SELECT count(*) INTO v_peak FROM pg_catalog.pg_stat_activity a
		WHERE a.backend_type = 'client backend' AND a.state = 'active'
		  AND a.pid <> pg_catalog.pg_backend_pid();
		v_avg := coalesce(v_avg, v_peak);
	END IF;
	v_peak := greatest(v_peak, coalesce(v_avg, 0));
	v_rho := v_peak / v_cpus;
	v_rho_new := v_rho * load_factor;

	item := 'busy sessions (peak)'; current := round(v_peak, 2);
	projected := round(v_peak * load_factor, 2); unit := 'sessions';
	status := CASE WHEN v_rho_new >= 1 THEN 'fail' WHEN v_rho_new >= 0.7 THEN 'warn' ELSE 'pass' END;
	detail := pg_catalog.format('average %s busy sessions; %s CPUs; projected utilisation %s%%',
		round(coalesce(v_avg, 0), 2), v_cpus, round(v_rho_new * 100));
	RETURN NEXT;

	SELECT greatest(coalesce(max(n.numbackends), 0),
					(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend'))
	INTO v_peak_conn
	FROM @extschema@.snapshots n WHERE n.taken_at >= v_from;
	v_proj_conn := ceil(v_peak_conn * load_factor);
	v_pool := least(greatest(2 * v_cpus, ceil(v_peak * load_factor * 1.5)::integer), v_maxconn);
	item := 'connections (peak)'; current := v_peak_conn; projected := v_proj_conn;
	unit := 'connections';
	status := CASE WHEN v_proj_conn > v_maxconn THEN 'fail'
				   WHEN v_proj_conn * 100.0 / v_maxconn >= (SELECT @extschema@._t('connections_warning_pct')) THEN 'warn'
				   ELSE 'pass' END;
	detail := pg_catalog.format('%s usable of max_connections; behind a transaction pooler %s server connections carry the projected load',
		v_maxconn, v_pool);
	RETURN NEXT;

	item := 'pool size'; current := NULL; projected := v_pool; unit := 'connections';
	status := 'pass';
	detail := pg_catalog.format('pgbouncer: pool_mode = transaction, default_pool_size = %s (max(2 x CPUs, 1.5 x projected busy sessions))', v_pool);
	RETURN NEXT;

	SELECT g.bytes_now, g.bytes_per_day INTO v_db
	FROM @extschema@._growth() g WHERE g.scope = 'database';
	FOR v_n IN SELECT unnest(ARRAY[30, 90]) LOOP
		item := pg_catalog.format('storage in %s days', v_n);
		current := v_db.bytes_now;
		projected := round(v_db.bytes_now + greatest(coalesce(v_db.bytes_per_day, 0), 0) * load_factor * v_n);
		unit := 'bytes';
		status := CASE WHEN v_db.bytes_per_day IS NULL THEN 'warn'
					   WHEN v_dblimit > 0 AND projected > v_dblimit THEN 'fail'
					   ELSE 'pass' END;
		detail := CASE WHEN v_db.bytes_per_day IS NULL
					   THEN 'no growth measured yet: take snapshots (scale_advisor.snapshot()) over a few days'
					   ELSE pg_catalog.format('%s now, growing %s a day today, %s a day at %sx load',
							pg_catalog.pg_size_pretty(v_db.bytes_now),
							pg_catalog.pg_size_pretty(v_db.bytes_per_day),
							pg_catalog.pg_size_pretty(round(v_db.bytes_per_day * load_factor)), load_factor) END;
		RETURN NEXT;
	END LOOP;

	-- statements: queueing inflates response time by (1 - rho) / (1 - rho')
	v_infl := CASE WHEN v_rho_new < 1 THEN (1 - least(v_rho, 0.99)) / (1 - v_rho_new) END;
	FOR r IN
		SELECT s.queryid, s.query, s.p95_ms, s.calls
		FROM @extschema@._statements() s
		WHERE s.calls >= v_min_calls AND s.p95_ms IS NOT NULL
		ORDER BY s.p95_ms DESC
		LIMIT 5
	LOOP
		item := pg_catalog.format('statement %s', r.queryid);
		current := round(r.p95_ms::numeric, 2);
		projected := round(r.p95_ms::numeric * v_infl, 2);
		unit := 'ms p95';
		status := CASE WHEN v_infl IS NULL OR r.p95_ms * v_infl >= v_target THEN 'fail'
					   WHEN r.p95_ms * v_infl >= v_target * 0.5 THEN 'warn' ELSE 'pass' END;
		detail := pg_catalog.left(pg_catalog.regexp_replace(coalesce(r.query, ''), '\s+', ' ', 'g'), 120);
		RETURN NEXT;
	END LOOP;
END
$$;

CREATE FUNCTION @extschema@._archive_status()
RETURNS TABLE (relation text, last_status text, last_success timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT (@extschema@._has_col('archive_policies', 'enabled')
			AND @extschema@._has_col('archive_runs', 'status')
			AND @extschema@._has_col('archive_runs', 'finished_at')) THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT p.relation::text, l.status::text, s.t
		FROM @extschema@.archive_policies p
		LEFT JOIN LATERAL (
			SELECT r.status FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.<>) 'running'
			ORDER BY r.started_at DESC LIMIT 1) l ON true
		LEFT JOIN LATERAL (
			SELECT max(coalesce(r.finished_at, r.started_at)) AS t FROM @extschema@.archive_runs r
			WHERE r.relation OPERATOR(pg_catalog.=) p.relation
			  AND r.status OPERATOR(pg_catalog.=) 'done') s ON true
		WHERE p.enabled $q$;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._archive_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._archive_status() TO pg_read_all_stats;

CREATE OR REPLACE FUNCTION @extschema@._maintenance_status()
RETURNS TABLE (kind text, object text, state text, last_success timestamptz,
			   hours_since_success numeric, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_hours numeric := (SELECT @extschema@._t('maintenance_overdue_hours'));
BEGIN
	PERFORM @extschema@._require_loaded();
	RETURN QUERY
		SELECT 'archive'::text, a.relation,
			   CASE WHEN a.last_status IN ('failed', 'interrupted') THEN 'failing'
					WHEN a.last_success IS NULL OR a.last_success < pg_catalog.now() - pg_catalog.make_interval(hours => v_hours::integer) THEN 'overdue'
					ELSE 'ok' END,
			   a.last_success, round((extract(epoch FROM pg_catalog.now() - a.last_success) / 3600)::numeric, 1),
			   CASE WHEN a.last_status IN ('failed', 'interrupted')
					THEN pg_catalog.format('last archive run of %s %s: the role that ran it sees the error in scale_advisor.archive_runs', a.relation, a.last_status)
					WHEN a.last_success IS NULL THEN pg_catalog.format('archive policy of %s never ran to completion: call scale_advisor.run_archive_policies() from cron', a.relation)
					ELSE pg_catalog.format('archive policy of %s last completed at %s', a.relation, a.last_success) END
		FROM @extschema@._archive_status() a;
	IF @extschema@._has_col('partition_maintenance_status', 'overdue')
	   AND @extschema@._has_col('partition_maintenance_status', 'consecutive_failures')
	   AND @extschema@._has_col('partition_maintenance_status', 'last_success') THEN
		RETURN QUERY EXECUTE $q$
			SELECT 'partition'::text, pg_catalog.format('%I.%I', m.parent_schema, m.parent_table),
				   CASE WHEN m.consecutive_failures > 0 THEN 'failing'
						WHEN m.overdue THEN 'overdue' ELSE 'ok' END,
				   m.last_success, round((extract(epoch FROM pg_catalog.now() - m.last_success) / 3600)::numeric, 1),
				   pg_catalog.format('partition maintenance of %I.%I: %s', m.parent_schema, m.parent_table, m.status)
			FROM @extschema@.partition_maintenance_status m
			WHERE m.enabled $q$;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._checklist()
RETURNS TABLE ("check" text, status text, value text, target text, advice text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_n bigint;
	v_m bigint;
	v_x numeric;
	v_y numeric;
	v_txt text;
	v_txt2 text;
	v_t numeric;
	v_t2 numeric;
	v_cpus integer := coalesce(@extschema@._host_cpus(), 1);
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	v_pool integer;
	v_setting text;
	v_g record;
	v_stmts @extschema@._statement[];
	v_r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- the statements, read once for every check that needs them
	v_stmts := ARRAY(SELECT s FROM @extschema@._statements() s);

	-- statements over 100 ms at p95
	v_t := (SELECT @extschema@._t('slow_statement_ms'));
	SELECT count(*), max(s.p95_ms),
		   string_agg(pg_catalog.format('%s (%s ms: %s)', s.queryid, round(s.p95_ms::numeric, 1), @extschema@._short(s.query)), '; '
					  ORDER BY s.p95_ms DESC) FILTER (WHERE s.rn <= 3)
	INTO v_n, v_x, v_txt
	FROM (SELECT s.*, row_number() OVER (ORDER BY s.p95_ms DESC) AS rn
		  FROM unnest(v_stmts) s
		  WHERE s.calls >= (SELECT @extschema@._t('slow_statement_min_calls')) AND s.p95_ms > v_t) s;
	"check" := 'slow_statements';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= (SELECT @extschema@._t('alert_p95_ms')) THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN '0 statements over the target'
				  ELSE pg_catalog.format('%s statements over the target, worst: %s', v_n, v_txt) END;
	target := pg_catalog.format('p95 under %s ms', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'EXPLAIN (ANALYZE, BUFFERS) the statements named; read scale_advisor.slow_queries and scale_advisor.index_advice for their plans and missing indexes' END;
	RETURN NEXT;

	-- missing indexes, from index_advice
	v_n := @extschema@._count_of('index_advice');
	"check" := 'missing_indexes';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.index_advice is not installed)'
				  ELSE pg_catalog.format('%s index suggestions', v_n) END;
	target := '0 suggestions';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.index_advice; create each index with CREATE INDEX CONCURRENTLY' END;
	RETURN NEXT;

	-- large tables read by sequential scans
	v_t := (SELECT @extschema@._t('seq_scan_min_rows'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s seq scans)', t.schemaname, t.relname, t.seq_scan), ', '
								 ORDER BY t.seq_tup_read DESC)
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_live_tup >= v_t AND t.seq_scan > coalesce(t.idx_scan, 0)
	  AND t.seq_tup_read / greatest(t.seq_scan, 1) >= v_t;
	"check" := 'sequential_scans';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no large table is read mostly by sequential scans'
				  ELSE pg_catalog.format('%s large tables read mostly by sequential scans: %s', v_n, v_txt) END;
	target := pg_catalog.format('tables over %s rows read through indexes', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'find the statements scanning them (scale_advisor.slow_queries) and index the columns of their WHERE clauses' END;
	RETURN NEXT;

	-- N+1 patterns
	v_n := @extschema@._count_of('n_plus_one');
	"check" := 'n_plus_one';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.n_plus_one is not installed)'
				  ELSE pg_catalog.format('%s N+1 patterns', v_n) END;
	target := '0 patterns';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with N+1 detection'
				   ELSE 'SELECT * FROM scale_advisor.n_plus_one; load the rows in one statement (WHERE id = ANY($1), a JOIN, or the ORM''s eager loading)' END;
	RETURN NEXT;

	-- cacheable repeated reads
	SELECT sum(s.calls) INTO v_m FROM unnest(v_stmts) s;
	SELECT count(*), string_agg(pg_catalog.format('%s (%s%% of calls: %s)', s.queryid,
								round(s.calls * 100.0 / v_m, 1), @extschema@._short(s.query)), '; ' ORDER BY s.calls DESC)
	INTO v_n, v_txt
	FROM unnest(v_stmts) s
	WHERE s.calls >= (SELECT @extschema@._t('cacheable_min_calls'))
	  AND s.calls * 100.0 / greatest(v_m, 1) >= (SELECT @extschema@._t('cacheable_share_pct'))
	  AND s.rows <= s.calls * 100
	  AND s.query ~* '^\s*select\M'
	  AND s.query !~* '\m(now|random|clock_timestamp|current_timestamp|nextval|txid_current|pg_sleep)\M'
	  AND s.query !~* '\mfor\s+(update|share)\M';
	"check" := 'cacheable_queries';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read dominates the statement mix'
				  ELSE pg_catalog.format('%s repeated reads: %s', v_n, v_txt) END;
	target := pg_catalog.format('no read over %s%% of all calls', (SELECT @extschema@._t('cacheable_share_pct')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'cache these results in the application (with a TTL or invalidation on write), or precompute them in a materialized view' END;
	RETURN NEXT;

	-- connections against max_connections
	SELECT count(*) FILTER (WHERE a.backend_type = 'client backend'),
		   count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.state = 'idle'),
		   count(*) FILTER (WHERE a.backend_type = 'client backend' AND a.state = 'active')
	INTO v_n, v_m, v_x
	FROM pg_catalog.pg_stat_activity a;
	v_pool := least(greatest(2 * v_cpus + 1, ceil(v_x * 1.5)::integer), v_maxconn);
	v_y := round(v_n * 100.0 / v_maxconn, 1);
	"check" := 'connections';
	status := CASE WHEN v_y >= (SELECT @extschema@._t('connections_critical_pct')) THEN 'fail'
				   WHEN v_y >= (SELECT @extschema@._t('connections_warning_pct')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s of %s usable connections (%s%%), %s active', v_n, v_maxconn, v_y, v_x);
	target := pg_catalog.format('under %s%% of max_connections', (SELECT @extschema@._t('connections_warning_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('put a transaction pooler in front (pgbouncer pool_mode = transaction, default_pool_size = %s) rather than raising max_connections', v_pool) END;
	RETURN NEXT;

	-- idle sessions: pooling
	"check" := 'connection_pooling';
	status := CASE WHEN v_m >= (SELECT @extschema@._t('idle_sessions_min'))
					AND v_m * 100.0 / greatest(v_n, 1) >= (SELECT @extschema@._t('idle_sessions_pct')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s idle of %s client sessions', v_m, v_n);
	target := pg_catalog.format('fewer than %s idle sessions or under %s%% idle',
		(SELECT @extschema@._t('idle_sessions_min')), (SELECT @extschema@._t('idle_sessions_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('idle sessions hold server processes: use pgbouncer (pool_mode = transaction, default_pool_size = %s, max_client_conn = %s) and shrink the application pools', v_pool, greatest(v_n * 4, 100)) END;
	RETURN NEXT;

	-- sessions idle in a transaction
	v_t := (SELECT @extschema@._t('idle_in_transaction_s'));
	SELECT count(*), max(extract(epoch FROM pg_catalog.now() - a.state_change))
	INTO v_n, v_x
	FROM pg_catalog.pg_stat_activity a
	WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
	  AND a.state_change < pg_catalog.now() - pg_catalog.make_interval(secs => v_t::float8);
	"check" := 'idle_in_transaction';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := CASE WHEN v_n = 0 THEN 'no session idle in a transaction'
				  ELSE pg_catalog.format('%s sessions idle in a transaction, the oldest for %s s', v_n, round(v_x)) END;
	target := pg_catalog.format('none idle in a transaction over %s s', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'commit or roll back promptly in the application; SELECT pid, query FROM pg_stat_activity WHERE state LIKE ''idle in transaction%'' shows them; set idle_in_transaction_session_timeout' END;
	RETURN NEXT;

	-- timeouts for application roles
	FOR v_g IN SELECT * FROM (VALUES ('statement_timeout', 'statement_timeout_max_ms', '30s'),
								   ('idle_in_transaction_session_timeout', NULL, '60s')) AS g(guc, lim, suggest)
	LOOP
		SELECT count(*),
			   count(*) FILTER (WHERE coalesce(@extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)), 0) = 0
							   OR (v_g.lim IS NOT NULL AND
								   @extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)) > (SELECT @extschema@._t(v_g.lim)))),
			   string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
				 FILTER (WHERE coalesce(@extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)), 0) = 0
						 OR (v_g.lim IS NOT NULL AND
							 @extschema@._guc_ms(@extschema@._role_setting(r.oid, v_g.guc)) > (SELECT @extschema@._t(v_g.lim))))
		INTO v_n, v_m, v_txt
		FROM pg_catalog.pg_roles r
		WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolreplication AND r.rolname !~ '^pg_';
		"check" := v_g.guc;
		status := CASE WHEN v_n = 0 THEN 'warn' WHEN v_m = 0 THEN 'pass' ELSE 'fail' END;
		value := CASE WHEN v_n = 0 THEN 'no application role: only superusers can log in'
					  WHEN v_m = 0 THEN pg_catalog.format('set for all %s application roles', v_n)
					  ELSE pg_catalog.format('%s of %s application roles without a suitable %s: %s', v_m, v_n, v_g.guc, v_txt) END;
		target := CASE WHEN v_g.lim IS NULL THEN 'set for every login role that is not a superuser'
					   ELSE pg_catalog.format('set, at most %s ms, for every login role that is not a superuser', (SELECT @extschema@._t(v_g.lim))) END;
		advice := CASE WHEN v_n = 0 THEN 'let the application log in as a role of its own, not a superuser, and give it timeouts'
					   WHEN v_m = 0 THEN 'nothing to do'
					   ELSE pg_catalog.format('ALTER ROLE %s SET %s = %L;', pg_catalog.split_part(v_txt, ', ', 1), v_g.guc, v_g.suggest) END;
		RETURN NEXT;
	END LOOP;

	-- slow-query logging
	v_x := @extschema@._guc_ms(pg_catalog.current_setting('log_min_duration_statement'));
	v_t := (SELECT @extschema@._t('log_min_duration_max_ms'));
	"check" := 'slow_query_logging';
	status := CASE WHEN v_x < 0 THEN 'fail' WHEN v_x > v_t THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('log_min_duration_statement = %s', pg_catalog.current_setting('log_min_duration_statement'));
	target := pg_catalog.format('between 0 and %s ms', v_t);
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('ALTER SYSTEM SET log_min_duration_statement = ''%sms''; SELECT pg_reload_conf();', least(v_t, 500)) END;
	RETURN NEXT;

	-- WAL archiving
	SELECT s.archived_count, s.failed_count, s.last_archived_time, s.last_failed_time,
		   s.last_failed_wal, s.last_archived_wal
	INTO v_r FROM pg_catalog.pg_stat_archiver s;
	v_setting := pg_catalog.current_setting('archive_mode');
	v_txt := coalesce(nullif(pg_catalog.current_setting('archive_command'), ''),
					  nullif(pg_catalog.current_setting('archive_library', true), ''));
	v_t := (SELECT @extschema@._t('archive_max_age_s'));
	"check" := 'wal_archiving';
	IF v_setting = 'off' OR v_txt IS NULL THEN
		status := 'fail';
		value := CASE WHEN v_setting = 'off' THEN 'archive_mode = off'
					  ELSE pg_catalog.format('archive_mode = %s without archive_command or archive_library', v_setting) END;
		advice := 'set archive_mode = on and an archive_command (or a backup tool such as pgBackRest or WAL-G) that copies WAL off the server; archive_mode needs a restart';
	ELSIF v_r.last_failed_time IS NOT NULL AND v_r.last_failed_time > coalesce(v_r.last_archived_time, '-infinity') THEN
		status := 'fail';
		value := pg_catalog.format('failing: %s failures, last for %s at %s; last success %s',
			v_r.failed_count, v_r.last_failed_wal, v_r.last_failed_time, coalesce(v_r.last_archived_time::text, 'never'));
		advice := 'read the server log for the archive_command error and fix it (destination full or unreachable, permissions); WAL piles up in pg_wal until it succeeds';
	ELSIF v_r.last_archived_time IS NULL THEN
		status := 'warn';
		value := 'archiving is on but nothing was archived yet';
		advice := 'SELECT pg_switch_wal(); then check pg_stat_archiver.last_archived_time';
	ELSIF @extschema@._archive_stale() THEN
		status := 'warn';
		value := pg_catalog.format('last segment archived at %s, %s segments waiting', v_r.last_archived_time,
			coalesce(@extschema@._archive_ready()::text, 'more'));
		advice := 'set archive_timeout (for example 60s) so that quiet periods are archived too, and check that archiving is not stuck';
	ELSE
		status := 'pass';
		value := pg_catalog.format('%s segments archived, last at %s, %s failures', v_r.archived_count, v_r.last_archived_time, v_r.failed_count);
		advice := 'nothing to do';
	END IF;
	target := pg_catalog.format('archiving on, no failure since the last success, last success within %s s while segments wait', v_t);
	RETURN NEXT;

	-- point-in-time recovery
	v_txt2 := status;
	"check" := 'point_in_time_recovery';
	status := CASE WHEN pg_catalog.current_setting('wal_level') = 'minimal' OR v_txt2 = 'fail' THEN 'fail'
				   WHEN v_txt2 = 'warn' OR pg_catalog.current_setting('archive_timeout') = '0' THEN 'warn'
				   ELSE 'pass' END;
	value := pg_catalog.format('wal_level = %s, WAL archiving %s, archive_timeout = %s',
		pg_catalog.current_setting('wal_level'), v_txt2, pg_catalog.current_setting('archive_timeout'));
	target := 'wal_level replica or logical, WAL archiving passing, archive_timeout set';
	advice := CASE WHEN status = 'pass' THEN 'take base backups regularly (pg_basebackup, pgBackRest) and rehearse a restore with recovery_target_time; backups themselves are not visible from SQL'
				   WHEN pg_catalog.current_setting('wal_level') = 'minimal' THEN 'ALTER SYSTEM SET wal_level = replica; restart; then set up WAL archiving'
				   WHEN v_txt2 <> 'pass' THEN 'fix WAL archiving first (check wal_archiving)'
				   ELSE 'ALTER SYSTEM SET archive_timeout = ''60s''; SELECT pg_reload_conf(); bounds how much a quiet server can lose' END;
	RETURN NEXT;

	-- autovacuum on
	SELECT count(*), string_agg(pg_catalog.format('%I.%I', n.nspname, c.relname), ', ')
	INTO v_n, v_txt
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'm') AND c.reloptions @> ARRAY['autovacuum_enabled=false']
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema');
	"check" := 'autovacuum';
	status := CASE WHEN pg_catalog.current_setting('autovacuum') = 'off' OR pg_catalog.current_setting('track_counts') = 'off' THEN 'fail'
				   WHEN v_n > 0 THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('autovacuum = %s, track_counts = %s, %s tables with autovacuum disabled%s',
		pg_catalog.current_setting('autovacuum'), pg_catalog.current_setting('track_counts'), v_n,
		CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := 'autovacuum on for every table';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   WHEN pg_catalog.current_setting('autovacuum') = 'off' THEN 'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();'
				   ELSE pg_catalog.format('ALTER TABLE %s RESET (autovacuum_enabled);', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;

	-- dead tuples
	v_t := (SELECT @extschema@._t('dead_tuple_pct'));
	v_t2 := (SELECT @extschema@._t('dead_tuple_critical_pct'));
	SELECT count(*), max(x.pct),
		   string_agg(pg_catalog.format('%I.%I (%s%% dead, last vacuum %s)', x.schemaname, x.relname, x.pct,
										coalesce(x.lv::text, 'never')), ', ' ORDER BY x.pct DESC)
	INTO v_n, v_x, v_txt
	FROM (SELECT t.schemaname, t.relname,
				 round(t.n_dead_tup * 100.0 / greatest(t.n_live_tup + t.n_dead_tup, 1), 1) AS pct,
				 greatest(t.last_vacuum, t.last_autovacuum) AS lv
		  FROM pg_catalog.pg_stat_user_tables t
		  WHERE t.n_dead_tup >= (SELECT @extschema@._t('dead_tuple_min'))) x
	WHERE x.pct >= v_t;
	"check" := 'dead_tuples';
	status := CASE WHEN v_n = 0 THEN 'pass' WHEN v_x >= v_t2 THEN 'fail' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'autovacuum keeps up: no table over the dead-tuple threshold'
				  ELSE pg_catalog.format('%s tables: %s', v_n, v_txt) END;
	target := pg_catalog.format('under %s%% dead tuples per table', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('VACUUM (VERBOSE) the tables; make autovacuum keep up: ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.02); raise autovacuum_vacuum_cost_limit; look for long transactions holding back cleanup',
						pg_catalog.split_part(pg_catalog.split_part(v_txt, ', ', 1), ' ', 1)) END;
	RETURN NEXT;

	-- statistics age
	v_t := (SELECT @extschema@._t('analyze_max_age_days'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I', t.schemaname, t.relname), ', ' ORDER BY t.n_mod_since_analyze DESC)
	INTO v_n, v_txt
	FROM pg_catalog.pg_stat_user_tables t
	WHERE t.n_mod_since_analyze > 50 + 0.1 * t.n_live_tup
	  AND coalesce(greatest(t.last_analyze, t.last_autoanalyze), '-infinity')
		  < pg_catalog.now() - pg_catalog.make_interval(days => v_t::integer);
	"check" := 'stale_statistics';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'statistics of modified tables are recent'
				  ELSE pg_catalog.format('%s modified tables not analyzed for %s days: %s', v_n, v_t, v_txt) END;
	target := pg_catalog.format('tables with more than 10%% changed rows analyzed within %s days', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('ANALYZE %s; check that autovacuum runs (pg_stat_user_tables.last_autoanalyze)', pg_catalog.split_part(v_txt, ', ', 1)) END;
	RETURN NEXT;

	-- table bloat (estimate from row counts and average widths)
	v_t := (SELECT @extschema@._t('table_bloat_pct'));
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)), ', ' ORDER BY x.waste DESC)
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname,
				 (c.relpages::numeric * pg_catalog.current_setting('block_size')::integer) AS bytes,
				 greatest(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(c.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_class c
		  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  JOIN (SELECT s.schemaname, s.tablename, sum(s.avg_width) AS width
				FROM pg_catalog.pg_stats s
				WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
				GROUP BY s.schemaname, s.tablename) w
			ON w.schemaname = n.nspname AND w.tablename = c.relname
		  CROSS JOIN LATERAL (
			SELECT ceil(c.reltuples::numeric * (24 + 4 + w.width + 8)
						/ (pg_catalog.current_setting('block_size')::integer - 24)
						/ coalesce((SELECT (pg_catalog.regexp_match(o, 'fillfactor=([0-9]+)'))[1]::numeric
									FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 100) * 100)
				   * pg_catalog.current_setting('block_size')::integer AS expected) e
		  WHERE c.relkind = 'r' AND c.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND c.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'table_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no table over the bloat threshold'
				  ELSE pg_catalog.format('%s tables, estimated: %s', v_n, v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (tables over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'rewrite the table online with pg_repack (or VACUUM FULL in a maintenance window), then tune autovacuum so that dead rows are reused' END;
	RETURN NEXT;

	-- index bloat (B-tree, plain columns)
	v_t := (SELECT @extschema@._t('index_bloat_pct'));
	WITH widths AS MATERIALIZED (
		SELECT s.schemaname, s.tablename, s.attname, s.avg_width
		FROM pg_catalog.pg_stats s
		WHERE NOT s.inherited AND s.schemaname NOT IN ('pg_catalog', 'information_schema'))
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s%%, %s)', x.nspname, x.relname, x.pct,
										pg_catalog.pg_size_pretty(x.waste)), ', ' ORDER BY x.waste DESC)
	INTO v_n, v_txt
	FROM (SELECT n.nspname, ic.relname,
				 greatest(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer - e.expected, 0)::bigint AS waste,
				 round(greatest(1 - e.expected / nullif(ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer, 0), 0) * 100, 1) AS pct
		  FROM pg_catalog.pg_index i
		  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
		  JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
		  JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
		  JOIN pg_catalog.pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
		  CROSS JOIN LATERAL (
			SELECT (ceil(ic.reltuples::numeric * (8 + 4 + sum(s.avg_width) + 4)
						 / ((pg_catalog.current_setting('block_size')::integer - 24 - 16) * 0.9)) + 1)
				   * pg_catalog.current_setting('block_size')::integer AS expected,
				   count(*) AS ncols
			FROM pg_catalog.pg_attribute a
			JOIN widths s ON s.schemaname = n.nspname AND s.tablename = tc.relname
						  AND s.attname = a.attname
			WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) e
		  WHERE i.indexprs IS NULL AND e.ncols = i.indnatts AND ic.reltuples > 0
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND ic.relpages::numeric * pg_catalog.current_setting('block_size')::integer >= (SELECT @extschema@._t('bloat_min_bytes'))) x
	WHERE x.pct >= v_t;
	"check" := 'index_bloat';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no B-tree index over the bloat threshold'
				  ELSE pg_catalog.format('%s indexes, estimated: %s', v_n, v_txt) END;
	target := pg_catalog.format('under %s%% estimated bloat (indexes over %s)', v_t, pg_catalog.pg_size_pretty((SELECT @extschema@._t('bloat_min_bytes'))));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE pg_catalog.format('REINDEX INDEX CONCURRENTLY %s;', pg_catalog.split_part(v_txt, ' ', 1)) END;
	RETURN NEXT;

	-- cache hit ratio
	SELECT d.blks_hit, d.blks_read INTO v_n, v_m
	FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database();
	v_x := round(v_n * 100.0 / nullif(v_n + v_m, 0), 2);
	"check" := 'cache_hit_ratio';
	status := CASE WHEN v_n + v_m < 10000 THEN 'pass'
				   WHEN v_x < (SELECT @extschema@._t('cache_hit_critical_pct')) THEN 'fail'
				   WHEN v_x < (SELECT @extschema@._t('cache_hit_pct')) THEN 'warn' ELSE 'pass' END;
	value := CASE WHEN v_n + v_m < 10000 THEN pg_catalog.format('%s%% over only %s block reads, too few to judge', coalesce(v_x, 100), v_n + v_m)
				  ELSE pg_catalog.format('%s%% of %s block reads from shared buffers', v_x, v_n + v_m) END;
	target := pg_catalog.format('at least %s%%', (SELECT @extschema@._t('cache_hit_pct')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE pg_catalog.format('the working set does not fit in shared_buffers (%s): raise shared_buffers towards 25%% of RAM, or add RAM; check that large scans are not evicting the cache (sequential_scans)',
						pg_catalog.current_setting('shared_buffers')) END;
	RETURN NEXT;

	-- pagination
	v_t := (SELECT @extschema@._t('pagination_rows'));
	SELECT count(*), string_agg(pg_catalog.format('%s (%s rows a call: %s)', s.queryid, round(s.rows::numeric / s.calls),
								@extschema@._short(s.query)), '; ' ORDER BY s.rows::numeric / s.calls DESC)
	INTO v_n, v_txt
	FROM unnest(v_stmts) s
	WHERE s.calls > 0 AND s.rows::numeric / s.calls >= v_t
	  AND s.query ~* '^\s*(select|with)\M'
	  AND s.query !~* '\m(limit|fetch\s+(first|next))\M';
	"check" := 'pagination';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no read returns many rows without LIMIT'
				  ELSE pg_catalog.format('%s statements: %s', v_n, v_txt) END;
	target := pg_catalog.format('reads returning %s rows or more per call use LIMIT', v_t);
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'page through results with keyset pagination: WHERE id > $last_id ORDER BY id LIMIT 100 (not OFFSET)' END;
	RETURN NEXT;

	-- old rows: archiving or partitioning candidates
	v_t := (SELECT @extschema@._t('partition_min_bytes'));
	v_m := @extschema@._count_of('partition_advice');
	-- sizes read without waiting for locks (a locked table is left out)
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s)', x.nspname, x.relname,
								pg_catalog.pg_size_pretty(x.bytes)), ', '
								ORDER BY x.bytes DESC)
	INTO v_n, v_txt
	FROM (SELECT n.nspname, c.relname, @extschema@._relation_size_nowait(c.oid) AS bytes
		  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		  WHERE c.relkind = 'r' AND NOT c.relispartition
			AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
			AND n.nspname <> '@extschema@'
			AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
						WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
						  AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype))) x
	WHERE x.bytes >= v_t;
	"check" := 'archiving_partitioning';
	status := CASE WHEN v_n = 0 AND coalesce(v_m, 0) = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s tables over %s with a time column%s; %s',
		v_n, pg_catalog.pg_size_pretty(v_t), CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END,
		CASE WHEN v_m IS NULL THEN 'partition advice not available'
			 ELSE pg_catalog.format('%s partitioning suggestions', v_m) END);
	target := pg_catalog.format('no unpartitioned table over %s with a time column', pg_catalog.pg_size_pretty(v_t));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'move old rows out with an archive policy (scale_advisor.archive_policies) or partition by time (SELECT * FROM scale_advisor.partition_advice)' END;
	RETURN NEXT;

	-- unused indexes
	v_t := (SELECT @extschema@._t('unused_index_min_bytes'));
	SELECT l.n, l.names INTO v_n, v_txt
	FROM @extschema@._list_of('unused_indexes', 'index',
		CASE WHEN @extschema@._has_col('unused_indexes', 'index_size_bytes')
			 THEN pg_catalog.format('index_size_bytes >= %s', v_t) ELSE 'true' END) l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(string_agg(pg_catalog.format('%I.%I', s.schemaname, s.indexrelname), ', '
											 ORDER BY s.schemaname, s.indexrelname), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_stat_user_indexes s
		JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
		WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
		  AND @extschema@._relation_size_nowait(s.indexrelid, true) >= v_t;
	END IF;
	"check" := 'unused_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s unused indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 unused indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'check that the statistics cover a full business cycle (and the standbys), then DROP INDEX CONCURRENTLY each (scale_advisor.unused_indexes has the statements): every index slows writes' END;
	RETURN NEXT;

	-- duplicate indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('duplicate_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(string_agg(x.names, '; ' ORDER BY x.names), '')
		INTO v_n, v_txt
		FROM (SELECT string_agg(i.indexrelid::regclass::text, ' = ' ORDER BY i.indexrelid::regclass::text) AS names
			  FROM pg_catalog.pg_index i
			  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
			  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
				AND i.indisvalid
			  GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
					   coalesce(pg_catalog.pg_get_expr(i.indexprs, i.indrelid), ''),
					   coalesce(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '')
			  HAVING count(*) > 1) x;
	END IF;
	"check" := 'duplicate_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := pg_catalog.format('%s duplicate indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 duplicates';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'keep one index of each set (the one backing a constraint) and DROP INDEX CONCURRENTLY the others (scale_advisor.duplicate_indexes has the statements)' END;
	RETURN NEXT;

	-- invalid indexes
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('invalid_indexes', 'index') l;
	IF v_n IS NULL THEN
		SELECT count(*), coalesce(string_agg(i.indexrelid::regclass::text, ', ' ORDER BY i.indexrelid::regclass::text), '')
		INTO v_n, v_txt
		FROM pg_catalog.pg_index i WHERE NOT i.indisvalid;
	END IF;
	"check" := 'invalid_indexes';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'fail' END;
	value := pg_catalog.format('%s invalid indexes%s', v_n, CASE WHEN v_n > 0 THEN ': ' || v_txt ELSE '' END);
	target := '0 invalid indexes';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'an interrupted CREATE INDEX CONCURRENTLY left them: REINDEX INDEX CONCURRENTLY, or drop and create again' END;
	RETURN NEXT;

	-- foreign keys without an index
	SELECT l.n, l.names INTO v_n, v_txt FROM @extschema@._list_of('fk_without_index', 'constraint_name') l;
	IF v_n IS NULL THEN
		v_n := @extschema@._count_of('fk_without_index');
		v_txt := '';
	END IF;
	"check" := 'fk_without_index';
	status := CASE WHEN v_n IS NULL THEN 'warn' WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n IS NULL THEN 'not available (scale_advisor.fk_without_index is not installed)'
				  ELSE pg_catalog.format('%s foreign keys without an index%s', v_n, CASE WHEN v_txt <> '' THEN ': ' || v_txt ELSE '' END) END;
	target := '0 foreign keys without an index';
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   WHEN v_n IS NULL THEN 'upgrade scale_advisor to a version with index advice'
				   ELSE 'SELECT * FROM scale_advisor.fk_without_index; index the referencing columns, or deletes on the parent scan the child' END;
	RETURN NEXT;

	-- transaction ID age
	SELECT pg_catalog.age(d.datfrozenxid) INTO v_n FROM pg_catalog.pg_database d
	WHERE d.datname = pg_catalog.current_database();
	"check" := 'transaction_id_age';
	status := CASE WHEN v_n >= (SELECT @extschema@._t('xid_age_critical')) THEN 'fail'
				   WHEN v_n >= (SELECT @extschema@._t('xid_age_warning')) THEN 'warn' ELSE 'pass' END;
	value := pg_catalog.format('%s transactions since the oldest unfrozen row', v_n);
	target := pg_catalog.format('under %s', (SELECT @extschema@._t('xid_age_warning')));
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'VACUUM (FREEZE) the oldest tables (ORDER BY age(relfrozenxid) DESC); end long transactions and drop stale replication slots that hold back freezing' END;
	RETURN NEXT;

	-- regressions
	SELECT count(*), string_agg(pg_catalog.format('%s (%s -> %s ms)', g.queryid, g.baseline_p95_ms, g.window_p95_ms), '; ')
	INTO v_n, v_txt FROM @extschema@._regressions() g;
	"check" := 'regressions';
	status := CASE WHEN v_n = 0 THEN 'pass' ELSE 'warn' END;
	value := CASE WHEN v_n = 0 THEN 'no statement slower than its baseline'
				  ELSE pg_catalog.format('%s statements slower than their baseline: %s', v_n, v_txt) END;
	target := pg_catalog.format('p95 of the last window under %s x the baseline', (SELECT @extschema@._t('regression_ratio')));
	advice := CASE WHEN v_n = 0 THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.regressions; compare the plans (a new plan, a grown table, a dropped index)' END;
	RETURN NEXT;

	-- headroom for twice the load
	SELECT count(*) FILTER (WHERE c.status = 'fail'), count(*) FILTER (WHERE c.status = 'warn'),
		   string_agg(c.item || ': ' || coalesce(c.projected::text, '?') || ' ' || c.unit, '; ')
			 FILTER (WHERE c.status <> 'pass')
	INTO v_n, v_m, v_txt
	FROM @extschema@.capacity(2) c;
	"check" := 'capacity_2x';
	status := CASE WHEN v_n > 0 THEN 'fail' WHEN v_m > 0 THEN 'warn' ELSE 'pass' END;
	value := CASE WHEN v_n + v_m = 0 THEN 'twice the load fits'
				  ELSE pg_catalog.format('at twice the load: %s', v_txt) END;
	target := 'twice today''s load fits the CPUs, connections and storage';
	advice := CASE WHEN status = 'pass' THEN 'nothing to do'
				   ELSE 'SELECT * FROM scale_advisor.capacity(2); load-test with scale_advisor.workload_script()' END;
	RETURN NEXT;
END
$$;

CREATE OR REPLACE VIEW @extschema@.checklist AS
SELECT c.* FROM @extschema@._checklist() c
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.checklist');

CREATE OR REPLACE VIEW @extschema@.alerts AS
SELECT a.* FROM @extschema@._alerts() a
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.alerts');

GRANT SELECT ON @extschema@.checklist, @extschema@.alerts TO PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._partition_advice()
RETURNS TABLE (relation regclass, total_size text, total_bytes bigint, est_rows bigint,
			   column_name name, column_type regtype, why text, inserts bigint,
			   updates_deletes bigint, seq_scans bigint, suggested_interval text,
			   blockers text, suggested_call text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	a record;
	min_bytes bigint := pg_size_bytes(coalesce(current_setting('scale_advisor.partition_advice_min_size', true), '1GB'));
	span numeric;
	per_part numeric;
	iv text;
	cand text[];
	best numeric;
	score numeric;
	step numeric;
	lo text;
	hi text;
BEGIN
	FOR r IN
		SELECT c.oid, @extschema@._relation_size_nowait(c.oid) AS bytes, c.reltuples,
			   coalesce(st.n_tup_ins, 0) AS ins, coalesce(st.n_tup_upd + st.n_tup_del, 0) AS upd,
			   coalesce(st.seq_scan, 0) AS seq
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stat_all_tables st ON st.relid = c.oid
		WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relpersistence = 'p'
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
		  AND n.nspname !~ '^pg_temp' AND n.nspname !~ '^pg_toast'
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
						  AND d.objid = c.oid AND d.deptype = 'e')
		  AND @extschema@._relation_size_nowait(c.oid) >= min_bytes
		ORDER BY 2 DESC
	LOOP
		-- candidate columns: time or integer columns that lead an index
		-- (queries filter on them) and grow with the physical order
		FOR a IN
			SELECT att.attname, att.atttypid::regtype AS typ, @extschema@._pt_kind(att.atttypid::regtype) AS kind,
				   s.correlation, s.histogram_bounds::text::text[] AS hb,
				   EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = att.attrelid AND d.adnum = att.attnum
						   AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') OR att.attidentity <> '' AS seq,
				   (SELECT sum(coalesce(si.idx_scan, 0)) FROM pg_index i
					LEFT JOIN pg_stat_all_indexes si ON si.indexrelid = i.indexrelid
					WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum) AS idx_scans
			FROM pg_attribute att
			JOIN pg_namespace n ON true
			JOIN pg_class c ON c.oid = att.attrelid AND n.oid = c.relnamespace
			LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = att.attname
			WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
			  AND @extschema@._pt_kind(att.atttypid::regtype) IS NOT NULL
			  AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = att.attrelid AND i.indkey[0] = att.attnum)
			  AND (abs(coalesce(s.correlation, 0)) >= 0.8 OR (att.attidentity <> '' AND s.correlation IS NULL))
			ORDER BY (@extschema@._pt_kind(att.atttypid::regtype) = 'time') DESC, abs(coalesce(s.correlation, 0)) DESC, att.attnum
			LIMIT 1
		LOOP
			relation := r.oid;
			total_bytes := r.bytes;
			total_size := pg_size_pretty(r.bytes);
			est_rows := greatest(r.reltuples, 0)::bigint;
			column_name := a.attname;
			column_type := a.typ;
			inserts := r.ins;
			updates_deletes := r.upd;
			seq_scans := r.seq;
			why := format('%s on disk; %I %s and follows the insert order (correlation %s); %s index scans on it; %s%% of writes are updates or deletes',
						  pg_size_pretty(r.bytes), a.attname,
						  CASE WHEN a.kind = 'time' THEN 'is a time column' WHEN a.seq THEN 'is a growing id' ELSE 'is an integer key' END,
						  coalesce(round(a.correlation::numeric, 2)::text, 'unknown'), coalesce(a.idx_scans, 0),
						  CASE WHEN r.ins + r.upd = 0 THEN 0 ELSE round(100.0 * r.upd / (r.ins + r.upd)) END);
			-- size each partition near 2 GB
			iv := NULL;
			lo := a.hb[1];
			hi := a.hb[array_upper(a.hb, 1)];
			IF lo IS NOT NULL AND hi IS NOT NULL THEN
				span := @extschema@._pt_to_num(a.typ, hi) - @extschema@._pt_to_num(a.typ, lo);
			ELSE
				span := NULL;
			END IF;
			IF span IS NOT NULL AND span > 0 THEN
				IF a.kind = 'time' THEN
					best := NULL;
					FOREACH iv IN ARRAY ARRAY['1 hour', '1 day', '7 days', '1 month', '3 months', '1 year'] LOOP
						per_part := r.bytes * extract(epoch FROM iv::interval) / span;
						score := abs(ln(greatest(per_part, 1) / 2147483648.0));
						IF best IS NULL OR score < best THEN
							best := score;
							suggested_interval := iv;
						END IF;
					END LOOP;
				ELSE
					step := span * 2147483648.0 / greatest(r.bytes, 1);
					step := power(10, floor(log(greatest(step, 1))));
					suggested_interval := step::bigint::text;
				END IF;
			ELSE
				suggested_interval := CASE WHEN a.kind = 'time' THEN '1 month' ELSE '1000000' END;
			END IF;
			blockers := (SELECT string_agg(b, '; ') FROM @extschema@.partition_blockers(r.oid, a.attname) b);
			suggested_call := format('CALL scale_advisor.partition_table(%L, %L, %L);', r.oid::regclass::text,
									 a.attname, suggested_interval);
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

CREATE OR REPLACE VIEW @extschema@.partition_maintenance_status AS
SELECT s.parent_schema, s.parent_table, s.control_column, s.part_interval, s.premake,
	   s.retention, s.retention_action, s.enabled, s.expected_every,
	   st.last_started, st.last_finished, st.last_success, st.last_error, st.last_error_at,
	   coalesce(st.consecutive_failures, 0) AS consecutive_failures,
	   coalesce(st.partitions_created, 0) AS partitions_created,
	   coalesce(st.partitions_retired, 0) AS partitions_retired,
	   coalesce(st.default_rows_moved, 0) AS default_rows_moved,
	   st.default_rows_remaining,
	   @extschema@._pm_covered_until(s.parent_schema, s.parent_table) AS covered_until,
	   s.enabled AND coalesce(st.last_success, s.created_at) < now() - s.expected_every AS overdue,
	   CASE
		 WHEN NOT s.enabled THEN 'disabled'
		 WHEN to_regclass(format('%I.%I', s.parent_schema, s.parent_table)) IS NULL THEN 'table does not exist'
		 WHEN st.last_success IS NULL AND s.created_at < now() - s.expected_every THEN 'maintenance has never succeeded'
		 WHEN st.last_success < now() - s.expected_every THEN 'maintenance has not succeeded for ' || date_trunc('second', now() - st.last_success)::text
		 WHEN st.consecutive_failures > 0 THEN 'last run failed: ' || st.last_error
		 WHEN st.default_rows_remaining > 0 THEN st.default_rows_remaining || ' rows in the default partition'
		 ELSE 'ok'
	   END AS status
FROM @extschema@.partition_sets s
LEFT JOIN @extschema@.partition_set_state st
	ON st.parent_schema = s.parent_schema AND st.parent_table = s.parent_table
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_maintenance_status');

CREATE OR REPLACE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice()
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_advice');

GRANT SELECT ON @extschema@.partition_advice,
  @extschema@.partition_maintenance_status TO PUBLIC;
