
CREATE FUNCTION @extschema@._host_cpus()
RETURNS integer
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_host_cpus_1_1';
