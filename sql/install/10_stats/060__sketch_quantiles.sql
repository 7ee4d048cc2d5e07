
-- Test aid: the sketch's quantiles for a set of values (milliseconds).
CREATE FUNCTION @extschema@._sketch_quantiles(vals double precision[],
                                              quantiles double precision[])
RETURNS double precision[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_sketch_quantiles_1_1';
