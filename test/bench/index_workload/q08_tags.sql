\set t random(1000, 4999)
SELECT id, title FROM documents WHERE tags @> ARRAY['t' || :t::int];
