
-- Indexes never scanned since the statistics began: stats_since is when
-- the database's statistics were last reset or, when they never were, the
-- server's start (statistics kept across a clean restart run longer: the
-- index was unused at least since then).  Indexes that enforce a
-- constraint (primary key, unique, exclusion) are left out: they are needed
-- even when no query reads them; so are the indexes of the extension's own
-- tables (and of any extension's), and those of archive tables
-- (_archive_tables()).  Worst first: the largest (what dropping them gives
-- back, and what every write to their table maintains).
CREATE VIEW @extschema@.unused_indexes AS
SELECT n.nspname AS schema_name,
       c.oid::pg_catalog.regclass AS relation,
       i.indexrelid::pg_catalog.regclass AS index,
       sz.bytes AS index_size_bytes,
       pg_catalog.pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_catalog.pg_stat_get_tuples_inserted(c.oid)
         + pg_catalog.pg_stat_get_tuples_updated(c.oid)
         + pg_catalog.pg_stat_get_tuples_deleted(c.oid) AS table_writes,
       COALESCE(
         (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d
           WHERE d.datid = (SELECT oid FROM pg_catalog.pg_database
                             WHERE datname = pg_catalog.current_database())),
         pg_catalog.pg_postmaster_start_time()) AS stats_since,
       pg_catalog.format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, ic.relname) AS drop_sql,
       pg_catalog.pg_size_pretty(sz.bytes) AS index_size
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (SELECT @extschema@._relation_size_nowait(i.indexrelid, true) AS bytes) sz
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
   AND pg_catalog.pg_stat_get_numscans(i.indexrelid) = 0
 ORDER BY index_size_bytes DESC NULLS LAST, table_writes DESC,
          c.oid::pg_catalog.regclass::pg_catalog.text, i.indexrelid::pg_catalog.regclass::pg_catalog.text;

GRANT SELECT ON @extschema@.unused_indexes TO PUBLIC;
