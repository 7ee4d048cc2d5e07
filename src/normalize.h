/*-------------------------------------------------------------------------
 *
 * normalize.h
 *		Statement text normalization (constants replaced by $n,
 *		src/normalize.c).  No shared state.
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

#endif							/* SA_NORMALIZE_H */
