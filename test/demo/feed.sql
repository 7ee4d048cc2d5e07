-- The home feed, the way an ORM loads it: list 10 posts, then one query per
-- post for its author and one for its comments (an N+1 pattern).
\set since random(1, 700)
BEGIN;
SELECT id, author_id, title FROM posts WHERE created_at > now() - make_interval(hours => :since) ORDER BY created_at DESC LIMIT 10;
\set p1 random(1, 50000)
SELECT id, name FROM users WHERE id = :p1;
SELECT id, body FROM comments WHERE post_id = :p1;
\set p2 random(1, 50000)
SELECT id, name FROM users WHERE id = :p2;
SELECT id, body FROM comments WHERE post_id = :p2;
\set p3 random(1, 50000)
SELECT id, name FROM users WHERE id = :p3;
SELECT id, body FROM comments WHERE post_id = :p3;
\set p4 random(1, 50000)
SELECT id, name FROM users WHERE id = :p4;
SELECT id, body FROM comments WHERE post_id = :p4;
\set p5 random(1, 50000)
SELECT id, name FROM users WHERE id = :p5;
SELECT id, body FROM comments WHERE post_id = :p5;
\set p6 random(1, 50000)
SELECT id, name FROM users WHERE id = :p6;
SELECT id, body FROM comments WHERE post_id = :p6;
\set p7 random(1, 50000)
SELECT id, name FROM users WHERE id = :p7;
SELECT id, body FROM comments WHERE post_id = :p7;
\set p8 random(1, 50000)
SELECT id, name FROM users WHERE id = :p8;
SELECT id, body FROM comments WHERE post_id = :p8;
\set p9 random(1, 50000)
SELECT id, name FROM users WHERE id = :p9;
SELECT id, body FROM comments WHERE post_id = :p9;
\set p10 random(1, 50000)
SELECT id, name FROM users WHERE id = :p10;
SELECT id, body FROM comments WHERE post_id = :p10;
COMMIT;
