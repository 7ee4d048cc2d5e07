
-- A policy may name only tables whose owner's privileges its creator has
-- (checked again at every run); created_by is the role that wrote the row,
-- except that a superuser may write a row on another role's behalf.
CREATE FUNCTION @extschema@._archive_policy_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	me regrole := current_user::regrole;
	super boolean := (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = current_user::regrole);
	rel regclass;
	tgt regclass;
BEGIN
	IF NOT super THEN
		IF NEW.created_by IS DISTINCT FROM me
		   AND (TG_OP = 'INSERT' OR NEW.created_by IS DISTINCT FROM OLD.created_by) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('role %s may not write an archive policy on behalf of role %s',
								 me, coalesce(NEW.created_by::text, 'NULL')),
				HINT = 'Leave created_by at its default: a policy belongs to the role that writes it.';
		END IF;
		-- whoever changes a policy answers for it from then on
		NEW.created_by := me;
	END IF;
	IF NEW.created_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'not_null_violation',
			MESSAGE = 'created_by of an archive policy must not be NULL',
			HINT = 'Leave it at its default, the current role.';
	END IF;
	-- the age and the durations: every enabled row, whatever changed (a
	-- row disabled by the update from 1.0 is checked when it is enabled)
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._archive_check_age(NEW.older_than);
		PERFORM @extschema@._archive_check_timing(NEW.max_duration, NEW.pause, NEW.lock_timeout);
	END IF;
	-- names resolve as at run time (search_path pg_catalog, pg_temp); a
	-- table that does not exist yet is checked when the policy runs
	rel := to_regclass(NEW.relation);
	tgt := to_regclass(NEW.target);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive table %s, owned by role %s',
							 NEW.created_by, rel,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel)),
			HINT = format('Create the policy as the owner of the table, or GRANT %s TO %s.',
						  (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = rel), NEW.created_by);
	END IF;
	IF tgt IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not archive into table %s, owned by role %s',
							 NEW.created_by, tgt,
							 (SELECT c.relowner::regrole FROM pg_class c WHERE c.oid = tgt)),
			HINT = 'The archive must belong to the owner of the table.';
	END IF;
	IF rel IS NOT NULL AND tgt IS NOT NULL
	   AND (SELECT c.relowner FROM pg_class c WHERE c.oid = rel)
		   <> (SELECT c.relowner FROM pg_class c WHERE c.oid = tgt) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('archive table %s is not owned by the owner of table %s', tgt, rel),
			HINT = 'The archive must belong to the owner of the table: ALTER TABLE ... OWNER TO ..., or name another target.';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER archive_policies_check
	BEFORE INSERT OR UPDATE ON @extschema@.archive_policies
	FOR EACH ROW EXECUTE FUNCTION @extschema@._archive_policy_check();
-- (a trigger fires whatever the EXECUTE privilege: nobody needs to call it)
REVOKE ALL ON FUNCTION @extschema@._archive_policy_check() FROM PUBLIC;
