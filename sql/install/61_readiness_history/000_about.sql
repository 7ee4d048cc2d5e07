-- Scale readiness, part 2: what the history answers: growth, regressions,
-- capacity at a higher load, and a pgbench script replaying the statement
-- mix.  The model behind capacity() is explained in docs/readiness.md.

