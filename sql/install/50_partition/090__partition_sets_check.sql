
-- BEFORE INSERT OR UPDATE on partition_sets: a non-superuser's row is
-- recorded as its own, and a row may name only a table (and an archive
-- target owned by the same role) whose owner's privileges its creator has.
CREATE FUNCTION @extschema@._partition_sets_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rel regclass;
	tgt regclass;
	owner name;
	kind text;
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false)
		OR NEW.created_by IS NULL THEN
		NEW.created_by := current_user::regrole;
	END IF;
	rel := @extschema@._pt_rel(NEW.parent_schema, NEW.parent_table);
	IF rel IS NOT NULL AND NOT coalesce(@extschema@._may_maintain(rel, NEW.created_by), false) THEN
		SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = rel;
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('role %s may not configure maintenance of table %s', NEW.created_by, rel),
			DETAIL = 'maintain_partitions works on a table as its owner, so a partition set may name only a table whose owner''s privileges its creator has.',
			HINT = format('Add the set as the owner of the table, or GRANT %I TO %s.', owner, NEW.created_by);
	END IF;
	-- the interval, retention and lock_timeout as partition_table checks
	-- them, in every row written enabled (a row the update from 1.0
	-- disabled is checked when it is enabled again); a row whose table
	-- does not exist yet is checked for its interval when it is maintained
	IF TG_OP = 'INSERT' OR NEW.enabled THEN
		PERFORM @extschema@._check_duration('lock_timeout', NEW.lock_timeout, interval '1 millisecond', interval '1 minute',
			false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
	END IF;
	IF rel IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.enabled
		OR NEW.part_interval IS DISTINCT FROM OLD.part_interval
		OR NEW.retention IS DISTINCT FROM OLD.retention
		OR NEW.retention_action IS DISTINCT FROM OLD.retention_action) THEN
		SELECT @extschema@._pt_kind(a.atttypid::regtype) INTO kind
		FROM pg_attribute a
		WHERE a.attrelid = rel AND a.attname = NEW.control_column AND a.attnum > 0 AND NOT a.attisdropped;
		IF kind IS NOT NULL THEN
			PERFORM @extschema@._pt_check_interval(kind, NEW.part_interval);
			PERFORM @extschema@._pt_check_retention(kind, NEW.retention, NEW.retention_action);
		END IF;
	END IF;
	IF NEW.archive_target IS NOT NULL THEN
		tgt := @extschema@._pt_target(NEW.archive_target);
		IF tgt IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_table',
				MESSAGE = format('archive target %s does not exist', NEW.archive_target),
				HINT = 'Create the table first and give its name with the schema, such as ''app.logs_archive''.';
		END IF;
		IF NOT coalesce(@extschema@._may_maintain(tgt, NEW.created_by), false)
			OR (rel IS NOT NULL AND (SELECT relowner FROM pg_class WHERE oid = tgt)
				<> (SELECT relowner FROM pg_class WHERE oid = rel)) THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = format('archive target %s is not owned by the owner of %I.%I', tgt, NEW.parent_schema, NEW.parent_table),
				HINT = 'Rows are archived as the owner of the table: use a target table owned by the same role.';
		END IF;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER partition_sets_check BEFORE INSERT OR UPDATE ON @extschema@.partition_sets
	FOR EACH ROW EXECUTE FUNCTION @extschema@._partition_sets_check();
REVOKE ALL ON FUNCTION @extschema@._partition_sets_check() FROM PUBLIC;
