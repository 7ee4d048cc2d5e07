
CREATE FUNCTION @extschema@._hist_quantile(buckets bigint[], q double precision)
RETURNS double precision
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_quantile_1_1';
