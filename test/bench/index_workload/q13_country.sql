\set c random(1, 250)
SELECT name FROM countries WHERE code = 'C' || :c::int;
