
-- The worst ratio first.
CREATE VIEW @extschema@.regressions AS
SELECT r.* FROM @extschema@._regressions() r
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.regressions')
ORDER BY r.ratio DESC, r.window_p95_ms DESC;
GRANT SELECT ON @extschema@.regressions TO PUBLIC;
