
-- True for a statement the application runs: a query or a change of rows
-- (SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE, MERGE, CALL, also
-- as the text of a prepared statement), leading comments and parentheses
-- aside.  Not DDL (CREATE DATABASE, CREATE INDEX, ALTER ...), maintenance
-- (ANALYZE, VACUUM, REINDEX, CLUSTER, REFRESH), COPY (bulk loads),
-- transaction control or SET, and not scale_advisor's own reads (a
-- monitoring scrape, this checklist).  A text the reader may not see
-- counts as the application's.
CREATE FUNCTION @extschema@._app_statement(query text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN query IS NULL OR query = '<insufficient privilege>' THEN true
			WHEN strpos(lower(query), '@extschema@.') > 0 THEN false
			ELSE regexp_replace(
					regexp_replace(query, '^(\s|/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$)|\()*', ''),
					'^prepare\s+("[^"]+"|[^\s(]+)\s*(\([^)]*\))?\s*as\s+', '', 'i')
				 ~* '^(select|with|values|table|insert|update|delete|merge|call)\M' END
$$;
