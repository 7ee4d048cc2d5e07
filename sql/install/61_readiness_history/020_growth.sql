
-- The database first, then the tables growing fastest; sizes also as
-- pg_size_pretty shows them.
CREATE VIEW @extschema@.growth AS
SELECT g.*, pg_catalog.pg_size_pretty(g.bytes_now) AS size_now,
	   pg_catalog.pg_size_pretty(g.bytes_per_day) || ' a day' AS growth_per_day
FROM @extschema@._growth() g
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.growth')
ORDER BY g.scope = 'table', g.bytes_per_day DESC NULLS LAST, g.bytes_now DESC NULLS LAST;

-- For monitoring: superusers and roles with the privileges of
-- pg_read_all_stats (pg_monitor); other roles get an error naming the grant
-- (capacity() checks the same).
GRANT SELECT ON @extschema@.growth TO PUBLIC;
