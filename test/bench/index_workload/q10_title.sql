\set f random(4096, 65535)
SELECT id, title FROM documents WHERE title ILIKE '%' || to_hex(:f::int) || '%';
