/*-------------------------------------------------------------------------
 *
 * durable.c
 *	  Durable high-water marks kept in sequences.
 *
 * A high-water mark is moved forward with setval(), which is WAL-logged
 * and non-transactional: an abort does not move it back.  durable_advance
 * then flushes that WAL, and waits for synchronous standbys when they are
 * configured, before returning, so that whatever the new mark covers may
 * be used at once: no crash, restart or promotion can bring back a lower
 * mark.
 *
 * Sequences are read and set as their owner: callers check the user's own
 * right first (USAGE, as for nextval), while setval needs UPDATE, which
 * users of a generator need not have.
 *
 * Read-modify-write cycles on one sequence are serialised by durable_lock,
 * a ShareUpdateExclusiveLock on it: it conflicts with itself and with
 * ALTER/DROP SEQUENCE, not with readers.  It is released by durable_unlock
 * as soon as the mark has moved, not at the end of the transaction.
 *
 * No shared memory is touched here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "replication/syncrep.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "durable.h"

/*
 * durable_lock
 *		Lock a sequence for a read-modify-write; false if it was dropped.
 */
bool
durable_lock(Oid seqoid)
{
	LockRelationOid(seqoid, ShareUpdateExclusiveLock);
	if (SearchSysCacheExists1(SEQRELID, ObjectIdGetDatum(seqoid)))
		return true;
	UnlockRelationOid(seqoid, ShareUpdateExclusiveLock);
	return false;
}

/*
 * durable_unlock
 *		Release durable_lock's lock.
 */
void
durable_unlock(Oid seqoid)
{
	UnlockRelationOid(seqoid, ShareUpdateExclusiveLock);
}

/*
 * as_owner
 *		Switch to the owner of a relation; returns the previous identity
 *		in *save_userid and *save_sec_context.
 */
static void
as_owner(Oid relid, Oid *save_userid, int *save_sec_context)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);

	GetUserIdAndSecContext(save_userid, save_sec_context);
	SetUserIdAndSecContext(owner, *save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

/*
 * durable_read
 *		Read a sequence's bounds and current value.
 */
void
durable_read(Oid seqoid, SeqState *state)
{
	HeapTuple	tuple;
	Oid			save_userid;
	int			save_sec_context;
	char	   *query;
	bool		isnull;

	tuple = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for sequence %u", seqoid);
	state->start = ((Form_pg_sequence) GETSTRUCT(tuple))->seqstart;
	state->max = ((Form_pg_sequence) GETSTRUCT(tuple))->seqmax;
	ReleaseSysCache(tuple);

	query = psprintf("SELECT last_value, is_called FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqoid)),
												get_rel_name(seqoid)));
	as_owner(seqoid, &save_userid, &save_sec_context);
	SPI_connect();
	if (SPI_execute(query, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "idgen: could not read sequence %u", seqoid);
	state->last = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1,
											  &isnull));
	state->is_called = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 2,
												  &isnull));
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	pfree(query);
}

/*
 * durable_advance
 *		Set a sequence's value, and return only once that is durable (and
 *		replicated to synchronous standbys, if any).
 */
void
durable_advance(Oid seqoid, int64 value)
{
	Oid			argtypes[2] = {REGCLASSOID, INT8OID};
	Datum		args[2];
	Oid			save_userid;
	int			save_sec_context;

	args[0] = ObjectIdGetDatum(seqoid);
	args[1] = Int64GetDatum(value);
	as_owner(seqoid, &save_userid, &save_sec_context);
	SPI_connect();
	if (SPI_execute_with_args("SELECT pg_catalog.setval($1, $2, true)",
							  2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not set sequence %u", seqoid);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	XLogFlush(XactLastRecEnd);
	SyncRepWaitForLSN(XactLastRecEnd, false);
}
