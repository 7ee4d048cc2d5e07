
CREATE VIEW @extschema@.threshold_settings AS
SELECT d.name, coalesce(t.value, @extschema@._threshold_alias(d.name), d.default_value) AS value, d.default_value,
	   d.unit, d.description, t.changed_at
FROM @extschema@._threshold_defaults() d
LEFT JOIN @extschema@.thresholds t ON t.name = d.name
WHERE @extschema@._require_loaded()
  AND @extschema@._require_stats_reader('scale_advisor.threshold_settings')
ORDER BY d.name;
GRANT SELECT ON @extschema@.threshold_settings TO PUBLIC;
