-- The index-advice evaluation workload (test/t/203_index_workload.pl,
-- test/t/204_index_compare.pl, test/bench/index_compare.sh): eight tables
-- of 250 to 500,000 rows with skewed data, written by nobody's advisor.
-- Loaded with a fixed seed, so every run has the same data.
SELECT setseed(0.42);

-- accounts: looked up by e-mail, case-insensitively
CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL,
                       created_at timestamptz NOT NULL);
INSERT INTO accounts
SELECT i, 'User' || i || '@Example.com',
       CASE WHEN random() < 0.8 THEN 'free' ELSE 'pro' END,
       now() - random() * interval '3 years'
  FROM generate_series(1, 100000) i;

-- orders: 10 big accounts hold a fifth of the orders (about 100x the
-- average); 90 % done, 9 % shipped, 1 % pending; created_at in random
-- physical order; an index on account_id alone exists already
CREATE TABLE orders (id int PRIMARY KEY, account_id int NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL, total numeric NOT NULL);
INSERT INTO orders
SELECT i,
       CASE WHEN random() < 0.2 THEN 1 + (random() * 9)::int
            ELSE 11 + (random() * 19989)::int END,
       CASE WHEN r < 0.90 THEN 'done' WHEN r < 0.99 THEN 'shipped' ELSE 'pending' END,
       now() - random() * interval '365 days',
       round((random() * 500)::numeric, 2)
  FROM (SELECT i, random() AS r FROM generate_series(1, 300000) i) s;
CREATE INDEX orders_account_id_idx ON orders (account_id);

-- order_items: no index on the foreign key order_id
CREATE TABLE order_items (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders,
                          product_id int NOT NULL, qty int NOT NULL);
INSERT INTO order_items
SELECT i, 1 + (random() * 299999)::int, 1 + (random() * 4999)::int, 1 + (random() * 4)::int
  FROM generate_series(1, 500000) i;

-- events: append-only, rows in time order (the last 60 days), wide rows;
-- a writer keeps inserting
CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, kind int NOT NULL,
                     account_id int NOT NULL, payload jsonb NOT NULL, pad text NOT NULL);
INSERT INTO events (ts, kind, account_id, payload, pad)
SELECT now() - interval '60 days' + i * interval '12960 milliseconds',
       (random() ^ 2 * 19)::int, 1 + (random() * 99999)::int,
       jsonb_build_object('type', CASE WHEN r < 0.90 THEN 'view' WHEN r < 0.99 THEN 'click'
                                       WHEN r < 0.995 THEN 'refund' ELSE 'signup' END,
                          'v', i % 1000),
       repeat('x', 80)
  FROM (SELECT i, random() AS r FROM generate_series(1, 400000) i) s;

-- documents: titles searched by fragment, bodies by word (log-uniform word
-- frequencies), tags by containment
CREATE TABLE documents (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL,
                        tags text[] NOT NULL);
INSERT INTO documents
SELECT i, 'Title ' || md5(i::text),
       (SELECT string_agg('w' || floor(exp(random() * ln(20000)))::int, ' ')
          FROM generate_series(1, 20) g WHERE g > i * 0),
       (SELECT array_agg('t' || floor(exp(random() * ln(5000)))::int)
          FROM generate_series(1, 3) g WHERE g > i * 0)
  FROM generate_series(1, 100000) i;

-- sessions: every session's last_seen_at is updated all the time (HOT
-- updates: last_seen_at is not indexed, and the pages have room)
CREATE TABLE sessions (id int PRIMARY KEY, user_id int NOT NULL,
                       last_seen_at timestamptz NOT NULL, data text NOT NULL)
  WITH (fillfactor = 70);
INSERT INTO sessions
SELECT i, 1 + (random() * 19999)::int, now() - random() * interval '1 day', repeat('s', 60)
  FROM generate_series(1, 50000) i;

-- countries: a tiny lookup table
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL, region int NOT NULL);
INSERT INTO countries SELECT 'C' || i, 'Country ' || i, i % 7 FROM generate_series(1, 250) i;

-- customers: looked up by e-mail through the index that exists
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL);
INSERT INTO customers SELECT i, 'c' || i || '@example.com', 'Customer ' || i
  FROM generate_series(1, 100000) i;
CREATE INDEX customers_email_idx ON customers (email);

VACUUM ANALYZE;
-- flush this session's table statistics now, so that a statistics reset
-- that follows is not undone by them (the load is no write rate)
SELECT pg_stat_force_next_flush();
