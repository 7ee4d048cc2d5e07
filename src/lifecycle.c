/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *		Owns what happens to the extension's schema at DROP EXTENSION.
 *
 * CREATE EXTENSION creates the schema named in the control file
 * (scale_advisor) when it does not exist, but the schema is not a member
 * of the extension, so DROP EXTENSION would leave it behind, empty.  The
 * ProcessUtility hook (hooks.c) asks sa_drop_extension_prepare() before a
 * DROP EXTENSION runs whether it drops scale_advisor, and when it has,
 * sa_drop_extension_finish() drops the schema too, if nothing is left in
 * it (no object depends on it) and it belongs to the role that owned the
 * extension (CREATE EXTENSION gives the schema it creates to that role).
 * A schema holding anything else is left alone.  Without the preloaded
 * library the hook is absent and the schema stays: DROP SCHEMA removes it.
 *
 * Locking: nothing of its own; the catalog rows are read after the DROP
 * itself, in the same transaction, and the schema is dropped with the
 * usual deletion locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "compat.h"
#include "scale_advisor.h"

/* the owner and schema of an extension (InvalidOid when it is gone) */
static void
extension_owner_schema(Oid extoid, Oid *owner, Oid *nspoid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	*owner = InvalidOid;
	*nspoid = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
		*nspoid = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Before a utility statement: true, with *info filled, when it is a DROP
 * EXTENSION that names scale_advisor and the extension exists.
 */
bool
sa_drop_extension_prepare(Node *parsetree, SaDropInfo *info)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (!IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *obj = (Node *) lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "scale_advisor") == 0)
		{
			info->extoid = get_extension_oid("scale_advisor", true);
			if (!OidIsValid(info->extoid))
				return false;
			extension_owner_schema(info->extoid, &info->owner, &info->nspoid);
			return OidIsValid(info->nspoid) && OidIsValid(info->owner);
		}
	}
	return false;
}

/* true when some object depends on the namespace (lives in it) */
static bool
namespace_in_use(Oid nspoid)
{
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;
	bool		used;

	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nspoid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	used = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return used;
}

/*
 * After the DROP EXTENSION prepared above returned: drop the extension's
 * schema when the extension is gone and the schema is empty and belongs
 * to the extension's owner.
 */
void
sa_drop_extension_finish(const SaDropInfo *info)
{
	HeapTuple	tup;
	Oid			nspowner;
	ObjectAddress addr;

	CommandCounterIncrement();
	if (OidIsValid(get_extension_oid("scale_advisor", true)))
		return;					/* DROP EXTENSION IF EXISTS of another, ... */
	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(info->nspoid));
	if (!HeapTupleIsValid(tup))
		return;					/* dropped with the extension (CASCADE) */
	nspowner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	if (nspowner != info->owner || IsCatalogNamespace(info->nspoid) ||
		info->nspoid == PG_PUBLIC_NAMESPACE ||
		namespace_in_use(info->nspoid))
		return;
	ObjectAddressSet(addr, NamespaceRelationId, info->nspoid);
	performDeletion(&addr, DROP_RESTRICT, 0);
}

/* schema of an installed extension, or InvalidOid */
Oid
sa_extension_schema(const char *name)
{
	Oid			ext = get_extension_oid(name, true);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	if (!OidIsValid(ext))
		return InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}
