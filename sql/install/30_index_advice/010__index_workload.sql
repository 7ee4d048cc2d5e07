-- What the sampled and slow executions' plans lacked: per statement and
-- scanned relation, the columns filtered, joined or sorted on.
CREATE FUNCTION @extschema@._index_workload(
    OUT queryid bigint, OUT userid oid, OUT relation pg_catalog.regclass,
    OUT scan text, OUT terms text, OUT executions bigint,
    OUT avg_rows_scanned double precision,
    OUT avg_rows_removed double precision, OUT row_counts_measured boolean,
    OUT captured_calls bigint, OUT mean_ms double precision,
    OUT statement text)
RETURNS SETOF record
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_workload_1_1';
