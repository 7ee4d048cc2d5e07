-- Scale readiness, part 3: the checklist and the alerts.
--
-- The checklist is one function per check, _check_<name>(), each returning
-- its row(s) ("check", status, value, target, advice); _checklist() reads
-- the statements once and combines the checks with UNION ALL, in the order
-- the checklist shows them.  The checks read the views of the other parts
-- of scale_advisor (index_advice, n_plus_one, unused_indexes, ...) by name:
-- one install script creates them all.

