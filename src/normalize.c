/*-------------------------------------------------------------------------
 *
 * normalize.c
 *		Owns the normalized statement text: the source text of a statement
 *		with each constant the query jumbler saw replaced by $n, so that
 *		every execution of one query id shows the same text.
 *
 * The jumbler records where each constant starts, not where it ends.  The
 * core SQL scanner gives the end: it is run over the statement once, and
 * for each recorded start the token found there (with a leading minus sign,
 * which the grammar folds into negative numeric constants) is measured.
 * The scanner leaves the current token NUL-terminated in its buffer, so the
 * token's length is the length of that string.
 *
 * Called only when a statement with constants is first stored: never on
 * the per-execution path.  Allocates in the current memory context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/scanner.h"

#include "normalize.h"

/*
 * qsort comparator: constant locations in text order.
 */
static int
cmp_location(const void *a, const void *b)
{
	int			la = ((const LocationLen *) a)->location;
	int			lb = ((const LocationLen *) b)->location;

	return (la > lb) - (la < lb);
}

/*
 * Fill in the length of every constant in locs[] (sorted by location, all
 * relative to query).  A constant that cannot be found keeps length -1 and
 * is left as it is in the text.
 */
static void
measure_constants(const char *query, LocationLen *locs, int n)
{
	core_yyscan_t yyscanner;
	core_yy_extra_type yyextra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			i = 0;

	yyscanner = scanner_init(query, &yyextra, &ScanKeywords, ScanKeywordTokens);
	/* constants are seen as plain tokens: no standard_conforming_strings surprises */
	yyextra.escape_string_warning = false;

	while (i < n)
	{
		int			tok = core_yylex(&yylval, &yylloc, yyscanner);

		if (tok == 0)
			break;
		/* skip constants we already passed (duplicates, or not found) */
		while (i < n && locs[i].location < yylloc)
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
	int			n = jstate->clocations_count;
	LocationLen *locs;
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

	locs = palloc(sizeof(LocationLen) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		locs[i].location = jstate->clocations[i].location - query_loc;
		locs[i].length = -1;
	}
	qsort(locs, n, sizeof(LocationLen), cmp_location);
	measure_constants(stmt, locs, n);

	/* each constant is at least one byte and becomes at most 11 ("$" + int) */
	out = palloc(len + (Size) n * 11 + 1);
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
