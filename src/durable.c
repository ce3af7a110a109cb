/*-------------------------------------------------------------------------
 *
 * durable.c
 *	  Durable high-water marks kept in sequences.
 *
 * A mark is the sequence's last_value, whatever its is_called flag: idgen
 * creates its sequences with last_value one below the first number they
 * cover.  It is moved forward with setval(), which is WAL-logged and not
 * transactional: an abort does not move it back.  durable_advance then
 * flushes that WAL, and waits for synchronous standbys when they are
 * configured (failing if the wait is canceled), before returning, so that
 * whatever the new mark covers may be used at once: no crash, restart or
 * promotion can bring back a lower mark.  idgen never rewrites a sequence
 * once created (ALTER SEQUENCE would give it a new relation file, which a
 * rollback would throw away together with every move made in the same
 * transaction).
 *
 * Sequences are read and set as their owner: callers check the user's own
 * right first (USAGE, as for nextval), while setval needs UPDATE, which
 * users of a generator need not have.
 *
 * Read-modify-write cycles on one sequence are serialised by durable_lock,
 * a ShareUpdateExclusiveLock on it: it conflicts with itself and with
 * ALTER/DROP SEQUENCE, not with readers, nor with the RowExclusiveLock that
 * setval leaves until the end of the transaction.  It is released by
 * durable_unlock as soon as the mark has moved, or held to the end of the
 * transaction by a caller that never calls durable_unlock.
 *
 * idgen's shared memory is not touched here; PostgreSQL's walsenders are
 * read (under their locks) to see whether synchronous standbys confirm.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "replication/syncrep.h"
#include "replication/walsender.h"
#include "replication/walsender_private.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "base.h"
#include "compat.h"
#include "durable.h"

/*
 * durable_lock
 *		Lock a sequence for a read-modify-write; false if it was dropped.
 *		Refuses a sequence that the current transaction gave a new relation
 *		file (ALTER SEQUENCE ... RESTART and the like): a move of its mark
 *		would not survive a rollback.
 */
bool
durable_lock(Oid seqoid)
{
	Relation	rel;
	bool		rewritten;

	LockRelationOid(seqoid, ShareUpdateExclusiveLock);
	rel = try_relation_open(seqoid, NoLock);
	if (rel == NULL || rel->rd_rel->relkind != RELKIND_SEQUENCE)
	{
		if (rel != NULL)
			relation_close(rel, NoLock);
		UnlockRelationOid(seqoid, ShareUpdateExclusiveLock);
		return false;
	}
	rewritten = rel->rd_createSubid == InvalidSubTransactionId &&
		idgen_rel_new_file_subid(rel) != InvalidSubTransactionId;
	relation_close(rel, NoLock);
	if (rewritten)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot move the high-water mark in sequence \"%s\"",
						get_rel_name(seqoid)),
				 errdetail("The current transaction altered the sequence, so a rollback would undo the move."),
				 errhint("Commit the ALTER SEQUENCE first.")));
	return true;
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
 * durable_read
 *		A sequence's mark: its last_value.
 */
int64
durable_read(Oid seqoid)
{
	OwnerContext as_owner;
	char	   *query;
	bool		isnull;
	int64		mark;

	query = psprintf("SELECT last_value FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqoid)),
												get_rel_name(seqoid)));
	idgen_spi_connect_as_owner(seqoid, &as_owner);
	if (SPI_execute(query, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "idgen: could not read sequence %u", seqoid);
	mark = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
	idgen_spi_finish_as_owner(&as_owner);
	pfree(query);
	return mark;
}

/*
 * durable_replicate
 *		Wait until the synchronous standbys, if any, have WAL up to lsn, and
 *		fail unless they confirmed it.  SyncRepWaitForLSN gives up on a
 *		cancel or a shutdown request (with a WARNING, as for a commit), but
 *		a claim that gave up must not be used: another server could be
 *		promoted without it.
 */
static void
durable_replicate(XLogRecPtr lsn)
{
	int			mode;
	bool		confirmed;

	HOLD_INTERRUPTS();
	SyncRepWaitForLSN(lsn, false);
	RESUME_INTERRUPTS();

	if (!SyncRepRequested())
		return;
	/* what SyncRepWaitForLSN waits for, outside a commit */
	mode = synchronous_commit == SYNCHRONOUS_COMMIT_REMOTE_WRITE ?
		SYNC_REP_WAIT_WRITE : SYNC_REP_WAIT_FLUSH;
	LWLockAcquire(SyncRepLock, LW_SHARED);
	confirmed = !idgen_sync_standbys_defined() || WalSndCtl->lsn[mode] >= lsn;
	LWLockRelease(SyncRepLock);
	if (!confirmed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not confirm that the synchronous standbys received the high-water mark"),
				 errdetail("The wait for synchronous replication was canceled; the IDs it covers are not used."),
				 errhint("Retry once the synchronous standbys are connected.")));
}

/*
 * durable_blocked
 *		Why a move of a mark here would wait, or NULL: synchronous standbys
 *		are configured, and fewer of them are connected than must confirm
 *		(a primary cut off from its standbys, as one left running after a
 *		failover is).
 */
const char *
durable_blocked(void)
{
	SyncRepStandbyData *standbys;
	int			n;

	if (RecoveryInProgress())
		return "it is in recovery";
	if (!SyncRepRequested() || SyncRepConfig == NULL)
		return NULL;
	n = SyncRepGetCandidateStandbys(&standbys);
	pfree(standbys);
	if (n >= SyncRepConfig->num_sync)
		return NULL;
	return psprintf("%d of the %d synchronous standbys it waits for %s connected",
					n, SyncRepConfig->num_sync, n == 1 ? "is" : "are");
}

/*
 * durable_advance
 *		Set a sequence's mark, and return only once that is durable (and
 *		replicated to synchronous standbys, if any).
 */
void
durable_advance(Oid seqoid, int64 value)
{
	Oid			argtypes[2] = {REGCLASSOID, INT8OID};
	Datum		args[2];
	OwnerContext as_owner;

	args[0] = ObjectIdGetDatum(seqoid);
	args[1] = Int64GetDatum(value);
	idgen_spi_connect_as_owner(seqoid, &as_owner);
	if (SPI_execute_with_args("SELECT pg_catalog.setval($1, $2, true)",
							  2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not set sequence %u", seqoid);
	idgen_spi_finish_as_owner(&as_owner);

	XLogFlush(XactLastRecEnd);
	durable_replicate(XactLastRecEnd);
}
