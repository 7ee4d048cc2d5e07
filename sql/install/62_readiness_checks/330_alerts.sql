
-- Critical alerts first.
CREATE VIEW @extschema@.alerts AS
SELECT a.severity, a.alert, a.value, a.threshold, a.detail, a.since
FROM @extschema@._alerts() WITH ORDINALITY AS a(severity, alert, value, threshold, detail, since, n)
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.alerts')
ORDER BY CASE a.severity WHEN 'critical' THEN 0 ELSE 1 END, a.n;
GRANT SELECT ON @extschema@.alerts TO PUBLIC;
