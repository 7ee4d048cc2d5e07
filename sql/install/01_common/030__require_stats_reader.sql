
-- True, or an error (insufficient_privilege, with a hint naming the grant)
-- when the current user may not read every role's statistics: superusers
-- and roles with the privileges of pg_read_all_stats (pg_monitor members)
-- may.  The monitoring views use it as a one-time filter, functions PERFORM
-- it first.  what names the view in the message.
CREATE FUNCTION @extschema@._require_stats_reader(what text)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_require_stats_reader_1_1';
