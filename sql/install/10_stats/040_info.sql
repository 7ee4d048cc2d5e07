
-- Store-wide figures: entries, capacity, evictions, memory, last reset/save.
-- For monitoring: superusers and pg_read_all_stats (pg_monitor) members.
CREATE VIEW @extschema@.info AS
  SELECT i.*, pg_catalog.pg_size_pretty(i.memory_bytes) AS memory
  FROM @extschema@._info() i
  WHERE @extschema@._require_loaded()
    AND @extschema@._require_stats_reader('scale_advisor.info');
GRANT SELECT ON @extschema@.info TO PUBLIC;
