-- Without shared_preload_libraries the N+1 view and functions refuse.
CREATE EXTENSION scale_advisor;
SELECT * FROM scale_advisor.n_plus_one;
SELECT scale_advisor.n_plus_one_ignore(1);
SELECT scale_advisor.n_plus_one_ignore_application('app');
SELECT scale_advisor.n_plus_one_unignore(1);
SELECT scale_advisor.n_plus_one_reset();
DROP EXTENSION scale_advisor;
