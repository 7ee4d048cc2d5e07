
-- Raise insufficient_privilege unless the current user is a superuser or
-- has the privileges of rel's owner (may convert or maintain it).
CREATE FUNCTION @extschema@._pt_require_maintain(rel regclass)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner name;
BEGIN
	IF coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN;
	END IF;
	SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
	RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
		MESSAGE = format('role %I may not partition or maintain table %s', current_user, rel),
		DETAIL = format('scale_advisor does this work as the owner of the table (%I), so only a superuser or a role with the owner''s privileges may start it.', owner),
		HINT = format('Run it as the owner of the table, or GRANT %I TO %I.', owner, current_user);
END
$$;
