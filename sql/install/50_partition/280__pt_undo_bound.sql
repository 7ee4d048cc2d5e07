
-- Drop the sa_partition_bound constraint after a failed validate or swap
-- step (the caller commits the drop; it checks whether it is gone).
CREATE FUNCTION @extschema@._pt_undo_bound(relation regclass, lock_timeout interval, retries integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res record;
BEGIN
	IF relation IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = relation) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_table',
			MESSAGE = pg_catalog.format('table %s does not exist', coalesce(relation::text, 'NULL')),
			HINT = 'Name the table whose sa_partition_bound constraint is to be removed.';
	END IF;
	-- each attempt waits at most lock_timeout; keep trying for a while
	-- longer than the step that failed, as its blocker may just be ending;
	-- only a lock that could not be had is worth another try
	FOR i IN 0 .. greatest(coalesce(retries, 0), 20) LOOP
		-- (at most a second per try: while the drop waits for its lock,
		-- the application's statements queue behind it)
		res := @extschema@._pt_run(ARRAY[format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS sa_partition_bound', relation)],
								   ARRAY[relation], least(coalesce(lock_timeout, interval '1s'), interval '1s'));
		-- retried on lock_not_available (55P03) and deadlock_detected (40P01)
		EXIT WHEN res.ok OR res.err_code IS DISTINCT FROM '55P03' AND res.err_code IS DISTINCT FROM '40P01';
		PERFORM pg_sleep(least(0.1 * (i + 1), 1.0));
	END LOOP;
	-- the caller looks whether the constraint is still there and says so
END
$$;
REVOKE ALL ON FUNCTION @extschema@._pt_undo_bound(regclass, interval, integer) FROM PUBLIC;
