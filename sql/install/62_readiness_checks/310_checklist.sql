
-- The checks that fail first, then those that warn, each group in the
-- order of the checklist.
CREATE VIEW @extschema@.checklist AS
SELECT c."check", c.status, c.value, c.target, c.advice
FROM @extschema@._checklist() WITH ORDINALITY AS c("check", status, value, target, advice, n)
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.checklist')
ORDER BY CASE c.status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, c.n;

-- For monitoring: superusers and roles with the privileges of
-- pg_read_all_stats (pg_monitor); other roles get an error naming the grant.
GRANT SELECT ON @extschema@.checklist TO PUBLIC;
