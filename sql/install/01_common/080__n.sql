
-- n and the noun, singular for 1: '1 call', '3 calls' (plural given when
-- it is not the noun and an s).
CREATE FUNCTION @extschema@._n(n numeric, singular text, plural text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(n::text, '?') || ' '
	   || CASE WHEN n = 1 THEN singular ELSE coalesce(plural, singular || 's') END
$$;
