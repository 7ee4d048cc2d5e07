-- Without shared_preload_libraries the partitioning helpers refuse clearly.
CREATE EXTENSION scale_advisor;
CREATE TABLE np_part (id bigint PRIMARY KEY);
CALL scale_advisor.partition_table('np_part', 'id', '100');
CALL scale_advisor.maintain_partitions();
SELECT * FROM scale_advisor.partition_table_plan('np_part', 'id', '100');
SELECT * FROM scale_advisor.partition_blockers('np_part', 'id');
SELECT * FROM scale_advisor.partition_maintenance_status;
SELECT * FROM scale_advisor.partition_advice;
SELECT scale_advisor._nonatomic();
DROP TABLE np_part;
DROP EXTENSION scale_advisor;
