# test/suites/50-sqlsmith.sh -- random SQL from sqlsmith against a database
# with scale_advisor preloaded and every feature on (sampling rate 1).
#
# Checks: no backend died of a signal, the server still answers, and every
# statement sqlsmith sent is counted in scale_advisor.query_stats: the
# server logs each statement received (log_statement = all) and each error
# with the query id it had (%Q in log_line_prefix; 0 when the statement
# failed before parse analysis gave it one, which the store cannot count, as
# docs/statement-timings.md says).  So for sqlsmith's role:
#   statements received - errors without a query id = calls + errors
# and errors with a query id = the store's errors.
# SA_SMITH_QUERIES (default 2000) and SA_SMITH_TIMEOUT (default 100 s) bound
# the run; SA_SMITH_SEED (default 4242) picks the random queries.
. "$SA_ROOT/test/lib/common.sh"
. "$SA_ROOT/test/reliability/lib.sh"
trap 'rl_result; sa_cluster_stop "$D"' EXIT

D=$SA_WORK/sqlsmith
port=$((20000 + ($$ + 7) % 20000))
nq=${SA_SMITH_QUERIES:-2000}
limit=${SA_SMITH_TIMEOUT:-100}
seed=${SA_SMITH_SEED:-4242}
command -v sqlsmith >/dev/null || { rl_notok "sqlsmith installed"; exit 1; }
sa_cluster_start "$D" "$port" "${SA_ALL_ON[@]}" \
	"log_statement = 'all'" "log_line_prefix = '%m [%p] %u Q=%Q '" \
	"log_min_messages = warning" "log_min_error_statement = panic" \
	"max_connections = 20" "statement_timeout = '2s'" "scale_advisor.max = 20000" \
	|| { rl_notok "cluster started"; exit 1; }
psqlc() { rl_psql "$D" "$port" "$@"; }

# A small schema of our own for sqlsmith to play with, the extension, and a
# role for sqlsmith so that its statements can be told apart.
psqlc -d postgres >/dev/null <<'SQL'
CREATE DATABASE smith;
\c smith
CREATE EXTENSION scale_advisor;
CREATE ROLE smith LOGIN;
CREATE TABLE customers (id int PRIMARY KEY, name text, created timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers,
	amount numeric(10,2), status text, placed date);
CREATE INDEX ON orders (customer_id);
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, payload jsonb, at timestamptz)
	PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO customers SELECT i, 'c' || i, now() - i * interval '1 hour' FROM generate_series(1, 500) i;
INSERT INTO orders (customer_id, amount, status, placed)
	SELECT 1 + i % 500, i % 97, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END, date '2024-01-01' + i % 400
	FROM generate_series(1, 5000) i;
INSERT INTO events (payload, at) SELECT jsonb_build_object('k', i), timestamptz '2024-06-01' + i * interval '1 hour'
	FROM generate_series(1, 2000) i;
CREATE VIEW paid AS SELECT c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id
	WHERE o.status = 'paid';
CREATE FUNCTION order_total(c int) RETURNS numeric LANGUAGE sql STABLE
	AS 'SELECT sum(amount) FROM orders WHERE customer_id = c';
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO smith;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO smith;
ANALYZE;
SQL
[ $? -eq 0 ]; rl_check "schema, extension and role created" $? || exit 1

t0=$(date +%s)
sa_as timeout -s INT "$limit" sqlsmith --target="host=$D port=$port dbname=smith user=smith" \
	--seed="$seed" --max-queries="$nq" --verbose >"$D/sqlsmith.out" 2>&1
rc=$?
echo "sqlsmith exit status $rc after $(( $(date +%s) - t0 )) s"
tail -c 600 "$D/sqlsmith.out" | tr '\r' '\n' | tail -8
# sqlsmith prints "queries: N" (generated and sent) in its final report
sent=$(tr '\r' '\n' < "$D/sqlsmith.out" | sed -n 's/.*queries: \([0-9]*\).*/\1/p' | tail -1)

# Wait until the server answers: a crash would have forced a restart.
alive=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	if psqlc -d smith -Atc 'SELECT 1' >/dev/null 2>&1; then alive=0; break; fi
	sleep 1
done
rl_check "the server still answers after sqlsmith" $alive
n=$(rl_crashes "$D/server.log")
rl_check "no backend crashed or died of a signal" $([ "$n" = 0 ]; echo $?) \
	"$(grep -E 'terminated by signal|exited with exit code|PANIC' "$D/server.log" | head -5)"
# grep's status 1: the log was read and has no restart
grep -q 'all server processes terminated; reinitializing' "$D/server.log"
[ $? = 1 ]
rl_check "no server restart" $?

# Statements received from sqlsmith's role, and its errors by query id.
received=$(grep -cE '^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] smith Q=-?[0-9]+ LOG:  statement: ' "$D/server.log")
err0=$(grep -cE '^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] smith Q=0 ERROR: ' "$D/server.log")
# A syntax error stops a statement before log_statement logs it: such
# errors are not among the statements received.  (sqlsmith writes the
# checklist's column "check", a reserved word, without quotes.)
errsyn=$(grep -cE '^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] smith Q=0 ERROR:  syntax error' "$D/server.log")
errq=$(grep -E '^[0-9-]+ [0-9:.]+ [A-Z]+ \[[0-9]+\] smith Q=-?[0-9]+ ERROR: ' "$D/server.log" | grep -cv ' Q=0 ')
read -r calls errors <<<"$(psqlc -d smith -AtF' ' -c "
	SELECT coalesce(sum(calls), 0), coalesce(sum(errors), 0)
	  FROM scale_advisor.query_stats s
	 WHERE s.userid = 'smith'::regrole AND s.toplevel")"
evict=$(psqlc -d smith -Atc "SELECT evictions FROM scale_advisor.info")
echo "sqlsmith queries: ${sent:-?}; statements received from role smith: $received"
echo "errors before a query id: $err0 (syntax errors, never logged as received: $errsyn); errors with a query id: $errq"
echo "store, role smith, top level: calls $calls, errors $errors; evictions $evict"
if [ -n "$sent" ]; then
	[ "${received:-0}" -ge "$sent" ] && [ "$sent" -gt 100 ]
	rl_check "the log saw every query sqlsmith counted ($sent sent, $received received)" $?
else
	# stopped by the time limit before its report: the log's count stands
	[ "${received:-0}" -gt 500 ]
	rl_check "sqlsmith ran (stopped by the time limit; $received statements received)" $?
fi
# sqlsmith also calls the extension's own functions with random arguments:
# their errors are expected (bad input gets an error); shown for the record.
n=$(grep -E ' smith Q=-?[0-9]+ (ERROR|WARNING): ' "$D/server.log" | grep -ci 'scale_advisor')
echo "errors mentioning scale_advisor (its functions called with random arguments): $n"
grep -E ' smith Q=-?[0-9]+ (ERROR|WARNING): ' "$D/server.log" | grep -i 'scale_advisor' | sed -E 's/.*(ERROR|WARNING): +//' | cut -c1-100 | sort | uniq -c | sort -rn | head -5
[ "$evict" = 0 ]
rl_check "nothing evicted from the store (the count below is exact)" $?
expect=$((received - (err0 - errsyn)))
# Per query id: errors in the log against errors in the store.
grep -E ' smith Q=-?[0-9]+ ERROR: ' "$D/server.log" | grep -v ' Q=0 ' |
	sed -E 's/.* Q=(-?[0-9]+) ERROR: .*/\1/' | sort | uniq -c | awk '{print $2, $1}' | sort > "$D/err.log"
psqlc -d smith -AtF' ' -c "SELECT queryid, sum(errors), sum(calls) FROM scale_advisor.query_stats
	WHERE userid = 'smith'::regrole AND toplevel GROUP BY 1" | sort > "$D/err.store"
join -a1 -a2 -e 0 -o 0,1.2,2.2,2.3 "$D/err.log" "$D/err.store" > "$D/err.joined"
invented=$(awk '$3 > $2' "$D/err.joined" | wc -l)
rl_check "the store counts no error the server did not log ($invented query ids with more)" $([ "$invented" = 0 ]; echo $?)
# Known, reported: an error raised by the query rewriter (after parse
# analysis gave the statement its query id, before planning; e.g. a value
# for a GENERATED ALWAYS identity column) leaves an entry with 0 calls and 0
# errors.  Those are listed and allowed for below.
awk '$2 > $3 && $3 == 0 && $4 == 0 {print $1, $2 - $3}' "$D/err.joined" > "$D/err.rewrite"
rewrite=$(awk '{s += $2} END {print s + 0}' "$D/err.rewrite")
other=$(awk '$2 > $3 && !($3 == 0 && $4 == 0) {s += $2 - $3} END {print s + 0}' "$D/err.joined")
echo "logged errors not counted: $rewrite in statements with 0 calls and 0 errors (rewriter errors, known), $other others"
while read -r q n; do
	grep -m1 -E " smith Q=$q ERROR: " "$D/server.log" | sed -E 's/.* ERROR: +/    /' | cut -c1-110
done < "$D/err.rewrite" | sort | uniq -c | head -5
[ "$other" = 0 ]
rl_check "every other logged error with a query id is counted in the store" $?
# Overall: calls + errors against the statements with a query id.  A
# statement whose execution finished and whose commit then failed is both
# a call and a logged error, so allow a difference of 0.1 %.
got=$((calls + errors + rewrite))
d=$((got - expect)); [ $d -lt 0 ] && d=$((-d))
echo "calls + errors + known uncounted = $got, statements with a query id = $expect (difference $d)"
[ $((d * 1000)) -le "$expect" ] && [ "$expect" -gt 0 ]
rl_check "every statement with a query id is counted (within 0.1 %: $got of $expect)" $?
