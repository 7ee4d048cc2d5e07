-- Index advice, part 2: the before/after check (src/advice_outcome.c).  It
-- comes after the readiness history, whose latency histograms
-- (_hist_quantile) it reads.

