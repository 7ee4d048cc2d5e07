
-- True when who is a superuser or has the privileges of rel's owner (may
-- start maintenance work on rel); NULL when rel no longer exists.
CREATE FUNCTION @extschema@._may_maintain(rel regclass,
	who regrole DEFAULT current_user::regrole)
RETURNS boolean
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'scale_advisor_may_maintain_1_1';
