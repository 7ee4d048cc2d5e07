
-- Refuse a run's durations out of bounds (_check_duration): max_duration
-- NULL or at least a second, pause up to a minute, lock_timeout from 1 ms
-- (0 would wait forever) up to a minute.
CREATE FUNCTION @extschema@._archive_check_timing(max_duration interval, pause interval,
	lock_timeout interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_duration('max_duration', max_duration, interval '1 second', NULL,
		true, '10min', 'A run stops starting batches after max_duration; NULL runs until every row is moved.');
	PERFORM @extschema@._check_duration('pause', pause, interval '0', interval '1 minute',
		false, '100ms', 'The run keeps the table''s archiving lock while it pauses between batches; to archive less often, schedule the runs less often.');
	PERFORM @extschema@._check_duration('lock_timeout', lock_timeout, interval '1 millisecond', interval '1 minute',
		false, '500ms', 'While a statement waits for a lock, the application''s statements on the table queue behind it.');
END $$;
