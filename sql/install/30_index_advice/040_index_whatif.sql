
-- Plan a statement without and with one hypothetical btree, GIN or BRIN
-- index (given as a CREATE INDEX statement) and compare the planner's
-- costs.  The statement is planned, never run.  params: values for $1,
-- $2, ... as text.  Names in the statement and the index definition
-- resolve in the caller's search_path: the default of the last argument
-- is evaluated by the caller, before this function pins its own.
CREATE FUNCTION @extschema@.index_whatif(
    statement text, index_sql text, params text[] DEFAULT NULL,
    search_path text DEFAULT pg_catalog.current_setting('search_path'),
    OUT cost_before double precision, OUT cost_after double precision,
    OUT improvement_pct double precision, OUT index_used boolean,
    OUT est_size_bytes bigint)
RETURNS record
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_index_whatif_1_1';
