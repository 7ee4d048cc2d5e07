/*-------------------------------------------------------------------------
 *
 * normalize.h
 *		Statement text normalization (constants replaced by $n) and
 *		parsing a stored text back into a query (src/normalize.c).  No
 *		shared state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_NORMALIZE_H
#define SA_NORMALIZE_H

#include "postgres.h"

#include "compat.h"

extern char *sa_normalize_query(const char *query, int query_loc,
								int *query_len, JumbleState *jstate);
extern bool sa_jumble_has_constants(JumbleState *jstate);

/* sa_parse_statement flags */
#define SA_PARSE_PLAN			0x01	/* as planned: hooks, rules, errors */
#define SA_PARSE_INFER_TYPES	0x02	/* infer the parameter types */

extern void sa_parse_error_position(void *arg);
extern Query *sa_parse_statement(const char *text, Oid **ptypes,
								 int *nparams, int flags);

#endif							/* SA_NORMALIZE_H */
