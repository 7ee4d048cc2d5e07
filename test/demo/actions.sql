-- Writes and lookups: sign-ins by e-mail (no index on email), new comments.
\set u random(1, 20000)
\set p random(1, 50000)
SELECT id, name FROM users WHERE lower(email) = lower('user' || :u || '@example.com');
INSERT INTO comments (post_id, author_id, body, created_at) VALUES (:p, :u, 'hello', now());
SELECT count(*) FROM comments WHERE author_id = :u;
