
---------------------------------------------------------------------------
-- Maintenance
---------------------------------------------------------------------------

-- What a set needs now: 'create' a partition for [lo, hi) (moving rows
-- of that range out of the default partition), 'retire' a partition past
-- retention.  Ranges are clipped to the gaps between existing partitions.
CREATE TYPE @extschema@._pm_task AS (action text, lo numeric, hi numeric, part oid);
