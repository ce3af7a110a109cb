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
 *	- An ordered tag has locality (next_id.c): backends take IDs only from
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
 *	  transaction draws is >= floor.  The floor stays until the
 *	  transaction ends, also when the tag's slot is reset under it (its
 *	  start raised: lookup_reattach empties the chunk but keeps the floor).
 *	  It clears the floor in XACT_EVENT_COMMIT, which runs after
 *	  ProcArrayEndTransaction: by then the commit is visible to every new
 *	  snapshot.  On abort it clears it after reclaim has rewound the chunk
 *	  (idgen.c's transaction callback calls reclaim first) and after
 *	  the rest went back to the pool.
 *	- (4) In XACT_EVENT_PRE_PREPARE the floor is copied, with the
 *	  transaction's xid, into the slot's list of prepared floors, before the
 *	  backend clears its own, whatever the slot's generation; an entry
 *	  holds until its xid is no longer in progress (COMMIT PREPARED removes
 *	  it from the proc array only once the commit is visible).
 *	- Prepared transactions this server does not know.  Those that survived
 *	  a restart, and on a promoted standby those prepared on the old
 *	  primary, are in pg_prepared_xacts but in no list.  Every transaction
 *	  prepared by this server since it started (ordered IDs or not) is
 *	  recorded by xid in a server-wide list of known xids, at
 *	  XACT_EVENT_PRE_PREPARE, before pg_prepared_xacts can show it; so a
 *	  prepared transaction of the database whose xid is not in that list
 *	  comes from before (whatever the clocks say), and while any exists,
 *	  no watermark of the database moves.  None can appear once the server
 *	  runs as a primary, so a backend that found none does not ask again.
 *	- (1) and (2) are read under the pool lock held exclusive
 *	  (pool_watermark), so no backend is between taking IDs from the pool
 *	  and publishing them; a chunk's fields read without a lock may be a
 *	  moment stale, which only ever lowers the result ("next" only grows,
 *	  except by reclaim's rewind, which the floor covers).
 *	- A tag whose start was raised gets a new slot generation while its
 *	  older transactions may still commit: floors (open and prepared) of
 *	  every generation of the slot count.  So do floors left in a slot by a
 *	  dropped tag: a transaction that drew without looking the tag up (the
 *	  fast path takes no lock) may still commit them.  Only the lowest
 *	  counts, and those of finished transactions are pruned.
 *	- A result is safe for good: no ID at or below it is handed out later
 *	  (a reset only discards IDs; new ones come from above the mark).  So
 *	  each slot keeps the last result for as long as the slot belongs to
 *	  the same tag (its incarnation, slot.c), across resets; it is returned
 *	  whenever the lowest ID of (1) is not known (a claim under way with
 *	  the pool empty, no region since the server started: then the
 *	  sequence's mark is used once no claim runs and nothing is cached),
 *	  and the watermark never goes back while the server runs.
 *	- After a crash nothing issued before it can commit any more, except
 *	  prepared transactions (above): a restarted server's watermark is the
 *	  tag's high-water mark.
 * Not covered: next_id_range blocks (refused on ordered tags), IDs used
 * outside the transaction that drew them (README, "Incremental readers"),
 * and readers on a standby (the function is refused during recovery).
 *
 * Locking protocol:
 *	- watermark_locks[i], i < idgen.max_tags (named tranche "idgen
 *	  watermarks", exclusive) protects watermarks[i]: the last result, its
 *	  incarnation and the prepared floors.  A reader takes it, then the
 *	  pool lock of slot i through pool_watermark (never the other way
 *	  round); a preparing backend takes it alone.
 *	- watermark_locks[idgen.max_tags] protects the list of known prepared
 *	  xids; it is taken alone.
 *	- TransactionIdIsInProgress takes ProcArrayLock under either.
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

#include "base.h"
#include "chunk.h"
#include "durable.h"
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
typedef struct TagWatermark
{
	uint32		incarnation;	/* slot incarnation "last" belongs to */
	int64		last;			/* last result, safe for good */
	int			nprepared;
	PreparedFloor prepared[FLEXIBLE_ARRAY_MEMBER];	/* max_prepared_xacts */
} TagWatermark;

/*
 * The transactions this server prepared since it started; at most
 * max_prepared_xacts prepared and one preparing per backend are in
 * progress at once, so after pruning there is always room.
 */
typedef struct KnownPrepared
{
	int			count;
	TransactionId xids[FLEXIBLE_ARRAY_MEMBER];
} KnownPrepared;

static char *watermarks = NULL;
static KnownPrepared *known = NULL;
static LWLockPadded *watermark_locks = NULL;

/*
 * tag_watermark_size
 *		Bytes of one TagWatermark.
 */
static Size
tag_watermark_size(void)
{
	return MAXALIGN(add_size(offsetof(TagWatermark, prepared),
							 mul_size(sizeof(PreparedFloor),
									  max_prepared_xacts)));
}

/*
 * known_capacity
 *		Entries of the list of known prepared xids.
 */
static int
known_capacity(void)
{
	return max_prepared_xacts + MaxBackends;
}

/*
 * known_size
 *		Bytes of the list of known prepared xids.
 */
static Size
known_size(void)
{
	return add_size(offsetof(KnownPrepared, xids),
					mul_size(sizeof(TransactionId), known_capacity()));
}

/*
 * watermark_shmem_request
 *		Ask for the slots' memory, the list of known prepared xids, and one
 *		LWLock per tag slot plus one for the list.
 */
void
watermark_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(mul_size(tag_watermark_size(),
											 idgen_max_tags),
									known_size()));
	RequestNamedLWLockTranche(WATERMARK_TRANCHE, idgen_max_tags + 1);
}

/*
 * watermark_shmem_startup
 *		Attach to (and, the first time, initialise) the slots and the list.
 *		Called with AddinShmemInitLock held.
 */
void
watermark_shmem_startup(void)
{
	Size		size = mul_size(tag_watermark_size(), idgen_max_tags);
	bool		found;

	watermarks = ShmemInitStruct("idgen watermarks", size, &found);
	if (!found)
		memset(watermarks, 0, size);
	known = ShmemInitStruct("idgen known prepared", known_size(), &found);
	if (!found)
		memset(known, 0, known_size());
	watermark_locks = GetNamedLWLockTranche(WATERMARK_TRANCHE);
}

/*
 * watermark_lock
 *		Lock the watermark state of slot index, whatever its generation.
 */
static TagWatermark *
watermark_lock(int index)
{
	LWLockAcquire(&watermark_locks[index].lock, LW_EXCLUSIVE);
	return (TagWatermark *) (watermarks +
							 (Size) index * tag_watermark_size());
}

/*
 * watermark_unlock
 *		Release watermark_lock's lock.
 */
static void
watermark_unlock(int index)
{
	LWLockRelease(&watermark_locks[index].lock);
}

/*
 * prune_prepared
 *		Forget the prepared floors whose transaction has finished, and
 *		return the lowest of the others (PG_INT64_MAX if none).  Caller
 *		holds the slot's lock.
 */
static int64
prune_prepared(TagWatermark *ws)
{
	int64		lowest = PG_INT64_MAX;
	int			i = 0;

	while (i < ws->nprepared)
	{
		if (TransactionIdIsInProgress(ws->prepared[i].xid))
		{
			lowest = Min(lowest, ws->prepared[i].floor);
			i++;
		}
		else
			ws->prepared[i] = ws->prepared[--ws->nprepared];
	}
	return lowest;
}

/*
 * known_add
 *		Record a transaction this server is preparing, making room by
 *		forgetting finished ones.
 */
static void
known_add(TransactionId xid)
{
	LWLock	   *lock = &watermark_locks[idgen_max_tags].lock;
	int			i;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	if (known->count == known_capacity())
	{
		for (i = 0; i < known->count;)
		{
			if (TransactionIdIsInProgress(known->xids[i]))
				i++;
			else
				known->xids[i] = known->xids[--known->count];
		}
	}
	if (known->count == known_capacity())
	{
		LWLockRelease(lock);
		elog(ERROR, "idgen: no room to record prepared transaction %u", xid);
	}
	known->xids[known->count++] = xid;
	LWLockRelease(lock);
}

/*
 * unknown_prepared
 *		The prepared transactions of this database that this server did not
 *		prepare since it started (see the header comment), into *xids
 *		(palloc'd in the caller's memory context); returns how many.
 */
static int
unknown_prepared(TransactionId **xids)
{
	MemoryContext caller = CurrentMemoryContext;
	LWLock	   *lock = &watermark_locks[idgen_max_tags].lock;
	int			n;
	int			nunknown = 0;
	int			i;
	int			j;

	SPI_connect();
	if (SPI_execute("SELECT transaction FROM pg_catalog.pg_prepared_xacts"
					" WHERE database OPERATOR(pg_catalog.=)"
					" pg_catalog.current_database()", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read pg_prepared_xacts");
	n = (int) SPI_processed;
	*xids = MemoryContextAlloc(caller, sizeof(TransactionId) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		(*xids)[i] = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc,
														 1, &isnull));
	}
	SPI_finish();

	LWLockAcquire(lock, LW_SHARED);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < known->count; j++)
			if (TransactionIdEquals(known->xids[j], (*xids)[i]))
				break;
		if (j == known->count)
			(*xids)[nunknown++] = (*xids)[i];
	}
	LWLockRelease(lock);
	return nunknown;
}

/*
 * unknown_prepared_exist
 *		Whether this database has prepared transactions whose floors this
 *		server does not know.  None can appear later (see the header
 *		comment), so once there are none the question is not asked again.
 */
static bool
unknown_prepared_exist(void)
{
	static bool none_left = false;
	TransactionId *xids;

	if (none_left)
		return false;
	none_left = unknown_prepared(&xids) == 0;
	pfree(xids);
	return !none_left;
}

/*
 * register_prepared
 *		The transaction is being prepared: it is recorded as known, and its
 *		floors go to the slots' lists of prepared floors, with its xid.
 *		With prepared transactions disabled, PostgreSQL refuses the PREPARE
 *		itself, just after this.
 */
static void
register_prepared(void)
{
	TransactionId xid;
	int			i;

	if (max_prepared_xacts == 0)
		return;
	xid = GetTopTransactionId();
	known_add(xid);
	for (i = 0; i < chunk_nfloored; i++)
	{
		int			index = chunk_floored[i];
		BackendChunk *c = chunk_of(index);
		TagWatermark *ws;

		/* a floor that is still "none yet" covers no ID */
		if (c->floor == 0 || c->floor == PG_INT64_MAX)
			continue;
		ws = watermark_lock(index);
		/* entries of finished transactions go when room is needed */
		if (ws->nprepared == max_prepared_xacts)
			prune_prepared(ws);
		if (ws->nprepared == max_prepared_xacts)
		{
			watermark_unlock(index);
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many prepared transactions hold IDs of an ordered tag"),
					 errdetail("Each ordered tag tracks at most \"max_prepared_transactions\" (%d) prepared transactions.",
							   max_prepared_xacts),
					 errhint("Commit or roll back prepared transactions first.")));
		}
		ws->prepared[ws->nprepared].xid = xid;
		ws->prepared[ws->nprepared].floor = c->floor;
		ws->nprepared++;
		watermark_unlock(index);
	}
}

/*
 * watermark_xact_event
 *		Top-level transaction events: idgen.c calls it at every
 *		PRE_PREPARE and, while the transaction holds floors, at its end,
 *		after reclaim_xact_event (see the header comment).
 */
void
watermark_xact_event(XactEvent event)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			register_prepared();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			chunk_floors_clear();
			break;
		default:
			break;
	}
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

		if (!chunk_read(b, scan->index, &pid, &c))
			continue;
		/* also a floor of an older generation: see the header comment */
		if (c.floor > 0)
			scan->lowest = Min(scan->lowest, c.floor);
		if (c.generation == scan->generation && c.next < c.end)
			scan->lowest = Min(scan->lowest, c.next);
	}
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
	text	   *tag = PG_GETARG_TEXT_PP(0);
	TagInfo		info;
	uint32		generation;
	uint32		incarnation;
	int			index;
	int64		mark;
	bool		held;
	ChunkScan	scan;
	int64		floor;
	TagWatermark *ws;
	int64		result;

	idgen_check_not_parallel("idgen.watermark");
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot compute a watermark during recovery"),
				 errdetail("Only the primary knows which IDs are still in flight."),
				 errhint("Call idgen.watermark() on the primary.")));

	/* a reset between attaching and locking: attach again */
	for (;;)
	{
		index = attach_ordered(tag, &info, &generation);
		incarnation = slot_incarnation(index);
		/* read before the locks: used only if no claim ran since (below) */
		mark = durable_read(info.seqoid);
		held = unknown_prepared_exist();

		ws = watermark_lock(index);
		scan.index = index;
		scan.generation = generation;
		scan.lowest = PG_INT64_MAX;
		if (pool_watermark(index, generation, &floor, scan_chunks, &scan))
			break;
		watermark_unlock(index);
	}

	/* the slot is the tag's (its generation held): the last result too */
	if (ws->incarnation != incarnation)
	{
		ws->incarnation = incarnation;
		ws->last = 0;
	}

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
	watermark_unlock(index);
	PG_RETURN_INT64(result);
}

/*
 * holder_row
 *		One row of idgen.watermark_holders(): pid 0 and xid
 *		InvalidTransactionId stand for NULL, as does a floor of 0 (the
 *		lowest ID of a prepared transaction this server does not know).
 */
static void
holder_row(ReturnSetInfo *rsinfo, const NameData *tag, pid_t pid,
		   TransactionId xid, int64 floor)
{
	Datum		values[4];
	bool		nulls[4] = {0};

	values[0] = CStringGetTextDatum(NameStr(*tag));
	values[1] = Int32GetDatum(pid);
	nulls[1] = pid == 0;
	values[2] = TransactionIdGetDatum(xid);
	nulls[2] = !TransactionIdIsValid(xid);
	values[3] = Int64GetDatum(floor);
	nulls[3] = floor == 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * idgen_watermark_holders
 *		One row per backend transaction and prepared transaction that holds
 *		back the watermark of a tag of this database the current role may
 *		monitor: the lowest ID it may still commit (NULL for a prepared
 *		transaction this server does not know, which holds every ordered
 *		tag of the database).
 */
Datum
idgen_watermark_holders(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TransactionId *unknown;
	int			nunknown;
	ChunkCopy  *copies;
	int			ncopies;
	int			k = 0;
	int			index;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	nunknown = unknown_prepared(&unknown);
	/* one pass over the backends' entries, sorted by slot (chunk.c) */
	ncopies = chunk_read_all(&copies);

	for (index = 0; index < idgen_max_tags; index++)
	{
		NameData	tag;
		Oid			seqoid;
		uint32		generation;
		TagWatermark *ws;
		TagInfo		info;
		int			i;

		while (k < ncopies && copies[k].index < index)
			k++;
		if (!slot_describe(index, &tag, &seqoid, &generation) ||
			!tag_may_monitor(seqoid))
			continue;
		for (; k < ncopies && copies[k].index == index; k++)
		{
			const BackendChunk *c = &copies[k].chunk;

			/* every floor the watermark counts, of any generation */
			if (c->floor != 0 && c->floor != PG_INT64_MAX)
				holder_row(rsinfo, &tag, copies[k].pid, InvalidTransactionId,
						   c->floor);
		}
		ws = watermark_lock(index);
		(void) prune_prepared(ws);
		for (i = 0; i < ws->nprepared; i++)
			holder_row(rsinfo, &tag, 0, ws->prepared[i].xid,
					   ws->prepared[i].floor);
		watermark_unlock(index);
		if (nunknown > 0 && tag_read(&tag, &info) && info.ordered)
			for (i = 0; i < nunknown; i++)
				holder_row(rsinfo, &tag, 0, unknown[i], 0);
	}
	return (Datum) 0;
}
