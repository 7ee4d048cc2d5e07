
CREATE VIEW @extschema@.partition_advice AS
SELECT * FROM @extschema@._partition_advice() a
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.partition_advice')
ORDER BY a.total_bytes DESC NULLS LAST, a.relation::text;

-- For monitoring: superusers and roles with the privileges of
-- pg_read_all_stats (pg_monitor); other roles get an error naming the grant.
GRANT SELECT ON @extschema@.partition_advice TO PUBLIC;
