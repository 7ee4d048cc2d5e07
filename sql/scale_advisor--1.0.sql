-- scale_advisor install script, assembled by the Makefile from sql/install/*.sql
\echo Use "CREATE EXTENSION scale_advisor" to load this file. \quit
-- Objects every part of the extension uses.

-- True, or an error saying the library must be preloaded.  Views use it as a
-- one-time filter (WHERE scale_advisor._require_loaded()), PL/pgSQL
-- functions PERFORM it first.
CREATE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded';

-- Everyone may look into the schema; what each object lets them do is
-- granted object by object (monitoring views to PUBLIC, functions that
-- change anything to nobody but their owner unless an admin grants them).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- True, or an error when the server is a standby (in recovery): what writes
-- tables (archiving, partitioning, ignore lists, thresholds, snapshots)
-- PERFORMs it first, so that on a standby it stops before anything and says
-- why.  The in-memory figures (the statement store, N+1 detections,
-- captured plans) are per server and may be reset on a standby too.
CREATE FUNCTION @extschema@._require_primary(what text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	IF pg_catalog.pg_is_in_recovery() THEN
		RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction',
			MESSAGE = pg_catalog.format('%s cannot run on a standby server', what),
			HINT = 'Run it on the primary; its changes reach standbys through replication.';
	END IF;
	RETURN true;
END
$$;
-- Statement timings: the store's rows as views, reset.

CREATE FUNCTION @extschema@._query_stats(showtext boolean DEFAULT true,
    OUT dbid oid, OUT userid oid, OUT queryid bigint, OUT toplevel boolean,
    OUT query text, OUT calls bigint, OUT errors bigint, OUT rows bigint,
    OUT total_exec_ms double precision, OUT mean_exec_ms double precision,
    OUT min_exec_ms double precision, OUT max_exec_ms double precision,
    OUT stddev_exec_ms double precision,
    OUT p50_ms double precision, OUT p95_ms double precision,
    OUT p99_ms double precision, OUT p999_ms double precision,
    OUT plans bigint, OUT total_plan_ms double precision,
    OUT shared_blks_hit bigint, OUT shared_blks_read bigint,
    OUT shared_blks_dirtied bigint, OUT shared_blks_written bigint,
    OUT local_blks_hit bigint, OUT local_blks_read bigint,
    OUT local_blks_dirtied bigint, OUT local_blks_written bigint,
    OUT temp_blks_read bigint, OUT temp_blks_written bigint,
    OUT wal_records bigint, OUT wal_fpi bigint, OUT wal_bytes numeric,
    OUT first_seen timestamptz, OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_query_stats_1_0';

-- One row per (database, user, query id, top level): timings, latency
-- quantiles, rows, buffers and WAL.
CREATE VIEW @extschema@.query_stats AS
  SELECT * FROM @extschema@._query_stats(true)
  WHERE @extschema@._require_loaded();

-- Statements whose p95 is over scale_advisor.slow_query_ms, slowest first.
CREATE VIEW @extschema@.slow_queries AS
  SELECT s.queryid, s.dbid, s.userid, s.toplevel, s.query, s.calls, s.errors,
         s.p50_ms, s.p95_ms, s.p99_ms, s.max_exec_ms, s.mean_exec_ms,
         s.total_exec_ms,
         s.total_exec_ms / NULLIF(sum(s.total_exec_ms) OVER (), 0) * 100
           AS pct_of_total_time,
         s.rows / NULLIF(s.calls, 0) AS rows_per_call,
         s.shared_blks_read, s.last_seen
  FROM @extschema@._query_stats(true) s
  WHERE @extschema@._require_loaded()
    AND s.p95_ms > COALESCE(NULLIF(pg_catalog.current_setting('scale_advisor.slow_query_ms', true), ''),
                                '100')::double precision
  ORDER BY s.p95_ms DESC;

CREATE FUNCTION @extschema@._info(
    OUT entries bigint, OUT max_entries bigint, OUT evictions bigint,
    OUT memory_bytes bigint, OUT entry_bytes bigint,
    OUT text_bytes_per_entry bigint, OUT stats_reset timestamptz,
    OUT last_save timestamptz, OUT saves bigint, OUT save_failures bigint,
    OUT loaded_entries bigint)
RETURNS record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_info_1_0';

-- Store-wide figures: entries, capacity, evictions, memory, last reset/save.
CREATE VIEW @extschema@.info AS
  SELECT * FROM @extschema@._info()
  WHERE @extschema@._require_loaded();

-- Remove statistics: everything (no arguments), or one user, database or
-- query id (0 matches anything).  Returns the number of statements removed.
CREATE FUNCTION @extschema@.reset(userid oid DEFAULT 0, dbid oid DEFAULT 0,
                                  queryid bigint DEFAULT 0)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_reset_1_0';
REVOKE ALL ON FUNCTION @extschema@.reset(oid, oid, bigint) FROM PUBLIC;

-- Like pg_stat_statements: everyone sees the figures, the text and query id
-- of other users' statements only with pg_read_all_stats.
GRANT SELECT ON @extschema@.query_stats, @extschema@.slow_queries,
  @extschema@.info TO PUBLIC;

-- Test aid: the sketch's quantiles for a set of values (milliseconds).
CREATE FUNCTION @extschema@._sketch_quantiles(vals double precision[],
                                              quantiles double precision[])
RETURNS double precision[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_sketch_quantiles_1_0';
-- N+1 detection (src/nplus1.c): loops of one statement with different
-- parameters, repeats of one statement with the same parameters, and INSERT
-- loops, with the rewrite that replaces them.

-- Detections to keep out of the view: a query id, an application_name, or
-- a query id for one application_name only.
CREATE TABLE @extschema@.n_plus_one_ignore_list (
	queryid bigint,
	application_name text,
	note text,
	added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT n_plus_one_ignore_list_target
		CHECK (queryid IS NOT NULL OR application_name IS NOT NULL)
);
CREATE UNIQUE INDEX n_plus_one_ignore_list_key
	ON @extschema@.n_plus_one_ignore_list
	((COALESCE(queryid, 0)), (COALESCE(application_name, '')));
SELECT pg_catalog.pg_extension_config_dump('@extschema@.n_plus_one_ignore_list', '');
GRANT SELECT ON @extschema@.n_plus_one_ignore_list TO PUBLIC;

-- Rows matching an ignore pair (query id or NULL, application name or
-- NULL; arrays of the same length) are left out before other roles' query
-- ids are hidden.
CREATE FUNCTION @extschema@._n_plus_one_entries(
	ignore_queryids bigint[] DEFAULT NULL,
	ignore_applications text[] DEFAULT NULL,
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
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_entries';

-- One row per (database, user, application_name, kind, statement).
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
		   FROM @extschema@.n_plus_one_ignore_list AS i)) AS e
 WHERE @extschema@._require_loaded();
GRANT SELECT ON @extschema@.n_plus_one TO PUBLIC;

-- Keep a statement (optionally only for one application_name) out of the
-- view.
CREATE FUNCTION @extschema@.n_plus_one_ignore(
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
				  AND i.application_name IS NOT DISTINCT FROM n_plus_one_ignore.application_name) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (n_plus_one_ignore.queryid, n_plus_one_ignore.application_name,
			n_plus_one_ignore.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore(bigint, text, text) FROM PUBLIC;

-- Keep every statement of an application (a batch job that loops on
-- purpose) out of the view.
CREATE FUNCTION @extschema@.n_plus_one_ignore_application(
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
				  AND i.application_name = n_plus_one_ignore_application.application_name) THEN
		RETURN false;
	END IF;
	INSERT INTO @extschema@.n_plus_one_ignore_list (queryid, application_name, note)
	VALUES (NULL, n_plus_one_ignore_application.application_name,
			n_plus_one_ignore_application.note);
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_ignore_application(text, text) FROM PUBLIC;

-- Undo n_plus_one_ignore / n_plus_one_ignore_application; returns the number
-- of entries removed.
CREATE FUNCTION @extschema@.n_plus_one_unignore(
	queryid bigint DEFAULT NULL,
	application_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('n_plus_one_unignore()');
	IF n_plus_one_unignore.queryid IS NULL
	   AND n_plus_one_unignore.application_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'queryid and application_name must not both be null',
			HINT = 'Pass the queryid, the application_name, or both, as given to n_plus_one_ignore.';
	END IF;
	DELETE FROM @extschema@.n_plus_one_ignore_list AS i
	 WHERE i.queryid IS NOT DISTINCT FROM n_plus_one_unignore.queryid
	   AND i.application_name IS NOT DISTINCT FROM n_plus_one_unignore.application_name;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_unignore(bigint, text) FROM PUBLIC;

-- Forget every detection.
CREATE FUNCTION @extschema@.n_plus_one_reset()
RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_n_plus_one_reset';
REVOKE ALL ON FUNCTION @extschema@.n_plus_one_reset() FROM PUBLIC;
-- Index advice from the captured workload, checked by the planner with
-- hypothetical indexes (src/plans.c, src/whatif.c, src/advisor.c).

-- What the sampled and slow executions' plans lacked: per statement and
-- scanned relation, the columns filtered, joined or sorted on.
CREATE FUNCTION @extschema@._index_workload(
    OUT queryid bigint, OUT userid oid, OUT relation pg_catalog.regclass,
    OUT scan text, OUT terms text, OUT executions bigint,
    OUT avg_rows_scanned double precision,
    OUT avg_rows_removed double precision, OUT row_counts_measured boolean,
    OUT captured_calls bigint, OUT mean_ms double precision,
    OUT statement text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload';

CREATE VIEW @extschema@.index_workload AS
SELECT * FROM @extschema@._index_workload()
 WHERE @extschema@._require_loaded();

-- Forget every captured plan.
CREATE FUNCTION @extschema@.index_workload_reset()
RETURNS void
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_reset';
REVOKE ALL ON FUNCTION @extschema@.index_workload_reset() FROM PUBLIC;

-- Plan a statement without and with one hypothetical btree index (given as
-- a CREATE INDEX statement) and compare the planner's costs.  The statement
-- is planned, never run.  params: values for $1, $2, ... as text.  Names
-- in the statement and the index definition resolve in the caller's
-- search_path: the default of the last argument is evaluated by the caller,
-- before this function pins its own.
CREATE FUNCTION @extschema@.index_whatif(
    statement text, index_sql text, params text[] DEFAULT NULL,
    search_path text DEFAULT pg_catalog.current_setting('search_path'),
    OUT cost_before double precision, OUT cost_after double precision,
    OUT improvement_pct double precision, OUT index_used boolean,
    OUT est_size_bytes bigint)
RETURNS record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_whatif';

-- The advice itself (skipped = false) or the statements that could not be
-- planned again, with the reason (skipped = true).  Computed on each call.
CREATE FUNCTION @extschema@._index_advice(skipped boolean)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_compute';

CREATE VIEW @extschema@.index_advice AS
SELECT a.relation, a.columns, a.index_sql, a.queryids, a.calls,
       a.cost_before, a.cost_after, a.improvement_pct, a.est_size_bytes,
       a.write_rate, a.est_ms_saved_per_hour, a.reason,
       a.include_columns, a.predicate
  FROM @extschema@._index_advice(false) AS a(
         relation pg_catalog.regclass, columns text[], index_sql text,
         queryids bigint[], calls bigint, cost_before double precision,
         cost_after double precision, improvement_pct double precision,
         est_size_bytes bigint, write_rate double precision,
         est_ms_saved_per_hour double precision, reason text,
         include_columns text[], predicate text)
 WHERE @extschema@._require_loaded()
 ORDER BY a.est_ms_saved_per_hour DESC, a.relation::text, a.index_sql;

CREATE VIEW @extschema@.index_advice_skipped AS
SELECT a.queryid, a.userid, a.reason
  FROM @extschema@._index_advice(true) AS a(queryid bigint, userid oid, reason text)
 WHERE @extschema@._require_loaded();
-- Index hygiene: indexes that cost writes and space for nothing, indexes
-- left broken by a failed CREATE INDEX CONCURRENTLY, and foreign keys whose
-- referencing side has no index (every DELETE or key UPDATE on the
-- referenced table then scans the referencing table).  Plain catalog views;
-- nothing here needs the statement capture.

-- Indexes never scanned since the statistics were last reset.  Indexes that
-- enforce a constraint (primary key, unique, exclusion) are left out: they
-- are needed even when no query reads them.
CREATE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       pg_catalog.pg_relation_size(i.indexrelid) AS index_size_bytes,
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
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0;

-- Two indexes on one table where one makes the other unnecessary: the same
-- key columns (or the key columns of one are a leading prefix of the
-- other's), the same access method, the same predicate and the same index
-- expressions, with the same operator classes and collations on the shared
-- columns.  "index" is the one to drop, "covered_by" the one that stays.  A
-- unique index is never reported as redundant against a longer index (its
-- uniqueness would be lost); two identical unique indexes are.  Each
-- redundant index is listed once, with an identical index if there is one,
-- else with the shortest index that covers it.
CREATE VIEW @extschema@.duplicate_indexes AS
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
         pg_catalog.pg_relation_size(i.indexrelid) AS size
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

-- Indexes that are not valid (a failed or interrupted CREATE INDEX
-- CONCURRENTLY or REINDEX CONCURRENTLY): they are maintained on every write
-- but never used by queries.
CREATE VIEW @extschema@.invalid_indexes AS
SELECT c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       i.indisready AS is_ready,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS index_def,
       pg_catalog.pg_relation_size(i.indexrelid) AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.format('REINDEX INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS reindex_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

-- Foreign keys with no index whose leading columns are the foreign key's
-- columns, in any order.  A valid, non-partial index of any access method
-- that can search (btree, hash for one column) counts; a composite primary
-- key or unique index that starts with the foreign key columns covers it.
CREATE VIEW @extschema@.fk_without_index AS
SELECT k.conrelid::pg_catalog.regclass AS relation,
       k.conname AS constraint_name,
       k.confrelid::pg_catalog.regclass AS referenced_relation,
       ARRAY(SELECT a.attname::text
               FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
               JOIN pg_catalog.pg_attribute a
                 ON a.attrelid = k.conrelid AND a.attnum = u.attnum
              ORDER BY u.ord) AS columns,
       pg_catalog.pg_relation_size(k.conrelid) AS table_size_bytes,
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
-- Archiving: move old rows out of hot tables in small committed batches.
--
-- Entry points (procedures, so that they can COMMIT after every batch):
--   archive(relation, time_column, older_than, ...)   source -> archive
--   unarchive(relation, time_column, ...)              archive -> source
--   run_archive_policies()                             every enabled policy
-- State: archive_policies (configuration, kept by pg_dump) and archive_runs
-- (one row per run, updated in the same transaction as each batch, so it
-- always agrees with the data).
--
-- A procedure that runs COMMIT cannot carry a SET clause, so the procedures
-- below have no pinned search_path: they schema-qualify everything, set
-- search_path locally (set_config(..., true)) at the start of every
-- transaction they open, and leave the real work to the helper functions,
-- which do pin it.  See docs/archiving.md.
--
-- Batch protocol (one transaction per batch, all in one subtransaction):
--   1. lock up to batch_size eligible rows in key order, FOR UPDATE SKIP
--      LOCKED, continuing after the last key of the previous batch;
--   2. DELETE them and INSERT them into the target; steps 1 and 2 are one
--      statement (fast_sql) unless foreign keys point at the table, whose
--      references are then checked between the lock and the delete; if the
--      target already had some keys (unique violation: e.g. after a crash
--      between the remote and the local commit of a postgres_fdw target),
--      or fewer rows moved than were locked, the batch is rolled back and
--      redone carefully: insert ON CONFLICT DO NOTHING, check that every key
--      already in the target holds an identical row, then delete;
--   3. record the batch in archive_runs; COMMIT.
-- A local target commits with the source in one transaction.  A
-- postgres_fdw target commits remotely just before the local commit, so a
-- crash in between leaves identical rows in both places, which the next run
-- resolves in step 2.

CREATE TABLE @extschema@.archive_policies (
	relation text PRIMARY KEY,
	time_column name NOT NULL,
	older_than interval NOT NULL CHECK (older_than >= interval '0'),
	target text,
	batch_size integer NOT NULL DEFAULT 1000 CHECK (batch_size > 0),
	max_batches integer CHECK (max_batches > 0),
	max_duration interval CHECK (max_duration > interval '0'),
	pause interval NOT NULL DEFAULT '0' CHECK (pause >= interval '0'),
	lock_timeout interval NOT NULL DEFAULT '1s' CHECK (lock_timeout > interval '0'),
	vacuum boolean NOT NULL DEFAULT false,
	enabled boolean NOT NULL DEFAULT true,
	comment text
);
COMMENT ON TABLE @extschema@.archive_policies IS
'archiving policies run by scale_advisor.run_archive_policies(); relation and target are table names as written in SQL (schema-qualified)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archive_policies', '');

CREATE TABLE @extschema@.archive_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	operation text NOT NULL CHECK (operation IN ('archive', 'unarchive')),
	relation text NOT NULL,
	target text,
	time_column name,
	cutoff_from timestamptz,
	cutoff_to timestamptz,
	from_policy boolean NOT NULL DEFAULT false,
	run_by name NOT NULL DEFAULT CURRENT_USER,
	pid integer NOT NULL DEFAULT pg_catalog.pg_backend_pid(),
	started_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	last_batch_at timestamptz,
	finished_at timestamptz,
	duration interval,
	batches integer NOT NULL DEFAULT 0,
	rows_moved bigint NOT NULL DEFAULT 0,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'done', 'stopped', 'failed', 'interrupted', 'skipped')),
	error text,
	vacuum_advice text
);
CREATE INDEX ON @extschema@.archive_runs (relation, started_at);
COMMENT ON TABLE @extschema@.archive_runs IS
'one row per archive/unarchive run, updated after every batch (status running, done, stopped, failed, interrupted or skipped)';

-- C helpers (src/archive.c): VACUUM in a background worker, and the crash
-- point the tests use.
CREATE FUNCTION @extschema@._archive_vacuum(rel regclass)
RETURNS boolean
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'scale_advisor_archive_vacuum';

CREATE FUNCTION @extschema@._archive_test_crash()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'scale_advisor_archive_test_crash';

-- Advisory lock key of the runs on one table: high half a constant for
-- "scale_advisor archive", low half the table's OID.
CREATE FUNCTION @extschema@._archive_lock_key(rel regclass)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT (1399537989::bigint << 32) | rel::oid::bigint $$;

-- The key the batches walk and the archive must enforce: the primary key,
-- else the narrowest valid, non-partial unique index on NOT NULL columns.
CREATE FUNCTION @extschema@._archive_key(rel regclass)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k name[];
BEGIN
	SELECT array_agg(a.attname ORDER BY c.ord) INTO k
	FROM (SELECT i.indexrelid, i.indkey
		  FROM pg_index i
		  WHERE i.indrelid = rel AND i.indisunique AND i.indisvalid
			AND i.indpred IS NULL AND i.indexprs IS NULL
			AND NOT EXISTS (SELECT 1 FROM pg_attribute na
							WHERE na.attrelid = rel
							  AND na.attnum = ANY (i.indkey::int2[])
							  AND NOT na.attnotnull)
		  ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid
		  LIMIT 1) ix,
		 unnest(ix.indkey::int2[]) WITH ORDINALITY AS c(attnum, ord),
		 pg_attribute a
	WHERE a.attrelid = rel AND a.attnum = c.attnum;
	IF k IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('table %s has no primary key', rel),
			HINT = 'Archiving needs a primary key (or a unique index on NOT NULL columns) to move every row exactly once; add one, for example ALTER TABLE ... ADD PRIMARY KEY (id).';
	END IF;
	RETURN k;
END $$;

-- Checks that the archive table matches the main table: every column of
-- the main table exists in the archive with the same type; extra archive
-- columns must be nullable, have a default or be generated.  Returns the
-- columns to copy in the given direction.
CREATE FUNCTION @extschema@._archive_columns(main regclass, arch regclass, operation text)
RETURNS name[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	problems text;
	cols name[];
BEGIN
	SELECT string_agg(p, '; ' ORDER BY n) INTO problems
	FROM (SELECT m.attnum AS n,
				 CASE WHEN a.attname IS NULL
					  THEN format('column %I (%s) is missing', m.attname,
								  format_type(m.atttypid, m.atttypmod))
					  ELSE format('column %I is %s, not %s', m.attname,
								  format_type(a.atttypid, a.atttypmod),
								  format_type(m.atttypid, m.atttypmod))
				 END AS p
		  FROM pg_attribute m
		  LEFT JOIN pg_attribute a
			ON a.attrelid = arch AND a.attname = m.attname
		   AND a.attnum > 0 AND NOT a.attisdropped
		  WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
			AND (a.attname IS NULL OR a.atttypid <> m.atttypid
				 OR (a.atttypmod <> m.atttypmod AND a.atttypmod <> -1))
		  UNION ALL
		  SELECT 10000 + a.attnum,
				 format('extra column %I is NOT NULL without a default', a.attname)
		  FROM pg_attribute a
		  WHERE a.attrelid = arch AND a.attnum > 0 AND NOT a.attisdropped
			AND a.attnotnull AND NOT a.atthasdef AND a.attgenerated = ''
			AND operation = 'archive'
			AND NOT EXISTS (SELECT 1 FROM pg_attribute m
							WHERE m.attrelid = main AND m.attname = a.attname
							  AND m.attnum > 0 AND NOT m.attisdropped)) x;
	IF problems IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('archive table %s does not match table %s', arch, main),
			DETAIL = problems || '.',
			HINT = 'The archive needs every column of the table, with the same types.';
	END IF;
	-- copy the columns the receiving side does not generate itself
	SELECT array_agg(m.attname ORDER BY m.attnum) INTO cols
	FROM pg_attribute m
	JOIN pg_attribute a ON a.attrelid = arch AND a.attname = m.attname
	WHERE m.attrelid = main AND m.attnum > 0 AND NOT m.attisdropped
	  AND CASE WHEN operation = 'archive' THEN a.attgenerated = ''
			   ELSE m.attgenerated = '' END;
	RETURN cols;
END $$;

-- Validates a run, takes the table's advisory lock, creates the default
-- archive table when needed, records the run and returns its plan (the SQL
-- of each batch step).  Raises on bad input, having changed nothing.
CREATE FUNCTION @extschema@._archive_start(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel_ns name;
	rel_name name;
	rel_kind "char";
	other regclass := p_other;
	other_kind "char";
	other_name text;
	create_sql text[] := '{}';
	tcol record;
	key name[];
	cols name[];
	src regclass;			-- rows are deleted here
	dst regclass;			-- and inserted here
	dst_text text;
	src_kind "char";
	dst_kind "char";
	klist text;
	kdesc text;
	kcast text;
	kjson text;
	klit text;
	clist text;
	slist text;
	tlist text;
	cond text;
	overriding text := '';
	refs jsonb := '[]';
	fk record;
	n bigint;
	lock_key bigint;
	holder integer;
	run bigint;
	plan jsonb;
	sqls text;
BEGIN
	PERFORM @extschema@._require_loaded();
	-- a dry run only reads: it may run on a standby
	IF p_dry_run IS NOT TRUE THEN
		PERFORM @extschema@._require_primary(p_operation || '()');
	END IF;

	-- arguments
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	IF p_time_column IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'time_column must not be NULL';
	END IF;
	IF p_from IS NULL OR p_to IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be NULL'
						ELSE 'since and before must not be NULL' END;
	END IF;
	IF p_from > p_to THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = CASE p_operation WHEN 'archive' THEN 'older_than must not be negative'
						ELSE 'since must not be later than before' END;
	END IF;
	IF p_batch_size IS NULL OR p_batch_size <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('batch_size must be a positive number, not %s', coalesce(p_batch_size::text, 'NULL'));
	END IF;
	IF p_max_batches <= 0 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_batches must be a positive number or NULL, not %s', p_max_batches);
	END IF;
	IF p_max_duration <= interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('max_duration must be positive or NULL, not %s', p_max_duration);
	END IF;
	IF p_pause IS NULL OR p_pause < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('pause must not be NULL or negative, not %s', coalesce(p_pause::text, 'NULL'));
	END IF;
	IF p_lock_timeout IS NULL OR p_lock_timeout <= interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('lock_timeout must be positive, not %s', coalesce(p_lock_timeout::text, 'NULL'));
	END IF;
	IF p_dry_run IS NULL OR p_verbose IS NULL OR p_vacuum IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'dry_run, verbose and vacuum must not be NULL';
	END IF;

	-- the table
	SELECT n.nspname, c.relname, c.relkind INTO rel_ns, rel_name, rel_kind
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.oid = p_relation;
	IF rel_kind IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01',
			MESSAGE = format('relation with OID %s does not exist', p_relation::oid);
	END IF;
	IF rel_kind = 'p' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is a partitioned table', p_relation),
			HINT = 'Archive its partitions one by one, or detach and drop whole old partitions.';
	END IF;
	IF rel_kind <> 'r' THEN
		RAISE EXCEPTION USING ERRCODE = '42809',
			MESSAGE = format('%s is not a table', p_relation);
	END IF;
	SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod) AS typ INTO tcol
	FROM pg_attribute a
	WHERE a.attrelid = p_relation AND a.attname = p_time_column
	  AND a.attnum > 0 AND NOT a.attisdropped;
	IF tcol.attname IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42703',
			MESSAGE = format('column %I of relation %s does not exist', p_time_column, p_relation);
	END IF;
	IF tcol.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
		RAISE EXCEPTION USING ERRCODE = '42804',
			MESSAGE = format('column %I of relation %s is of type %s, not a timestamp or date',
							 p_time_column, p_relation, tcol.typ),
			HINT = 'The time column must be of type timestamp with time zone, timestamp or date.';
	END IF;
	key := @extschema@._archive_key(p_relation);

	-- the archive table
	IF other IS NULL THEN
		IF p_operation = 'unarchive' THEN
			other := to_regclass(format('%I.%I', rel_ns, rel_name || '_archive'));
			IF other IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = '42P01',
					MESSAGE = format('archive table %s does not exist', format('%I.%I', rel_ns, rel_name || '_archive')),
					HINT = 'Name the archive table with archive => ''...''.';
			END IF;
		ELSE
			IF octet_length(rel_name || '_archive') > 63 THEN
				RAISE EXCEPTION USING ERRCODE = '42622',
					MESSAGE = format('default archive table name for %s would be longer than 63 bytes', p_relation),
					HINT = 'Create an archive table and name it with target => ''...''.';
			END IF;
			other_name := format('%I.%I', rel_ns, rel_name || '_archive');
			other := to_regclass(other_name);
			IF other IS NULL THEN
				create_sql := ARRAY[
					format('CREATE TABLE %s (LIKE %s)', other_name, p_relation),
					format('ALTER TABLE %s ADD PRIMARY KEY (%s)', other_name,
						   (SELECT string_agg(quote_ident(k), ', ') FROM unnest(key) k)),
					format('CREATE INDEX ON %s (%I)', other_name, p_time_column)];
				IF NOT has_schema_privilege(rel_ns, 'CREATE') THEN
					RAISE EXCEPTION USING ERRCODE = '42501',
						MESSAGE = format('permission denied to create archive table %s', other_name),
						HINT = 'The first run creates the archive table and needs CREATE on the schema; or create it yourself and name it with target => ''...''.';
				END IF;
			END IF;
		END IF;
	END IF;
	IF other IS NOT NULL THEN
		SELECT c.relkind INTO other_kind FROM pg_class c WHERE c.oid = other;
		other_name := other::text;
		IF other = p_relation THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = 'a table cannot be its own archive';
		END IF;
		IF p_operation = 'archive' AND other_kind NOT IN ('r', 'p', 'f') THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('target %s is not a table or foreign table', other);
		END IF;
		IF p_operation = 'unarchive' AND other_kind = 'f' THEN
			RAISE EXCEPTION USING ERRCODE = '0A000',
				MESSAGE = format('cannot unarchive from foreign table %s', other),
				HINT = 'Without two-phase commit the remote delete would commit before the local insert; copy the rows back with INSERT ... SELECT and delete them remotely afterwards.';
		END IF;
		IF p_operation = 'unarchive' AND other_kind <> 'r' THEN
			RAISE EXCEPTION USING ERRCODE = '42809',
				MESSAGE = format('archive %s is not a table', other);
		END IF;
		cols := @extschema@._archive_columns(p_relation, other, p_operation);
		IF other_kind IN ('r', 'p') AND NOT EXISTS (
				SELECT 1 FROM pg_index i
				WHERE i.indrelid = other AND i.indisunique AND i.indisvalid
				  AND i.indpred IS NULL AND i.indexprs IS NULL
				  AND (SELECT array_agg(a.attname ORDER BY a.attname)
					   FROM pg_attribute a
					   WHERE a.attrelid = other AND a.attnum = ANY (i.indkey::int2[]))
					  = (SELECT array_agg(k ORDER BY k) FROM unnest(key) k)) THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('archive table %s has no unique index on (%s)', other,
								 array_to_string(key, ', ')),
				HINT = 'The archive needs the key of the table as a primary key or unique index, so that a batch can never be copied twice.';
		END IF;
	ELSE
		SELECT array_agg(a.attname ORDER BY a.attnum) INTO cols
		FROM pg_attribute a
		WHERE a.attrelid = p_relation AND a.attnum > 0 AND NOT a.attisdropped;
	END IF;

	IF p_operation = 'archive' THEN
		src := p_relation; dst := other; dst_text := other_name; src_kind := 'r'; dst_kind := coalesce(other_kind, 'r');
	ELSE
		src := other; dst := p_relation; dst_text := p_relation::text; src_kind := 'r'; dst_kind := 'r';
	END IF;

	-- privileges: the caller needs them all (functions run with the caller's rights)
	IF NOT has_table_privilege(src, 'SELECT') OR NOT has_table_privilege(src, 'DELETE')
	   OR NOT has_table_privilege(src, 'UPDATE') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to move rows out of %s', src),
			HINT = 'Archiving needs SELECT, UPDATE (to lock rows) and DELETE on the table the rows leave.';
	END IF;
	IF dst IS NOT NULL AND NOT has_table_privilege(dst, 'INSERT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('permission denied to insert into %s', dst),
			HINT = 'Archiving needs INSERT on the table the rows go to.';
	END IF;
	IF NOT has_table_privilege('@extschema@.archive_runs', 'INSERT, UPDATE, SELECT') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = 'permission denied for table @extschema@.archive_runs',
			HINT = 'Grant SELECT, INSERT, UPDATE on @extschema@.archive_runs to the roles that archive.';
	END IF;
	IF dst IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a
			WHERE a.attrelid = dst AND a.attidentity = 'a' AND a.attname = ANY (cols)) THEN
		overriding := ' OVERRIDING SYSTEM VALUE';
	END IF;

	-- SQL of the batch steps.  $1, $4: time range, $2: batch size,
	-- $3: last key of the previous batch (jsonb array of text) or NULL.
	klist := (SELECT string_agg(format('s.%I', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kdesc := (SELECT string_agg(format('b.%I DESC', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kjson := (SELECT string_agg(format('b.%I::text', k), ', ' ORDER BY o) FROM unnest(key) WITH ORDINALITY u(k, o));
	kcast := (SELECT string_agg(format('($3->>%s)::%s', o - 1, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY o)
			  FROM unnest(key) WITH ORDINALITY u(k, o)
			  JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	klit := (SELECT string_agg(format('t.%I = %%L::%s', k, format_type(a.atttypid, a.atttypmod)), ' AND ' ORDER BY o)
			 FROM unnest(key) WITH ORDINALITY u(k, o)
			 JOIN pg_attribute a ON a.attrelid = src AND a.attname = u.k);
	clist := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
	slist := (SELECT string_agg(format('s.%I', c), ', ') FROM unnest(cols) c);
	tlist := (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(cols) c);
	IF p_operation = 'archive' THEN
		cond := format('s.%I < $4', p_time_column);
	ELSE
		cond := format('s.%I >= $1 AND s.%I < $4', p_time_column, p_time_column);
	END IF;

	-- foreign keys that point at the rows we delete
	FOR fk IN
		SELECT con.conname, con.conrelid::regclass AS child,
			   (SELECT string_agg(format('c.%I = s.%I', ca.attname, pa.attname), ' AND ')
				FROM unnest(con.conkey, con.confkey) AS u(ck, pk)
				JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = u.ck
				JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = u.pk) AS j
		FROM pg_constraint con
		WHERE con.contype = 'f' AND con.confrelid = src
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		refs := refs || jsonb_build_object(
			'name', format('%I on %s', fk.conname, fk.child),
			'all', format('SELECT EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE %s)', fk.child, src, fk.j, cond),
			'batch', format('SELECT EXISTS (SELECT 1 FROM %s c JOIN ONLY %s s ON %s WHERE s.ctid = ANY ($1))', fk.child, src, fk.j));
	END LOOP;
	IF jsonb_array_length(refs) > 0 THEN
		SELECT string_agg(r->>'name', ', ') INTO sqls
		FROM jsonb_array_elements(refs) r
		WHERE (SELECT x FROM @extschema@._archive_exists(r->>'all', p_from, p_to) x);
		IF sqls IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '23503',
				MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', src),
				DETAIL = format('Referencing constraints: %s.', sqls),
				HINT = 'Archive or delete the referencing rows first.';
		END IF;
	END IF;

	plan := jsonb_build_object(
		'operation', p_operation,
		'relation', p_relation::oid,
		'relation_name', p_relation::text,
		'src', src::text,
		'dst', dst_text,
		'remote', dst_kind = 'f',
		'from', p_from, 'to', p_to,
		'batch_size', p_batch_size,
		'max_batches', p_max_batches,
		'max_duration', p_max_duration,
		'pause', extract(epoch FROM p_pause),
		'lock_timeout', format('%sms', ceil(extract(epoch FROM p_lock_timeout) * 1000)),
		'verbose', p_verbose,
		'vacuum', p_vacuum,
		'refs', refs,
		'lock_sql', format('SELECT array_agg(b.ctid), %s '
						   'FROM (SELECT s.ctid, %s FROM ONLY %s s WHERE %s AND ($3 IS NULL OR (%s) > (%s)) '
						   'ORDER BY %s LIMIT $2 FOR UPDATE OF s SKIP LOCKED) b',
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END,
						   klist, src, cond, klist, kcast, klist),
		'fast_sql', format('WITH batch AS MATERIALIZED (SELECT s.ctid, %s FROM ONLY %s s '
						   'WHERE %s AND ($3 IS NULL OR (%s) > (%s)) ORDER BY %s LIMIT $2 FOR UPDATE OF s SKIP LOCKED), '
						   'moved AS (DELETE FROM ONLY %s d WHERE d.ctid = ANY (ARRAY(SELECT b.ctid FROM batch b)) RETURNING %s), '
						   'ins AS (INSERT INTO %s AS t (%s)%s SELECT %s FROM moved RETURNING 1) '
						   'SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM ins), (SELECT %s FROM batch b)',
						   klist, src, cond, klist, kcast, klist,
						   src, clist, dst_text, clist, overriding, clist,
						   CASE WHEN array_length(key, 1) = 1
								THEN format('jsonb_build_array(max(b.%I)::text)', key[1])
								ELSE format('(array_agg(jsonb_build_array(%s) ORDER BY %s))[1]', kjson, kdesc) END),
		'move_sql', format('WITH moved AS (DELETE FROM ONLY %s WHERE ctid = ANY ($1) RETURNING %s) '
						   'INSERT INTO %s AS t (%s)%s SELECT %s FROM moved',
						   src, clist, dst_text, clist, overriding, clist),
		'insert_sql', format('INSERT INTO %s AS t (%s)%s SELECT %s FROM ONLY %s s WHERE s.ctid = ANY ($1) ON CONFLICT DO NOTHING',
							 dst_text, clist, overriding, slist, src),
		'keys_sql', format('SELECT string_agg(format(%L, %s), '' OR '') FROM ONLY %s s WHERE s.ctid = ANY ($1)',
						   '(' || klit || ')',
						   (SELECT string_agg(format('s.%I::text', k), ', ') FROM unnest(key) k), src),
		'verify_sql', format('SELECT count(*) FROM (SELECT ROW(%s)::text AS r FROM %s t WHERE %%s) x '
							 'WHERE x.r IN (SELECT ROW(%s)::text FROM ONLY %s s WHERE s.ctid = ANY ($1))',
							 tlist, dst_text, slist, src),
		'delete_sql', format('DELETE FROM ONLY %s WHERE ctid = ANY ($1)', src));

	IF p_dry_run THEN
		EXECUTE format('SELECT count(*) FROM ONLY %s s WHERE %s', src, cond) INTO n USING p_from, NULL::int, NULL::jsonb, p_to;
		RAISE NOTICE '%', format('dry run: %s rows of %s would move to %s%s, in about %s batches of %s',
			n, src, dst_text, CASE WHEN dst IS NULL THEN ' (created on the first run)' ELSE '' END,
			ceil(n::numeric / p_batch_size), p_batch_size);
		sqls := array_to_string(create_sql || ARRAY[
			format(E'-- each batch, in its own transaction (%s$2 = %s, $3 = last key of the previous batch or NULL, $4 = %s)\n',
				   CASE WHEN p_operation = 'unarchive' THEN format('$1 = %L, ', p_from) ELSE '' END,
				   p_batch_size,
				   CASE WHEN p_operation = 'unarchive' THEN quote_literal(p_to) ELSE 'now() - older_than at the start of the run' END)
			|| CASE WHEN jsonb_array_length(refs) = 0 THEN plan->>'fast_sql'
					ELSE (plan->>'lock_sql') || E';\n-- (the foreign keys that point at the table are checked here)\n'
						 || (plan->>'move_sql') END,
			'COMMIT'], E';\n');
		RAISE NOTICE '%', E'statements:\n' || sqls;
		RETURN plan || jsonb_build_object('status', 'dry_run', 'rows', n);
	END IF;

	-- one run per table at a time.  A lock this session still holds can only
	-- be left over from a run that was cancelled: drop it.
	lock_key := @extschema@._archive_lock_key(p_relation);
	WHILE EXISTS (SELECT 1 FROM pg_locks l
				  WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid()
					AND l.classid = (lock_key >> 32)::oid
					AND l.objid = (lock_key & 4294967295)::oid AND l.objsubid = 1
					AND l.granted) LOOP
		PERFORM pg_advisory_unlock(lock_key);
	END LOOP;
	IF NOT pg_try_advisory_lock(lock_key) THEN
		SELECT l.pid INTO holder FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.classid = (lock_key >> 32)::oid
		  AND l.objid = (lock_key & 4294967295)::oid AND l.objsubid = 1 AND l.granted
		LIMIT 1;
		RAISE NOTICE '%', format('another archiving run on %s is in progress (process %s); nothing done',
								 p_relation, coalesce(holder::text, '?'));
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy,
			 finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy,
				clock_timestamp(), interval '0', 'skipped',
				format('another run (process %s) was in progress', coalesce(holder::text, '?')))
		RETURNING r.run_id INTO run;
		RETURN plan || jsonb_build_object('status', 'skipped', 'run_id', run, 'rows', 0);
	END IF;

	BEGIN
		-- runs of this table still marked running died without finishing
		UPDATE @extschema@.archive_runs r
		SET status = 'interrupted',
			error = coalesce(r.error, 'the run ended without finishing (server crash, cancel or terminated connection)')
		WHERE r.relation = p_relation::text AND r.status = 'running';
		FOR i IN 1 .. coalesce(array_length(create_sql, 1), 0) LOOP
			EXECUTE create_sql[i];
		END LOOP;
		IF dst IS NULL THEN
			dst := to_regclass(other_name);
		END IF;
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, target, time_column, cutoff_from, cutoff_to, from_policy)
		VALUES (p_operation, p_relation::text, other_name, p_time_column,
				CASE WHEN p_operation = 'unarchive' THEN p_from END, p_to, p_policy)
		RETURNING r.run_id INTO run;
	EXCEPTION WHEN OTHERS THEN
		PERFORM pg_advisory_unlock(lock_key);
		RAISE;
	END;
	IF array_length(create_sql, 1) > 0 THEN
		RAISE NOTICE '%', format('created archive table %s', other_name);
	END IF;
	RETURN plan || jsonb_build_object('status', 'running', 'run_id', run, 'rows', 0,
									  'lock_key', lock_key);
END $$;

-- EXECUTE helper for the foreign key checks above.
CREATE FUNCTION @extschema@._archive_exists(q text, p_from timestamptz, p_to timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r boolean;
BEGIN
	EXECUTE q INTO r USING p_from, NULL::int, NULL::jsonb, p_to;
	RETURN r;
END $$;

-- One batch, in the caller's transaction, inside a subtransaction: an error
-- undoes the batch and is returned in the state instead of raised.
-- state: {"last_key": ..., "sweep": bool, "rows": n, "batches": n}
CREATE FUNCTION @extschema@._archive_batch(plan jsonb, state jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tids tid[];
	last_key jsonb;
	n bigint;
	ins bigint;
	same bigint;
	keys text;
	careful boolean := false;
	found_ref boolean;
	r jsonb;
	t0 timestamptz := clock_timestamp();
	e_state text;
	e_msg text;
	e_detail text;
	e_hint text;
BEGIN
	PERFORM set_config('lock_timeout', plan->>'lock_timeout', true);
	LOOP
		BEGIN
			IF NOT careful AND jsonb_array_length(plan->'refs') = 0 THEN
				-- one statement: lock, delete, insert
				EXECUTE plan->>'fast_sql' INTO n, ins, last_key
					USING (plan->>'from')::timestamptz, (plan->>'batch_size')::int,
						  nullif(state->'last_key', 'null'::jsonb), (plan->>'to')::timestamptz;
				IF n > 0 AND ins <> n THEN
					-- a locked row had changed since the statement's snapshot:
					-- redo the batch step by step
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				EXECUTE plan->>'lock_sql' INTO tids, last_key
					USING (plan->>'from')::timestamptz, (plan->>'batch_size')::int,
						  nullif(state->'last_key', 'null'::jsonb), (plan->>'to')::timestamptz;
				n := coalesce(array_length(tids, 1), 0);
			END IF;
			IF n = 0 THEN
				IF nullif(state->'last_key', 'null'::jsonb) IS NOT NULL THEN
					-- end of the walk: sweep once more from the start for rows
					-- that were locked by others when we passed them
					RETURN state || jsonb_build_object('last_key', NULL, 'sweep', true,
													   'status', 'continue', 'moved', 0);
				END IF;
				RETURN state || jsonb_build_object('status', 'done', 'moved', 0);
			END IF;
			FOR r IN SELECT * FROM jsonb_array_elements(plan->'refs') LOOP
				-- (only on the step-by-step path: fast_sql is not used when
				-- foreign keys point at the table)
				EXECUTE r->>'batch' INTO found_ref USING tids;
				IF found_ref THEN
					RAISE EXCEPTION USING ERRCODE = '23503',
						MESSAGE = format('rows of %s to be moved are still referenced by foreign keys', plan->>'src'),
						DETAIL = format('Referencing constraint: %s.', r->>'name'),
						HINT = 'Archive or delete the referencing rows first.';
				END IF;
			END LOOP;
			IF tids IS NULL THEN
				NULL;		-- moved by fast_sql above
			ELSIF NOT careful THEN
				-- a plain INSERT: a key already in the target raises
				-- unique_violation and the batch is redone carefully
				EXECUTE plan->>'move_sql' USING tids;
				GET DIAGNOSTICS ins = ROW_COUNT;
				IF ins <> n THEN
					RAISE EXCEPTION USING ERRCODE = 'SA001', MESSAGE = 'rows missing from the target';
				END IF;
			ELSE
				EXECUTE plan->>'insert_sql' USING tids;
				GET DIAGNOSTICS ins = ROW_COUNT;
				IF ins < n THEN
					EXECUTE plan->>'keys_sql' INTO keys USING tids;
					EXECUTE format(plan->>'verify_sql', keys) INTO same USING tids;
					IF same < n THEN
						RAISE EXCEPTION USING ERRCODE = '23505',
							MESSAGE = format('%s rows of %s have a key that %s already holds with different contents',
											 n - same, plan->>'src', plan->>'dst'),
							HINT = 'Compare the rows with the same key in both tables and delete the wrong copy; nothing was moved in this batch.';
					END IF;
				END IF;
				EXECUTE plan->>'delete_sql' USING tids;
			END IF;
			IF coalesce(current_setting('scale_advisor.archive_test_crash', true), 'off') = 'on' THEN
				PERFORM @extschema@._archive_test_crash();
			END IF;
			UPDATE @extschema@.archive_runs AS ar
			SET batches = ar.batches + 1, rows_moved = ar.rows_moved + n,
				last_batch_at = clock_timestamp(), duration = clock_timestamp() - ar.started_at
			WHERE ar.run_id = (plan->>'run_id')::bigint;
			IF (plan->>'verbose')::boolean THEN
				RAISE NOTICE '%', format('batch %s: moved %s rows from %s to %s in %s ms%s',
					(state->>'batches')::int + 1, n, plan->>'src', plan->>'dst',
					round(extract(epoch FROM clock_timestamp() - t0) * 1000),
					CASE WHEN careful THEN ' (some were already there, identical)' ELSE '' END);
			END IF;
			RETURN state || jsonb_build_object('last_key', last_key, 'status', 'continue', 'moved', n,
											   'rows', (state->>'rows')::bigint + n,
											   'batches', (state->>'batches')::int + 1);
		EXCEPTION
			WHEN SQLSTATE 'SA001' OR unique_violation THEN
				IF careful THEN
					GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
						e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
					RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
						'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
						'hint', nullif(e_hint, ''));
				END IF;
				careful := true;
			WHEN lock_not_available THEN
				RETURN state || jsonb_build_object('status', 'lock_timeout', 'moved', 0,
					'error', format('lock_timeout (%s) expired: %s', plan->>'lock_timeout', SQLERRM));
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS e_state = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT,
					e_detail = PG_EXCEPTION_DETAIL, e_hint = PG_EXCEPTION_HINT;
				RETURN state || jsonb_build_object('status', 'failed', 'moved', 0,
					'sqlstate', e_state, 'error', e_msg, 'detail', nullif(e_detail, ''),
					'hint', nullif(e_hint, ''));
		END;
	END LOOP;
END $$;

-- Ends a run: status, duration, VACUUM advice; releases the lock.
CREATE FUNCTION @extschema@._archive_finish(plan jsonb, state jsonb, final_status text, message text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved bigint := (state->>'rows')::bigint;
	tuples double precision;
	advice text;
BEGIN
	SELECT greatest(c.reltuples, 0) INTO tuples FROM pg_class c WHERE c.oid = (plan->>'src')::regclass;
	-- reltuples may still count the rows that left (no ANALYZE since)
	IF moved >= 1000 AND moved >= 0.1 * greatest(coalesce(tuples, 0), moved) THEN
		advice := format('VACUUM (ANALYZE) %s', plan->>'src');
		RAISE NOTICE '%', format('%s rows were moved out of %s%s: %s',
			moved, plan->>'src',
			CASE WHEN tuples > 0 THEN format(' (about %s%% of its rows)', round(100 * moved / greatest(tuples, moved))) ELSE '' END,
			CASE WHEN (plan->>'vacuum')::boolean THEN 'vacuuming it now'
				 ELSE 'run ' || advice || ' to make the space reusable and refresh the planner statistics, or let autovacuum do it' END);
	END IF;
	UPDATE @extschema@.archive_runs AS ar
	SET status = final_status, error = message, finished_at = clock_timestamp(),
		duration = clock_timestamp() - ar.started_at, vacuum_advice = advice
	WHERE ar.run_id = (plan->>'run_id')::bigint;
	PERFORM pg_advisory_unlock((plan->>'lock_key')::bigint);
	IF final_status = 'failed' THEN
		RAISE WARNING '%', format('%s of %s failed after %s rows: %s', plan->>'operation',
								  plan->>'relation_name', moved, message);
	END IF;
	RETURN advice;
END $$;

-- The run loop shared by archive, unarchive and run_archive_policies.  No
-- SET clause (it commits): search_path is set locally per transaction.
CREATE PROCEDURE @extschema@._archive_run(
	p_operation text, p_relation regclass, p_time_column name,
	p_from timestamptz, p_to timestamptz, p_other regclass,
	p_batch_size integer, p_max_batches integer, p_max_duration interval,
	p_pause interval, p_lock_timeout interval, p_dry_run boolean,
	p_verbose boolean, p_vacuum boolean, p_policy boolean, p_raise boolean,
	INOUT o_run_id bigint, INOUT o_rows bigint, INOUT o_status text)
LANGUAGE plpgsql
AS $$
DECLARE
	plan jsonb;
	state jsonb := jsonb_build_object('last_key', NULL, 'sweep', false, 'rows', 0, 'batches', 0);
	final_status text;
	message text;
	lock_failures integer := 0;
	started timestamptz := pg_catalog.clock_timestamp();
	advice text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	-- a failed start is logged as a run of this operation on this relation:
	-- without them there is nothing to log
	IF p_operation IS NULL OR p_operation NOT IN ('archive', 'unarchive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown archiving operation %L', p_operation),
			HINT = 'Use ''archive'' or ''unarchive''.';
	END IF;
	IF p_relation IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation must not be NULL';
	END IF;
	BEGIN
		plan := @extschema@._archive_start(p_operation, p_relation, p_time_column, p_from, p_to,
			p_other, p_batch_size, p_max_batches, p_max_duration, p_pause, p_lock_timeout,
			p_dry_run, p_verbose, p_vacuum, p_policy);
	EXCEPTION WHEN OTHERS THEN
		IF p_raise THEN
			RAISE;
		END IF;
		GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
		RAISE WARNING '%', format('%s of %s not started: %s', p_operation, p_relation, message);
		INSERT INTO @extschema@.archive_runs AS r
			(operation, relation, time_column, from_policy, finished_at, duration, status, error)
		VALUES (p_operation, p_relation::text, p_time_column, coalesce(p_policy, false),
				pg_catalog.clock_timestamp(), interval '0', 'failed', message)
		RETURNING r.run_id INTO o_run_id;
		o_rows := 0;
		o_status := 'failed';
		RETURN;
	END;
	o_run_id := (plan->>'run_id')::bigint;
	o_rows := (plan->>'rows')::bigint;
	o_status := plan->>'status';
	IF o_status <> 'running' THEN
		RETURN;
	END IF;
	COMMIT;

	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF (state->>'batches')::int >= (plan->>'max_batches')::int THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_batches (%s) reached', plan->>'max_batches');
			EXIT;
		END IF;
		IF pg_catalog.clock_timestamp() - started >= (plan->>'max_duration')::interval THEN
			final_status := 'stopped';
			message := pg_catalog.format('max_duration (%s) reached', plan->>'max_duration');
			EXIT;
		END IF;
		-- A batch is atomic, so its commit need not wait for the disk: a
		-- crash can only undo the last batches, whose rows are then still
		-- in the table and move again next time.  The run's final commit
		-- (in _archive_finish) is synchronous and flushes them all.
		PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
		state := @extschema@._archive_batch(plan, state);
		COMMIT;
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		CASE state->>'status'
			WHEN 'done' THEN
				final_status := 'done';
				EXIT;
			WHEN 'failed' THEN
				final_status := 'failed';
				message := pg_catalog.concat_ws(E'\n', state->>'error',
					'DETAIL: ' || (state->>'detail'), 'HINT: ' || (state->>'hint'));
				EXIT;
			WHEN 'lock_timeout' THEN
				lock_failures := lock_failures + 1;
				IF lock_failures >= 3 THEN
					final_status := 'failed';
					message := (state->>'error') || ' (3 times in a row)';
					EXIT;
				END IF;
				IF (plan->>'verbose')::boolean THEN
					RAISE NOTICE '%', (state->>'error') || '; retrying';
				END IF;
			ELSE
				lock_failures := 0;
		END CASE;
		IF (plan->>'pause')::float8 > 0
		   AND ((state->>'moved')::bigint > 0 OR state->>'status' = 'lock_timeout') THEN
			PERFORM pg_catalog.pg_sleep((plan->>'pause')::float8);
			COMMIT;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	advice := @extschema@._archive_finish(plan, state, final_status, message);
	o_rows := (state->>'rows')::bigint;
	o_status := final_status;
	COMMIT;
	IF advice IS NOT NULL AND (plan->>'vacuum')::boolean THEN
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		IF @extschema@._archive_vacuum((plan->>'src')::regclass) THEN
			RAISE NOTICE '%', pg_catalog.format('%s finished', advice);
		END IF;
	END IF;
END $$;

CREATE PROCEDURE @extschema@.archive(
	relation regclass,
	time_column name,
	older_than interval,
	target regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	vacuum boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF $10 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('archive()');
	END IF;
	IF $3 < interval '0' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = pg_catalog.format('older_than must not be negative, not %s', $3);
	END IF;
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('archive', $1, $2,
		'-infinity', pg_catalog.now() - $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
		false, true, $13, $14, $15);
END $$;
COMMENT ON PROCEDURE @extschema@.archive IS
'moves rows whose time_column is older than older_than into an archive table, in committed batches';

CREATE PROCEDURE @extschema@.unarchive(
	relation regclass,
	time_column name,
	since timestamptz DEFAULT '-infinity',
	before timestamptz DEFAULT 'infinity',
	archive regclass DEFAULT NULL,
	batch_size integer DEFAULT 1000,
	max_batches integer DEFAULT NULL,
	max_duration interval DEFAULT NULL,
	pause interval DEFAULT '0',
	lock_timeout interval DEFAULT '1s',
	dry_run boolean DEFAULT false,
	verbose boolean DEFAULT false,
	INOUT run_id bigint DEFAULT NULL,
	INOUT rows_moved bigint DEFAULT NULL,
	INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	IF $11 IS NOT TRUE THEN
		PERFORM @extschema@._require_primary('unarchive()');
	END IF;
	-- positional references: some parameter names are SQL keywords
	CALL @extschema@._archive_run('unarchive', $1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, false, false, true, $13, $14, $15);
END $$;
COMMENT ON PROCEDURE @extschema@.unarchive IS
'moves archived rows whose time_column is in [since, before) back into the table, in committed batches';

CREATE PROCEDURE @extschema@.run_archive_policies(verbose boolean DEFAULT false)
LANGUAGE plpgsql
AS $$
DECLARE
	p record;
	rel regclass;
	tgt regclass;
	run bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('run_archive_policies()');
	FOR p IN
		SELECT * FROM @extschema@.archive_policies ap
		WHERE ap.enabled ORDER BY ap.relation
	LOOP
		PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
		rel := pg_catalog.to_regclass(p.relation);
		tgt := pg_catalog.to_regclass(p.target);
		msg := CASE WHEN rel IS NULL THEN pg_catalog.format('table %s does not exist', p.relation)
					WHEN p.target IS NOT NULL AND tgt IS NULL
					THEN pg_catalog.format('target %s does not exist', p.target) END;
		IF msg IS NOT NULL THEN
			RAISE WARNING '%', pg_catalog.format('archive policy for %s skipped: %s', p.relation, msg);
			INSERT INTO @extschema@.archive_runs AS r
				(operation, relation, target, time_column, from_policy, finished_at, duration, status, error)
			VALUES ('archive', p.relation, p.target, p.time_column, true,
					pg_catalog.clock_timestamp(), interval '0', 'failed', msg);
			COMMIT;
			CONTINUE;
		END IF;
		run := NULL; n := NULL; st := NULL;
		CALL @extschema@._archive_run('archive', rel, p.time_column,
			'-infinity', pg_catalog.now() - p.older_than, tgt, p.batch_size, p.max_batches,
			p.max_duration, p.pause, p.lock_timeout, false, $1, p.vacuum, true, false,
			run, n, st);
		IF $1 THEN
			RAISE NOTICE '%', pg_catalog.format('archive policy for %s: %s, %s rows moved (run %s)',
												p.relation, st, n, run);
		END IF;
		COMMIT;
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.run_archive_policies IS
'runs every enabled archive policy, one table after the other';

REVOKE ALL ON PROCEDURE @extschema@.archive FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.unarchive FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.run_archive_policies FROM PUBLIC;
-- The helpers that change data are not executable by PUBLIC either (they run
-- with the caller's rights, so a caller needs EXECUTE on them too:
-- docs/archiving.md shows the GRANT).  The read-only ones (_archive_key,
-- _archive_lock_key, _archive_columns) stay executable.
REVOKE ALL ON FUNCTION @extschema@._archive_test_crash FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_vacuum(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_start FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_exists FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_batch FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._archive_finish FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@._archive_run FROM PUBLIC;
-- Partitioning helpers (docs/partitioning.md).
--
-- partition_table converts a populated table into a range-partitioned table
-- of the same name without copying rows: the table itself becomes the
-- partition of the historical range.  A CHECK constraint matching that
-- range is added NOT VALID and validated in its own transaction (SHARE
-- UPDATE EXCLUSIVE: writers go on), so the ATTACH needs no scan and the
-- ACCESS EXCLUSIVE lock is held only for the rename and the attach.
--
-- partition_sets is the configuration that maintain_partitions works from:
-- premade future partitions, retention, rows left in the default partition.
--
-- The two procedures (partition_table, maintain_partitions) commit between
-- steps, so they cannot carry a SET search_path clause: they only call the
-- functions below (which are pinned) and qualify every name.

-- true when the calling PL/pgSQL procedure may COMMIT (src/partition.c)
CREATE FUNCTION @extschema@._nonatomic()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_nonatomic';

---------------------------------------------------------------------------
-- Configuration and state
---------------------------------------------------------------------------

CREATE TABLE @extschema@.partition_sets (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	control_column name NOT NULL,
	part_interval text NOT NULL,
	premake integer NOT NULL DEFAULT 4 CHECK (premake BETWEEN 1 AND 1000),
	retention text,
	retention_action text NOT NULL DEFAULT 'detach'
		CHECK (retention_action IN ('detach', 'drop', 'archive_schema', 'archive')),
	archive_schema name,
	archive_target text,
	archive_batch_size integer NOT NULL DEFAULT 10000 CHECK (archive_batch_size > 0),
	move_default_rows boolean NOT NULL DEFAULT true,
	lock_timeout interval NOT NULL DEFAULT '1s'
		CHECK (lock_timeout > '0' AND lock_timeout <= '10min'),
	ddl_retries integer NOT NULL DEFAULT 5 CHECK (ddl_retries BETWEEN 0 AND 100),
	expected_every interval NOT NULL DEFAULT '1 hour' CHECK (expected_every > '0'),
	enabled boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (parent_schema, parent_table),
	CHECK (retention_action <> 'archive_schema' OR archive_schema IS NOT NULL)
);
COMMENT ON TABLE @extschema@.partition_sets IS
	'partitioned tables that scale_advisor.maintain_partitions keeps up';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.partition_sets', '');

-- What the last maintenance runs did, per set (not dumped: runtime state).
CREATE TABLE @extschema@.partition_set_state (
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	last_started timestamptz,
	last_finished timestamptz,
	last_success timestamptz,
	last_error text,
	last_error_at timestamptz,
	consecutive_failures integer NOT NULL DEFAULT 0,
	partitions_created bigint NOT NULL DEFAULT 0,
	partitions_retired bigint NOT NULL DEFAULT 0,
	default_rows_moved bigint NOT NULL DEFAULT 0,
	default_rows_remaining bigint,
	PRIMARY KEY (parent_schema, parent_table)
);

-- One line per action of partition_table and maintain_partitions.
CREATE TABLE @extschema@.partition_log (
	id bigserial PRIMARY KEY,
	logged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	parent_schema name NOT NULL,
	parent_table name NOT NULL,
	action text NOT NULL,
	ok boolean NOT NULL,
	detail text,
	exclusive_lock_ms double precision
);

---------------------------------------------------------------------------
-- Key arithmetic.  Keys are handled as numeric: integer keys as they are,
-- time keys as seconds since 1970-01-01 00:00 UTC (timestamp and date keys
-- are read as UTC wall-clock time), so that bounds do not depend on the
-- session's TimeZone.
---------------------------------------------------------------------------

-- 'time', 'int', or NULL for a type that cannot be a partition key here
CREATE FUNCTION @extschema@._pt_kind(typ regtype)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN 'time'
	WHEN typ IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'int'
END
$$;

-- Check a partition interval for a key kind; raises on bad input.
CREATE FUNCTION @extschema@._pt_check_interval(kind text, part_interval text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	n numeric;
BEGIN
	IF part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'partition interval must not be NULL';
	END IF;
	IF kind = 'time' THEN
		BEGIN
			iv := part_interval::interval;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for a time column', part_interval),
				HINT = 'Give an interval such as ''1 day'', ''1 week'' or ''1 month''.';
		END;
		IF iv <= interval '0' OR iv < interval '1 minute' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L is too small', part_interval),
				HINT = 'Give an interval of at least one minute.';
		END IF;
		IF (extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0)
			AND iv <> make_interval(years => extract(year FROM iv)::integer,
									months => extract(month FROM iv)::integer) THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('partition interval %L mixes months with days or hours', part_interval),
				HINT = 'Use whole months (''1 month'', ''3 months'', ''1 year'') or a fixed length (''1 day'', ''7 days'', ''6 hours'').';
		END IF;
	ELSE
		BEGIN
			n := part_interval::numeric;
		EXCEPTION WHEN others THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give the number of key values per partition, such as ''1000000''.';
		END;
		IF n <= 0 OR n <> trunc(n) OR n > 9223372036854775807 THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('invalid partition interval %L for an integer column', part_interval),
				HINT = 'Give a positive whole number of key values per partition.';
		END IF;
	END IF;
END
$$;

-- a key literal (as the column's type prints it) as a number
CREATE FUNCTION @extschema@._pt_to_num(typ regtype, lit text)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN lit IS NULL THEN NULL
	WHEN typ = 'timestamptz'::regtype THEN extract(epoch FROM lit::timestamptz)
	WHEN typ = 'timestamp'::regtype THEN extract(epoch FROM lit::timestamp)
	WHEN typ = 'date'::regtype THEN extract(epoch FROM lit::date::timestamp)
	ELSE lit::numeric
END
$$;

-- a number as a key literal, unquoted, independent of DateStyle/TimeZone
CREATE FUNCTION @extschema@._pt_from_num(typ regtype, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN typ = 'timestamptz'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'
	WHEN typ = 'timestamp'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
	WHEN typ = 'date'::regtype
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
	ELSE x::text
END
$$;

-- start of the partition slot that holds x (slots aligned in UTC: months
-- from January of year 0, fixed lengths from Monday 2000-01-03, integers
-- from 0)
CREATE FUNCTION @extschema@._pt_slot(kind text, part_interval text, x numeric)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	iv interval;
	u timestamp;
	n integer;
	m integer;
	step numeric;
BEGIN
	IF kind = 'int' THEN
		step := part_interval::numeric;
		RETURN x - mod(mod(x, step) + step, step);
	END IF;
	iv := part_interval::interval;
	u := to_timestamp(x) AT TIME ZONE 'UTC';
	IF extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0 THEN
		n := (extract(year FROM iv) * 12 + extract(month FROM iv))::integer;
		m := (extract(year FROM u) * 12 + extract(month FROM u) - 1)::integer;
		m := m - m % n;
		RETURN extract(epoch FROM make_timestamp(m / 12, m % 12 + 1, 1, 0, 0, 0));
	END IF;
	RETURN extract(epoch FROM date_bin(iv, u, timestamp '2000-01-03'));
END
$$;

-- x plus k intervals
CREATE FUNCTION @extschema@._pt_add(kind text, part_interval text, x numeric, k integer)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE kind
	WHEN 'int' THEN x + k * part_interval::numeric
	ELSE extract(epoch FROM (to_timestamp(x) AT TIME ZONE 'UTC') + k * part_interval::interval)
END
$$;

-- a relation name made of base and suffix, cut to fit in 63 bytes: the
-- base is cut first, down to its first 8 characters (which keep names such
-- as sa1_, sa2_ apart), then the suffix (a long column or index name)
CREATE FUNCTION @extschema@._pt_name(base text, suffix text)
RETURNS name
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	b text := left(base, 63);
	s text := left(suffix, 63);
BEGIN
	WHILE octet_length(b || '_' || s) > 63 AND length(b) > 8 LOOP
		b := left(b, -1);
	END LOOP;
	WHILE octet_length(b || '_' || s) > 63 LOOP
		s := left(s, -1);
	END LOOP;
	RETURN (b || '_' || s)::name;
END
$$;

-- partition name suffix for the slot that starts at x
CREATE FUNCTION @extschema@._pt_suffix(kind text, part_interval text, x numeric)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT 'p' || CASE
	WHEN kind = 'int' THEN replace(x::text, '-', 'm')
	WHEN extract(year FROM part_interval::interval) <> 0 OR extract(month FROM part_interval::interval) <> 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMM')
	WHEN part_interval::interval >= interval '1 day' AND mod(x, 86400) = 0
		THEN to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD')
	ELSE to_char(to_timestamp(x) AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI')
END
$$;

-- The direct partitions of a partitioned table with their bounds as
-- numbers (NULL for MINVALUE/MAXVALUE).
CREATE FUNCTION @extschema@._pt_partitions(parent regclass)
RETURNS TABLE (part oid, part_schema name, part_name name, is_default boolean,
			   lo numeric, hi numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	typ regtype;
	r record;
	m text[];
BEGIN
	SELECT a.atttypid::regtype INTO typ
	FROM pg_partitioned_table pt
	JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
	WHERE pt.partrelid = parent;
	FOR r IN
		SELECT c.oid, n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.inhparent = parent
	LOOP
		part := r.oid;
		part_schema := r.nspname;
		part_name := r.relname;
		IF r.bound = 'DEFAULT' THEN
			is_default := true;
			lo := NULL;
			hi := NULL;
		ELSE
			is_default := false;
			m := regexp_match(r.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$');
			lo := @extschema@._pt_to_num(typ, @extschema@._pt_unquote(m[1]));
			hi := @extschema@._pt_to_num(typ, @extschema@._pt_unquote(m[2]));
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- one bound value from pg_get_expr: NULL for MINVALUE/MAXVALUE
CREATE FUNCTION @extschema@._pt_unquote(v text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE
	WHEN v IS NULL OR v IN ('MINVALUE', 'MAXVALUE') THEN NULL
	WHEN left(v, 1) = '''' THEN replace(substr(v, 2, length(v) - 2), '''''', '''')
	ELSE v
END
$$;

---------------------------------------------------------------------------
-- Converting a table
---------------------------------------------------------------------------

-- Everything that stops relation from being converted, partitioned on
-- column_name.  Reads catalogs only.
CREATE FUNCTION @extschema@.partition_blockers(relation regclass, column_name name)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c record;
	att record;
	r record;
	v_kind text;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'relation and column must not be NULL';
	END IF;
	SELECT cl.* INTO c FROM pg_class cl WHERE cl.oid = relation;
	IF c.relkind NOT IN ('r', 'p') THEN
		RETURN NEXT format('%s is not a table', relation);
		RETURN;
	END IF;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RETURN NEXT format('column %I does not exist in %s', column_name, relation);
		RETURN;
	END IF;
	v_kind := @extschema@._pt_kind(att.atttypid::regtype);
	IF v_kind IS NULL THEN
		RETURN NEXT format('column %I has type %s; the partition column must be timestamptz, timestamp, date, smallint, integer or bigint',
						   column_name, format_type(att.atttypid, att.atttypmod));
	END IF;
	IF att.attgenerated <> '' THEN
		RETURN NEXT format('column %I is a generated column, which cannot be a partition key', column_name);
	END IF;
	IF c.relkind = 'p' THEN
		IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
					   WHERE pt.partrelid = relation AND pt.partstrat = 'r'
						 AND pt.partnatts = 1 AND pt.partattrs[0] = att.attnum) THEN
			RETURN NEXT format('%s is already partitioned, but not by range on column %I alone', relation, column_name);
		END IF;
		RETURN;
	END IF;
	IF c.relpersistence = 't' THEN
		RETURN NEXT format('%s is a temporary table', relation);
	ELSIF c.relpersistence = 'u' THEN
		RETURN NEXT format('%s is unlogged; partitioned tables cannot be unlogged', relation);
	END IF;
	IF c.relispartition THEN
		RETURN NEXT format('%s is itself a partition', relation);
	END IF;
	IF c.reloftype <> 0 THEN
		RETURN NEXT format('%s is a typed table (OF %s)', relation, c.reloftype::regtype);
	END IF;
	-- primary keys, unique constraints, unique indexes, exclusion constraints
	FOR r IN
		SELECT i.indexrelid::regclass AS idx, con.conname, con.contype, i.indisunique
		FROM pg_index i
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u', 'x')
		WHERE i.indrelid = relation
		  AND (i.indisunique OR con.contype = 'x')
		ORDER BY i.indexrelid::regclass::text
	LOOP
		IF r.contype = 'x' THEN
			RETURN NEXT format('exclusion constraint %I cannot be carried over to a partitioned table', r.conname);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_index i
						  WHERE i.indexrelid = r.idx AND att.attnum = ANY (i.indkey::int2[])) THEN
			RETURN NEXT format('%s %s does not include the partition column %I',
							   CASE r.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint'
							   ELSE 'unique index' END,
							   coalesce(quote_ident(r.conname), r.idx::text), column_name);
		END IF;
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.connoinherit
	LOOP
		RETURN NEXT format('check constraint %I is NO INHERIT', r.conname);
	END LOOP;
	FOR r IN
		SELECT con.conname FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'f' AND NOT con.convalidated
	LOOP
		RETURN NEXT format('foreign key %I is NOT VALID; validate or drop it first', r.conname);
	END LOOP;
	-- foreign keys of other tables that reference this one
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, con.conkey, con.confkey,
			   src.relkind AS src_kind
		FROM pg_constraint con
		JOIN pg_class src ON src.oid = con.conrelid
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		IF r.src = relation THEN
			RETURN NEXT format('foreign key %I references the table itself', r.conname);
		ELSIF NOT att.attnum = ANY (r.confkey) THEN
			RETURN NEXT format('foreign key %I of %s references columns without the partition column %I; a foreign key to a partitioned table must reference a key that includes it',
							   r.conname, r.src, column_name);
		ELSIF r.src_kind = 'p' THEN
			RETURN NEXT format('foreign key %I of partitioned table %s cannot be re-created NOT VALID on PostgreSQL %s',
							   r.conname, r.src, current_setting('server_version_num')::int / 10000);
		END IF;
	END LOOP;
	FOR r IN
		SELECT i.inhrelid::regclass AS child FROM pg_inherits i WHERE i.inhparent = relation ORDER BY i.inhrelid::regclass::text
	LOOP
		RETURN NEXT format('%s has inheritance child %s', relation, r.child);
	END LOOP;
	FOR r IN
		SELECT i.inhparent::regclass AS par FROM pg_inherits i WHERE i.inhrelid = relation ORDER BY i.inhparent::regclass::text
	LOOP
		RETURN NEXT format('%s inherits from %s', relation, r.par);
	END LOOP;
	FOR r IN
		SELECT rw.rulename FROM pg_rewrite rw
		WHERE rw.ev_class = relation AND rw.rulename <> '_RETURN' ORDER BY 1
	LOOP
		RETURN NEXT format('rule %I is defined on %s', r.rulename, relation);
	END LOOP;
	FOR r IN
		SELECT DISTINCT rw.ev_class::regclass::text AS v
		FROM pg_depend d
		JOIN pg_rewrite rw ON rw.oid = d.objid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND d.refobjid = relation AND rw.ev_class <> relation
		ORDER BY 1
	LOOP
		RETURN NEXT format('view %s depends on %s; drop it and create it again after the conversion', r.v, relation);
	END LOOP;
	IF c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = relation) THEN
		RETURN NEXT format('%s has row-level security, which is not carried over', relation);
	END IF;
	FOR r IN
		SELECT p.pubname FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
		WHERE pr.prrelid = relation ORDER BY 1
	LOOP
		RETURN NEXT format('%s is in publication %I, which is not carried over', relation, r.pubname);
	END LOOP;
	FOR r IN
		SELECT t.tgname FROM pg_trigger t
		WHERE t.tgrelid = relation AND NOT t.tgisinternal
		  AND (t.tgconstraint <> 0 OR t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL)
		ORDER BY 1
	LOOP
		RETURN NEXT format('trigger %I is a constraint trigger or uses transition tables', r.tgname);
	END LOOP;
END
$$;

-- What must match between planning and the exclusive step: if any of it
-- changes in between, the swap is retried with a new plan.
CREATE FUNCTION @extschema@._pt_fingerprint(relation regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT md5(concat_ws('|',
	(SELECT c.relname || ':' || c.relowner || ':' || coalesce(c.relacl::text, '')
	 FROM pg_class c WHERE c.oid = relation),
	(SELECT string_agg(a.attname || ':' || a.atttypid || ':' || a.attnotnull || ':' || a.attidentity::text
					   || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') || ':' || coalesce(a.attacl::text, ''),
					   ',' ORDER BY a.attnum)
	 FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped),
	(SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY i.indexrelid)
	 FROM pg_index i WHERE i.indrelid = relation),
	(SELECT string_agg(con.conname || pg_get_constraintdef(con.oid), ',' ORDER BY con.oid)
	 FROM pg_constraint con WHERE con.conrelid = relation OR con.confrelid = relation),
	(SELECT string_agg(pg_get_triggerdef(t.oid) || t.tgenabled::text, ',' ORDER BY t.oid)
	 FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal)))
$$;

-- The steps of a conversion, as SQL.  phase: 'prepare' (add the CHECK
-- constraint NOT VALID), 'validate' (its own transaction), 'swap' (one
-- transaction: new parent, then the exclusive lock, rename and attach),
-- 'finish' (validate re-pointed foreign keys, register the set).  Phases
-- already done (the constraint exists) are left out.  Raises an error that
-- lists every blocker when the table cannot be converted.
CREATE FUNCTION @extschema@.partition_table_plan(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL)
RETURNS TABLE (step integer, phase text, lock_mode text, statement text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	blockers text[];
	c record;
	att record;
	r record;
	v_kind text;
	typ regtype;
	sch name;
	tbl name;
	qt text;
	qcol text;
	tmp name;
	qtmp text;
	hist name;
	dflt name;
	boundary numeric;
	b_lit text;
	mx numeric;
	margin numeric;
	conoid oid;
	convalid boolean;
	n integer := 0;
	k integer;
	x numeric;
	pname name;
	idxname name;
	tmpidx name;
	def text;
	owner name;
	seqname name;
	sq record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF relation IS NULL OR column_name IS NULL OR part_interval IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'relation, column and interval must not be NULL';
	END IF;
	IF default_partition IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'default_partition must not be NULL',
			HINT = 'Pass true to keep a default partition for rows outside every range, false for none.';
	END IF;
	IF premake IS NULL OR premake < 1 OR premake > 1000 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'premake must be between 1 and 1000';
	END IF;
	IF lock_timeout IS NULL OR lock_timeout <= interval '0' OR lock_timeout > interval '10 min' THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'lock_timeout must be between 0 and 10 minutes';
	END IF;
	IF retries IS NULL OR retries < 0 OR retries > 100 THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retries must be between 0 and 100';
	END IF;
	IF retention_action IS NULL OR retention_action NOT IN ('detach', 'drop', 'archive_schema', 'archive') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('invalid retention_action %L', retention_action),
			HINT = 'Use detach, drop, archive_schema or archive.';
	END IF;
	IF retention_action = 'archive_schema' AND archive_schema IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'retention_action archive_schema needs archive_schema';
	END IF;
	IF archive_schema IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = archive_schema) THEN
		RAISE EXCEPTION USING ERRCODE = '3F000', MESSAGE = format('schema %I does not exist', archive_schema);
	END IF;

	SELECT cl.*, ns.nspname INTO c
	FROM pg_class cl JOIN pg_namespace ns ON ns.oid = cl.relnamespace WHERE cl.oid = relation;
	IF NOT pg_has_role(c.relowner, 'USAGE') THEN
		RAISE EXCEPTION USING ERRCODE = '42501',
			MESSAGE = format('must be owner of table %s', relation);
	END IF;
	SELECT a.* INTO att FROM pg_attribute a
	WHERE a.attrelid = relation AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
	IF FOUND THEN
		typ := att.atttypid::regtype;
		v_kind := @extschema@._pt_kind(typ);
	END IF;
	blockers := ARRAY(SELECT @extschema@.partition_blockers(relation, column_name));
	IF cardinality(blockers) > 0 THEN
		RAISE EXCEPTION USING ERRCODE = '55000',
			MESSAGE = format('cannot partition %s: %s', relation, array_to_string(blockers, '; ')),
			HINT = 'Nothing was changed.  Remove the blockers listed and call again.';
	END IF;
	PERFORM @extschema@._pt_check_interval(v_kind, part_interval);
	IF retention IS NOT NULL THEN
		PERFORM @extschema@._pt_check_interval(v_kind, retention);
	END IF;
	IF retention_action = 'archive' AND v_kind <> 'time' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'retention_action archive needs a time partition column';
	END IF;

	sch := c.nspname;
	tbl := c.relname;
	qt := format('%I.%I', sch, tbl);
	qcol := quote_ident(column_name);

	-- an already partitioned table: a default partition if asked for and
	-- missing, then register the set
	IF c.relkind = 'p' THEN
		dflt := @extschema@._pt_name(tbl, 'default');
		IF default_partition AND NOT EXISTS (
			SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = relation AND pg_get_expr(p.relpartbound, p.oid) = 'DEFAULT') THEN
			IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = dflt AND cl.relnamespace = c.relnamespace) THEN
				RAISE EXCEPTION USING ERRCODE = '42P07',
					MESSAGE = format('cannot add a default partition to %s: relation %I.%I already exists', relation, c.nspname, dflt),
					HINT = 'Nothing was changed.  Rename it, or pass default_partition => false.';
			END IF;
			n := n + 1;
			step := n; phase := 'swap'; lock_mode := 'ACCESS EXCLUSIVE';
			statement := format('CREATE TABLE %I.%I PARTITION OF %I.%I DEFAULT', c.nspname, dflt, c.nspname, c.relname);
			RETURN NEXT;
		END IF;
		n := n + 1;
		step := n; phase := 'finish'; lock_mode := NULL;
		statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
			retention, retention_action, archive_schema, lock_timeout, retries);
		RETURN NEXT;
		RETURN;
	END IF;

	-- the historical range ends at boundary
	SELECT con.oid, con.convalidated, obj_description(con.oid, 'pg_constraint')
	INTO conoid, convalid, def
	FROM pg_constraint con
	WHERE con.conrelid = relation AND con.conname = 'sa_partition_bound' AND con.contype = 'c';
	IF conoid IS NOT NULL THEN
		IF def IS NULL OR def NOT LIKE 'scale_advisor partition boundary: %' THEN
			RAISE EXCEPTION USING ERRCODE = '55000',
				MESSAGE = format('%s has a constraint named sa_partition_bound that scale_advisor did not create', relation);
		END IF;
		b_lit := substr(def, length('scale_advisor partition boundary: ') + 1);
		boundary := @extschema@._pt_to_num(typ, b_lit);
	ELSE
		EXECUTE format('SELECT max(%I)::text FROM ONLY %s', column_name, qt) INTO b_lit;
		mx := @extschema@._pt_to_num(typ, b_lit);
		IF v_kind = 'time' THEN
			-- rows keep arriving during the conversion: leave a quarter
			-- interval (at least an hour) of room after now()
			margin := greatest(extract(epoch FROM part_interval::interval) / 4, 3600);
			mx := greatest(coalesce(mx, 0), extract(epoch FROM now()) + margin);
		ELSE
			mx := coalesce(mx, 0);
			FOR sq IN
				SELECT s.seqrelid FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
				WHERE d.refobjid = relation AND d.refobjsubid = att.attnum
				  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
			LOOP
				mx := greatest(mx, coalesce(pg_sequence_last_value(sq.seqrelid::regclass), 0));
			END LOOP;
			mx := mx + ceil(part_interval::numeric / 4);
		END IF;
		IF historical_until IS NOT NULL THEN
			x := @extschema@._pt_to_num(typ, historical_until);
			IF x <= mx THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('historical_until %L is not above the largest key the table will hold during the conversion (%s)',
									 historical_until, @extschema@._pt_from_num(typ, mx));
			END IF;
			mx := x - 1e-6;
		END IF;
		boundary := @extschema@._pt_slot(v_kind, part_interval, mx);
		IF boundary <= mx THEN
			boundary := @extschema@._pt_add(v_kind, part_interval, boundary, 1);
		END IF;
		b_lit := @extschema@._pt_from_num(typ, boundary);
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%s IS NOT NULL AND %s < %L::%s) NOT VALID',
							qt, qcol, qcol, b_lit, typ);
		RETURN NEXT;
		n := n + 1;
		step := n; phase := 'prepare'; lock_mode := 'ACCESS EXCLUSIVE (no scan)';
		statement := format('COMMENT ON CONSTRAINT sa_partition_bound ON %s IS %L', qt,
							'scale_advisor partition boundary: ' || b_lit);
		RETURN NEXT;
	END IF;
	IF NOT coalesce(convalid, false) THEN
		n := n + 1;
		step := n; phase := 'validate'; lock_mode := 'SHARE UPDATE EXCLUSIVE';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT sa_partition_bound', qt);
		RETURN NEXT;
	END IF;

	-- the swap: build the new parent under a temporary name first
	tmp := @extschema@._pt_name(tbl, 'sa_new');
	qtmp := format('%I.%I', sch, tmp);
	hist := @extschema@._pt_name(tbl, 'history');
	dflt := @extschema@._pt_name(tbl, 'default');
	SELECT rolname INTO owner FROM pg_roles WHERE oid = c.relowner;
	FOR pname IN
		SELECT x.nm FROM (VALUES (tmp), (hist), (dflt)) x(nm)
		UNION ALL
		SELECT @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval,
			@extschema@._pt_add(v_kind, part_interval, boundary, g)))
		FROM generate_series(0, premake - 1) g
	LOOP
		IF EXISTS (SELECT 1 FROM pg_class cl WHERE cl.relname = pname AND cl.relnamespace = c.relnamespace) THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('cannot partition %s: relation %I.%I already exists', relation, sch, pname),
				HINT = 'Nothing was changed.  Rename or drop it and call again.';
		END IF;
	END LOOP;

	n := n + 1;
	step := n; phase := 'swap'; lock_mode := NULL;
	statement := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) PARTITION BY RANGE (%s)',
						qtmp, qt, qcol);
	RETURN NEXT;
	-- identity columns get a new sequence with the same options; its value
	-- is taken over under the lock
	FOR r IN
		SELECT a.attname, a.attidentity, s.*, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
		JOIN pg_sequence s ON s.seqrelid = d.objid
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s)',
							qtmp, r.attname, CASE r.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END,
							sch, seqname, r.seqincrement, r.seqmin, r.seqmax,
							r.seqstart, r.seqcache, CASE WHEN r.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
		RETURN NEXT;
	END LOOP;
	-- the owner (after the identity: its sequence follows the table's owner)
	IF owner <> current_user THEN
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s OWNER TO %I', qtmp, owner);
		RETURN NEXT;
	END IF;
	-- check constraints (ours stays on the old table)
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def, obj_description(con.oid, 'pg_constraint') AS cmt
		FROM pg_constraint con
		WHERE con.conrelid = relation AND con.contype = 'c' AND con.conname <> 'sa_partition_bound'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- indexes, primary key and unique constraints under temporary names
	k := 0;
	FOR r IN
		SELECT i.indexrelid, ic.relname AS idxname, con.oid AS conoid, con.conname,
			   pg_get_indexdef(i.indexrelid) AS idxdef, i.indisunique,
			   obj_description(i.indexrelid, 'pg_class') AS cmt
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = relation
			AND con.contype IN ('p', 'u')
		WHERE i.indrelid = relation
		ORDER BY ic.relname
	LOOP
		k := k + 1;
		tmpidx := @extschema@._pt_name('sa' || k, r.idxname);
		n := n + 1; step := n;
		IF r.conoid IS NOT NULL THEN
			statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, tmpidx, pg_get_constraintdef(r.conoid));
		ELSE
			def := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
						  r.idxname, qt);
			IF left(r.idxdef, length(def)) <> def THEN
				RAISE EXCEPTION USING ERRCODE = 'XX000',
					MESSAGE = format('unexpected definition of index %I: %s', r.idxname, r.idxdef);
			END IF;
			statement := format('CREATE %sINDEX %I ON %s USING ', CASE WHEN r.indisunique THEN 'UNIQUE ' ELSE '' END,
								tmpidx, qtmp) || substr(r.idxdef, length(def) + 1);
		END IF;
		RETURN NEXT;
		IF r.cmt IS NOT NULL THEN
			n := n + 1; step := n;
			statement := format('COMMENT ON INDEX %I.%I IS %L', sch, tmpidx, r.cmt);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- foreign keys to other tables
	FOR r IN
		SELECT con.conname, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con WHERE con.conrelid = relation AND con.contype = 'f'
		ORDER BY con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s', qtmp, r.conname, r.def);
		RETURN NEXT;
	END LOOP;
	-- comment and privileges
	IF obj_description(relation, 'pg_class') IS NOT NULL THEN
		n := n + 1; step := n;
		statement := format('COMMENT ON TABLE %s IS %L', qtmp, obj_description(relation, 'pg_class'));
		RETURN NEXT;
	END IF;
	FOR r IN
		SELECT a.privilege_type, a.grantee, a.is_grantable
		FROM aclexplode(c.relacl) a
		WHERE a.grantee <> c.relowner
		ORDER BY a.grantee, a.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s ON %s TO %s%s', r.privilege_type, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	FOR r IN
		SELECT a.attname, x.privilege_type, x.grantee, x.is_grantable
		FROM pg_attribute a, aclexplode(a.attacl) x
		WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
		ORDER BY a.attnum, x.grantee, x.privilege_type
	LOOP
		n := n + 1; step := n;
		statement := format('GRANT %s (%I) ON %s TO %s%s', r.privilege_type, r.attname, qtmp,
							CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.grantee)) END,
							CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		RETURN NEXT;
	END LOOP;
	-- future partitions and the default partition (empty, attached to a
	-- parent nobody uses yet)
	FOR k IN 0 .. premake - 1 LOOP
		x := @extschema@._pt_add(v_kind, part_interval, boundary, k);
		pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, part_interval, x));
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', sch, pname, qtmp,
							@extschema@._pt_from_num(typ, x),
							@extschema@._pt_from_num(typ, @extschema@._pt_add(v_kind, part_interval, x, 1)));
		RETURN NEXT;
		IF owner <> current_user THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %I.%I OWNER TO %I', sch, pname, owner);
			RETURN NEXT;
		END IF;
	END LOOP;
	IF default_partition THEN
		n := n + 1; step := n;
		statement := format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', sch, dflt, qtmp);
		RETURN NEXT;
		IF owner <> current_user THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %I.%I OWNER TO %I', sch, dflt, owner);
			RETURN NEXT;
		END IF;
	END IF;

	-- from here on the old table is locked
	n := n + 1; step := n; lock_mode := 'ACCESS EXCLUSIVE';
	statement := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', qt);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qt, hist);
	RETURN NEXT;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s RENAME TO %I', qtmp, tbl);
	RETURN NEXT;
	-- identity: take over the sequence position, drop the old identity and
	-- give the new sequence the old name
	FOR r IN
		SELECT a.attname, pg_get_serial_sequence(qt, a.attname) AS oldseq
		FROM pg_attribute a
		WHERE a.attrelid = relation AND a.attidentity <> '' ORDER BY a.attnum
	LOOP
		seqname := @extschema@._pt_name(tmp, r.attname || '_seq');
		n := n + 1; step := n;
		statement := format('SELECT pg_catalog.setval(%L, s.last_value, s.is_called) FROM %s s',
							format('%I.%I', sch, seqname), r.oldseq);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %I.%I ALTER COLUMN %I DROP IDENTITY', sch, hist, r.attname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %I.%I RENAME TO %I', sch, seqname,
							(parse_ident(r.oldseq))[array_upper(parse_ident(r.oldseq), 1)]);
		RETURN NEXT;
	END LOOP;
	-- sequences owned by columns (serial): the new parent owns them now
	FOR r IN
		SELECT a.attname, d.objid::regclass AS seq
		FROM pg_attribute a
		JOIN pg_depend d ON d.refobjid = a.attrelid AND d.refobjsubid = a.attnum
			AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		WHERE a.attrelid = relation AND a.attidentity = '' ORDER BY a.attnum
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, qt, r.attname);
		RETURN NEXT;
	END LOOP;
	-- triggers move to the parent, which clones row triggers to every
	-- partition, the historical one included
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := format('DROP TRIGGER %I ON %I.%I', r.tgname, sch, hist);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (MINVALUE) TO (%L)', qt, sch, hist, b_lit);
	RETURN NEXT;
	FOR r IN
		SELECT t.tgname, pg_get_triggerdef(t.oid) AS def, t.tgenabled
		FROM pg_trigger t WHERE t.tgrelid = relation AND NOT t.tgisinternal ORDER BY t.tgname
	LOOP
		n := n + 1; step := n;
		statement := r.def;
		RETURN NEXT;
		IF r.tgenabled <> 'O' THEN
			n := n + 1; step := n;
			statement := format('ALTER TABLE %s %s TRIGGER %I', qt,
								CASE r.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
								ELSE 'ENABLE ALWAYS' END, r.tgname);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- index names: the parent's indexes take the original names
	k := 0;
	FOR r IN
		SELECT ic.relname AS idxname
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = relation ORDER BY ic.relname
	LOOP
		k := k + 1;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, r.idxname,
							@extschema@._pt_name(hist, CASE WHEN left(r.idxname, length(tbl) + 1) = tbl || '_'
								THEN substr(r.idxname, length(tbl) + 2) ELSE r.idxname END));
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER INDEX %I.%I RENAME TO %I', sch, @extschema@._pt_name('sa' || k, r.idxname), r.idxname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n;
	statement := format('ALTER TABLE %I.%I DROP CONSTRAINT sa_partition_bound', sch, hist);
	RETURN NEXT;
	-- foreign keys that reference the table: re-pointed to the parent, NOT
	-- VALID here and validated after the lock is gone
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s DROP CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
		n := n + 1; step := n;
		statement := format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', r.src, r.conname, r.def,
							CASE WHEN r.def LIKE '% NOT VALID' THEN '' ELSE ' NOT VALID' END);
		RETURN NEXT;
	END LOOP;

	-- after the lock
	lock_mode := 'SHARE UPDATE EXCLUSIVE';
	FOR r IN
		SELECT con.conname, con.conrelid::regclass AS src, pg_get_constraintdef(con.oid) AS def
		FROM pg_constraint con
		WHERE con.confrelid = relation AND con.contype = 'f' AND con.conparentid = 0 AND con.convalidated
		ORDER BY con.conrelid::regclass::text, con.conname
	LOOP
		n := n + 1; step := n; phase := 'finish';
		statement := format('ALTER TABLE %s VALIDATE CONSTRAINT %I', r.src, r.conname);
		RETURN NEXT;
	END LOOP;
	n := n + 1; step := n; phase := 'finish';
	statement := format('ANALYZE %s', qt);
	RETURN NEXT;
	n := n + 1; step := n; phase := 'finish'; lock_mode := NULL;
	statement := @extschema@._pt_register_sql(sch, tbl, column_name, part_interval, premake,
		retention, retention_action, archive_schema, lock_timeout, retries);
	RETURN NEXT;
END
$$;

CREATE FUNCTION @extschema@._pt_register_sql(sch name, tbl name, col name, part_interval text,
	premake integer, retention text, retention_action text, archive_schema name,
	lock_timeout interval, retries integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('INSERT INTO @extschema@.partition_sets (parent_schema, parent_table, control_column, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, ddl_retries) VALUES (%L, %L, %L, %L, %s, %L, %L, %L, %L, %s) ON CONFLICT (parent_schema, parent_table) DO UPDATE SET control_column = excluded.control_column, part_interval = excluded.part_interval, premake = excluded.premake, retention = excluded.retention, retention_action = excluded.retention_action, archive_schema = excluded.archive_schema, lock_timeout = excluded.lock_timeout, ddl_retries = excluded.ddl_retries, enabled = true',
	sch, tbl, col, part_interval, premake, retention, retention_action, archive_schema, lock_timeout, retries)
$$;

-- Run statements in one subtransaction under lock_timeout.  A statement
-- that is a LOCK TABLE starts the exclusive part: after it the table's
-- fingerprint must still be the planned one, and the time from there to
-- the end is returned as lock_ms.  Errors are returned, not raised.
CREATE FUNCTION @extschema@._pt_run(stmts text[], lock_timeout interval,
	relation regclass DEFAULT NULL, fingerprint text DEFAULT NULL,
	OUT ok boolean, OUT err_code text, OUT message text, OUT lock_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s text;
	locked_at timestamptz;
	old_timeout text := current_setting('lock_timeout');
BEGIN
	ok := true;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM lock_timeout) * 1000)::bigint::text, true);
		FOREACH s IN ARRAY stmts LOOP
			EXECUTE s;
			IF s LIKE 'LOCK TABLE %' AND locked_at IS NULL THEN
				locked_at := clock_timestamp();
				IF fingerprint IS NOT NULL AND @extschema@._pt_fingerprint(relation) <> fingerprint THEN
					RAISE EXCEPTION USING ERRCODE = '40001',
						MESSAGE = format('%s changed while it was being converted', relation);
				END IF;
			END IF;
		END LOOP;
		IF locked_at IS NOT NULL THEN
			lock_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(s, 200) || ')';
	END;
END
$$;

CREATE FUNCTION @extschema@._pt_log(sch name, tbl name, action text, ok boolean, detail text,
	lock_ms double precision DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO @extschema@.partition_log (parent_schema, parent_table, action, ok, detail, exclusive_lock_ms)
VALUES (sch, tbl, action, ok, detail, lock_ms);
DELETE FROM @extschema@.partition_log
WHERE id <= (SELECT max(id) - 10000 FROM @extschema@.partition_log);
$$;

-- Convert relation into a table range-partitioned on column_name (see the
-- top of this file).  CALL it outside a transaction block.  dry_run returns
-- the statements without running them; steps returns what was done.
CREATE PROCEDURE @extschema@.partition_table(
	relation regclass,
	column_name name,
	part_interval text,
	premake integer DEFAULT 4,
	retention text DEFAULT NULL,
	retention_action text DEFAULT 'detach',
	archive_schema name DEFAULT NULL,
	default_partition boolean DEFAULT true,
	lock_timeout interval DEFAULT '1s',
	retries integer DEFAULT 5,
	historical_until text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	INOUT steps text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	ph text;
	stmts text[];
	finish text[];
	later text[];
	res record;
	attempt integer;
	sch name;
	tbl name;
	fp text;
	nonatomic boolean;
	done text[] := '{}';
	prepared boolean := false;
	lock_ms double precision;
	retryable text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	PERFORM @extschema@._require_loaded();
	-- NULL is not "no": a dry run asked for with a NULL must not convert
	IF dry_run IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'dry_run must not be NULL',
			HINT = 'Pass dry_run => true to see the statements, false to run them.';
	END IF;
	-- a dry run only plans: it may run on a standby
	IF NOT dry_run THEN
		PERFORM @extschema@._require_primary('partition_table()');
	END IF;
	-- the plan refuses, listing every blocker, before anything changes
	SELECT pg_catalog.string_agg(pg_catalog.format('-- %s%s%s', p.phase,
		CASE WHEN p.lock_mode IS NULL THEN '' ELSE pg_catalog.format(' (lock: %s)', p.lock_mode) END,
		E'\n' OPERATOR(pg_catalog.||) p.statement OPERATOR(pg_catalog.||) ';'), E'\n' ORDER BY p.step)
	INTO steps
	FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
		retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
	IF dry_run THEN
		RETURN;
	END IF;
	SELECT n.nspname, c.relname INTO sch, tbl
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
	WHERE c.oid OPERATOR(pg_catalog.=) relation;
	nonatomic := @extschema@._nonatomic();

	FOREACH ph IN ARRAY ARRAY['prepare', 'validate', 'swap', 'finish'] LOOP
		IF ph OPERATOR(pg_catalog.=) 'finish' THEN
			-- planned together with the swap: the relation is a partition now
			stmts := finish;
		ELSE
			IF ph OPERATOR(pg_catalog.=) 'swap' THEN
				fp := @extschema@._pt_fingerprint(relation);
			END IF;
			SELECT pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) ph),
				   pg_catalog.array_agg(p.statement ORDER BY p.step) FILTER (WHERE p.phase OPERATOR(pg_catalog.=) 'finish')
			INTO stmts, finish
			FROM @extschema@.partition_table_plan(relation, column_name, part_interval, premake, retention,
				retention_action, archive_schema, default_partition, lock_timeout, retries, historical_until) p;
		END IF;
		CONTINUE WHEN stmts IS NULL;
		IF NOT nonatomic THEN
			IF ph OPERATOR(pg_catalog.=) 'validate' AND prepared THEN
				-- the constraint must be committed before it can be validated
				-- without ACCESS EXCLUSIVE: stop here, the next call goes on
				RAISE NOTICE 'partition_table: CHECK constraint added NOT VALID; call partition_table again in a new transaction to validate it and swap the tables';
				steps := pg_catalog.array_to_string(done, E';\n') OPERATOR(pg_catalog.||) ';';
				RETURN;
			END IF;
			IF ph OPERATOR(pg_catalog.=) 'finish' THEN
				-- no scans while the caller's transaction holds the lock
				later := ARRAY(SELECT x FROM pg_catalog.unnest(stmts) x WHERE NOT pg_catalog.starts_with(x, 'INSERT INTO '));
				stmts := ARRAY(SELECT x FROM pg_catalog.unnest(stmts) x WHERE pg_catalog.starts_with(x, 'INSERT INTO '));
				IF pg_catalog.cardinality(later) OPERATOR(pg_catalog.>) 0 THEN
					RAISE NOTICE 'partition_table: run these after this transaction: %',
						pg_catalog.array_to_string(later, '; ');
				END IF;
			END IF;
		END IF;
		attempt := 0;
		LOOP
			res := @extschema@._pt_run(stmts, lock_timeout, relation,
				CASE WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN fp END);
			EXIT WHEN res.ok;
			IF NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable) OR attempt OPERATOR(pg_catalog.>=) retries THEN
				PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, false, res.message);
				IF nonatomic THEN
					COMMIT;
				END IF;
				IF ph OPERATOR(pg_catalog.=) 'validate' AND res.err_code OPERATOR(pg_catalog.=) '23514' THEN
					PERFORM @extschema@._pt_undo_bound(relation, lock_timeout, retries);
					RAISE EXCEPTION USING ERRCODE = '23514',
						MESSAGE = pg_catalog.format('cannot partition %s: some rows have %I NULL or beyond the historical range',
							relation, column_name),
						DETAIL = res.message,
						HINT = 'The CHECK constraint was removed again.  Fix those rows, or give historical_until above the largest value, and call again.';
				END IF;
				RAISE EXCEPTION USING ERRCODE = res.err_code,
					MESSAGE = pg_catalog.format('partition_table failed in its %s step: %s', ph, res.message),
					HINT = CASE WHEN ph OPERATOR(pg_catalog.=) 'finish' THEN 'The table is partitioned; calling partition_table again registers it.'
						WHEN ph OPERATOR(pg_catalog.=) 'swap' THEN 'The tables were not swapped.  Calling partition_table again resumes.'
						ELSE 'The table is unchanged apart from a CHECK constraint sa_partition_bound; calling partition_table again resumes.' END;
			END IF;
			attempt := attempt OPERATOR(pg_catalog.+) 1;
			PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
		END LOOP;
		IF ph OPERATOR(pg_catalog.=) 'swap' THEN
			lock_ms := res.lock_ms;
		END IF;
		IF ph OPERATOR(pg_catalog.=) 'prepare' THEN
			prepared := true;
		END IF;
		done := done OPERATOR(pg_catalog.||) stmts;
		PERFORM @extschema@._pt_log(sch, tbl, 'partition_table ' OPERATOR(pg_catalog.||) ph, true,
			pg_catalog.format('%s statements, %s retries', pg_catalog.cardinality(stmts), attempt), res.lock_ms);
		IF nonatomic THEN
			COMMIT;
		END IF;
	END LOOP;
	IF lock_ms IS NOT NULL THEN
		RAISE NOTICE 'partition_table: % is partitioned; the exclusive lock was held % ms',
			pg_catalog.format('%I.%I', sch, tbl), pg_catalog.round(lock_ms::numeric, 1);
	END IF;
	-- create whatever partitions the present needs
	CALL @extschema@.maintain_partitions(pg_catalog.format('%I.%I', sch, tbl)::regclass);
END
$$;

-- Drop the sa_partition_bound constraint after a failed validation.
CREATE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	FOR i IN 0 .. retries LOOP
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   lock_timeout);
		EXIT WHEN res.ok;
		PERFORM pg_sleep(0.1 * (i + 1));
	END LOOP;
END
$$;

---------------------------------------------------------------------------
-- Maintenance
---------------------------------------------------------------------------

-- What a set needs now: 'create' a partition for [lo, hi) (moving rows
-- of that range out of the default partition), 'retire' a partition past
-- retention.  Ranges are clipped to the gaps between existing partitions.
CREATE TYPE @extschema@._pm_task AS (action text, lo numeric, hi numeric, part oid);

CREATE FUNCTION @extschema@._pm_tasks(sch name, tbl name)
RETURNS TABLE (action text, lo numeric, hi numeric, part oid)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	cur numeric;
	lit text;
	target numeric;
	x numeric;
	dpart regclass;
	slots numeric[] := '{}';
	top numeric;
	cutoff numeric;
	r record;
	a numeric;
	b numeric;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := to_regclass(format('%I.%I', sch, tbl));
	IF parent IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '42P01', MESSAGE = format('table %I.%I does not exist', sch, tbl);
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;

	-- the slot of "now": for time keys the clock, for integer keys the
	-- largest key value
	IF v_kind = 'time' THEN
		cur := extract(epoch FROM now());
	ELSE
		EXECUTE format('SELECT max(%I)::text FROM %s', s.control_column, parent) INTO lit;
		cur := coalesce(@extschema@._pt_to_num(typ, lit), 0);
	END IF;
	cur := @extschema@._pt_slot(v_kind, s.part_interval, cur);
	target := @extschema@._pt_add(v_kind, s.part_interval, cur, s.premake + 1);
	-- premake: slots from the top of the existing partitions or from now
	SELECT max(p.hi) INTO top FROM @extschema@._pt_partitions(parent) p WHERE NOT p.is_default;
	-- (never behind the present: past slots get a partition only when rows
	-- for them wait in the default partition)
	x := CASE WHEN top IS NULL THEN cur ELSE greatest(cur, @extschema@._pt_slot(v_kind, s.part_interval, top)) END;
	WHILE x < target LOOP
		slots := slots || x;
		x := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
	END LOOP;
	-- slots of rows waiting in the default partition
	IF dpart IS NOT NULL AND s.move_default_rows THEN
		FOR r IN EXECUTE format('SELECT DISTINCT %I::text AS v FROM ONLY %s WHERE %I IS NOT NULL LIMIT 1000',
								s.control_column, dpart, s.control_column)
		LOOP
			x := @extschema@._pt_slot(v_kind, s.part_interval, @extschema@._pt_to_num(typ, r.v));
			IF NOT x = ANY (slots) THEN
				slots := slots || x;
			END IF;
		END LOOP;
	END IF;
	FOR x IN SELECT DISTINCT u FROM unnest(slots) u ORDER BY u LOOP
		a := x;
		b := @extschema@._pt_add(v_kind, s.part_interval, x, 1);
		-- clip to the gap: skip when covered
		SELECT max(coalesce(p.hi, 1e30)) INTO top FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND coalesce(p.lo, -1e30) <= a AND coalesce(p.hi, 1e30) > a;
		IF top IS NOT NULL THEN
			IF top >= b THEN
				CONTINUE;
			END IF;
			a := top;
		END IF;
		SELECT least(b, min(p.lo)) INTO b FROM @extschema@._pt_partitions(parent) p
		WHERE NOT p.is_default AND p.lo > a AND p.lo < b;
		b := coalesce(b, @extschema@._pt_add(v_kind, s.part_interval, x, 1));
		action := 'create'; lo := a; hi := b; part := NULL;
		RETURN NEXT;
	END LOOP;

	-- retention
	IF s.retention IS NOT NULL THEN
		IF v_kind = 'time' THEN
			cutoff := extract(epoch FROM (now() AT TIME ZONE 'UTC') - s.retention::interval);
		ELSE
			EXECUTE format('SELECT max(%I)::text FROM %s', s.control_column, parent) INTO lit;
			cutoff := coalesce(@extschema@._pt_to_num(typ, lit), 0) - s.retention::numeric;
		END IF;
		FOR r IN
			SELECT p.part, p.lo, p.hi FROM @extschema@._pt_partitions(parent) p
			WHERE NOT p.is_default AND p.hi IS NOT NULL AND p.hi <= cutoff
			ORDER BY p.hi
		LOOP
			action := 'retire'; lo := r.lo; hi := r.hi; part := r.part;
			RETURN NEXT;
		END LOOP;
	END IF;
END
$$;

-- Create the partition [lo, hi) of a set without ACCESS EXCLUSIVE on the
-- parent: a standalone table with a CHECK constraint, the rows of that
-- range moved out of the default partition, then ATTACH (SHARE UPDATE
-- EXCLUSIVE on the parent).  One transaction; errors are returned.
CREATE FUNCTION @extschema@._pm_create(sch name, tbl name, lo numeric, hi numeric,
	OUT ok boolean, OUT err_code text, OUT message text, OUT moved bigint, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	typ regtype;
	v_kind text;
	dpart regclass;
	pname name;
	q text;
	lo_lit text;
	hi_lit text;
	cols text;
	owner name;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	moved := 0;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
	WHERE a.attrelid = parent AND a.attname = s.control_column;
	v_kind := @extschema@._pt_kind(typ);
	SELECT p.part::regclass INTO dpart FROM @extschema@._pt_partitions(parent) p WHERE p.is_default;
	pname := @extschema@._pt_name(tbl, @extschema@._pt_suffix(v_kind, s.part_interval, lo));
	part_name := format('%I.%I', sch, pname);
	q := part_name;
	lo_lit := @extschema@._pt_from_num(typ, lo);
	hi_lit := @extschema@._pt_from_num(typ, hi);
	SELECT rolname INTO owner FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = parent;
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	FROM pg_attribute a WHERE a.attrelid = parent AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		IF to_regclass(q) IS NOT NULL THEN
			RAISE EXCEPTION USING ERRCODE = '42P07',
				MESSAGE = format('relation %s already exists but is not a partition of %s', q, parent);
		END IF;
		st := format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', q, parent);
		EXECUTE st;
		IF owner <> current_user THEN
			EXECUTE format('ALTER TABLE %s OWNER TO %I', q, owner);
		END IF;
		st := format('ALTER TABLE %s ADD CONSTRAINT sa_partition_bound CHECK (%I IS NOT NULL AND %I >= %L::%s AND %I < %L::%s)',
					 q, s.control_column, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ);
		EXECUTE st;
		-- the parent's lock first (the one ATTACH takes): while it cannot
		-- be had, nothing else is held, and nobody waits on us
		st := format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
		EXECUTE st;
		IF dpart IS NOT NULL THEN
			-- writers that would land in the default partition wait for this
			-- transaction; readers do not
			st := format('LOCK TABLE %s IN EXCLUSIVE MODE', dpart);
			EXECUTE st;
			st := format('WITH m AS (DELETE FROM ONLY %s WHERE %I >= %L::%s AND %I < %L::%s RETURNING %s) INSERT INTO %s (%s) SELECT %s FROM m',
						 dpart, s.control_column, lo_lit, typ, s.control_column, hi_lit, typ, cols, q, cols, cols);
			EXECUTE st;
			GET DIAGNOSTICS moved = ROW_COUNT;
		END IF;
		st := format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', parent, q, lo_lit, hi_lit);
		EXECUTE st;
		st := format('ALTER TABLE %s DROP CONSTRAINT sa_partition_bound', q);
		EXECUTE st;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		moved := 0;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Detach a partition past retention, then drop it or move it to the
-- archive schema as the set says.  One transaction; errors are returned.
CREATE FUNCTION @extschema@._pm_retire(sch name, tbl name, part oid,
	OUT ok boolean, OUT err_code text, OUT message text, OUT part_name text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	parent regclass;
	old_timeout text := current_setting('lock_timeout');
	st text;
BEGIN
	ok := true;
	SELECT * INTO s FROM @extschema@.partition_sets ps WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	parent := format('%I.%I', sch, tbl)::regclass;
	part_name := part::regclass::text;
	BEGIN
		PERFORM set_config('lock_timeout', (extract(epoch FROM s.lock_timeout) * 1000)::bigint::text, true);
		st := format('ALTER TABLE %s DETACH PARTITION %s', parent, part::regclass);
		EXECUTE st;
		IF s.retention_action = 'drop' THEN
			st := format('DROP TABLE %s', part::regclass);
			EXECUTE st;
		ELSIF s.retention_action = 'archive_schema' THEN
			st := format('ALTER TABLE %s SET SCHEMA %I', part::regclass, s.archive_schema);
			EXECUTE st;
			part_name := part::regclass::text;
		END IF;
		PERFORM set_config('lock_timeout', old_timeout, true);
	EXCEPTION WHEN others THEN
		ok := false;
		GET STACKED DIAGNOSTICS err_code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		message := message || ' (in: ' || left(st, 200) || ')';
	END;
END
$$;

-- Record the start or the end of a set's maintenance.
CREATE FUNCTION @extschema@._pm_state(sch name, tbl name, started boolean, err text,
	created integer DEFAULT 0, retired integer DEFAULT 0, moved bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dpart regclass;
	remaining bigint;
BEGIN
	INSERT INTO @extschema@.partition_set_state (parent_schema, parent_table)
	VALUES (sch, tbl) ON CONFLICT DO NOTHING;
	IF started THEN
		UPDATE @extschema@.partition_set_state
		SET last_started = clock_timestamp()
		WHERE parent_schema = sch AND parent_table = tbl;
		RETURN;
	END IF;
	IF to_regclass(format('%I.%I', sch, tbl)) IS NOT NULL THEN
		SELECT p.part::regclass INTO dpart
		FROM @extschema@._pt_partitions(format('%I.%I', sch, tbl)::regclass) p WHERE p.is_default;
	END IF;
	IF dpart IS NOT NULL THEN
		EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM ONLY %s LIMIT 10000000) x', dpart) INTO remaining;
		IF remaining > 0 THEN
			RAISE WARNING '% rows are in the default partition % of %.%', remaining, dpart, sch, tbl
				USING HINT = 'Maintenance moves rows whose key is set into new partitions; rows with a NULL key stay there.';
		END IF;
	END IF;
	UPDATE @extschema@.partition_set_state
	SET last_finished = clock_timestamp(),
		last_success = CASE WHEN err IS NULL THEN clock_timestamp() ELSE last_success END,
		last_error = CASE WHEN err IS NULL THEN last_error ELSE err END,
		last_error_at = CASE WHEN err IS NULL THEN last_error_at ELSE clock_timestamp() END,
		consecutive_failures = CASE WHEN err IS NULL THEN 0 ELSE consecutive_failures + 1 END,
		partitions_created = partitions_created + created,
		partitions_retired = partitions_retired + retired,
		default_rows_moved = default_rows_moved + moved,
		default_rows_remaining = remaining
	WHERE parent_schema = sch AND parent_table = tbl;
END
$$;

-- The sets a maintenance run covers, checked: an error for a set that
-- does not exist, is not partitioned, or lost its column.
CREATE FUNCTION @extschema@._pm_sets(parent regclass)
RETURNS TABLE (parent_schema name, parent_table name, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass;
BEGIN
	IF parent IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM @extschema@.partition_sets ps JOIN pg_class c ON c.relname = ps.parent_table
		JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = ps.parent_schema
		WHERE c.oid = parent) THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('%s is not in scale_advisor.partition_sets', parent),
			HINT = 'Register it with scale_advisor.partition_table.';
	END IF;
	FOR s IN
		SELECT ps.* FROM @extschema@.partition_sets ps
		WHERE ps.enabled
		ORDER BY ps.parent_schema, ps.parent_table
	LOOP
		rel := to_regclass(format('%I.%I', s.parent_schema, s.parent_table));
		CONTINUE WHEN parent IS NOT NULL AND rel IS DISTINCT FROM parent;
		parent_schema := s.parent_schema;
		parent_table := s.parent_table;
		problem := NULL;
		IF rel IS NULL THEN
			problem := format('table %I.%I does not exist', s.parent_schema, s.parent_table);
		ELSIF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt
						  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
						  WHERE pt.partrelid = rel AND pt.partstrat = 'r' AND a.attname = s.control_column) THEN
			problem := format('%s is not range-partitioned on column %I', rel, s.control_column);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;

-- The tasks of a set, or the error that stopped planning them.
CREATE FUNCTION @extschema@._pm_plan(sch name, tbl name,
	OUT tasks @extschema@._pm_task[], OUT err text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	tasks := ARRAY(SELECT ROW(x.action, x.lo, x.hi, x.part)::@extschema@._pm_task
				   FROM @extschema@._pm_tasks(sch, tbl) x);
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
	tasks := '{}';
END
$$;

-- NULL when the archiving helper accepts the partition (its dry run
-- passes), else its error: the real run raises errors that would end the
-- maintenance run, and cannot be caught where it commits.
CREATE FUNCTION @extschema@._pm_archive_check(part_name text, col name, retention text,
	target text, batch_size integer)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint;
	n bigint;
	st text;
	msg text;
BEGIN
	CALL @extschema@.archive(relation => part_name::regclass, time_column => col,
		older_than => retention::interval, target => to_regclass(target),
		batch_size => batch_size, dry_run => true,
		run_id => r, rows_moved => n, status => st);
	RETURN NULL;
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
	RETURN msg;
END
$$;

-- Drop a detached partition that the archiving helper emptied.
CREATE FUNCTION @extschema@._pm_drop_if_empty(part_name text, lock_timeout interval,
	OUT ok boolean, OUT message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(part_name);
	left_rows boolean;
	res record;
BEGIN
	ok := true;
	IF rel IS NULL THEN
		message := format('%s handed to scale_advisor.archive', part_name);
		RETURN;
	END IF;
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rel) INTO left_rows;
	IF left_rows THEN
		ok := false;
		message := format('%s handed to scale_advisor.archive; rows are left in it, so it stays (detached)', part_name);
		RETURN;
	END IF;
	res := @extschema@._pt_run(ARRAY[format('DROP TABLE %s', rel)], lock_timeout);
	ok := res.ok;
	message := CASE WHEN res.ok THEN format('%s handed to scale_advisor.archive, then dropped (empty)', part_name)
		ELSE format('%s handed to scale_advisor.archive; dropping it failed: %s', part_name, res.message) END;
END
$$;

-- Whether this session holds the maintenance lock.
CREATE FUNCTION @extschema@._pm_holds_lock()
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT EXISTS (SELECT 1 FROM pg_locks
			   WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
				 AND classid = 1935762785 AND objid = 50 AND objsubid = 2)
$$;

-- Maintain every enabled set, or only parent: premake, retention, rows in
-- the default partition.  Each DDL runs in its own transaction under the
-- set's lock_timeout, retried ddl_retries times.  Only one run at a time
-- (a second one returns at once); meant to be CALLed from cron.
CREATE PROCEDURE @extschema@.maintain_partitions(parent regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
	s record;
	cfg record;
	t @extschema@._pm_task;
	pl record;
	res record;
	attempt integer;
	nonatomic boolean;
	err text;
	created integer;
	retired integer;
	moved bigint;
	helper boolean;
	a_run bigint;
	a_rows bigint;
	a_status text;
	a_err text;
	retryable text[] := ARRAY['55P03', '40001', '40P01'];
BEGIN
	PERFORM @extschema@._require_loaded();
	PERFORM @extschema@._require_primary('maintain_partitions()');
	-- an unknown parent is an error before the lock is taken
	PERFORM FROM @extschema@._pm_sets(parent) LIMIT 1;
	IF NOT pg_catalog.pg_try_advisory_lock(1935762785, 50) THEN
		RAISE NOTICE 'maintain_partitions: another run is in progress; nothing done';
		RETURN;
	END IF;
	nonatomic := @extschema@._nonatomic();
	FOR s IN SELECT * FROM @extschema@._pm_sets(parent) LOOP
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, true, NULL);
		IF nonatomic THEN
			COMMIT;
		END IF;
		err := s.problem;
		created := 0;
		retired := 0;
		moved := 0;
		IF err IS NULL THEN
			pl := @extschema@._pm_plan(s.parent_schema, s.parent_table);
			err := pl.err;
		END IF;
		IF err IS NULL THEN
			SELECT * INTO cfg FROM @extschema@.partition_sets ps
			WHERE ps.parent_schema OPERATOR(pg_catalog.=) s.parent_schema
			  AND ps.parent_table OPERATOR(pg_catalog.=) s.parent_table;
			FOREACH t IN ARRAY pl.tasks LOOP
				attempt := 0;
				LOOP
					IF t.action OPERATOR(pg_catalog.=) 'create' THEN
						res := @extschema@._pm_create(s.parent_schema, s.parent_table, t.lo, t.hi);
					ELSE
						res := @extschema@._pm_retire(s.parent_schema, s.parent_table, t.part);
					END IF;
					EXIT WHEN res.ok OR NOT res.err_code OPERATOR(pg_catalog.=) ANY (retryable)
						OR attempt OPERATOR(pg_catalog.>=) cfg.ddl_retries;
					attempt := attempt OPERATOR(pg_catalog.+) 1;
					PERFORM pg_catalog.pg_sleep(LEAST(0.1 OPERATOR(pg_catalog.*) attempt, 2.0));
				END LOOP;
				IF res.ok THEN
					IF t.action OPERATOR(pg_catalog.=) 'create' THEN
						created := created OPERATOR(pg_catalog.+) 1;
						moved := moved OPERATOR(pg_catalog.+) res.moved;
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'create', true,
							pg_catalog.format('%s created%s%s', res.part_name,
								CASE WHEN res.moved OPERATOR(pg_catalog.>) 0
									THEN pg_catalog.format(', %s rows moved from the default partition', res.moved) ELSE '' END,
								CASE WHEN attempt OPERATOR(pg_catalog.>) 0 THEN pg_catalog.format(' after %s retries', attempt) ELSE '' END));
					ELSE
						retired := retired OPERATOR(pg_catalog.+) 1;
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'retire', true,
							pg_catalog.format('%s detached (%s)', res.part_name, cfg.retention_action));
					END IF;
				ELSE
					err := pg_catalog.format('%s failed after %s retries: %s', t.action, attempt, res.message);
					PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, t.action, false, err);
				END IF;
				IF nonatomic THEN
					COMMIT;
				END IF;
				-- a detached partition goes to the archiving helper when the
				-- set asks for it and the helper is installed
				IF res.ok AND t.action OPERATOR(pg_catalog.=) 'retire'
					AND cfg.retention_action OPERATOR(pg_catalog.=) 'archive' THEN
					SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
						JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
						WHERE n.nspname OPERATOR(pg_catalog.=) '@extschema@'
						  AND p.proname OPERATOR(pg_catalog.=) 'archive'
						  AND p.prokind OPERATOR(pg_catalog.=) 'p') INTO helper;
					a_err := NULL;
					IF helper AND nonatomic THEN
						a_err := @extschema@._pm_archive_check(res.part_name, cfg.control_column,
							cfg.retention, cfg.archive_target, cfg.archive_batch_size);
					END IF;
					IF helper AND NOT nonatomic THEN
						-- the helper commits its batches: it needs a CALL
						-- outside a transaction block
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive needs maintain_partitions called outside a transaction block', res.part_name));
					ELSIF helper AND a_err IS NOT NULL THEN
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive refused it: %s',
								res.part_name, a_err));
					ELSIF helper THEN
						-- a static CALL (EXECUTE would make it atomic); the
						-- helper resolves the names itself
						a_run := NULL;
						a_rows := NULL;
						a_status := NULL;
						CALL @extschema@.archive(relation => res.part_name::regclass,
							time_column => cfg.control_column,
							older_than => cfg.retention::interval,
							target => pg_catalog.to_regclass(cfg.archive_target),
							batch_size => cfg.archive_batch_size,
							run_id => a_run, rows_moved => a_rows, status => a_status);
						COMMIT;
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', true,
							pg_catalog.format('scale_advisor.archive moved %s rows of %s (run %s, %s)',
								a_rows, res.part_name, a_run, a_status));
						-- every row of a retired partition is past retention:
						-- once the helper has moved them all, the empty
						-- partition goes
						res := @extschema@._pm_drop_if_empty(res.part_name, cfg.lock_timeout);
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', res.ok,
							res.message);
					ELSE
						PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'archive', false,
							pg_catalog.format('%s left detached: scale_advisor.archive is not installed', res.part_name));
					END IF;
					IF nonatomic THEN
						COMMIT;
					END IF;
				END IF;
			END LOOP;
		ELSE
			PERFORM @extschema@._pt_log(s.parent_schema, s.parent_table, 'maintain', false, err);
		END IF;
		PERFORM @extschema@._pm_state(s.parent_schema, s.parent_table, false, err, created, retired, moved);
		IF err IS NOT NULL THEN
			RAISE WARNING 'maintain_partitions: %: %', pg_catalog.format('%I.%I', s.parent_schema, s.parent_table), err;
		END IF;
		IF nonatomic THEN
			COMMIT;
		END IF;
	END LOOP;
	-- release every hold of this session, also one left by a run that
	-- failed earlier in it
	WHILE @extschema@._pm_holds_lock() LOOP
		PERFORM pg_catalog.pg_advisory_unlock(1935762785, 50);
	END LOOP;
END
$$;

-- The upper end of the partitions of a set, as the column's type prints it.
CREATE FUNCTION @extschema@._pm_covered_until(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass := to_regclass(format('%I.%I', sch, tbl));
	typ regtype;
BEGIN
	IF rel IS NULL OR NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = rel) THEN
		RETURN NULL;
	END IF;
	SELECT a.atttypid::regtype INTO typ FROM pg_partitioned_table pt
	JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] WHERE pt.partrelid = rel;
	RETURN (SELECT @extschema@._pt_from_num(typ, max(p.hi))
			FROM @extschema@._pt_partitions(rel) p WHERE NOT p.is_default);
END
$$;

-- Is maintenance running as expected?  One row per set.
CREATE VIEW @extschema@.partition_maintenance_status AS
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
WHERE @extschema@._require_loaded();

---------------------------------------------------------------------------
-- Advice
---------------------------------------------------------------------------

CREATE FUNCTION @extschema@._partition_advice()
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
		SELECT c.oid, pg_total_relation_size(c.oid) AS bytes, c.reltuples,
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
		  AND pg_total_relation_size(c.oid) >= min_bytes
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

CREATE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice()
WHERE @extschema@._require_loaded();

REVOKE ALL ON FUNCTION @extschema@._nonatomic() FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.partition_table(regclass, name, text, integer, text, text, name, boolean, interval, integer, text, boolean, text) FROM PUBLIC;
REVOKE ALL ON PROCEDURE @extschema@.maintain_partitions(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_run(text[], interval, regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_undo_bound(regclass, interval, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_create(name, name, numeric, numeric) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_retire(name, name, oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_state(name, name, boolean, text, integer, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pt_log(name, name, text, boolean, text, double precision) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_tasks(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_plan(name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_drop_if_empty(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._pm_archive_check(text, name, text, text, integer) FROM PUBLIC;
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

CREATE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded();

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

-- a - b bucket by bucket; a alone when b is missing or larger somewhere
-- (the counters were reset in between)
CREATE FUNCTION @extschema@._hist_sub(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN b IS NULL OR bool_or(u.x < coalesce(b[u.i], 0)) THEN a
			ELSE array_agg(u.x - coalesce(b[u.i], 0) ORDER BY u.i) END
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

-- History: one row per snapshot, with the database totals.
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
	stmt_exec_ms double precision
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

-- Rows and bytes of the largest tables of the database, per snapshot.
CREATE TABLE @extschema@.snapshot_tables (
	snap_id bigint NOT NULL REFERENCES @extschema@.snapshots ON DELETE CASCADE,
	relid oid NOT NULL,
	schemaname name NOT NULL,
	relname name NOT NULL,
	n_live_tup bigint,
	total_bytes bigint,
	PRIMARY KEY (snap_id, relid)
);

-- Take a snapshot now, then delete the snapshots past
-- scale_advisor.snapshot_keep.  Returns the new snapshot's id.
CREATE FUNCTION @extschema@.snapshot()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_snap bigint;
	v_keep integer;
	v_oldest bigint;
	v_calls bigint;
	v_errors bigint;
	v_ms double precision;
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

	INSERT INTO @extschema@.snapshot_tables (snap_id, relid, schemaname, relname, n_live_tup, total_bytes)
	SELECT v_snap, t.relid, t.schemaname, t.relname, t.n_live_tup, t.bytes
	FROM (SELECT s.relid, s.schemaname, s.relname, s.n_live_tup,
				 pg_catalog.pg_total_relation_size(s.relid) AS bytes
		  FROM pg_catalog.pg_stat_user_tables s
		  WHERE s.schemaname <> '@extschema@') t
	WHERE t.bytes IS NOT NULL
	ORDER BY t.bytes DESC
	LIMIT (SELECT @extschema@._t('snapshot_max_tables'));

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
	RETURN QUERY
	SELECT h.dbid, h.queryid, v_w,
		   CASE WHEN w.calls IS NULL OR w.calls > h.calls THEN h.calls ELSE h.calls - w.calls END,
		   CASE WHEN w.calls IS NULL OR w.calls > h.calls THEN h.total_exec_ms
				ELSE h.total_exec_ms - w.total_exec_ms END,
		   @extschema@._hist_sub(h.buckets, w.buckets),
		   CASE WHEN w.calls IS NULL THEN NULL::bigint
				WHEN b.calls IS NULL OR b.calls > w.calls THEN w.calls
				ELSE w.calls - b.calls END,
		   CASE WHEN w.calls IS NULL THEN NULL::bigint[]
				ELSE @extschema@._hist_sub(w.buckets, b.buckets) END,
		   h.last_seen
	FROM @extschema@._history() h
	LEFT JOIN LATERAL (
		SELECT s.calls, s.total_exec_ms, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_wid
		ORDER BY s.snap_id DESC LIMIT 1) w0 ON true
	LEFT JOIN LATERAL (SELECT w0.* WHERE w0.first_seen = h.first_seen) w ON true
	LEFT JOIN LATERAL (
		SELECT s.calls, s.buckets, s.first_seen
		FROM @extschema@.snapshot_statements s
		WHERE s.dbid = h.dbid AND s.queryid = h.queryid AND s.snap_id <= v_bid
		ORDER BY s.snap_id DESC LIMIT 1) b0 ON true
	LEFT JOIN LATERAL (SELECT b0.* WHERE b0.first_seen = h.first_seen) b ON true
	WHERE h.dbid = v_db
	  AND strpos(coalesce(h.sample_query, ''), '@extschema@.') = 0;
END
$$;
-- Scale readiness, part 2: what the history answers: growth, regressions,
-- capacity at a higher load, and a pgbench script replaying the statement
-- mix.  The model behind capacity() is explained in docs/readiness.md.

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
	RETURN QUERY
	WITH pts AS (
		SELECT t.relid, n.taken_at, t.n_live_tup::float8 AS r, t.total_bytes::float8 AS b
		FROM @extschema@.snapshot_tables t
		JOIN @extschema@.snapshots n ON n.snap_id = t.snap_id
		WHERE n.taken_at >= v_from
		UNION ALL
		SELECT s.relid, pg_catalog.now(), s.n_live_tup::float8,
			   pg_catalog.pg_total_relation_size(s.relid)::float8
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
		   pg_catalog.pg_total_relation_size(s.relid),
		   round(f.rpd::numeric, 1), round(f.bpd::numeric, 0),
		   CASE WHEN v_tlimit > 0 AND f.bpd > 0
				THEN round(greatest(v_tlimit - pg_catalog.pg_total_relation_size(s.relid), 0) / f.bpd::numeric, 1) END,
		   f.n - 1, f.since
	FROM fit f JOIN pg_catalog.pg_stat_user_tables s ON s.relid = f.relid;

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

CREATE VIEW @extschema@.growth AS
SELECT g.* FROM @extschema@._growth() g
WHERE @extschema@._require_loaded();

-- Statements of the current database whose p95 in the last window is worse
-- than in the baseline before it.
CREATE TYPE @extschema@._regression AS (
	queryid bigint, query text, baseline_calls bigint, baseline_p95_ms numeric,
	window_calls bigint, window_p95_ms numeric, ratio numeric, since timestamptz);

CREATE FUNCTION @extschema@._regressions()
RETURNS SETOF @extschema@._regression
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_found @extschema@._regression[];
	v_min_calls numeric := (SELECT @extschema@._t('regression_min_calls'));
	v_ratio numeric := (SELECT @extschema@._t('regression_ratio'));
	v_min_ms numeric := (SELECT @extschema@._t('regression_min_ms'));
BEGIN
	PERFORM @extschema@._require_loaded();
	SELECT array_agg(ROW(x.queryid, NULL, x.baseline_calls, round(x.bp::numeric, 2),
						 x.window_calls, round(x.wp::numeric, 2),
						 round((x.wp / nullif(x.bp, 0))::numeric, 2), x.window_start)::@extschema@._regression
					 ORDER BY x.wp / nullif(x.bp, 0) DESC)
	INTO v_found
	FROM (SELECT w.*, @extschema@._hist_quantile(w.window_buckets, 0.95) AS wp,
				 @extschema@._hist_quantile(w.baseline_buckets, 0.95) AS bp
		  FROM @extschema@._windows(
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_window_s'))::float8),
				pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_baseline_s'))::float8)) w
		  WHERE w.window_calls >= v_min_calls AND w.baseline_calls >= v_min_calls) x
	WHERE x.wp > x.bp * v_ratio AND x.wp - x.bp >= v_min_ms;
	IF v_found IS NULL THEN
		RETURN;
	END IF;
	-- the statements' text, only when there is something to report
	RETURN QUERY
	SELECT f.queryid, q.query, f.baseline_calls, f.baseline_p95_ms, f.window_calls,
		   f.window_p95_ms, f.ratio, f.since
	FROM unnest(v_found) WITH ORDINALITY AS f
	LEFT JOIN (SELECT DISTINCT ON (s.queryid) s.queryid, s.query
			   FROM @extschema@._statements() s ORDER BY s.queryid, s.calls DESC) q
		ON q.queryid = f.queryid
	ORDER BY f.ordinality;
END
$$;

CREATE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded();

-- What load_factor times today's load needs.  See docs/readiness.md.
CREATE FUNCTION @extschema@.capacity(load_factor numeric DEFAULT 2)
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

-- A pgbench script replaying the top_n statements of the current database
-- by calls, each picked with the weight of its calls, with the values of
-- one captured execution.  Statements with no captured example, and
-- writes unless include_writes, are left out with a comment line.
CREATE FUNCTION @extschema@.workload_script(top_n integer DEFAULT 20,
											include_writes boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_db oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
	v_head text := '';
	v_body text := '';
	v_skip text := '';
	v_total bigint := 0;
	v_n integer := 0;
	v_sql text;
	v_val text;
	i integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();
	IF top_n IS NULL OR top_n < 1 THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'top_n must be a positive number',
			HINT = 'Pass how many of the most frequent statements to replay, for example 20.';
	END IF;
	FOR r IN
		SELECT h.queryid, h.calls, h.sample_query, h.param_types, h.param_values
		FROM @extschema@._history() h
		WHERE h.dbid = v_db AND h.calls > 0
		  AND strpos(pg_catalog.lower(coalesce(h.sample_query, '')), '@extschema@.') = 0
		ORDER BY h.calls DESC, h.queryid
		LIMIT top_n
	LOOP
		IF r.sample_query IS NULL THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): no captured example\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		-- an EXECUTE of a prepared statement shows the PREPARE text
		v_sql := pg_catalog.regexp_replace(r.sample_query,
			'^\s*prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i');
		IF NOT include_writes AND
		   (v_sql !~* '^\s*(select|with|values|table)\M'
			OR v_sql ~* '\m(insert|update|delete|merge)\M'
			OR v_sql ~* '\mfor\s+(update|share|no\s+key\s+update|key\s+share)\M') THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): writes (include_writes => true replays it)\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		IF r.param_values IS NOT NULL THEN
			FOR i IN REVERSE pg_catalog.array_length(r.param_values, 1) .. 1 LOOP
				v_val := CASE WHEN r.param_values[i] IS NULL THEN 'NULL'
							  ELSE pg_catalog.quote_literal(r.param_values[i]) END
						 || '::' || pg_catalog.format_type(r.param_types[i], NULL);
				v_sql := pg_catalog.regexp_replace(v_sql, '\$' || i || '(?![0-9])', v_val, 'g');
			END LOOP;
		END IF;
		IF v_sql ~ '\$[0-9]' OR v_sql ~ '(^|\n)\s*\\' THEN
			v_skip := v_skip || pg_catalog.format(E'-- left out: queryid %s (%s calls): parameters without captured values\n', r.queryid, r.calls);
			CONTINUE;
		END IF;
		v_total := v_total + r.calls;
		v_n := v_n + 1;
		v_body := v_body || pg_catalog.format(E'%s :sa_pick <= %s\n-- queryid %s, %s calls\n%s;\n',
			CASE WHEN v_n = 1 THEN '\if' ELSE '\elif' END, v_total, r.queryid, r.calls, v_sql);
	END LOOP;

	v_head := pg_catalog.format(E'-- scale_advisor workload: %s statements of database %s, weighted by calls\n'
		'-- recorded since the statement history started; run against a copy of the database:\n'
		'--   pgbench -n -f workload.sql -c CLIENTS -j THREADS -T SECONDS %s\n',
		v_n, pg_catalog.current_database(), pg_catalog.quote_ident(pg_catalog.current_database()));
	IF v_n = 0 THEN
		RETURN v_head || v_skip || E'-- nothing to replay yet\nSELECT 1;\n';
	END IF;
	RETURN v_head || v_skip
		|| pg_catalog.format(E'\\set sa_pick random(1, %s)\n', v_total)
		|| v_body || E'\\endif\n';
END
$$;
REVOKE ALL ON FUNCTION @extschema@.workload_script(integer, boolean) FROM PUBLIC;
-- Scale readiness, part 3: the checklist and the alerts.
--
-- Views of other parts of scale_advisor (index_advice, n_plus_one,
-- unused_indexes, ...) are looked up when the checks run and read with
-- EXECUTE, so that this file works whichever of them is installed; a check
-- whose source is missing says "not available".

-- A statement's text on one line, cut to 100 characters.
CREATE FUNCTION @extschema@._short(p_text text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.left(pg_catalog.regexp_replace(coalesce(p_text, '?'), '\s+', ' ', 'g'), 100) $$;

-- A duration setting ('30s', '5min', '250') in milliseconds.
CREATE FUNCTION @extschema@._guc_ms(p_value text)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT (m[1])::numeric * CASE lower(coalesce(nullif(m[2], ''), 'ms'))
		WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'min' THEN 60000
		WHEN 'h' THEN 3600000 WHEN 'd' THEN 86400000 END
FROM pg_catalog.regexp_match(pg_catalog.btrim(p_value, ' '''), '^(-?[0-9.]+)\s*([a-zA-Z]*)$') AS m
$$;

-- The value a setting has for sessions of a role in the current database:
-- ALTER ROLE ... IN DATABASE, ALTER ROLE, ALTER DATABASE, then the server.
CREATE FUNCTION @extschema@._role_setting(p_role oid, p_name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(
	(SELECT pg_catalog.split_part(c, '=', 2)
	 FROM (SELECT s.setconfig,
				  CASE WHEN s.setrole <> 0 AND s.setdatabase <> 0 THEN 1
					   WHEN s.setrole <> 0 THEN 2 ELSE 3 END AS prio
		   FROM pg_catalog.pg_db_role_setting s
		   WHERE (s.setrole = p_role OR s.setrole = 0)
			 AND (s.setdatabase = 0 OR s.setdatabase =
				  (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()))
			 AND NOT (s.setrole = 0 AND s.setdatabase = 0)) x,
		  unnest(x.setconfig) c
	 WHERE pg_catalog.split_part(c, '=', 1) = p_name
	 ORDER BY x.prio LIMIT 1),
	(SELECT CASE WHEN g.source IN ('default', 'configuration file', 'command line',
								   'environment variable', 'override')
				 THEN g.setting ELSE g.boot_val END
	 FROM pg_catalog.pg_settings g WHERE g.name = p_name))
$$;

-- Count the rows of another part's view, or NULL when it is not installed.
CREATE FUNCTION @extschema@._count_of(p_name text, p_where text DEFAULT 'true')
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF NOT @extschema@._has(p_name) THEN
		RETURN NULL;
	END IF;
	EXECUTE pg_catalog.format('SELECT count(*) FROM %I.%I WHERE %s', '@extschema@', p_name, p_where) INTO n;
	RETURN n;
END
$$;

-- Archiving policies and partition sets whose maintenance is failing or
-- overdue (from the archiving and partitioning parts, when installed).
CREATE FUNCTION @extschema@._maintenance_status()
RETURNS TABLE (kind text, object text, state text, last_success timestamptz,
			   hours_since_success numeric, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_hours numeric := (SELECT @extschema@._t('maintenance_overdue_hours'));
BEGIN
	PERFORM @extschema@._require_loaded();
	IF @extschema@._has_col('archive_policies', 'enabled')
	   AND @extschema@._has_col('archive_runs', 'status')
	   AND @extschema@._has_col('archive_runs', 'finished_at') THEN
		RETURN QUERY EXECUTE $q$
			SELECT 'archive'::text, p.relation::text,
				   CASE WHEN l.status IN ('failed', 'interrupted') THEN 'failing'
						WHEN s.t IS NULL OR s.t < pg_catalog.now() - pg_catalog.make_interval(hours => $1::integer) THEN 'overdue'
						ELSE 'ok' END,
				   s.t, round((extract(epoch FROM pg_catalog.now() - s.t) / 3600)::numeric, 1),
				   CASE WHEN l.status IN ('failed', 'interrupted')
						THEN pg_catalog.format('last archive run of %s %s: %s', p.relation, l.status, coalesce(l.error, '?'))
						WHEN s.t IS NULL THEN pg_catalog.format('archive policy of %s never ran to completion: call scale_advisor.run_archive_policies() from cron', p.relation)
						ELSE pg_catalog.format('archive policy of %s last completed at %s', p.relation, s.t) END
			FROM @extschema@.archive_policies p
			LEFT JOIN LATERAL (
				SELECT r.status, r.error FROM @extschema@.archive_runs r
				WHERE r.relation = p.relation AND r.status <> 'running'
				ORDER BY r.started_at DESC LIMIT 1) l ON true
			LEFT JOIN LATERAL (
				SELECT max(coalesce(r.finished_at, r.started_at)) AS t FROM @extschema@.archive_runs r
				WHERE r.relation = p.relation AND r.status = 'done') s ON true
			WHERE p.enabled $q$
			USING v_hours;
	END IF;
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

-- Rows of another part's view and a list of one of its columns, or NULLs
-- when the view (or the column) is not installed.
CREATE FUNCTION @extschema@._list_of(p_name text, p_col text, p_where text DEFAULT 'true',
									 OUT n bigint, OUT names text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._has_col(p_name, p_col) THEN
		RETURN;
	END IF;
	EXECUTE pg_catalog.format('SELECT count(*), string_agg(%I::text, '', '' ORDER BY %I::text) FROM %I.%I WHERE %s',
							  p_col, p_col, '@extschema@', p_name, p_where)
		INTO n, names;
	names := coalesce(names, '');
END
$$;

-- WAL segments waiting for the archiver (.ready files), or NULL when the
-- caller may not list pg_wal/archive_status (pg_monitor can).
CREATE FUNCTION @extschema@._archive_ready()
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN (SELECT count(*) FROM pg_catalog.pg_ls_archive_statusdir() f WHERE f.name LIKE '%.ready');
EXCEPTION WHEN insufficient_privilege THEN
	RETURN NULL;
END
$$;

-- true when archiving looks stuck: no success for archive_max_age_s while
-- segments wait (or, when the waiting segments cannot be listed, while the
-- server writes a later segment than the last archived one)
CREATE FUNCTION @extschema@._archive_stale()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT s.last_archived_time < pg_catalog.now() - pg_catalog.make_interval(secs => (SELECT @extschema@._t('archive_max_age_s'))::float8)
	   AND coalesce(@extschema@._archive_ready() > 0,
					pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) > s.last_archived_wal)
FROM pg_catalog.pg_stat_archiver s
$$;

CREATE FUNCTION @extschema@._checklist()
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
	SELECT count(*), string_agg(pg_catalog.format('%I.%I (%s)', n.nspname, c.relname,
								pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid))), ', '
								ORDER BY pg_catalog.pg_total_relation_size(c.oid) DESC)
	INTO v_n, v_txt
	FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'r' AND NOT c.relispartition
	  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
	  AND n.nspname <> '@extschema@'
	  AND pg_catalog.pg_total_relation_size(c.oid) >= v_t
	  AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
				  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
					AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype));
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
		  AND pg_catalog.pg_relation_size(s.indexrelid) >= v_t;
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

CREATE VIEW @extschema@.checklist AS
SELECT c.* FROM @extschema@._checklist() c
WHERE @extschema@._require_loaded();

-- Alerts that fire now.
CREATE FUNCTION @extschema@._alerts()
RETURNS TABLE (severity text, alert text, value numeric, threshold numeric,
			   detail text, since timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_window interval := pg_catalog.make_interval(secs => (SELECT @extschema@._t('regression_window_s'))::float8);
	v_n bigint;
	v_m bigint;
	v_x numeric;
	v_t numeric;
	v_t2 numeric;
	v_txt text;
	v_since timestamptz;
	v_maxconn integer := pg_catalog.current_setting('max_connections')::integer
		- pg_catalog.current_setting('superuser_reserved_connections')::integer;
	r record;
BEGIN
	PERFORM @extschema@._require_loaded();

	-- p95 and slow executions in the window (the histogram's estimate of
	-- executions over the limit, confirmed by the store's maximum)
	v_t := (SELECT @extschema@._t('alert_p95_ms'));
	v_t2 := (SELECT @extschema@._t('alert_slow_statement_ms'));
	FOR r IN
		SELECT w.queryid, @extschema@._hist_quantile(w.window_buckets, 0.95) AS p95,
			   CASE WHEN m.max_ms IS NULL OR m.max_ms > v_t2
					THEN @extschema@._hist_count_above(w.window_buckets, v_t2::float8) ELSE 0 END AS slow,
			   w.window_calls, w.window_start, w.last_seen
		FROM @extschema@._windows(v_window, '0'::interval) w
		LEFT JOIN (SELECT s.queryid, max(s.max_exec_ms) AS max_ms
				   FROM @extschema@._statements() s GROUP BY s.queryid) m ON m.queryid = w.queryid
		WHERE w.window_calls > 0
	LOOP
		IF r.p95 > v_t THEN
			severity := 'warning'; alert := 'statement_p95';
			value := round(r.p95::numeric, 1); threshold := v_t;
			detail := pg_catalog.format('queryid %s: p95 %s ms over %s calls since %s', r.queryid,
				round(r.p95::numeric, 1), r.window_calls, coalesce(r.window_start::text, 'the history started'));
			since := r.window_start;
			RETURN NEXT;
		END IF;
		IF r.slow > 0 THEN
			severity := 'warning'; alert := 'slow_statement';
			value := r.slow; threshold := v_t2;
			detail := pg_catalog.format('queryid %s: %s of %s executions slower than %s ms', r.queryid, r.slow, r.window_calls, v_t2);
			since := r.window_start;
			RETURN NEXT;
		END IF;
	END LOOP;

	-- error rate: failed statements (statement store) in the window
	IF @extschema@._has('query_stats') THEN
		EXECUTE pg_catalog.format(
			'SELECT sum(calls)::bigint, sum(errors)::bigint FROM %I.query_stats WHERE dbid = $1', '@extschema@')
			INTO v_n, v_m
			USING (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
		SELECT n.stmt_calls, n.stmt_errors, n.taken_at INTO r
		FROM @extschema@.snapshots n
		WHERE n.taken_at <= pg_catalog.now() - v_window AND n.stmt_calls IS NOT NULL
		ORDER BY n.taken_at DESC LIMIT 1;
		IF FOUND AND r.stmt_calls <= v_n AND r.stmt_errors <= v_m THEN
			v_n := v_n - r.stmt_calls;
			v_m := v_m - r.stmt_errors;
			v_since := r.taken_at;
		ELSE
			v_since := NULL;
		END IF;
		v_x := round(v_m * 100.0 / nullif(v_n + v_m, 0), 2);
		IF v_n + v_m >= (SELECT @extschema@._t('alert_error_min_calls')) THEN
			IF v_x >= (SELECT @extschema@._t('alert_error_rate_critical_pct')) THEN
				severity := 'critical'; threshold := (SELECT @extschema@._t('alert_error_rate_critical_pct'));
			ELSIF v_x >= (SELECT @extschema@._t('alert_error_rate_warning_pct')) THEN
				severity := 'warning'; threshold := (SELECT @extschema@._t('alert_error_rate_warning_pct'));
			ELSE
				severity := NULL;
			END IF;
			IF severity IS NOT NULL THEN
				alert := 'error_rate'; value := v_x;
				detail := pg_catalog.format('%s of %s statements failed', v_m, v_n + v_m);
				since := v_since;
				RETURN NEXT;
			END IF;
		END IF;
	END IF;

	-- connections
	SELECT count(*) INTO v_n FROM pg_catalog.pg_stat_activity a WHERE a.backend_type = 'client backend';
	v_x := round(v_n * 100.0 / v_maxconn, 1);
	IF v_x >= (SELECT @extschema@._t('connections_warning_pct')) THEN
		severity := CASE WHEN v_x >= (SELECT @extschema@._t('connections_critical_pct')) THEN 'critical' ELSE 'warning' END;
		alert := 'connections'; value := v_x;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('connections_critical_pct')) ELSE (SELECT @extschema@._t('connections_warning_pct')) END;
		detail := pg_catalog.format('%s of %s usable connections in use', v_n, v_maxconn);
		since := NULL;
		RETURN NEXT;
	END IF;

	-- replication lag, seen from the primary
	v_t := (SELECT @extschema@._t('replication_lag_warning_s'));
	v_t2 := (SELECT @extschema@._t('replication_lag_critical_s'));
	FOR r IN
		SELECT s.application_name, s.client_addr, s.state,
			   extract(epoch FROM coalesce(s.replay_lag, '0'::interval)) AS lag_s,
			   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.replay_lsn) AS lag_bytes
		FROM pg_catalog.pg_stat_replication s
		WHERE NOT pg_catalog.pg_is_in_recovery()
	LOOP
		IF r.lag_s >= v_t THEN
			severity := CASE WHEN r.lag_s >= v_t2 THEN 'critical' ELSE 'warning' END;
			alert := 'replication_lag'; value := round(r.lag_s, 1);
			threshold := CASE WHEN r.lag_s >= v_t2 THEN v_t2 ELSE v_t END;
			detail := pg_catalog.format('standby %s (%s): replay %s s and %s behind', r.application_name,
				coalesce(r.client_addr::text, 'local'), round(r.lag_s, 1), pg_catalog.pg_size_pretty(r.lag_bytes));
			since := pg_catalog.now() - pg_catalog.make_interval(secs => r.lag_s::float8);
			RETURN NEXT;
		END IF;
	END LOOP;
	-- ... and on a standby
	IF pg_catalog.pg_is_in_recovery()
	   AND pg_catalog.pg_last_wal_receive_lsn() IS DISTINCT FROM pg_catalog.pg_last_wal_replay_lsn() THEN
		v_x := extract(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp());
		IF v_x >= v_t THEN
			severity := CASE WHEN v_x >= v_t2 THEN 'critical' ELSE 'warning' END;
			alert := 'replication_lag'; value := round(v_x, 1);
			threshold := CASE WHEN v_x >= v_t2 THEN v_t2 ELSE v_t END;
			detail := 'this standby replays WAL received that long after the primary wrote it';
			since := pg_catalog.pg_last_xact_replay_timestamp();
			RETURN NEXT;
		END IF;
	END IF;
	-- inactive replication slots retaining WAL
	IF NOT pg_catalog.pg_is_in_recovery() THEN
		FOR r IN
			SELECT s.slot_name, pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.restart_lsn) AS bytes
			FROM pg_catalog.pg_replication_slots s
			WHERE NOT s.active AND s.restart_lsn IS NOT NULL
		LOOP
			IF r.bytes >= (SELECT @extschema@._t('replication_slot_max_bytes')) THEN
				severity := 'warning'; alert := 'replication_slot_retained_wal';
				value := r.bytes; threshold := (SELECT @extschema@._t('replication_slot_max_bytes'));
				detail := pg_catalog.format('inactive slot %s retains %s of WAL: SELECT pg_drop_replication_slot(%L) if its consumer is gone',
					r.slot_name, pg_catalog.pg_size_pretty(r.bytes), r.slot_name);
				since := NULL;
				RETURN NEXT;
			END IF;
		END LOOP;
	END IF;

	-- WAL archiving
	SELECT s.* INTO r FROM pg_catalog.pg_stat_archiver s;
	IF pg_catalog.current_setting('archive_mode') <> 'off' THEN
		IF r.last_failed_time IS NOT NULL AND r.last_failed_time > coalesce(r.last_archived_time, '-infinity') THEN
			severity := 'critical'; alert := 'wal_archiving_failing';
			value := r.failed_count; threshold := 0;
			detail := pg_catalog.format('archiving %s fails (%s failures); last success %s', r.last_failed_wal,
				r.failed_count, coalesce(r.last_archived_time::text, 'never'));
			since := coalesce(r.last_archived_time, r.stats_reset);
			RETURN NEXT;
		ELSIF @extschema@._archive_stale() THEN
			severity := 'warning'; alert := 'wal_archiving_stale';
			value := round(extract(epoch FROM pg_catalog.now() - r.last_archived_time));
			threshold := (SELECT @extschema@._t('archive_max_age_s'));
			detail := pg_catalog.format('last segment archived %s at %s, %s segments waiting', r.last_archived_wal,
				r.last_archived_time, coalesce(@extschema@._archive_ready()::text, 'more'));
			since := r.last_archived_time;
			RETURN NEXT;
		END IF;
	END IF;

	-- database growth and size limit
	SELECT g.bytes_per_day, g.days_to_limit, g.since INTO r
	FROM @extschema@._growth() g WHERE g.scope = 'database';
	v_t := (SELECT @extschema@._t('db_growth_bytes_per_day'));
	IF v_t > 0 AND r.bytes_per_day > v_t THEN
		severity := 'warning'; alert := 'database_growth';
		value := r.bytes_per_day; threshold := v_t;
		detail := pg_catalog.format('database grows %s a day', pg_catalog.pg_size_pretty(r.bytes_per_day));
		since := r.since;
		RETURN NEXT;
	END IF;
	IF r.days_to_limit IS NOT NULL AND r.days_to_limit <= (SELECT @extschema@._t('days_to_limit_warning')) THEN
		severity := CASE WHEN r.days_to_limit <= (SELECT @extschema@._t('days_to_limit_critical')) THEN 'critical' ELSE 'warning' END;
		alert := 'database_size_limit'; value := r.days_to_limit;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('days_to_limit_critical')) ELSE (SELECT @extschema@._t('days_to_limit_warning')) END;
		detail := pg_catalog.format('database reaches %s in %s days', pg_catalog.pg_size_pretty((SELECT @extschema@._t('db_size_limit_bytes'))), r.days_to_limit);
		since := r.since;
		RETURN NEXT;
	END IF;

	-- archive and partition maintenance
	FOR r IN SELECT * FROM @extschema@._maintenance_status() m WHERE m.state <> 'ok' LOOP
		severity := CASE WHEN r.state = 'failing' THEN 'critical' ELSE 'warning' END;
		alert := r.kind || '_maintenance_' || r.state;
		value := r.hours_since_success; threshold := (SELECT @extschema@._t('maintenance_overdue_hours'));
		detail := r.detail; since := r.last_success;
		RETURN NEXT;
	END LOOP;

	-- transaction ID age
	SELECT pg_catalog.age(d.datfrozenxid) INTO v_n FROM pg_catalog.pg_database d
	WHERE d.datname = pg_catalog.current_database();
	IF v_n >= (SELECT @extschema@._t('xid_age_warning')) THEN
		severity := CASE WHEN v_n >= (SELECT @extschema@._t('xid_age_critical')) THEN 'critical' ELSE 'warning' END;
		alert := 'transaction_id_age'; value := v_n;
		threshold := CASE WHEN severity = 'critical' THEN (SELECT @extschema@._t('xid_age_critical')) ELSE (SELECT @extschema@._t('xid_age_warning')) END;
		detail := 'VACUUM (FREEZE) the oldest tables before wraparound protection stops writes';
		since := NULL;
		RETURN NEXT;
	END IF;

	-- regressions
	FOR r IN SELECT * FROM @extschema@._regressions() LOOP
		severity := 'warning'; alert := 'statement_regression';
		value := r.window_p95_ms; threshold := r.baseline_p95_ms * (SELECT @extschema@._t('regression_ratio'));
		detail := pg_catalog.format('queryid %s: p95 %s ms, baseline %s ms: %s', r.queryid, r.window_p95_ms,
			r.baseline_p95_ms, @extschema@._short(r.query));
		since := r.since;
		RETURN NEXT;
	END LOOP;
END
$$;

CREATE VIEW @extschema@.alerts AS
SELECT a.* FROM @extschema@._alerts() a
WHERE @extschema@._require_loaded();
