-- Index hygiene: indexes that cost writes and space for nothing, indexes
-- left broken by a failed CREATE INDEX CONCURRENTLY, and foreign keys whose
-- referencing side has no index (every DELETE or key UPDATE on the
-- referenced table then scans the referencing table).  Plain catalog views;
-- nothing here needs the statement capture.  For monitoring: superusers and
-- roles with the privileges of pg_read_all_stats (pg_monitor) may read them,
-- other roles get an error naming the grant.

