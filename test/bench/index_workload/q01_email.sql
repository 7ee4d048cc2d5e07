\set n random(1, 100000)
SELECT id, plan FROM accounts WHERE lower(email) = lower('User' || :n::int || '@Example.com');
