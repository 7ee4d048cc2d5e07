SELECT count(*) FROM orders WHERE status = 'done';
