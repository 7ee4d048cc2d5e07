/*-------------------------------------------------------------------------
 *
 * privs.c
 *		Owns the rules that decide what a role may see of other roles'
 *		statements, and the check that guards the monitoring views.
 *
 * The security model (docs/security.md) has three rules that every view and
 * function applies the same way:
 *
 * - A role "may read all statistics" when it is a superuser or has the
 *   privileges of pg_read_all_stats (members of pg_monitor do): it sees the
 *   texts and query ids of every role's statements, as in
 *   pg_stat_statements.  Other roles see only their own.  Every view and
 *   function over statements takes sa_reader() once and tests each row
 *   with sa_reader_sees() (scale_advisor.h).
 * - Parameter values and other example values of a statement are shown
 *   only to the role that ran it and to superusers.
 * - The readiness, hygiene and maintenance-status views are for monitoring:
 *   a role that may not read all statistics gets an error whose hint names
 *   the grant, raised by _require_stats_reader() inside the view.
 *
 * Nothing here takes a lock or touches shared memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "scale_advisor.h"

PG_FUNCTION_INFO_V1(scale_advisor_require_stats_reader);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_require_stats_reader_1_1,
					scale_advisor_require_stats_reader);

/*
 * May role see the texts and query ids of every role's statements?
 */
bool
sa_may_read_all_stats(Oid roleid)
{
	return superuser_arg(roleid) ||
		has_privs_of_role(roleid, ROLE_PG_READ_ALL_STATS);
}

/*
 * The current user as a reader of statement-level rows (see
 * scale_advisor.h): all of them when want_all and it may read all
 * statistics, else its own.
 */
SaReader
sa_reader(bool want_all)
{
	SaReader	r;

	r.me = GetUserId();
	r.all = want_all && sa_may_read_all_stats(r.me);
	return r;
}

/*
 * May reader see the parameter values of a statement that owner ran?
 */
bool
sa_may_see_values(Oid reader, Oid owner)
{
	return reader == owner || superuser_arg(reader);
}

/*
 * SQL: scale_advisor._require_stats_reader(what) returns true when the
 * current user may read all statistics, else raises insufficient_privilege
 * with a hint naming the grant.  The monitoring views use it as a one-time
 * filter.
 */
Datum
scale_advisor_require_stats_reader(PG_FUNCTION_ARGS)
{
	sa_require_stats_reader(PG_ARGISNULL(0) ? "this view" :
							text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_BOOL(true);
}

/*
 * Raise insufficient_privilege, with a hint naming the grant, unless the
 * current user may read all statistics; what names the view refused.
 */
void
sa_require_stats_reader(const char *what)
{
	Oid			me = GetUserId();

	if (!sa_may_read_all_stats(me))
	{
		char	   *role = GetUserNameFromId(me, false);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read %s", what),
				 errdetail("Only superusers and roles with the privileges of pg_read_all_stats (such as members of pg_monitor) may read the server-wide monitoring views of scale_advisor."),
				 errhint("Ask an administrator to run: GRANT pg_monitor TO %s;",
						 quote_identifier(role))));
	}
}
