
CREATE FUNCTION @extschema@._info(
    OUT entries bigint, OUT max_entries bigint, OUT evictions bigint,
    OUT memory_bytes bigint, OUT entry_bytes bigint,
    OUT text_bytes_per_entry bigint, OUT stats_reset timestamptz,
    OUT last_save timestamptz, OUT saves bigint, OUT save_failures bigint,
    OUT loaded_entries bigint)
RETURNS record
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'scale_advisor_info_1_1';
