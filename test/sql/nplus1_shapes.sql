-- N+1 detection on the shapes real ORMs produce: nested loops, loops whose
-- every iteration is its own transaction (ActiveRecord's save and create),
-- statements that already take a list of keys (eager loading, batches),
-- catalog reads between the parent and the loop (a cold schema cache),
-- identical repeats, the checklist's cacheable reads, and the statements of
-- deferred triggers.
CREATE EXTENSION scale_advisor;
SET scale_advisor.n_plus_one_min_calls = 10;
-- outside a transaction block a run needs its statements within the window
-- of idle time: generous, the machine is shared
SET scale_advisor.n_plus_one_window_ms = '10s';
CREATE TABLE ns_users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE ns_posts (id int PRIMARY KEY, title text NOT NULL);
CREATE TABLE ns_comments (id int PRIMARY KEY,
                          post_id int NOT NULL REFERENCES ns_posts,
                          user_id int NOT NULL REFERENCES ns_users,
                          body text NOT NULL);
CREATE TABLE ns_events (id int, kind text);
CREATE TABLE ns_history (id int);
INSERT INTO ns_users SELECT g, 'user ' || g FROM generate_series(1, 300) g;
INSERT INTO ns_posts SELECT g, 'post ' || g FROM generate_series(1, 300) g;
-- three comments for each of the first twelve posts, by users 1..36
INSERT INTO ns_comments SELECT g, (g - 1) / 3 + 1, g, 'comment ' || g
  FROM generate_series(1, 36) g;

-- 1. Nested loops: the posts, the comments of each post, the user of each
-- comment (three per post).  The users loop walks the rows of the comments
-- loop: its parent is the comments statement (parent_rows: what its latest
-- execution returned), and the comments loop's next execution does not end it.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
SELECT id, title FROM ns_posts WHERE id <= 12 ORDER BY id;
\o /dev/null
SELECT id, user_id, body FROM ns_comments WHERE post_id = 1 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 1;
SELECT id, name FROM ns_users WHERE id = 2;
SELECT id, name FROM ns_users WHERE id = 3;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 2 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 4;
SELECT id, name FROM ns_users WHERE id = 5;
SELECT id, name FROM ns_users WHERE id = 6;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 3 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 7;
SELECT id, name FROM ns_users WHERE id = 8;
SELECT id, name FROM ns_users WHERE id = 9;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 4 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 10;
SELECT id, name FROM ns_users WHERE id = 11;
SELECT id, name FROM ns_users WHERE id = 12;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 5 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 13;
SELECT id, name FROM ns_users WHERE id = 14;
SELECT id, name FROM ns_users WHERE id = 15;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 6 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 16;
SELECT id, name FROM ns_users WHERE id = 17;
SELECT id, name FROM ns_users WHERE id = 18;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 7 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 19;
SELECT id, name FROM ns_users WHERE id = 20;
SELECT id, name FROM ns_users WHERE id = 21;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 8 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 22;
SELECT id, name FROM ns_users WHERE id = 23;
SELECT id, name FROM ns_users WHERE id = 24;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 9 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 25;
SELECT id, name FROM ns_users WHERE id = 26;
SELECT id, name FROM ns_users WHERE id = 27;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 10 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 28;
SELECT id, name FROM ns_users WHERE id = 29;
SELECT id, name FROM ns_users WHERE id = 30;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 11 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 31;
SELECT id, name FROM ns_users WHERE id = 32;
SELECT id, name FROM ns_users WHERE id = 33;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 12 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 34;
SELECT id, name FROM ns_users WHERE id = 35;
SELECT id, name FROM ns_users WHERE id = 36;
\o
COMMIT;
SELECT kind, query, parent_query, parent_rows, last_run, detections
  FROM scale_advisor.n_plus_one ORDER BY query;
-- a JOIN with one execution of the comments statement is not the users
-- loop: none is offered for it
SELECT query ~ 'ns_users' AS users_loop, batched_query IS NOT NULL AS batched,
       join_query IS NOT NULL AS joined
  FROM scale_advisor.n_plus_one ORDER BY query;
-- the same outside a transaction block
SELECT scale_advisor.n_plus_one_reset();
SELECT id, title FROM ns_posts WHERE id <= 12 ORDER BY id;
\o /dev/null
SELECT id, user_id, body FROM ns_comments WHERE post_id = 1 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 1;
SELECT id, name FROM ns_users WHERE id = 2;
SELECT id, name FROM ns_users WHERE id = 3;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 2 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 4;
SELECT id, name FROM ns_users WHERE id = 5;
SELECT id, name FROM ns_users WHERE id = 6;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 3 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 7;
SELECT id, name FROM ns_users WHERE id = 8;
SELECT id, name FROM ns_users WHERE id = 9;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 4 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 10;
SELECT id, name FROM ns_users WHERE id = 11;
SELECT id, name FROM ns_users WHERE id = 12;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 5 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 13;
SELECT id, name FROM ns_users WHERE id = 14;
SELECT id, name FROM ns_users WHERE id = 15;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 6 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 16;
SELECT id, name FROM ns_users WHERE id = 17;
SELECT id, name FROM ns_users WHERE id = 18;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 7 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 19;
SELECT id, name FROM ns_users WHERE id = 20;
SELECT id, name FROM ns_users WHERE id = 21;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 8 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 22;
SELECT id, name FROM ns_users WHERE id = 23;
SELECT id, name FROM ns_users WHERE id = 24;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 9 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 25;
SELECT id, name FROM ns_users WHERE id = 26;
SELECT id, name FROM ns_users WHERE id = 27;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 10 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 28;
SELECT id, name FROM ns_users WHERE id = 29;
SELECT id, name FROM ns_users WHERE id = 30;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 11 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 31;
SELECT id, name FROM ns_users WHERE id = 32;
SELECT id, name FROM ns_users WHERE id = 33;
SELECT id, user_id, body FROM ns_comments WHERE post_id = 12 ORDER BY id;
SELECT id, name FROM ns_users WHERE id = 34;
SELECT id, name FROM ns_users WHERE id = 35;
SELECT id, name FROM ns_users WHERE id = 36;
\o
SELECT kind, query, parent_query, parent_rows, last_run, detections
  FROM scale_advisor.n_plus_one ORDER BY query;
-- a JOIN with one execution of the comments statement is not the users
-- loop: none is offered for it
SELECT query ~ 'ns_users' AS users_loop, batched_query IS NOT NULL AS batched,
       join_query IS NOT NULL AS joined
  FROM scale_advisor.n_plus_one ORDER BY query;

-- 2. Loops whose every iteration is its own transaction, as ActiveRecord
-- wraps each save and create in BEGIN ... COMMIT: an UPDATE loop over the
-- rows of a list, and an INSERT loop.
SELECT scale_advisor.n_plus_one_reset();
\o /dev/null
SELECT id, title FROM ns_posts WHERE id <= 30 ORDER BY id;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 1;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 2;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 3;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 4;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 5;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 6;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 7;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 8;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 9;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 10;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 11;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 12;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 13;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 14;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 15;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 16;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 17;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 18;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 19;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 20;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 21;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 22;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 23;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 24;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 25;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 26;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 27;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 28;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 29;
COMMIT;
BEGIN;
UPDATE ns_posts SET title = 'seen' WHERE id = 30;
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (1, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (2, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (3, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (4, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (5, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (6, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (7, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (8, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (9, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (10, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (11, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (12, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (13, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (14, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (15, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (16, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (17, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (18, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (19, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (20, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (21, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (22, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (23, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (24, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (25, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (26, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (27, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (28, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (29, 'created');
COMMIT;
BEGIN;
INSERT INTO ns_events (id, kind) VALUES (30, 'created');
COMMIT;
\o
SELECT kind, query, parent_query, parent_rows, last_run, detections
  FROM scale_advisor.n_plus_one ORDER BY query;
-- but a transaction of several statements run again and again (a
-- benchmark, a job that serves one request after another) is no loop of
-- its INSERT: runs without a parent end with a block that ran other
-- statements too
SELECT scale_advisor.n_plus_one_reset();
\o /dev/null
BEGIN;
UPDATE ns_users SET name = name WHERE id = 1;
SELECT name FROM ns_users WHERE id = 1;
INSERT INTO ns_history (id) VALUES (1);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 2;
SELECT name FROM ns_users WHERE id = 2;
INSERT INTO ns_history (id) VALUES (2);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
INSERT INTO ns_history (id) VALUES (3);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 4;
SELECT name FROM ns_users WHERE id = 4;
INSERT INTO ns_history (id) VALUES (4);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 5;
SELECT name FROM ns_users WHERE id = 5;
INSERT INTO ns_history (id) VALUES (5);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 6;
SELECT name FROM ns_users WHERE id = 6;
INSERT INTO ns_history (id) VALUES (6);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 7;
SELECT name FROM ns_users WHERE id = 7;
INSERT INTO ns_history (id) VALUES (7);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 8;
SELECT name FROM ns_users WHERE id = 8;
INSERT INTO ns_history (id) VALUES (8);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 9;
SELECT name FROM ns_users WHERE id = 9;
INSERT INTO ns_history (id) VALUES (9);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 10;
SELECT name FROM ns_users WHERE id = 10;
INSERT INTO ns_history (id) VALUES (10);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 11;
SELECT name FROM ns_users WHERE id = 11;
INSERT INTO ns_history (id) VALUES (11);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 12;
SELECT name FROM ns_users WHERE id = 12;
INSERT INTO ns_history (id) VALUES (12);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 13;
SELECT name FROM ns_users WHERE id = 13;
INSERT INTO ns_history (id) VALUES (13);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 14;
SELECT name FROM ns_users WHERE id = 14;
INSERT INTO ns_history (id) VALUES (14);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 15;
SELECT name FROM ns_users WHERE id = 15;
INSERT INTO ns_history (id) VALUES (15);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 16;
SELECT name FROM ns_users WHERE id = 16;
INSERT INTO ns_history (id) VALUES (16);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 17;
SELECT name FROM ns_users WHERE id = 17;
INSERT INTO ns_history (id) VALUES (17);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 18;
SELECT name FROM ns_users WHERE id = 18;
INSERT INTO ns_history (id) VALUES (18);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 19;
SELECT name FROM ns_users WHERE id = 19;
INSERT INTO ns_history (id) VALUES (19);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 20;
SELECT name FROM ns_users WHERE id = 20;
INSERT INTO ns_history (id) VALUES (20);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 21;
SELECT name FROM ns_users WHERE id = 21;
INSERT INTO ns_history (id) VALUES (21);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 22;
SELECT name FROM ns_users WHERE id = 22;
INSERT INTO ns_history (id) VALUES (22);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 23;
SELECT name FROM ns_users WHERE id = 23;
INSERT INTO ns_history (id) VALUES (23);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 24;
SELECT name FROM ns_users WHERE id = 24;
INSERT INTO ns_history (id) VALUES (24);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 25;
SELECT name FROM ns_users WHERE id = 25;
INSERT INTO ns_history (id) VALUES (25);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 26;
SELECT name FROM ns_users WHERE id = 26;
INSERT INTO ns_history (id) VALUES (26);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 27;
SELECT name FROM ns_users WHERE id = 27;
INSERT INTO ns_history (id) VALUES (27);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 28;
SELECT name FROM ns_users WHERE id = 28;
INSERT INTO ns_history (id) VALUES (28);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 29;
SELECT name FROM ns_users WHERE id = 29;
INSERT INTO ns_history (id) VALUES (29);
COMMIT;
BEGIN;
UPDATE ns_users SET name = name WHERE id = 30;
SELECT name FROM ns_users WHERE id = 30;
INSERT INTO ns_history (id) VALUES (30);
COMMIT;
\o
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;

-- 3. Not loops: a statement that already takes a list of keys is the fix.
-- Rails' includes(:author).find_each(batch_size: 25): a page of rows by
-- key range, then the authors of the page with one IN list.
SELECT scale_advisor.n_plus_one_reset();
\o /dev/null
SELECT id, title FROM ns_posts WHERE id > 0 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25);
SELECT id, title FROM ns_posts WHERE id > 25 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50);
SELECT id, title FROM ns_posts WHERE id > 50 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75);
SELECT id, title FROM ns_posts WHERE id > 75 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100);
SELECT id, title FROM ns_posts WHERE id > 100 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125);
SELECT id, title FROM ns_posts WHERE id > 125 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150);
SELECT id, title FROM ns_posts WHERE id > 150 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175);
SELECT id, title FROM ns_posts WHERE id > 175 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200);
SELECT id, title FROM ns_posts WHERE id > 200 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225);
SELECT id, title FROM ns_posts WHERE id > 225 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250);
SELECT id, title FROM ns_posts WHERE id > 250 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274, 275);
SELECT id, title FROM ns_posts WHERE id > 275 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288, 289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300);
\o
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
BEGIN;
\o /dev/null
SELECT id, title FROM ns_posts WHERE id > 0 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25);
SELECT id, title FROM ns_posts WHERE id > 25 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50);
SELECT id, title FROM ns_posts WHERE id > 50 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75);
SELECT id, title FROM ns_posts WHERE id > 75 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100);
SELECT id, title FROM ns_posts WHERE id > 100 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125);
SELECT id, title FROM ns_posts WHERE id > 125 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150);
SELECT id, title FROM ns_posts WHERE id > 150 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175);
SELECT id, title FROM ns_posts WHERE id > 175 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200);
SELECT id, title FROM ns_posts WHERE id > 200 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225);
SELECT id, title FROM ns_posts WHERE id > 225 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250);
SELECT id, title FROM ns_posts WHERE id > 250 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270, 271, 272, 273, 274, 275);
SELECT id, title FROM ns_posts WHERE id > 275 ORDER BY id LIMIT 25;
SELECT id, name FROM ns_users WHERE id IN (276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288, 289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300);
\o
COMMIT;
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
-- the same with bound parameters: an IN list of parameters, = ANY of an array
PREPARE ns_page(int, int) AS SELECT id, title FROM ns_posts WHERE id > $1 ORDER BY id LIMIT $2;
PREPARE ns_in(int, int, int, int, int) AS SELECT id, name FROM ns_users WHERE id IN ($1, $2, $3, $4, $5);
PREPARE ns_any(int[]) AS SELECT id, name FROM ns_users WHERE id = ANY ($1);
BEGIN;
\o /dev/null
EXECUTE ns_page(0, 5);
EXECUTE ns_in(1, 2, 3, 4, 5);
EXECUTE ns_any('{1,2,3,4,5}');
EXECUTE ns_page(5, 5);
EXECUTE ns_in(6, 7, 8, 9, 10);
EXECUTE ns_any('{6,7,8,9,10}');
EXECUTE ns_page(10, 5);
EXECUTE ns_in(11, 12, 13, 14, 15);
EXECUTE ns_any('{11,12,13,14,15}');
EXECUTE ns_page(15, 5);
EXECUTE ns_in(16, 17, 18, 19, 20);
EXECUTE ns_any('{16,17,18,19,20}');
EXECUTE ns_page(20, 5);
EXECUTE ns_in(21, 22, 23, 24, 25);
EXECUTE ns_any('{21,22,23,24,25}');
EXECUTE ns_page(25, 5);
EXECUTE ns_in(26, 27, 28, 29, 30);
EXECUTE ns_any('{26,27,28,29,30}');
EXECUTE ns_page(30, 5);
EXECUTE ns_in(31, 32, 33, 34, 35);
EXECUTE ns_any('{31,32,33,34,35}');
EXECUTE ns_page(35, 5);
EXECUTE ns_in(36, 37, 38, 39, 40);
EXECUTE ns_any('{36,37,38,39,40}');
EXECUTE ns_page(40, 5);
EXECUTE ns_in(41, 42, 43, 44, 45);
EXECUTE ns_any('{41,42,43,44,45}');
EXECUTE ns_page(45, 5);
EXECUTE ns_in(46, 47, 48, 49, 50);
EXECUTE ns_any('{46,47,48,49,50}');
EXECUTE ns_page(50, 5);
EXECUTE ns_in(51, 52, 53, 54, 55);
EXECUTE ns_any('{51,52,53,54,55}');
EXECUTE ns_page(55, 5);
EXECUTE ns_in(56, 57, 58, 59, 60);
EXECUTE ns_any('{56,57,58,59,60}');
\o
COMMIT;
SELECT count(*) AS detections FROM scale_advisor.n_plus_one;
-- a list that stays the same while a key varies is still a loop
PREPARE ns_key(int) AS SELECT id, body FROM ns_comments WHERE post_id = $1 AND user_id IN (1, 2, 3, 4, 5, 6);
BEGIN;
\o /dev/null
EXECUTE ns_key(1);
EXECUTE ns_key(2);
EXECUTE ns_key(3);
EXECUTE ns_key(4);
EXECUTE ns_key(5);
EXECUTE ns_key(6);
EXECUTE ns_key(7);
EXECUTE ns_key(8);
EXECUTE ns_key(9);
EXECUTE ns_key(10);
EXECUTE ns_key(11);
EXECUTE ns_key(12);
\o
COMMIT;
SELECT kind, query, last_run FROM scale_advisor.n_plus_one;
DEALLOCATE ns_page;
DEALLOCATE ns_in;
DEALLOCATE ns_any;
DEALLOCATE ns_key;

-- 4. An ORM with a cold schema cache reads the catalog between the parent
-- and the loop, and in the middle of it (17 different catalog statements,
-- more than the statements a backend follows): the catalog statements
-- neither become the parent nor end the run, and parent_rows is what the
-- execution of the parent that fed the loop returned (12 rows; an earlier
-- execution returned 5).
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
\o /dev/null
SELECT id, title FROM ns_posts WHERE id <= 5 ORDER BY id;
SELECT id, title FROM ns_posts WHERE id <= 12 ORDER BY id;
SELECT a.attname, a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'ns_comments'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT id, body FROM ns_comments WHERE post_id = 1 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 2 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 3 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 4 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 5 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 6 ORDER BY id;
SELECT a.attname, a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'ns_comments'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relpages FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relhasindex FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relpersistence FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT c.relnatts FROM pg_catalog.pg_class c WHERE c.relname = 'ns_comments';
SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = 'ns_comments'::regclass;
SELECT i.indisprimary FROM pg_catalog.pg_index i WHERE i.indrelid = 'ns_comments'::regclass;
SELECT t.typname FROM pg_catalog.pg_type t WHERE t.oid = 23;
SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public';
SELECT con.conname FROM pg_catalog.pg_constraint con WHERE con.conrelid = 'ns_comments'::regclass;
SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'ns_comments' ORDER BY ordinal_position;
SELECT table_name FROM information_schema.tables WHERE table_name = 'ns_comments';
SELECT d.adnum FROM pg_catalog.pg_attrdef d WHERE d.adrelid = 'ns_comments'::regclass;
SELECT id, body FROM ns_comments WHERE post_id = 7 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 8 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 9 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 10 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 11 ORDER BY id;
SELECT id, body FROM ns_comments WHERE post_id = 12 ORDER BY id;
\o
COMMIT;
SELECT kind, query, parent_query, parent_rows, last_run FROM scale_advisor.n_plus_one;
-- the catalog statements are not loops either
BEGIN;
\o /dev/null
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1259;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1260;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1261;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1262;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1263;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1264;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1265;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1266;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1267;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1268;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1269;
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = 1270;
\o
COMMIT;
SELECT count(*) AS loops_on_catalog FROM scale_advisor.n_plus_one WHERE query LIKE '%pg_class%';

-- 5. The same lookup with the same key, again and again: a cacheable
-- repeat.  No statement fed it its key, so the list of posts that ran just
-- before is not shown as its parent.
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
\o /dev/null
SELECT id, title FROM ns_posts WHERE id <= 12 ORDER BY id;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 3;
\o
COMMIT;
SELECT kind, query, parent_queryid IS NULL AS no_parent_id, parent_query, parent_rows, last_run
  FROM scale_advisor.n_plus_one;

-- 6. The checklist's cacheable reads: a read repeated with the same key is
-- one; an N+1 loop that reads another key at each call is not (its fix is
-- one batched statement).
SELECT scale_advisor.n_plus_one_reset();
SELECT scale_advisor.reset() >= 0 AS reset;
INSERT INTO scale_advisor.thresholds (name, value) VALUES ('cacheable_min_calls', 20), ('cacheable_share_pct', 10);
BEGIN;
\o /dev/null
SELECT id, title FROM ns_posts WHERE id <= 40 ORDER BY id;
SELECT name FROM ns_users WHERE id = 1;
SELECT name FROM ns_users WHERE id = 2;
SELECT name FROM ns_users WHERE id = 3;
SELECT name FROM ns_users WHERE id = 4;
SELECT name FROM ns_users WHERE id = 5;
SELECT name FROM ns_users WHERE id = 6;
SELECT name FROM ns_users WHERE id = 7;
SELECT name FROM ns_users WHERE id = 8;
SELECT name FROM ns_users WHERE id = 9;
SELECT name FROM ns_users WHERE id = 10;
SELECT name FROM ns_users WHERE id = 11;
SELECT name FROM ns_users WHERE id = 12;
SELECT name FROM ns_users WHERE id = 13;
SELECT name FROM ns_users WHERE id = 14;
SELECT name FROM ns_users WHERE id = 15;
SELECT name FROM ns_users WHERE id = 16;
SELECT name FROM ns_users WHERE id = 17;
SELECT name FROM ns_users WHERE id = 18;
SELECT name FROM ns_users WHERE id = 19;
SELECT name FROM ns_users WHERE id = 20;
SELECT name FROM ns_users WHERE id = 21;
SELECT name FROM ns_users WHERE id = 22;
SELECT name FROM ns_users WHERE id = 23;
SELECT name FROM ns_users WHERE id = 24;
SELECT name FROM ns_users WHERE id = 25;
SELECT name FROM ns_users WHERE id = 26;
SELECT name FROM ns_users WHERE id = 27;
SELECT name FROM ns_users WHERE id = 28;
SELECT name FROM ns_users WHERE id = 29;
SELECT name FROM ns_users WHERE id = 30;
SELECT name FROM ns_users WHERE id = 31;
SELECT name FROM ns_users WHERE id = 32;
SELECT name FROM ns_users WHERE id = 33;
SELECT name FROM ns_users WHERE id = 34;
SELECT name FROM ns_users WHERE id = 35;
SELECT name FROM ns_users WHERE id = 36;
SELECT name FROM ns_users WHERE id = 37;
SELECT name FROM ns_users WHERE id = 38;
SELECT name FROM ns_users WHERE id = 39;
SELECT name FROM ns_users WHERE id = 40;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
SELECT title FROM ns_posts WHERE id = 7;
\o
COMMIT;
SELECT kind, query FROM scale_advisor.n_plus_one ORDER BY kind;
SELECT status, value ~ 'ns_posts WHERE id' AS repeat_named, value ~ 'ns_users' AS loop_named
  FROM scale_advisor.checklist WHERE "check" = 'cacheable_queries';
DELETE FROM scale_advisor.thresholds WHERE name IN ('cacheable_min_calls', 'cacheable_share_pct');

-- 7. Statements run by triggers are never loops of the application, even
-- with nested statements looked at: the deferred foreign-key checks that
-- run at COMMIT after a 60-row insert (Django makes every foreign key
-- DEFERRABLE INITIALLY DEFERRED; bulk_create sends one multi-row INSERT),
-- at SET CONSTRAINTS, and a PL/pgSQL row trigger.
CREATE TABLE ns_author (id int PRIMARY KEY);
CREATE TABLE ns_book (id int, author_id int REFERENCES ns_author DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE ns_audit (n int);
CREATE FUNCTION ns_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ns_audit VALUES (NEW.id);
  PERFORM count(*) FROM ns_author WHERE id = NEW.author_id;
  RETURN NULL;
END $$;
INSERT INTO ns_author SELECT g FROM generate_series(1, 60) g;
SET scale_advisor.track = 'all';
SET scale_advisor.n_plus_one_nested = on;
SELECT scale_advisor.n_plus_one_reset();
BEGIN;
INSERT INTO ns_book VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 9), (10, 10), (11, 11), (12, 12), (13, 13), (14, 14), (15, 15), (16, 16), (17, 17), (18, 18), (19, 19), (20, 20), (21, 21), (22, 22), (23, 23), (24, 24), (25, 25), (26, 26), (27, 27), (28, 28), (29, 29), (30, 30), (31, 31), (32, 32), (33, 33), (34, 34), (35, 35), (36, 36), (37, 37), (38, 38), (39, 39), (40, 40), (41, 41), (42, 42), (43, 43), (44, 44), (45, 45), (46, 46), (47, 47), (48, 48), (49, 49), (50, 50), (51, 51), (52, 52), (53, 53), (54, 54), (55, 55), (56, 56), (57, 57), (58, 58), (59, 59), (60, 60);
COMMIT;
BEGIN;
INSERT INTO ns_book SELECT g, g FROM generate_series(1, 60) g;
SET CONSTRAINTS ALL IMMEDIATE;
COMMIT;
CREATE TRIGGER ns_audit_trg AFTER INSERT ON ns_book FOR EACH ROW EXECUTE FUNCTION ns_audit_fn();
INSERT INTO ns_book SELECT g, g FROM generate_series(1, 60) g;
SELECT count(*) AS loops_in_triggers FROM scale_advisor.n_plus_one;
-- a function's own loop is still one
CREATE FUNCTION ns_render() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  p record;
  n bigint := 0;
BEGIN
  FOR p IN SELECT id FROM ns_posts WHERE id <= 12 ORDER BY id LOOP
    n := n + (SELECT count(*) FROM ns_comments WHERE post_id = p.id);
  END LOOP;
  RETURN n;
END $$;
SELECT ns_render();
SELECT kind, query, last_run FROM scale_advisor.n_plus_one;
RESET scale_advisor.n_plus_one_nested;
RESET scale_advisor.track;

DROP FUNCTION ns_render();
DROP TABLE ns_book, ns_author, ns_audit, ns_comments, ns_posts, ns_users, ns_events, ns_history;
DROP FUNCTION ns_audit_fn();
SELECT scale_advisor.n_plus_one_reset();
DROP EXTENSION scale_advisor;
