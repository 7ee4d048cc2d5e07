
-- Forget every captured plan.
CREATE FUNCTION @extschema@.index_workload_reset()
RETURNS void
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_reset_1_1';
REVOKE ALL ON FUNCTION @extschema@.index_workload_reset() FROM PUBLIC;
