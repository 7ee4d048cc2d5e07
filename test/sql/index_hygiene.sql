-- Index hygiene views against planted cases.
CREATE EXTENSION scale_advisor;
CREATE SCHEMA ih;
SET search_path = ih, public;

CREATE TABLE ih_parent (id int PRIMARY KEY, name text);
INSERT INTO ih_parent SELECT i, 'n' || i FROM generate_series(1, 1000) i;

-- unindexed foreign key
CREATE TABLE ih_child_noidx (id int PRIMARY KEY, parent_id int REFERENCES ih_parent (id));
-- foreign key with an index
CREATE TABLE ih_child_idx (id int PRIMARY KEY, parent_id int REFERENCES ih_parent (id));
CREATE INDEX ih_child_idx_parent ON ih_child_idx (parent_id);
-- foreign key covered by the leading column of a composite primary key
CREATE TABLE ih_link (parent_id int REFERENCES ih_parent (id), other int,
                      PRIMARY KEY (parent_id, other));
-- foreign key on the second column of a composite primary key: not covered
CREATE TABLE ih_link2 (other int, parent_id int REFERENCES ih_parent (id),
                       PRIMARY KEY (other, parent_id));
-- two-column foreign key, index in the other column order: covered
CREATE TABLE ih_pair (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE ih_pair_ref (id int, pa int, pb int,
                          FOREIGN KEY (pa, pb) REFERENCES ih_pair (a, b));
CREATE INDEX ih_pair_ref_b_a ON ih_pair_ref (pb, pa);
-- two-column foreign key, only one column indexed: not covered
CREATE TABLE ih_pair_ref2 (id int, pa int, pb int,
                           FOREIGN KEY (pa, pb) REFERENCES ih_pair (a, b));
CREATE INDEX ih_pair_ref2_a ON ih_pair_ref2 (pa);
-- partial index does not cover
CREATE TABLE ih_child_partial (id int, parent_id int REFERENCES ih_parent (id));
CREATE INDEX ih_child_partial_p ON ih_child_partial (parent_id) WHERE id > 0;

SELECT relation, constraint_name, referenced_relation, columns, index_sql
  FROM scale_advisor.fk_without_index
 WHERE relation::text LIKE 'ih\_%'
 ORDER BY 1, 2;

-- duplicates
CREATE TABLE ih_dup (a int, b int, c int, d text);
CREATE INDEX ih_dup_a ON ih_dup (a);
CREATE INDEX ih_dup_a_again ON ih_dup (a);          -- same definition
CREATE INDEX ih_dup_a_b ON ih_dup (a, b);            -- ih_dup_a is its prefix
CREATE INDEX ih_dup_b_desc ON ih_dup (b DESC);       -- different order: not a duplicate of (b)
CREATE INDEX ih_dup_b ON ih_dup (b);
CREATE INDEX ih_dup_c_part ON ih_dup (c) WHERE c > 0; -- different predicate
CREATE INDEX ih_dup_c ON ih_dup (c);
CREATE INDEX ih_dup_hash_a ON ih_dup USING hash (a); -- other access method
CREATE INDEX ih_dup_lower ON ih_dup (lower(d));
CREATE INDEX ih_dup_lower2 ON ih_dup (lower(d));     -- same expression
CREATE INDEX ih_dup_upper ON ih_dup (upper(d));      -- other expression
CREATE UNIQUE INDEX ih_dup_u_c ON ih_dup (c, a);     -- unique: never a prefix duplicate
CREATE UNIQUE INDEX ih_dup_u_c_a_b ON ih_dup (c, a, b);

-- a plain index beside the unique constraint's users_email_key
CREATE TABLE ih_users (id int PRIMARY KEY, email text UNIQUE, name text);
CREATE INDEX ih_users_email ON ih_users (email);
-- and a unique index beside a plain one: the unique one is never reported
CREATE INDEX ih_users_name ON ih_users (name);
CREATE UNIQUE INDEX ih_users_name_u ON ih_users (name);

SELECT relation, index, covered_by, kind
  FROM scale_advisor.duplicate_indexes
 WHERE relation::text LIKE 'ih\_%'
 ORDER BY 2::text, 3::text;

-- invalid: a unique index that failed to build
CREATE TABLE ih_inv (a int);
INSERT INTO ih_inv VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY ih_inv_a ON ih_inv (a);
SELECT relation, index, is_ready, drop_sql
  FROM scale_advisor.invalid_indexes
 WHERE relation::text LIKE 'ih\_%';
-- an invalid index is not reported as unused or duplicate
CREATE INDEX ih_inv_a2 ON ih_inv (a);

-- unused: never scanned, not backing a constraint
CREATE TABLE ih_used (a int, b int);
INSERT INTO ih_used SELECT i, i FROM generate_series(1, 1000) i;
CREATE INDEX ih_used_a ON ih_used (a);
CREATE INDEX ih_unused_b ON ih_used (b);
ANALYZE ih_used;
SET enable_seqscan = off;
SELECT count(*) FROM ih_used WHERE a = 5;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT relation, index, idx_scan, drop_sql
  FROM scale_advisor.unused_indexes
 WHERE relation::text LIKE 'ih\_used%'
 ORDER BY 2::text;
-- worst (largest) first, the size as a person reads it beside the bytes
CREATE INDEX ih_unused_wide ON ih_used ((a::text || repeat('x', 60)));
SELECT index, index_size = pg_size_pretty(index_size_bytes) AS size_readable,
       index_size_bytes > 16384 AS more_than_two_pages
  FROM scale_advisor.unused_indexes
 WHERE relation::text LIKE 'ih\_used%';
DROP INDEX ih_unused_wide;
-- constraint indexes are never reported unused
SELECT count(*) AS constraint_indexes_reported
  FROM scale_advisor.unused_indexes
 WHERE index::text LIKE '%pkey';
-- nor the extension's own indexes (never scanned here)
SELECT count(*) AS extension_indexes_reported
  FROM scale_advisor.unused_indexes
 WHERE schema_name = 'scale_advisor';
SELECT count(*) > 0 AS extension_has_unscanned_indexes
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'scale_advisor'::regnamespace AND NOT i.indisunique
   AND pg_stat_get_numscans(i.indexrelid) = 0;
-- nor the index archiving made on its archive table
CREATE TABLE ih_ev (id int PRIMARY KEY, created_at timestamptz NOT NULL);
INSERT INTO ih_ev SELECT i, now() - i * interval '1 day' FROM generate_series(1, 100) i;
CALL scale_advisor.archive('ih.ih_ev', 'created_at', '30 days');
SELECT count(*) AS archived FROM ih_ev_archive;
SELECT pg_stat_force_next_flush();
SELECT count(*) AS archive_indexes_on_table
  FROM pg_index WHERE indrelid = 'ih_ev_archive'::regclass AND NOT indisunique;
SELECT count(*) AS archive_indexes_reported
  FROM scale_advisor.unused_indexes
 WHERE relation = 'ih_ev_archive'::regclass;
-- since when: the statistics' reset, or the server's start
SELECT count(*) > 0 AS some_rows, bool_and(stats_since IS NOT NULL) AS stats_since_known,
       bool_and(stats_since <= now()) AS stats_since_past
  FROM scale_advisor.unused_indexes;
SELECT pg_stat_reset();
SELECT bool_and(stats_since = (SELECT stats_reset FROM pg_stat_database
                                WHERE datname = current_database())) AS stats_since_is_reset
  FROM scale_advisor.unused_indexes;

RESET search_path;
DROP SCHEMA ih CASCADE;
DROP EXTENSION scale_advisor;
