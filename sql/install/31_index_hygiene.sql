-- Index hygiene: indexes that cost writes and space for nothing, indexes
-- left broken by a failed CREATE INDEX CONCURRENTLY, and foreign keys whose
-- referencing side has no index (every DELETE or key UPDATE on the
-- referenced table then scans the referencing table).  Plain catalog views;
-- nothing here needs the statement capture.  For monitoring: superusers and
-- roles with the privileges of pg_read_all_stats (pg_monitor) may read them,
-- other roles get an error naming the grant.

-- The tables archiving writes into (the targets of archive_policies and of
-- archive_runs, when the archiving part is installed): their indexes serve
-- unarchive() and retention, which run rarely, so unused_indexes does not
-- offer to drop them.  Row-level security shows a role only its own
-- policies and runs, while monitoring must see them all: so this reads
-- them as the extension's owner and returns nothing but the tables' OIDs,
-- to readers that may read all statistics only.
CREATE FUNCTION @extschema@._archive_tables()
RETURNS SETOF pg_catalog.oid
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_stats_reader('scale_advisor.unused_indexes');
	IF pg_catalog.to_regclass('@extschema@.archive_runs') IS NULL
	   OR pg_catalog.to_regclass('@extschema@.archive_policies') IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE $q$
		SELECT DISTINCT pg_catalog.to_regclass(t.target)::pg_catalog.oid
		FROM (SELECT r.target FROM @extschema@.archive_runs r
			  WHERE r.target IS NOT NULL
			  UNION
			  SELECT p.target FROM @extschema@.archive_policies p
			  WHERE p.target IS NOT NULL) t
		WHERE pg_catalog.to_regclass(t.target) IS NOT NULL $q$;
END
$$;

-- Indexes never scanned since the statistics began: stats_since is when
-- the database's statistics were last reset or, when they never were, the
-- server's start (statistics kept across a clean restart run longer: the
-- index was unused at least since then).  Indexes that enforce a
-- constraint (primary key, unique, exclusion) are left out: they are needed
-- even when no query reads them; so are the indexes of the extension's own
-- tables (and of any extension's), and those of archive tables
-- (_archive_tables()).
CREATE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       COALESCE(
         (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
           WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                             WHERE datname = pg_catalog.current_database())),
         pg_catalog.pg_postmaster_start_time()) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.unused_indexes')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', '@extschema@')
   AND n.nspname NOT LIKE 'pg_temp%'
   AND c.relkind IN ('r', 'm')
   AND i.indisvalid
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT i.indisexclusion
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND e.objid OPERATOR(pg_catalog.=) c.oid AND e.deptype = 'e')
   AND c.oid OPERATOR(pg_catalog.<>) ALL (ARRAY(SELECT @extschema@._archive_tables()))
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0;

-- Two indexes on one table where one makes the other unnecessary: the same
-- key columns (or the key columns of one are a leading prefix of the
-- other's), the same access method, the same predicate and the same index
-- expressions, with the same operator classes and collations on the shared
-- columns.  "index" is the one to drop, "covered_by" the one that stays.  A
-- unique index is never reported as redundant against a longer index (its
-- uniqueness would be lost); two identical unique indexes are, and so is a
-- plain index with the same columns as a unique one.  Each
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
       CASE WHEN a.keys = b.keys AND a.incl = b.incl
             AND a.indisunique = b.indisunique THEN 'same definition'
            WHEN a.keys = b.keys AND a.incl = b.incl THEN 'same columns as the unique covered_by'
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
         -- the same columns as a unique index: the plain one is redundant
         WHEN a.keys = b.keys AND a.incl = b.incl
              AND b.indisunique AND NOT a.indisunique THEN
           NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = a.indexrelid)
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
       @extschema@._relation_size_nowait(i.indexrelid, true) AS index_size_bytes,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.format('REINDEX INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS reindex_sql,
       pg_catalog.pg_size_pretty(@extschema@._relation_size_nowait(i.indexrelid, true)) AS index_size
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE @extschema@._require_loaded()
   AND @extschema@._require_stats_reader('scale_advisor.invalid_indexes')
   AND NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
 ORDER BY index_size_bytes DESC NULLS LAST, 2;

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
       @extschema@._relation_size_nowait(k.conrelid, true) AS table_size_bytes,
       pg_catalog.format('CREATE INDEX CONCURRENTLY ON %I.%I (%s)',
              n.nspname, c.relname,
              (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.ord)
                 FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                 JOIN pg_catalog.pg_attribute a
                   ON a.attrelid = k.conrelid AND a.attnum = u.attnum)) AS index_sql,
       pg_catalog.pg_size_pretty(@extschema@._relation_size_nowait(k.conrelid, true)) AS table_size
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
            AND (i.indkey::int2[])[0:pg_catalog.cardinality(k.conkey) - 1] <@ k.conkey)
 ORDER BY table_size_bytes DESC NULLS LAST, 1, 2;

GRANT SELECT ON @extschema@.unused_indexes, @extschema@.duplicate_indexes,
  @extschema@.invalid_indexes, @extschema@.fk_without_index TO PUBLIC;
