-- Without shared_preload_libraries the archiving procedures refuse clearly.
CREATE EXTENSION scale_advisor;
CREATE TABLE arch_np (id int PRIMARY KEY, created_at timestamptz);
CALL scale_advisor.archive('arch_np', 'created_at', '1 day');
CALL scale_advisor.archive('arch_np', 'created_at', '1 day', dry_run => true);
CALL scale_advisor.unarchive('arch_np', 'created_at');
CALL scale_advisor.run_archive_policies();
SELECT scale_advisor._archive_vacuum('arch_np');
SELECT count(*) FROM arch_np;
DROP TABLE arch_np;
DROP EXTENSION scale_advisor;
