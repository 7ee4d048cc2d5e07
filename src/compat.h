/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL versions scale_advisor
 *		builds against (14 to 17) lives here, so that no other file needs
 *		a PG_VERSION_NUM test.
 *
 * PostgreSQL 13 has no core query identifier (compute_query_id arrived in
 * 14), and the post-parse-analyze hook gets no jumble state there, so the
 * statement store cannot key its entries the way it does on 14 and later:
 * building for 13 stops here with a clear message.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SA_COMPAT_H
#define SA_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 140000
#error "scale_advisor needs PostgreSQL 14 or later (core query identifiers)"
#endif

/*
 * PostgreSQL 15 moved shared memory requests into shmem_request_hook; on 14
 * they are made directly from _PG_init.
 */
#if PG_VERSION_NUM >= 150000
#define SA_HAVE_SHMEM_REQUEST_HOOK 1
#endif

/* PostgreSQL 15 renamed the call that reserves a GUC prefix. */
#include "utils/guc.h"

#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * N+1 rewrites analyze a statement again with fixed parameter types and
 * deparse the modified tree with pg_get_querydef, which PostgreSQL 15
 * exported (and where parse_fixed_parameters became
 * setup_parse_fixed_parameters).  On 14 no rewrite is built.
 */
#if PG_VERSION_NUM >= 150000
#define SA_HAVE_QUERYDEF 1
#endif

#endif							/* SA_COMPAT_H */
