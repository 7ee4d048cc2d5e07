
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
GRANT SELECT ON @extschema@.duplicate_indexes TO PUBLIC;
