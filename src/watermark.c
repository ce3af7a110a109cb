/*-------------------------------------------------------------------------
 *
 * watermark.c
 *	  idgen.watermark(tag) for ordered tags: the largest ID w such that
 *	  every ID <= w of the tag that will ever be committed is committed
 *	  already, and visible to every snapshot taken after the call returns.
 *	  A reader polling a table by key ("WHERE id > last AND id <= w", in a
 *	  later statement) never misses a row.
 *
 * The argument.  An ID that may still reach a committed row is, at any
 * moment, in one of four places:
 *	1. the pool: not yet handed out (pool.c tells the lowest such ID);
 *	2. a backend's chunk, cached but not yet issued ([next, end));
 *	3. drawn by a transaction still in progress in some backend;
 *	4. drawn by a prepared transaction, not yet committed or rolled back.
 * The watermark is one below the lowest ID of all four.  What makes that
 * sound:
 *	- An ordered tag has locality (cache.c): backends take IDs only from
 *	  the front of the pool's shared chunk, and what comes back below the
 *	  front is never issued again; a backend's IDs increase; and at the end
 *	  of each transaction (commit, abort, prepare) a backend hands the rest
 *	  of its chunk back (into the front if nobody drew after it, skipped
 *	  otherwise), so no backend keeps IDs across transactions.
 *	- (3) At its first draw of the tag in a transaction, a backend
 *	  publishes its chunk's "next" as the transaction's floor, before the
 *	  first ID is returned; if the chunk is empty, the floor is "none yet"
 *	  (PG_INT64_MAX) until the refill lowers it to the first ID taken,
 *	  while still holding the pool lock (pool_take_front).  Every ID the
 *	  transaction draws is >= floor.  It
 *	  clears the floor in XACT_EVENT_COMMIT, which runs after
 *	  ProcArrayEndTransaction: by then the commit is visible to every new
 *	  snapshot.  On abort it clears it after reclaim has rewound the chunk
 *	  (its transaction callback runs after reclaim's; cache_init registers
 *	  them in that order) and after the rest went back to the pool.
 *	- (4) In XACT_EVENT_PRE_PREPARE the floor is copied, with the
 *	  transaction's xid, into the slot's list of prepared floors, before the
 *	  backend clears its own; an entry holds until its xid is no longer in
 *	  progress (COMMIT PREPARED removes it from the proc array only once the
 *	  commit is visible).  Prepared transactions that survived a restart
 *	  are not in the list: while any of them exists in the database, the
 *	  watermark does not move.
 *	- (1) and (2) are read under the pool lock held exclusive
 *	  (pool_watermark), so no backend is between taking IDs from the pool
 *	  and publishing them; a chunk's fields read without a lock may be a
 *	  moment stale, which only ever lowers the result ("next" only grows,
 *	  except by reclaim's rewind, which the floor covers).
 *	- A tag whose start was raised gets a new slot generation while its
 *	  older transactions may still commit: floors (open and prepared) of
 *	  every generation of the slot count.
 *	- A result is safe for good: no ID at or below it is handed out later.
 *	  So each slot keeps the last result, which is returned whenever the
 *	  lowest ID of (1) is not known (a claim under way with the pool empty,
 *	  no region since the server started: then the sequence's mark is used
 *	  once no claim runs and nothing is cached), and never goes back.
 *	- After a crash nothing issued before it can commit any more, except
 *	  prepared transactions (above): a restarted server's watermark is the
 *	  tag's high-water mark.
 * Not covered: next_id_range blocks (refused on ordered tags), and readers
 * on a standby (the function is refused during recovery).
 *
 * Locking protocol:
 *	- watermark_locks[i] (named tranche "idgen watermarks", exclusive)
 *	  protects watermarks[i]: the last result and the prepared floors.  A
 *	  reader takes it, then the pool lock of slot i through pool_watermark
 *	  (never the other way round); a preparing backend takes it alone.
 *	- A BackendChunk's floor is written by its owner only, read here
 *	  without a lock (with the barriers described above).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "cache.h"
#include "durable.h"
#include "idgen.h"
#include "pool.h"
#include "slot.h"
#include "tag.h"
#include "watermark.h"

PG_FUNCTION_INFO_V1(idgen_watermark);
PG_FUNCTION_INFO_V1(idgen_watermark_holders);

#define WATERMARK_TRANCHE	"idgen watermarks"

/* an ordered tag's IDs held by a prepared transaction */
typedef struct PreparedFloor
{
	TransactionId xid;
	int64		floor;
} PreparedFloor;

/* per tag slot; see the locking protocol above */
typedef struct WatermarkSlot
{
	uint32		generation;		/* slot generation the contents belong to */
	int64		last;			/* last result, safe for good */
	int			nprepared;
	PreparedFloor prepared[FLEXIBLE_ARRAY_MEMBER];	/* max_prepared_xacts */
} WatermarkSlot;

static char *watermarks = NULL;
static LWLockPadded *watermark_locks = NULL;

/* slots whose chunk holds a floor of this backend's open transaction */
static int *floored = NULL;
static int	nfloored = 0;

/*
 * watermark_slot_size
 *		Bytes of one WatermarkSlot.
 */
static Size
watermark_slot_size(void)
{
	return MAXALIGN(add_size(offsetof(WatermarkSlot, prepared),
							 mul_size(sizeof(PreparedFloor),
									  max_prepared_xacts)));
}

/*
 * watermark_shmem_request
 *		Ask for the slots' memory and one LWLock per tag slot.
 */
void
watermark_shmem_request(void)
{
	RequestAddinShmemSpace(mul_size(watermark_slot_size(), idgen_max_tags));
	RequestNamedLWLockTranche(WATERMARK_TRANCHE, idgen_max_tags);
}

/*
 * watermark_shmem_startup
 *		Attach to (and, the first time, initialise) the slots.  Called with
 *		AddinShmemInitLock held.
 */
void
watermark_shmem_startup(void)
{
	Size		size = mul_size(watermark_slot_size(), idgen_max_tags);
	bool		found;

	watermarks = ShmemInitStruct("idgen watermarks", size, &found);
	watermark_locks = GetNamedLWLockTranche(WATERMARK_TRANCHE);
	if (!found)
		memset(watermarks, 0, size);
}

/*
 * watermark_lock
 *		Lock the watermark state of slot index for generation, emptying it
 *		if it belongs to an older one.  NULL, without the lock, when the
 *		slot has moved on.
 */
static WatermarkSlot *
watermark_lock(int index, uint32 generation)
{
	WatermarkSlot *ws = (WatermarkSlot *)
		(watermarks + (Size) index * watermark_slot_size());
	bool		stale;

	if (!slot_lock_state(&watermark_locks[index].lock, index, generation,
						 &ws->generation, &stale))
		return NULL;
	/* prepared floors stay: a reset tag's transactions may still commit */
	if (stale)
		ws->last = 0;
	return ws;
}

/*
 * watermark_note
 *		First draw of an ordered tag in this transaction: publish the floor
 *		of what the transaction draws, before any ID is returned, and
 *		remember to clear it when the transaction ends.
 */
void
watermark_note(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;

	int			i;

	/* again in the same transaction (SET ROLE): the floor stays */
	if (c->floor != 0)
		return;
	if (floored == NULL)
		floored = MemoryContextAlloc(TopMemoryContext,
									 sizeof(int) * idgen_max_tags);
	for (i = 0; i < nfloored && floored[i] != lt->slot; i++)
		;
	if (i == nfloored)
		floored[nfloored++] = lt->slot;
	c->floor = c->next < c->end ? c->next : PG_INT64_MAX;
	pg_write_barrier();
}

/*
 * prune_prepared
 *		Forget the prepared floors whose transaction has finished, and
 *		return the lowest of the others (PG_INT64_MAX if none).  Caller
 *		holds the slot's lock.
 */
static int64
prune_prepared(WatermarkSlot *ws)
{
	int64		lowest = PG_INT64_MAX;
	int			i;

	for (i = 0; i < ws->nprepared;)
	{
		if (TransactionIdIsInProgress(ws->prepared[i].xid))
			lowest = Min(lowest, ws->prepared[i++].floor);
		else
			ws->prepared[i] = ws->prepared[--ws->nprepared];
	}
	return lowest;
}

/*
 * register_prepared
 *		The transaction is being prepared: its floors go to the slots' lists
 *		of prepared floors, with its xid.
 */
static void
register_prepared(void)
{
	TransactionId xid = GetTopTransactionId();
	int			i;

	for (i = 0; i < nfloored; i++)
	{
		BackendChunk *c = cache_chunk(floored[i]);
		WatermarkSlot *ws = watermark_lock(floored[i], c->generation);

		if (ws == NULL)
			continue;			/* the tag was dropped or reset */
		/* entries of finished transactions go when room is needed */
		if (ws->nprepared == max_prepared_xacts)
			prune_prepared(ws);
		if (ws->nprepared == max_prepared_xacts)
		{
			LWLockRelease(&watermark_locks[floored[i]].lock);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many prepared transactions hold IDs of an ordered tag"),
					 errhint("Commit or roll back prepared transactions first.")));
		}
		ws->prepared[ws->nprepared].xid = xid;
		ws->prepared[ws->nprepared].floor = c->floor;
		ws->nprepared++;
		LWLockRelease(&watermark_locks[floored[i]].lock);
	}
}

/*
 * clear_floors
 *		The transaction ended (its commit visible, its abort undone, or it
 *		was prepared): hand the rest of each chunk back, then clear the
 *		floors.  Raises no error.
 */
static void
clear_floors(void)
{
	int			i;

	for (i = 0; i < nfloored; i++)
	{
		BackendChunk *c = cache_chunk(floored[i]);

		cache_give_back_tail(floored[i]);
		pg_write_barrier();
		c->floor = 0;
	}
	nfloored = 0;
}

/*
 * watermark_xact_callback
 *		Top-level transaction events; runs after reclaim's (see the header
 *		comment).
 */
static void
watermark_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			register_prepared();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			clear_floors();
			break;
		default:
			break;
	}
}

/*
 * watermark_register
 *		Install the transaction callback; once per backend, before reclaim
 *		installs its own (callbacks run newest first).
 */
void
watermark_register(void)
{
	RegisterXactCallback(watermark_xact_callback, NULL);
}

/* what a reader gathers of the backends' chunks */
typedef struct ChunkScan
{
	int			index;
	uint32		generation;
	int64		lowest;			/* lowest ID a backend may still commit */
} ChunkScan;

/*
 * scan_chunks
 *		pool_watermark's callback: the lowest floor and cached ID of the
 *		backends' chunks of the slot.
 */
static void
scan_chunks(void *arg)
{
	ChunkScan  *scan = (ChunkScan *) arg;
	int			b;

	for (b = 0; b < MaxBackends; b++)
	{
		BackendChunk c;
		pid_t		pid;

		if (!cache_read_chunk(b, scan->index, &pid, &c))
			continue;
		/* also a floor of an older generation: the tag may have been reset */
		if (c.floor > 0)
			scan->lowest = Min(scan->lowest, c.floor);
		if (c.generation == scan->generation && c.next < c.end)
			scan->lowest = Min(scan->lowest, c.next);
	}
}

/*
 * prepared_before_start
 *		Whether this database has prepared transactions from before the
 *		server started, whose floors are not known.  No new one can appear,
 *		so once there are none the question is not asked again.
 */
static bool
prepared_before_start(void)
{
	static bool none_left = false;
	bool		found;

	if (none_left)
		return false;
	SPI_connect();
	if (SPI_execute("SELECT FROM pg_catalog.pg_prepared_xacts"
					" WHERE database OPERATOR(pg_catalog.=) pg_catalog.current_database()"
					" AND prepared OPERATOR(pg_catalog.<) pg_catalog.pg_postmaster_start_time()"
					" LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read pg_prepared_xacts");
	found = SPI_processed > 0;
	SPI_finish();
	none_left = !found;
	return found;
}

/*
 * attach_ordered
 *		Look up an ordered tag for the watermark functions and attach its
 *		slot.
 */
static int
attach_ordered(text *tag, TagInfo *info, uint32 *generation)
{
	NameData	name;
	SubTransactionId created;

	idgen_check_preloaded();
	tag_check_name(tag, &name);
	created = tag_lookup(&name, info);
	if (info->kind != TAG_SEGMENT || !info->ordered)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tag \"%s\" is not ordered", NameStr(name)),
				 errdetail("Only the IDs of an ordered segment tag are tracked until they commit."),
				 errhint("Use idgen.alter_tag('%s', ordered => true).",
						 NameStr(name))));
	if (!tag_may_monitor(info->seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tag \"%s\"", NameStr(name)),
				 errhint("Grant SELECT or USAGE on sequence %s.%s to the role.",
						 IDGEN_SEQ_SCHEMA, quote_identifier(NameStr(name)))));
	return slot_attach(info->seqoid, &name, created, generation);
}

/*
 * idgen_watermark
 *		watermark(tag): see the header comment.
 */
Datum
idgen_watermark(PG_FUNCTION_ARGS)
{
	TagInfo		info;
	uint32		generation;
	int			index;
	int64		mark;
	bool		held;
	ChunkScan	scan;
	int64		floor;
	WatermarkSlot *ws;
	int64		result;

	idgen_check_not_parallel("idgen.watermark");
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot compute a watermark during recovery"),
				 errdetail("Only the primary knows which IDs are still in flight."),
				 errhint("Call idgen.watermark() on the primary.")));

	index = attach_ordered(PG_GETARG_TEXT_PP(0), &info, &generation);
	/* read before the locks: used only if no claim ran since (below) */
	mark = durable_read(info.seqoid);
	held = prepared_before_start();

	ws = watermark_lock(index, generation);
	scan.index = index;
	scan.generation = generation;
	scan.lowest = PG_INT64_MAX;
	if (ws != NULL &&
		!pool_watermark(index, generation, &floor, scan_chunks, &scan))
	{
		LWLockRelease(&watermark_locks[index].lock);
		ws = NULL;
	}
	if (ws == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" was dropped", NameStr(info.name))));

	/* prepared transactions hold their floors until they finish */
	scan.lowest = Min(scan.lowest, prune_prepared(ws));

	/*
	 * No region installed since the server started, and no claim under way:
	 * nothing above the mark read before the locks has been handed out (a
	 * claim since would have installed a region, or still be under way).
	 */
	if (floor == POOL_FLOOR_NONE_YET)
		floor = mark + 1;

	result = ws->last;
	if (!held && floor != POOL_FLOOR_UNKNOWN)
		result = Max(result, Min(floor, scan.lowest) - 1);
	ws->last = result;
	LWLockRelease(&watermark_locks[index].lock);
	PG_RETURN_INT64(result);
}

/*
 * idgen_watermark_holders
 *		One row per backend transaction and prepared transaction that holds
 *		back the watermark of a tag of this database the current role may
 *		monitor: the lowest ID it may still commit.
 */
Datum
idgen_watermark_holders(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			index;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);

	for (index = 0; index < idgen_max_tags; index++)
	{
		NameData	tag;
		Oid			seqoid;
		uint32		generation;
		WatermarkSlot *ws;
		Datum		values[4];
		bool		nulls[4];
		int			b;
		int			i;

		if (!slot_describe(index, &tag, &seqoid, &generation) ||
			!tag_may_monitor(seqoid))
			continue;
		for (b = 0; b < MaxBackends; b++)
		{
			BackendChunk c;
			pid_t		pid;

			if (!cache_read_chunk(b, index, &pid, &c) ||
				c.generation != generation || c.floor == 0 ||
				c.floor == PG_INT64_MAX)
				continue;
			memset(nulls, 0, sizeof(nulls));
			values[0] = CStringGetTextDatum(NameStr(tag));
			values[1] = Int32GetDatum(pid);
			nulls[2] = true;
			values[3] = Int64GetDatum(c.floor);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		ws = watermark_lock(index, generation);
		if (ws == NULL)
			continue;
		for (i = 0; i < ws->nprepared; i++)
		{
			memset(nulls, 0, sizeof(nulls));
			values[0] = CStringGetTextDatum(NameStr(tag));
			nulls[1] = true;
			values[2] = TransactionIdGetDatum(ws->prepared[i].xid);
			values[3] = Int64GetDatum(ws->prepared[i].floor);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		LWLockRelease(&watermark_locks[index].lock);
	}
	return (Datum) 0;
}
