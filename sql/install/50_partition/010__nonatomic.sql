-- true when the calling PL/pgSQL procedure may COMMIT (src/partition.c)
CREATE FUNCTION @extschema@._nonatomic()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'scale_advisor_nonatomic_1_1';

REVOKE ALL ON FUNCTION @extschema@._nonatomic() FROM PUBLIC;
-- (only tells the calling procedure whether it may COMMIT: archive() and
-- unarchive(), which run with their caller's rights, need it too)
GRANT EXECUTE ON FUNCTION @extschema@._nonatomic() TO PUBLIC;
