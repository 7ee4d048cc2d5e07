
CREATE VIEW @extschema@.index_advice_skipped AS
SELECT a.queryid, a.userid, a.reason
  FROM @extschema@._index_advice(true) AS a(queryid bigint, userid oid, reason text)
 WHERE @extschema@._require_loaded();
GRANT SELECT ON @extschema@.index_advice_skipped TO PUBLIC;
