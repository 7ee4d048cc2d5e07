/*-------------------------------------------------------------------------
 *
 * run_as.c
 *		Running the maintenance work of scale_advisor as the owner of the
 *		table it works on, the way VACUUM, ANALYZE, CREATE INDEX and REFRESH
 *		MATERIALIZED VIEW do.
 *
 * The archiving and partitioning procedures (sql/install/40_archive/,
 * 50_partition/) build their statements in PL/pgSQL and run each one
 * through _owner_exec(rel, query, params...).  It
 *
 *	 - allows the call only to a superuser or to a role that has the
 *	   privileges of the table's owner (has_privs_of_role: a member that
 *	   inherits) and, from PostgreSQL 16, may SET ROLE to it, so running as
 *	   the owner gives the caller nothing it did not have; anyone else gets
 *	   an error that says what to grant;
 *	 - switches to the owner inside a security-restricted operation (no
 *	   SET ROLE, no temporary objects, no cursors WITH HOLD), so that the
 *	   owner's triggers, defaults, index expressions and functions folded by
 *	   the planner run with the owner's rights and never with the caller's;
 *	 - pins search_path to pg_catalog, pg_temp for the statement;
 *	 - runs the statement through SPI with its parameters passed as text
 *	   (the statement casts them), and returns the first column of the first
 *	   row when the statement returns rows (it must be jsonb), otherwise
 *	   {"processed": N}.
 *
 * The user identity and the GUC level are restored on return.  On an error
 * the (sub)transaction abort restores both (AbortSubTransaction and
 * AbortTransaction reset the user id and security context they saved, and
 * AtEOXact_GUC/AtEOSubXact_GUC unwind the GUC nest level), which is what
 * VACUUM and REFRESH MATERIALIZED VIEW rely on as well.
 *
 * No shared state, no locks of its own: the statement takes whatever locks
 * it takes, as the owner, under the caller's lock_timeout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "scale_advisor.h"

PG_FUNCTION_INFO_V1(scale_advisor_owner_exec);
PG_FUNCTION_INFO_V1(scale_advisor_may_maintain);

/* the entry points of the 1.1 SQL definitions (scale_advisor.h) */
SA_SQL_FUNCTION_1_1(scale_advisor_owner_exec_1_1, scale_advisor_owner_exec);
SA_SQL_FUNCTION_1_1(scale_advisor_may_maintain_1_1,
					scale_advisor_may_maintain);

/*
 * The owner of relation relid; an error when there is no such relation.
 */
static Oid
sa_rel_owner(Oid relid)
{
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("The table may have been dropped or renamed since the work was planned.")));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * True when role may do maintenance work on a table owned by owner: a
 * superuser, or a role with the owner's privileges.
 */
bool
sa_may_maintain(Oid role, Oid owner)
{
	if (superuser_arg(role))
		return true;

	/*
	 * From PostgreSQL 16 a grant may give the owner's privileges without the
	 * right to SET ROLE to it (WITH SET FALSE): such a member never had the
	 * owner's role attributes (SUPERUSER, CREATEROLE, BYPASSRLS ...), and
	 * running its statement as the owner would give them.
	 */
	if (!sa_member_can_set_role(role, owner))
		return false;
	return has_privs_of_role(role, owner);
}

/*
 * Refuse unless the current user may do maintenance work on relid; returns
 * the owner of relid.
 */
Oid
sa_check_maintain(Oid relid)
{
	Oid			owner = sa_rel_owner(relid);
	Oid			me = GetUserId();

	if (!sa_may_maintain(me, owner))
	{
		char	   *relname = get_rel_name(relid);
		char	   *nspname = get_namespace_name(get_rel_namespace(relid));
		char	   *ownername = GetUserNameFromId(owner, false);
		char	   *myname = GetUserNameFromId(me, false);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not do maintenance work on table %s",
						myname, quote_qualified_identifier(nspname, relname)),
				 errdetail("scale_advisor runs archiving and partitioning work as the owner of the table (\"%s\"), so only a superuser or a role with the owner's privileges may start it.",
						   ownername),
				 errhint("Run it as the owner of the table, or GRANT %s TO %s.",
						 quote_identifier(ownername), quote_identifier(myname))));
	}
	return owner;
}

/*
 * SQL: scale_advisor._may_maintain(rel regclass, who regrole) is true when
 * who is a superuser or has the privileges of the owner of rel; NULL when
 * rel does not exist any more.
 */
Datum
scale_advisor_may_maintain(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			who = PG_GETARG_OID(1);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		PG_RETURN_NULL();
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	/* a dropped role has no privileges */
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(who)))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(sa_may_maintain(who, owner));
}

/*
 * SQL: scale_advisor._owner_exec(rel regclass, query text,
 * VARIADIC params text[]) runs query as the owner of rel, in a
 * security-restricted operation with search_path pinned (see the header).
 */
Datum
scale_advisor_owner_exec(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *query;
	int			nparams = 0;
	Datum	   *param_values = NULL;
	bool	   *param_nulls = NULL;
	Oid		   *argtypes = NULL;
	char	   *nulls = NULL;
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			rc;
	Datum		result = (Datum) 0;
	bool		result_null = true;
	uint64		processed;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation and query must not be null"),
				 errhint("Pass the table the work is done on and the statement to run.")));
	relid = PG_GETARG_OID(0);
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (!PG_ARGISNULL(2))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(2);
		int			i;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("parameters must be a one-dimensional array"),
					 errhint("Pass each parameter as one text argument.")));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
						  &param_values, &param_nulls, &nparams);
		argtypes = palloc(sizeof(Oid) * Max(nparams, 1));
		nulls = palloc(Max(nparams, 1));
		for (i = 0; i < nparams; i++)
		{
			argtypes[i] = TEXTOID;
			nulls[i] = param_nulls[i] ? 'n' : ' ';
		}
	}

	owner = sa_check_maintain(relid);

	/* become the owner, as ExecRefreshMatView and vacuum_rel do */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args(query, nparams, argtypes, param_values, nulls,
							   false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s",
			 SPI_result_code_string(rc));
	processed = SPI_processed;
	if (SPI_tuptable != NULL && SPI_tuptable->tupdesc->natts >= 1)
	{
		if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != JSONBOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a statement run as the owner must return one jsonb column"),
					 errhint("This is a bug in scale_advisor; please report it with the statement.")));
		if (processed > 0)
		{
			result = SPI_getbinval(SPI_tuptable->vals[0],
								   SPI_tuptable->tupdesc, 1, &result_null);
			if (!result_null)
				result = SPI_datumTransfer(result, false, -1);
		}
	}
	else
	{
		char		buf[64];

		snprintf(buf, sizeof(buf), "{\"processed\": " UINT64_FORMAT "}",
				 processed);
		result = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf));
		result = SPI_datumTransfer(result, false, -1);
		result_null = false;
	}
	SPI_finish();

	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	if (result_null)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
