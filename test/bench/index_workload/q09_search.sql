\set w random(5000, 19999)
SELECT id FROM documents WHERE to_tsvector('english', body) @@ plainto_tsquery('english', 'w' || :w::int);
