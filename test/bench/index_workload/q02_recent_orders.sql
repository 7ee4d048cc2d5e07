\set a random_zipfian(1, 20000, 1.1)
SELECT id, total, created_at FROM orders WHERE account_id = :a ORDER BY created_at DESC LIMIT 20;
