\set v random(0, 999)
\set k random(0, 19)
INSERT INTO events (ts, kind, account_id, payload, pad) VALUES (now(), :k, 1 + :v, jsonb_build_object('type', 'view', 'v', :v), repeat('x', 80));
