\set h random(24, 1440)
SELECT kind, count(*) FROM events WHERE ts >= now() - :h::int * interval '1 hour' AND ts < now() - (:h::int - 24) * interval '1 hour' GROUP BY kind;
