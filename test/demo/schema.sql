-- Demo application: a small blog with users, posts and comments.
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE posts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id bigint NOT NULL REFERENCES users (id),
  title text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE comments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  post_id bigint NOT NULL REFERENCES posts (id),
  author_id bigint NOT NULL REFERENCES users (id),
  body text NOT NULL,
  created_at timestamptz NOT NULL
);
INSERT INTO users (email, name, created_at)
  SELECT 'user' || g || '@example.com', 'User ' || g, now() - (g || ' minutes')::interval
  FROM generate_series(1, 20000) g;
INSERT INTO posts (author_id, title, body, created_at)
  SELECT 1 + (g * 7919) % 20000, 'Post ' || g, repeat('text ', 40),
         now() - ((g % 720) || ' hours')::interval
  FROM generate_series(1, 50000) g;
INSERT INTO comments (post_id, author_id, body, created_at)
  SELECT 1 + (g::bigint * 104729) % 50000, 1 + (g * 31) % 20000, 'comment ' || g,
         now() - ((g % 1440) || ' minutes')::interval
  FROM generate_series(1, 100000) g;
ANALYZE;
