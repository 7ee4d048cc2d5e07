-- Without shared_preload_libraries every function and view refuses clearly.
CREATE EXTENSION scale_advisor;
SELECT scale_advisor._require_loaded();
SELECT scale_advisor._require_primary('archive()');
SELECT * FROM scale_advisor.query_stats;
SELECT * FROM scale_advisor.slow_queries;
SELECT * FROM scale_advisor.info;
SELECT scale_advisor.reset();
SELECT scale_advisor.reset(0, 0, 1);
SELECT scale_advisor._sketch_quantiles('{1}', '{0.5}');
DROP EXTENSION scale_advisor;
