-- Without shared_preload_libraries every function and view refuses clearly.
CREATE EXTENSION scale_advisor;
SELECT scale_advisor._require_loaded();
DROP EXTENSION scale_advisor;
