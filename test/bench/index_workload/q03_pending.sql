SELECT id, account_id, created_at FROM orders WHERE status = 'pending' AND created_at > now() - interval '30 days' ORDER BY created_at LIMIT 50;
