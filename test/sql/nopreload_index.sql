-- Without shared_preload_libraries the index advice objects refuse clearly.
CREATE EXTENSION scale_advisor;
SELECT * FROM scale_advisor.index_advice;
SELECT * FROM scale_advisor.index_advice_skipped;
SELECT * FROM scale_advisor.index_workload;
SELECT scale_advisor.index_workload_reset();
SELECT * FROM scale_advisor.index_whatif('SELECT 1', 'CREATE INDEX ON pg_class (relname)');
SELECT * FROM scale_advisor.unused_indexes;
SELECT * FROM scale_advisor.duplicate_indexes;
SELECT * FROM scale_advisor.invalid_indexes;
SELECT * FROM scale_advisor.fk_without_index;
DROP EXTENSION scale_advisor;
