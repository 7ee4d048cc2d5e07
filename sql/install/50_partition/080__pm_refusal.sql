
-- Why a set must not be maintained now by the current user, or NULL: its
-- creator or the caller lacks the privileges of the table's owner, or its
-- archive target is owned by another role.
CREATE FUNCTION @extschema@._pm_refusal(sch name, tbl name)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s record;
	rel regclass := @extschema@._pt_rel(sch, tbl);
	tgt regclass;
BEGIN
	SELECT * INTO s FROM @extschema@.partition_sets ps
	WHERE ps.parent_schema = sch AND ps.parent_table = tbl;
	IF rel IS NULL OR NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, s.created_by), false) THEN
		RETURN format('its creator %s does not have the privileges of the owner of %s (%s)',
					  s.created_by, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF NOT coalesce(@extschema@._may_maintain(rel, current_user::regrole), false) THEN
		RETURN format('role %I does not have the privileges of the owner of %s (%s)',
					  current_user, rel, pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = rel)));
	END IF;
	IF s.retention_action = 'archive' AND s.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(s.archive_target);
		IF tgt IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel) THEN
			RETURN format('its archive target %s is not owned by the owner of %s', tgt, rel);
		END IF;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pm_refusal(name, name) FROM PUBLIC;
