-- Objects every part of the extension uses.

-- True, or an error saying the library must be preloaded.  Views use it as a
-- one-time filter (WHERE scale_advisor._require_loaded()), PL/pgSQL
-- functions PERFORM it first.
CREATE FUNCTION @extschema@._require_loaded()
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_loaded';

-- Everyone may look into the schema; what each object lets them do is
-- granted object by object (monitoring views to PUBLIC, functions that
-- change anything to nobody but their owner unless an admin grants them).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- True, or an error (insufficient_privilege, with a hint naming the grant)
-- when the current user may not read every role's statistics: superusers
-- and roles with the privileges of pg_read_all_stats (pg_monitor members)
-- may.  The monitoring views use it as a one-time filter, functions PERFORM
-- it first.  what names the view in the message.
CREATE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader';

-- True, or an error when the server is a standby (in recovery): what writes
-- tables (archiving, partitioning, ignore lists, thresholds, snapshots)
-- PERFORMs it first, so that on a standby it stops before anything and says
-- why.  The in-memory figures (the statement store, N+1 detections,
-- captured plans) are per server and may be reset on a standby too.
CREATE FUNCTION @extschema@._require_primary(what text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._require_loaded();
	IF pg_catalog.pg_is_in_recovery() THEN
		RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction',
			MESSAGE = pg_catalog.format('%s cannot run on a standby server', what),
			HINT = 'Run it on the primary; its changes reach standbys through replication.';
	END IF;
	RETURN true;
END
$$;

-- pg_total_relation_size(rel) (or pg_relation_size(rel) when main_only),
-- or NULL when the relation is gone or a lock it needs is held by another
-- session in a conflicting mode (a TRUNCATE, ALTER TABLE, VACUUM FULL,
-- REINDEX in progress): it never waits.  The snapshots and the monitoring
-- views read sizes with it.
CREATE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait';
