
CREATE FUNCTION @extschema@._hist_count_above(buckets bigint[], ms double precision)
RETURNS bigint
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_hist_count_above_1_1';
