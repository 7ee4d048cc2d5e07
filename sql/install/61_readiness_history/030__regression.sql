
-- Statements of the current database whose p95 in the last window is worse
-- than in the baseline before it.
CREATE TYPE @extschema@._regression AS (
	queryid bigint, query text, baseline_calls bigint, baseline_p95_ms numeric,
	window_calls bigint, window_p95_ms numeric, ratio numeric, since timestamptz);
