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
 * PostgreSQL 18 also records $n parameters, left as they are unless a list
 * was squashed, and squashed lists of constants, whose length it gives:
 * they become one $n and a comment (as in pg_stat_statements); see compat.h.
 *
 * Called only when a statement with constants is first stored: never on
 * the per-execution path.  Allocates in the current memory context; no
 * shared state, no lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/scanner.h"

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
