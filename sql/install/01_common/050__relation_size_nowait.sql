
-- pg_total_relation_size(rel) (or pg_relation_size(rel) when main_only),
-- or NULL when the relation is gone or a lock it needs is held by another
-- session in a conflicting mode (a TRUNCATE, ALTER TABLE, VACUUM FULL,
-- REINDEX in progress): it never waits.  The snapshots and the monitoring
-- views read sizes with it.
CREATE FUNCTION @extschema@._relation_size_nowait(rel pg_catalog.regclass,
												   main_only boolean DEFAULT false)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_relation_size_nowait_1_1';
