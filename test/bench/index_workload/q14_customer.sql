\set n random(1, 100000)
SELECT id, name FROM customers WHERE email = 'c' || :n::int || '@example.com';
