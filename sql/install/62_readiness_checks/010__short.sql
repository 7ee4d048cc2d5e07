-- A statement's text on one line, cut at a word boundary to 100
-- characters.
CREATE FUNCTION @extschema@._short(query text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT @extschema@._cut(query, 100) $$;
