\set id random(1, 50000)
UPDATE sessions SET last_seen_at = now() WHERE id = :id;
