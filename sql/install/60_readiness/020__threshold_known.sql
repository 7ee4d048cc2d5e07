
-- true when name is a known threshold (for the CHECK of thresholds)
CREATE FUNCTION @extschema@._threshold_known(name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT EXISTS (SELECT 1 FROM @extschema@._threshold_defaults() d WHERE d.name = _threshold_known.name) $$;
