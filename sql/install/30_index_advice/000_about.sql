-- Index advice from the captured workload, checked by the planner with
-- hypothetical indexes (src/plans.c, src/whatif.c, src/advisor.c).

