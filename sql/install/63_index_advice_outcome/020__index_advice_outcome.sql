
-- Per recorded prediction the caller may read: the index now found with
-- the advised definition (NULL until it exists), the recorded figures and
-- those since (NULL while the index does not exist).
CREATE FUNCTION @extschema@._index_advice_outcome(
    OUT relid oid, OUT index_sql text, OUT indexrelid oid,
    OUT first_advised timestamptz, OUT last_advised timestamptz,
    OUT queryid bigint, OUT userid oid, OUT cost_before double precision,
    OUT cost_after double precision, OUT calls_before bigint,
    OUT exec_ms_before double precision, OUT buckets_before bigint[],
    OUT calls_after bigint, OUT exec_ms_after double precision,
    OUT buckets_after bigint[], OUT tracked boolean, OUT index_scans bigint)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_advice_outcome_1_1';
