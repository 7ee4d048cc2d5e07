-- Scale readiness, part 3: the checklist and the alerts.
--
-- Views of other parts of scale_advisor (index_advice, n_plus_one,
-- unused_indexes, ...) are looked up when the checks run and read with
-- EXECUTE, so that this file works whichever of them is installed; a check
-- whose source is missing says "not available".

