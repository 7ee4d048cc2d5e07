/*-------------------------------------------------------------------------
 *
 * normalize.c
 *		Owns the normalized statement text: the source text of a statement
 *		with each constant the query jumbler saw replaced by $n, so that
 *		every execution of one query id shows the same text; and the one
 *		way such a text is parsed back into a query tree
 *		(sa_parse_statement), for index advice and for N+1 rewrites.
 *
 * The jumbler records where each constant starts, not where it ends.  The
 * core SQL scanner gives the end: it is run over the statement once, and
 * for each recorded start the token found there (with a leading minus sign,
 * which the grammar folds into negative numeric constants) is measured.
 * The scanner leaves the current token NUL-terminated in its buffer, so the
 * token's length is the length of that string.
 *
 * PostgreSQL 18 also records $n parameters, left as they are unless a list
 * was squashed, and squashed lists of constants, whose length it gives:
 * they become one $n and a comment (as in pg_stat_statements); see compat.h.
 *
 * Normalizing is called only when a statement with constants is first
 * stored; parsing only when advice or a rewrite is built: never on the
 * per-execution path.  Allocates in the current memory context; no shared
 * state, no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "tcop/tcopprot.h"

#include "normalize.h"

/* what follows the $n of a squashed list, as in pg_stat_statements */
#define SA_SQUASHED_MARK " /*, ... */"

/* One place of the text to replace by $n. */
typedef struct SaConstLoc
{
	int			location;		/* offset in the statement */
	int			length;			/* bytes, or -1 when not found */
	bool		squashed;		/* a squashed list (length given) */
} SaConstLoc;

/*
 * qsort comparator: constant locations in text order.
 */
static int
cmp_location(const void *a, const void *b)
{
	int			la = ((const SaConstLoc *) a)->location;
	int			lb = ((const SaConstLoc *) b)->location;

	return (la > lb) - (la < lb);
}

/*
 * Fill in the length of every constant in locs[] (sorted by location, all
 * relative to query).  A constant that cannot be found keeps length -1 and
 * is left as it is in the text.  Squashed lists come measured.
 */
static void
measure_constants(const char *query, SaConstLoc *locs, int n)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			i = 0;

	yyscanner = scanner_init(query, &yyextra, &ScanKeywords, ScanKeywordTokens);

	/*
	 * constants are seen as plain tokens: no standard_conforming_strings
	 * surprises
	 */
	yyextra.escape_string_warning = false;

	while (i < n)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);

		if (tok == 0)
			break;

		/*
		 * skip constants we already passed (duplicates, or not found), and
		 * squashed lists, measured already
		 */
		while (i < n && (locs[i].squashed || locs[i].location < yylloc))
			i++;
		if (i >= n)
			break;
		if (yylloc == locs[i].location)
		{
			int			start = yylloc;

			if (tok == '-')
			{
				/* negative constant: measure through the number */
				tok = core_yylex(&yylval, &yylloc, yyscanner);
				if (tok == 0)
					break;
			}
			locs[i].length = (yylloc - start) + (int) strlen(yyextra.scanbuf + yylloc);
			i++;
		}
	}
	scanner_finish(yyscanner);
}

/*
 * Normalized text of the statement at query + query_loc of *query_len bytes
 * (already cleaned by CleanQuerytext).  The constants' locations in jstate
 * are relative to the whole source string.  Returns a palloc'd string and
 * sets *query_len to its length.
 */
char *
sa_normalize_query(const char *query, int query_loc, int *query_len,
				   JumbleState *jstate)
{
	int			len = *query_len;
	int			n = 0;
	SaConstLoc *locs;
	char	   *stmt;
	char	   *out;
	int			outlen = 0;
	int			pos = 0;
	int			param = jstate->highest_extern_param_id;
	int			i;

	/* the statement alone, NUL-terminated, for the scanner */
	stmt = palloc(len + 1);
	memcpy(stmt, query + query_loc, len);
	stmt[len] = '\0';

	locs = palloc(sizeof(SaConstLoc) * Max(jstate->clocations_count, 1));
	for (i = 0; i < jstate->clocations_count; i++)
	{
		/* a $n of the source stays unless lists were squashed */
		if (sa_jumble_loc_is_param(jstate, i) &&
			!sa_jumble_has_squashed(jstate))
			continue;
		locs[n].location = jstate->clocations[i].location - query_loc;
		locs[n].squashed = sa_jumble_loc_squashed(jstate, i);
		locs[n].length = locs[n].squashed ? jstate->clocations[i].length : -1;
		n++;
	}
	qsort(locs, n, sizeof(SaConstLoc), cmp_location);
	measure_constants(stmt, locs, n);

	/*
	 * each constant is at least one byte and becomes at most 11 ("$" + int)
	 * plus the comment of a squashed list
	 */
	out = palloc(len + (Size) n * (11 + sizeof(SA_SQUASHED_MARK)) + 1);
	for (i = 0; i < n; i++)
	{
		int			loc = locs[i].location;
		char		digits[12];
		int			nd = 0;
		unsigned int v;

		if (locs[i].length < 0 || loc < pos || loc + locs[i].length > len)
			continue;
		memcpy(out + outlen, stmt + pos, loc - pos);
		outlen += loc - pos;
		out[outlen++] = '$';
		v = (unsigned int) ++param;
		do
		{
			digits[nd++] = '0' + v % 10;
			v /= 10;
		} while (v > 0);
		while (nd > 0)
			out[outlen++] = digits[--nd];
		if (locs[i].squashed)
		{
			memcpy(out + outlen, SA_SQUASHED_MARK, strlen(SA_SQUASHED_MARK));
			outlen += strlen(SA_SQUASHED_MARK);
		}
		pos = loc + locs[i].length;
	}
	memcpy(out + outlen, stmt + pos, len - pos);
	outlen += len - pos;
	out[outlen] = '\0';

	pfree(stmt);
	pfree(locs);
	*query_len = outlen;
	return out;
}

/*
 * Does the jumbled statement have constants to replace (not counting the
 * $n parameters PostgreSQL 18 records)?
 */
bool
sa_jumble_has_constants(JumbleState *jstate)
{
	int			i;

	if (sa_jumble_has_squashed(jstate))
		return true;
	for (i = 0; i < jstate->clocations_count; i++)
		if (!sa_jumble_loc_is_param(jstate, i))
			return true;
	return false;
}

/* ----------------------------------------------------------------
 * Parsing a stored text back
 * ----------------------------------------------------------------
 */

/*
 * Error context while a text (arg) is parsed: a syntax error's position is
 * a position in that text, not in the query that called the function, so
 * it is reported as an internal query (as errors in the body of an SQL
 * function are).
 */
void
sa_parse_error_position(void *arg)
{
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery((const char *) arg);
	}
}

/*
 * Parse and analyze one statement text with its parameter types.
 *
 * SA_PARSE_PLAN gives the query the server would plan: the analysis hooks
 * run (they set the query id that index advice matches against the captured
 * one), a PREPARE ... AS text gives its inner statement, rules are applied,
 * and a text that is not one SELECT, INSERT, UPDATE or DELETE is an error.
 * Without it the query is the tree as written, for deparsing into a
 * rewrite: no hook runs (nothing is recorded for a text the server never
 * ran) and no rule is applied, and such a text gives NULL.
 *
 * With SA_PARSE_INFER_TYPES the parameter types are inferred and returned
 * through *ptypes and *nparams (which must then be allocated with palloc);
 * otherwise they are fixed by them.  Any other error (a syntax error, a
 * dropped table) is raised: callers that must not fail catch it.
 */
Query *
sa_parse_statement(const char *text, Oid **ptypes, int *nparams, int flags)
{
	bool		plan = (flags & SA_PARSE_PLAN) != 0;
	ErrorContextCallback errcb;
	List	   *raw;
	RawStmt    *rs;
	Query	   *q;

	errcb.callback = sa_parse_error_position;
	errcb.arg = (void *) text;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	raw = raw_parser(text, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
	{
		error_context_stack = errcb.previous;
		if (!plan)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("statement text must hold exactly one statement"),
				 errhint("Pass a single SELECT, INSERT, UPDATE or DELETE.")));
	}
	rs = linitial_node(RawStmt, raw);

	if (plan)
	{
		List	   *queries;

		/* a statement captured through PREPARE ... AS: plan the inner one */
		if (IsA(rs->stmt, PrepareStmt))
			rs->stmt = ((PrepareStmt *) rs->stmt)->query;
		if (flags & SA_PARSE_INFER_TYPES)
			queries = pg_analyze_and_rewrite_varparams(rs, text, ptypes,
													   nparams, NULL);
		else
			queries = pg_analyze_and_rewrite_fixedparams(rs, text, *ptypes,
														 *nparams, NULL);
		error_context_stack = errcb.previous;
		if (list_length(queries) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("statement is rewritten into %d statements",
							list_length(queries)),
					 errhint("Pass a statement on a table without DO ALSO or DO INSTEAD rules.")));
		q = linitial_node(Query, queries);
		if (q->commandType == CMD_UTILITY)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("only SELECT, INSERT, UPDATE and DELETE can be planned"),
					 errhint("Pass the statement the index should speed up.")));
		return q;
	}
	else
	{
		ParseState *pstate = make_parsestate(NULL);

		pstate->p_sourcetext = text;
		if (flags & SA_PARSE_INFER_TYPES)
			setup_parse_variable_parameters(pstate, ptypes, nparams);
		else if (*nparams > 0)
			setup_parse_fixed_parameters(pstate, *ptypes, *nparams);
		q = transformTopLevelStmt(pstate, rs);
		if (flags & SA_PARSE_INFER_TYPES)
			check_variable_parameters(pstate, q);
		free_parsestate(pstate);
		error_context_stack = errcb.previous;
		if ((q->commandType != CMD_SELECT && q->commandType != CMD_UPDATE &&
			 q->commandType != CMD_DELETE && q->commandType != CMD_INSERT) ||
			q->utilityStmt != NULL)
			return NULL;
		return q;
	}
}
