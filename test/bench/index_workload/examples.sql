SELECT id, plan FROM accounts WHERE lower(email) = lower('User' || 4242 || '@Example.com')
SELECT id, total, created_at FROM orders WHERE account_id = 3 ORDER BY created_at DESC LIMIT 20
SELECT id, account_id, created_at FROM orders WHERE status = 'pending' AND created_at > now() - interval '30 days' ORDER BY created_at LIMIT 50
SELECT count(*) FROM orders WHERE status = 'done'
SELECT product_id, qty FROM order_items WHERE order_id = 123456
SELECT kind, count(*) FROM events WHERE ts >= now() - 100 * interval '1 hour' AND ts < now() - (100 - 24) * interval '1 hour' GROUP BY kind
SELECT count(*) FROM events WHERE payload @> '{"type": "refund"}'
SELECT id, title FROM documents WHERE tags @> ARRAY['t' || 2345]
SELECT id FROM documents WHERE to_tsvector('english', body) @@ plainto_tsquery('english', 'w' || 12345)
SELECT id, title FROM documents WHERE title ILIKE '%' || to_hex(43981) || '%'
SELECT id, last_seen_at FROM sessions WHERE user_id = 777
SELECT count(*) FROM sessions WHERE last_seen_at > now() - interval '1 minute'
SELECT name FROM countries WHERE code = 'C' || 42
SELECT id, name FROM customers WHERE email = 'c' || 4242 || '@example.com'
