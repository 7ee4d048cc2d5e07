
-- The first five items of a list joined with sep, and how many more
-- ('a, b, c, d, e and 7 more'); NULL for no items.
CREATE FUNCTION @extschema@._list(items text[], sep text DEFAULT ', ')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT array_to_string(items[1:5], sep)
	   || CASE WHEN cardinality(items) > 5 THEN ' and ' || (cardinality(items) - 5) || ' more' ELSE '' END
$$;
