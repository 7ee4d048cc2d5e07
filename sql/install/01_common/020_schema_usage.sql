
-- Everyone may look into the schema; what each object lets them do is
-- granted object by object (monitoring views to PUBLIC, functions that
-- change anything to nobody but their owner unless an admin grants them).
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
