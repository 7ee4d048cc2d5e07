SELECT count(*) FROM sessions WHERE last_seen_at > now() - interval '1 minute';
