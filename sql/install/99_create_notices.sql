-- CREATE EXTENSION without the preloaded library succeeds (the objects can
-- be created), but nothing works until the server loads it: say so.  The
-- same block ends the 1.0 -> 1.1 update script.
DO $sa_preload_check$
DECLARE
	v_loaded boolean;
BEGIN
	SELECT pg_catalog.bool_or(pg_catalog.regexp_replace(pg_catalog.btrim(l, ' "'),
						'^\$libdir/|\.so$', '', 'g') OPERATOR(pg_catalog.=) 'scale_advisor')
	  INTO v_loaded
	  FROM pg_catalog.unnest(pg_catalog.string_to_array(
			pg_catalog.current_setting('shared_preload_libraries'), ',')) AS l;
	IF NOT coalesce(v_loaded, false) THEN
		RAISE WARNING USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'scale_advisor is not loaded through shared_preload_libraries: its views and functions fail until it is',
			HINT = 'Add scale_advisor to shared_preload_libraries in postgresql.conf and restart the server.';
	END IF;
END
$sa_preload_check$;
