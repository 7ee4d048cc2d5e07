
-- Thresholds changed by the user.  pg_dump keeps these rows.
CREATE TABLE @extschema@.thresholds (
	name text PRIMARY KEY CHECK (@extschema@._threshold_known(name)),
	value numeric NOT NULL CHECK (value >= 0),
	changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.thresholds', '');
GRANT SELECT ON @extschema@.thresholds TO PUBLIC;
