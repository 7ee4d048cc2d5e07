
-- A text on one line, cut at a word boundary to at most n characters, with
-- ' ...' when something was cut.
CREATE FUNCTION @extschema@._cut(s text, n integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN length(t) <= n THEN t
			ELSE coalesce(nullif(regexp_replace(left(t, n + 1), '\s*\S*$', ''), ''), left(t, n)) || ' ...' END
FROM (SELECT btrim(regexp_replace(coalesce(s, '?'), '\s+', ' ', 'g')) AS t) x
$$;
