
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
GRANT SELECT ON @extschema@.fk_without_index TO PUBLIC;
