-- Runs query as the owner of rel in a security-restricted operation with
-- search_path = pg_catalog, pg_temp; parameters are passed as text ($1 ...,
-- cast them in the statement).  Returns the first column of the first row
-- (jsonb) when the statement returns rows, else {"processed": N}.  Only a
-- superuser or a role with the privileges of rel's owner may call it, so it
-- gives nobody a right: PUBLIC may execute it.
CREATE FUNCTION @extschema@._owner_exec(rel regclass, query text,
	VARIADIC params text[] DEFAULT '{}')
RETURNS jsonb
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_owner_exec_1_1';
