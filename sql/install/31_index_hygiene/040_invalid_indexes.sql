
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
GRANT SELECT ON @extschema@.invalid_indexes TO PUBLIC;
