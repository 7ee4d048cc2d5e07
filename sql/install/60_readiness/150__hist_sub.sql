
-- a - b bucket by bucket: the histogram of the executions between two
-- readings of the same statement.  The counts of _history() are kept
-- modulo 2^32, so is the difference.  a alone when b is missing or has
-- another number of buckets (a snapshot of version 1.0); for 1.0's 48
-- buckets, also when b is larger somewhere (the counters were reset).
CREATE FUNCTION @extschema@._hist_sub(a bigint[], b bigint[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN b IS NULL OR cardinality(a) <> cardinality(b) THEN a
			WHEN cardinality(a) = 48 AND bool_or(u.x < coalesce(b[u.i], 0)) THEN a
			WHEN cardinality(a) = 48 THEN array_agg(u.x - coalesce(b[u.i], 0) ORDER BY u.i)
			ELSE array_agg(((u.x - coalesce(b[u.i], 0)) % 4294967296 + 4294967296) % 4294967296
						   ORDER BY u.i) END
FROM unnest(a) WITH ORDINALITY AS u(x, i)
$$;
