-- Without shared_preload_libraries every readiness function and view refuses.
CREATE EXTENSION scale_advisor;
SELECT * FROM scale_advisor.checklist;
SELECT * FROM scale_advisor.alerts;
SELECT * FROM scale_advisor.growth;
SELECT * FROM scale_advisor.regressions;
SELECT * FROM scale_advisor.threshold_settings;
SELECT * FROM scale_advisor.capacity(2);
SELECT scale_advisor.workload_script();
SELECT scale_advisor.snapshot();
SELECT scale_advisor.history_reset();
SELECT scale_advisor.set_threshold('slow_statement_ms', 200);
SELECT * FROM scale_advisor._history();
DROP EXTENSION scale_advisor;
