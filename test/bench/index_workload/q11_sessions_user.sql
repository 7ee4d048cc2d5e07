\set u random(1, 20000)
SELECT id, last_seen_at FROM sessions WHERE user_id = :u;
