-- Detections to keep out of the view: a query id, an application_name, or
-- a query id for one application_name only.  created_by is the role that
-- added the rule: a rule keeps out only the detections of roles whose
-- privileges its creator has, and (row-level security) each role sees and
-- changes only the rules of roles whose privileges it has; superusers see
-- all.  Rules of 1.0 get the role named in added_by (or the extension's
-- owner when that role is gone).
CREATE TABLE @extschema@.n_plus_one_ignore_list (
	queryid bigint,
	application_name text,
	note text,
	added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT n_plus_one_ignore_list_target
		CHECK (queryid IS NOT NULL OR application_name IS NOT NULL),
	created_by pg_catalog.regrole NOT NULL DEFAULT (CURRENT_USER)::pg_catalog.regrole
);
CREATE UNIQUE INDEX n_plus_one_ignore_list_key
	ON @extschema@.n_plus_one_ignore_list
	((COALESCE(queryid, 0)), (COALESCE(application_name, '')), created_by);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.n_plus_one_ignore_list', '');
ALTER TABLE @extschema@.n_plus_one_ignore_list ENABLE ROW LEVEL SECURITY;
CREATE POLICY n_plus_one_ignore_list_creator ON @extschema@.n_plus_one_ignore_list
	USING (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(created_by::pg_catalog.oid, 'USAGE'));
GRANT SELECT ON @extschema@.n_plus_one_ignore_list TO PUBLIC;
