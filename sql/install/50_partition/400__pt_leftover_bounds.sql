
-- Tables a conversion left its CHECK constraint sa_partition_bound on (a
-- partition_table that was killed, or a first call inside a transaction
-- block), among those the caller may maintain.
CREATE FUNCTION @extschema@._pt_leftover_bounds()
RETURNS SETOF regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT con.conrelid::regclass
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
WHERE con.conname = 'sa_partition_bound' AND con.contype = 'c'
  AND c.relkind = 'r' AND NOT c.relispartition
  AND obj_description(con.oid, 'pg_constraint') LIKE 'scale_advisor partition boundary: %'
  AND coalesce(@extschema@._may_maintain(con.conrelid::regclass), false)
ORDER BY 1::text
$$;
-- (_pt_leftover_bounds, which maintain_partitions calls, only reads the
-- catalogs, and lists only tables the caller may maintain)
