-- Scale readiness, part 1: thresholds, statement history, snapshots.
--
-- Thresholds are rows of scale_advisor.thresholds (only the ones a user
-- changed; the defaults live in _threshold_defaults()), read through
-- _t(name).  Snapshots copy the latency histograms that src/snapshot.c
-- keeps per statement, the database totals and the sizes of the largest
-- tables into the snapshot tables, from which the growth, regressions and
-- capacity views are computed.

