/*-------------------------------------------------------------------------
 *
 * base.c
 *	  The base tier: shared settings, the checks every SQL-callable
 *	  function makes, and the helpers several subsystems share.
 *
 * Nothing here calls another idgen file: every subsystem may call down
 * into this one, and idgen.c wires it up like any other (its settings are
 * defined by idgen_define_base_settings).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rangetypes.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "base.h"
#include "compat.h"

int			idgen_max_tags = 1024;
int			idgen_tags_per_backend = 64;
bool		idgen_preloaded = false;
uint64		idgen_xact_stamp = 1;

/*
 * idgen_define_base_settings
 *		Define the settings that several subsystems read; from _PG_init.
 */
void
idgen_define_base_settings(void)
{
	DefineCustomIntVariable("idgen.max_tags",
							"Maximum number of tags in use at once, across all databases.",
							NULL,
							&idgen_max_tags,
							1024,
							1,
							65536,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.tags_per_backend",
							"Maximum number of tags one session holds IDs of at once.",
							"A session that uses one more tag hands the IDs it holds of its least recently used tag back to the tag's pool; one transaction can use at most this many tags.",
							&idgen_tags_per_backend,
							64,
							1,
							65536,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
}

/*
 * idgen_check_preloaded
 *		Raise the user-facing error when the library was not preloaded.
 */
void
idgen_check_preloaded(void)
{
	if (!idgen_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("idgen must be loaded via \"shared_preload_libraries\""),
				 errhint("Add idgen to \"shared_preload_libraries\" in postgresql.conf and restart the server.")));
}

/*
 * idgen_parallel_error
 *		Raise the user-facing error for a call in parallel mode, as
 *		nextval() does (idgen_check_not_parallel in base.h tests for it).
 *		function is the SQL function's name.
 */
void
idgen_parallel_error(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
			 errmsg("cannot execute %s() during a parallel operation",
					function),
			 errhint("Mark the function that calls %s() PARALLEL UNSAFE.",
					 function)));
}

/*
 * idgen_range_datum
 *		An IdRange as an int8range datum: [lo, hi), int8range's canonical
 *		form.
 */
Datum
idgen_range_datum(IdRange r)
{
	TypeCacheEntry *typcache = lookup_type_cache(INT8RANGEOID,
												 TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;

	lower.val = Int64GetDatum(r.lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = Int64GetDatum(r.hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	return RangeTypePGetDatum(idgen_make_range(typcache, &lower, &upper,
											   false));
}

/*
 * idgen_spi_connect_as_owner
 *		Switch to the owner of a relation, with a restricted security
 *		context, and connect to SPI: what runs until
 *		idgen_spi_finish_as_owner runs with the owner's rights, whatever
 *		the caller's.  The previous identity goes into *saved.
 */
void
idgen_spi_connect_as_owner(Oid relid, OwnerContext *saved)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(&saved->save_userid, &saved->save_sec_context);
	SetUserIdAndSecContext(owner, saved->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	SPI_connect();
}

/*
 * idgen_spi_finish_as_owner
 *		Disconnect from SPI and switch back to the identity that
 *		idgen_spi_connect_as_owner saved.
 */
void
idgen_spi_finish_as_owner(const OwnerContext *saved)
{
	SPI_finish();
	SetUserIdAndSecContext(saved->save_userid, saved->save_sec_context);
}

/*
 * idgen_spi_read_latest
 *		Run a read-only query (nargs parameters of types argtypes, values
 *		args, none NULL) with SPI connected, under the latest snapshot: it
 *		sees rows committed after the transaction's snapshot was taken, as
 *		a claim must (a tag's row, the grants held, as last committed).  At
 *		most tcount rows (0: all) go into SPI_tuptable; table names what is
 *		read, for the error.
 */
void
idgen_spi_read_latest(const char *sql, int nargs, Oid *argtypes,
					  Datum *args, long tcount, const char *table)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL ||
		SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false,
							 tcount) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read %s", table);
}

/*
 * idgen_schema_oid
 *		OID of the schema named idgen, or InvalidOid when there is none in
 *		this database.  Whose schema it is is not checked: see
 *		idgen_extension_schema.
 */
Oid
idgen_schema_oid(void)
{
	return get_namespace_oid("idgen", true);
}

/*
 * idgen_seq_schema_oid
 *		OID of the schema of the tags' sequences (IDGEN_SEQ_SCHEMA), or
 *		InvalidOid when the extension is not installed in this database.
 */
Oid
idgen_seq_schema_oid(void)
{
	return get_namespace_oid(IDGEN_SEQ_SCHEMA, true);
}

/*
 * idgen_extension_schema
 *		OID of schema idgen when it belongs to the extension idgen in this
 *		database; InvalidOid otherwise (the extension is not installed here,
 *		or someone else made a schema of that name, whose tables must not be
 *		taken for the extension's).
 */
Oid
idgen_extension_schema(void)
{
	Oid			nsp = idgen_schema_oid();
	Oid			ext = get_extension_oid("idgen", true);

	if (!OidIsValid(nsp) || !OidIsValid(ext) ||
		getExtensionOfObject(NamespaceRelationId, nsp) != ext)
		return InvalidOid;
	return nsp;
}

/*
 * idgen_table_oid
 *		OID of table idgen.name of the extension; an error when there is
 *		none (an extension not yet updated to the version that made it).
 */
Oid
idgen_table_oid(const char *name)
{
	Oid			nsp = idgen_extension_schema();
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table idgen.%s does not exist", name),
				 errhint("Update the extension with ALTER EXTENSION idgen UPDATE.")));
	return relid;
}

/*
 * idgen_array_grow
 *		Make room for more elements of size elsize in *array, which holds
 *		*max of them: doubles *max, to at least min.  An array not yet
 *		allocated (NULL) is allocated in TopMemoryContext; one that is keeps
 *		its memory context.
 */
pg_noinline void
idgen_array_grow(void **array, int *max, Size elsize, int min)
{
	int			newmax = Max(min, *max * 2);

	if (*array == NULL)
		*array = MemoryContextAlloc(TopMemoryContext, newmax * elsize);
	else
		*array = repalloc(*array, newmax * elsize);
	*max = newmax;
}
