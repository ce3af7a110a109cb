/*-------------------------------------------------------------------------
 *
 * hybrid.c
 *	  hybrid_id(tag): IDs made of a 31-bit slab number, 16 bits of
 *	  seconds since the slab was claimed and a 16-bit sequence, for tags
 *	  of kind "hybrid"; hybrid_parse() decodes them.
 *
 * A slab is one number claimed durably from the tag's sequence (tag.c),
 * so the backend holding it owns every ID of the slab outright and issues
 * them without coordination.  Within a slab, IDs are (seconds, seq) pairs
 * that only ever grow: when the clock has moved to a later second, seq
 * restarts at 0; otherwise (same second, or the clock went back) the
 * seconds stay and seq goes up by one.  When seconds would pass 65535
 * (about 18 hours after the claim) or seq would pass 65535 within one
 * second, the slab is abandoned for good and the backend takes another.
 * The sign bit stays 0: slab numbers end at 2^31 - 1, the largest
 * maxvalue a hybrid tag accepts.
 *
 * A slab outlives its backend: at exit (before_shmem_exit) the backend
 * returns it, with its claim time and last (seconds, seq), to the tag's
 * list of returned slabs in shared memory, and the next backend that needs
 * a slab continues it, strictly above the last ID issued from it, before
 * claiming a new one.  A backend takes only slabs above the last one it
 * used, so its IDs increase.  Newly claimed slabs are always above every
 * earlier one, because the sequence only moves forward: after a restart
 * or crash (which lose the returned lists) new IDs are above old ones.
 *
 * Memory: per tag slot (slot.c), a HybridPool in our own segment "idgen
 * hybrid" holds the returned slabs (up to HYBRID_MAX_RETURNED) and the
 * counters of idgen.hybrid_stats.  A slab returned to a full list is
 * abandoned (counted): it costs one slab number of 2^31, and the next
 * backend that needs a slab claims a new one.  The list is short because
 * it is per tag: sized by the backends that could return a slab at once
 * (MaxBackends), 10,000 tags and 1,000 connections would need 240 MB.  It
 * is tied to the tag's incarnation by the slot's generation: a slot freed
 * by a drop, or reset by a raised start, has a newer generation, and the
 * first use under it empties the list, so a dropped tag's slabs, and slabs
 * below a raised start, are never used again.  A backend's current slab
 * of a tag lives in backend-local memory (hybrid_local), one per entry of
 * the backend's chunk entries (chunk.c): nothing but its owner ever reads
 * it, and a backend that dies without returning its slab (kill -9) makes
 * the postmaster reinitialise shared memory anyway.  When chunk.c evicts
 * an entry, its slab goes back to the tag as at exit (hybrid_evict), and
 * the last slab used is remembered in the tag's LocalTag, so that the
 * backend's IDs of the tag go on increasing when it uses the tag again.
 *
 * Locking protocol:
 *	- HybridShared->locks[i] (exclusive) protects everything in pools[i]
 *	  and its list of returned slabs; shared to read the counters.  It is
 *	  held for a few instructions: never across a claim, an ereport or a
 *	  lock of another file.  At most one of these locks is held at a time.
 *	- The slot directory's lock (slot.c) is taken only by the monitoring
 *	  function, and never together with ours.
 *	- The fast path (a slab in hand) takes no lock and touches no shared
 *	  memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base.h"
#include "chunk.h"
#include "lookup.h"
#include "hybrid.h"
#include "slot.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_hybrid_id);
PG_FUNCTION_INFO_V1(idgen_hybrid_parse);
PG_FUNCTION_INFO_V1(idgen_hybrid_stats);

#define HYBRID_TRANCHE		"idgen hybrid"
#define HYBRID_STATS_COLS	6

/* returned slabs kept per tag slot; see the header comment */
#define HYBRID_MAX_RETURNED	16

/* a slab and how far it has been used */
typedef struct HybridSlab
{
	int64		slab;			/* slab number; 0 for none */
	TimestampTz claimed_at;		/* seconds count from here */
	int32		last_seconds;	/* of the last ID issued */
	int32		last_seq;		/* of the last ID issued; -1 for none */
} HybridSlab;

/* the shared state of one tag slot */
typedef struct HybridPool
{
	uint32		generation;		/* of the slot the list belongs to */
	int			nreturned;		/* slabs in the list */
	int64		claimed;		/* slabs claimed from the sequence */
	int64		continued;		/* returned slabs taken up again */
	int64		returned;		/* slabs returned by exiting backends */
	int64		abandoned;		/* slabs used up, or dropped from the list */
} HybridPool;

typedef struct HybridShared
{
	int			max_tags;
	int			max_returned;	/* list length per tag slot */
	HybridPool *pools;			/* max_tags of them */
	HybridSlab *returned;		/* max_returned per pool, sorted by slab */
} HybridShared;

/* this backend's slab of the tag slot of one of its entries (chunk.c) */
typedef struct HybridState
{
	int			slot;			/* tag slot of cur */
	uint32		generation;		/* slot generation of cur */
	int64		last_slab;		/* highest slab used under generation */
	HybridSlab	cur;			/* the slab in use, if cur.slab != 0 */
} HybridState;

static HybridShared *hybrid_shared = NULL;
static LWLockPadded *hybrid_locks = NULL;
static HybridState *hybrid_local = NULL;

/*
 * hybrid_shmem_size
 *		Bytes of the "idgen hybrid" segment.
 */
static Size
hybrid_shmem_size(void)
{
	Size		size;

	size = MAXALIGN(sizeof(HybridShared));
	size = add_size(size, MAXALIGN(mul_size(sizeof(HybridPool),
											idgen_max_tags)));
	size = add_size(size, mul_size(sizeof(HybridSlab),
								   mul_size(idgen_max_tags,
											HYBRID_MAX_RETURNED)));
	return size;
}

/*
 * hybrid_shmem_request
 *		Ask for our segment and one LWLock per tag slot; called from the
 *		shmem_request_hook.
 */
void
hybrid_shmem_request(void)
{
	RequestAddinShmemSpace(hybrid_shmem_size());
	RequestNamedLWLockTranche(HYBRID_TRANCHE, idgen_max_tags);
}

/*
 * hybrid_shmem_startup
 *		Attach to (and, the first time, initialise) our segment.  Called
 *		with AddinShmemInitLock held.
 */
void
hybrid_shmem_startup(void)
{
	bool		found;
	char	   *base;

	base = ShmemInitStruct("idgen hybrid", hybrid_shmem_size(), &found);
	hybrid_shared = (HybridShared *) base;
	hybrid_locks = GetNamedLWLockTranche(HYBRID_TRANCHE);
	if (found)
		return;

	memset(base, 0, hybrid_shmem_size());
	hybrid_shared->max_tags = idgen_max_tags;
	hybrid_shared->max_returned = HYBRID_MAX_RETURNED;
	hybrid_shared->pools = (HybridPool *)
		(base + MAXALIGN(sizeof(HybridShared)));
	hybrid_shared->returned = (HybridSlab *)
		((char *) hybrid_shared->pools +
		 MAXALIGN(sizeof(HybridPool) * idgen_max_tags));
}

/*
 * hybrid_lock
 *		Lock the shared state of tag slot index, for a backend attached to
 *		the slot under generation.  State of an older generation is emptied
 *		first: the slot now belongs to another tag, or to the same tag after
 *		a reset.  Returns NULL, without the lock, when the slot has moved on
 *		(the caller must attach again).
 */
static HybridPool *
hybrid_lock(int index, uint32 generation)
{
	HybridPool *hp = &hybrid_shared->pools[index];
	bool		stale;

	if (!slot_lock_state(&hybrid_locks[index].lock, index, generation,
						 &hp->generation, &stale))
		return NULL;
	if (stale)
	{
		uint32		current = hp->generation;

		memset(hp, 0, sizeof(HybridPool));
		hp->generation = current;
	}
	return hp;
}

/*
 * hybrid_unlock
 *		Release hybrid_lock's lock.
 */
static void
hybrid_unlock(int index)
{
	LWLockRelease(&hybrid_locks[index].lock);
}

/*
 * hybrid_list
 *		The list of returned slabs of tag slot index.
 */
static HybridSlab *
hybrid_list(int index)
{
	return hybrid_shared->returned + (Size) index * hybrid_shared->max_returned;
}

/*
 * hybrid_give_back
 *		Put a slab on its tag's list of returned slabs, kept sorted by slab
 *		number.  A slab of a dropped tag is forgotten; one that finds the
 *		list full is abandoned.
 */
static void
hybrid_give_back(int index, uint32 generation, const HybridSlab *slab)
{
	HybridPool *hp = hybrid_lock(index, generation);
	HybridSlab *list;
	int			pos;

	if (hp == NULL)
		return;
	if (hp->nreturned == hybrid_shared->max_returned)
	{
		hp->abandoned++;
		hybrid_unlock(index);
		return;
	}
	list = hybrid_list(index);
	for (pos = hp->nreturned; pos > 0 && list[pos - 1].slab > slab->slab; pos--)
		list[pos] = list[pos - 1];
	list[pos] = *slab;
	hp->nreturned++;
	hp->returned++;
	hybrid_unlock(index);
}

/*
 * hybrid_exit
 *		Return this backend's slabs to their tags at backend exit.
 */
static void
hybrid_exit(int code, Datum arg)
{
	int			i;

	for (i = 0; i < chunk_entries(); i++)
	{
		HybridState *st = &hybrid_local[i];

		if (st->cur.slab != 0)
			hybrid_give_back(st->slot, st->generation, &st->cur);
	}
}

/*
 * hybrid_init
 *		First hybrid_id() of this backend: local state for every entry of
 *		the backend (chunk.c), and the hand-back at exit.
 */
static void
hybrid_init(void)
{
	hybrid_local = MemoryContextAllocZero(TopMemoryContext,
										  sizeof(HybridState) *
										  chunk_entries());
	before_shmem_exit(hybrid_exit, (Datum) 0);
}

/*
 * hybrid_evict
 *		chunk.c frees this backend's entry "entry", of tag slot index: give
 *		its slab back to the tag, as at exit, and forget it.  Returns the
 *		last slab the backend used there (0 if none), for the tag's
 *		LocalTag to remember.  Raises no error.
 */
int64
hybrid_evict(int entry, int index)
{
	HybridState *st;
	int64		last;

	if (hybrid_local == NULL)
		return 0;
	st = &hybrid_local[entry];
	last = st->last_slab;
	if (st->cur.slab != 0)
	{
		Assert(st->slot == index);
		hybrid_give_back(st->slot, st->generation, &st->cur);
	}
	memset(st, 0, sizeof(HybridState));
	return last;
}

/*
 * hybrid_abandon
 *		Give up the slab in use for good: its seconds or its sequence for
 *		the current second have run out.
 */
static void
hybrid_abandon(const LocalTag *lt, HybridState *st)
{
	HybridPool *hp = hybrid_lock(lt->slot, st->generation);

	st->cur.slab = 0;
	if (hp == NULL)
		return;
	hp->abandoned++;
	hybrid_unlock(lt->slot);
}

/*
 * hybrid_take_slab
 *		Give the backend a slab above the last one it used: the lowest such
 *		returned slab, or else a new one claimed from the tag's sequence.
 *		Returns the backend's state of the tag's slot, which holds it.
 *		Refused in parallel mode, like every path off hybrid_id()'s fast
 *		path (lookup.c).
 */
static HybridState *
hybrid_take_slab(LocalTag *lt)
{
	HybridState *st;
	HybridPool *hp;
	HybridSlab *list;
	IdRange		claimed;
	int64		left;
	int			i;

	idgen_check_not_parallel("hybrid_id");
	/* a slot that moved on: the tag was dropped or reset, look it up again */
	while ((hp = hybrid_lock(lt->slot, lt->generation)) == NULL)
		lookup_reattach(lt, TAG_HYBRID, "hybrid_id");
	st = &hybrid_local[lt->entry];
	if (st->generation != lt->generation || st->slot != lt->slot)
	{
		/* first use, or the slot changed hands or was reset */
		memset(st, 0, sizeof(HybridState));
		st->slot = lt->slot;
		st->generation = lt->generation;
		/* the entry was evicted and bound again: stay above (lookup.c) */
		if (lt->resume_generation == lt->generation)
			st->last_slab = lt->resume_after;
	}

	list = hybrid_list(lt->slot);
	for (i = 0; i < hp->nreturned; i++)
	{
		if (list[i].slab <= st->last_slab)
			continue;
		st->cur = list[i];
		hp->nreturned--;
		memmove(&list[i], &list[i + 1],
				(hp->nreturned - i) * sizeof(HybridSlab));
		hp->continued++;
		hybrid_unlock(lt->slot);
		st->last_slab = st->cur.slab;
		return st;
	}
	hybrid_unlock(lt->slot);

	if (!tag_claim(&lt->info, lt->slot, 1, true, &claimed, &left))
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("tag \"%s\" has run out of slabs",
						NameStr(lt->info.name)),
				 errdetail("Every slab number up to the tag's maxvalue has been claimed."),
				 errhint("Raise the tag's maxvalue (at most %lld) with idgen.alter_tag(), or use a new tag.",
						 (long long) HYBRID_MAX_SLAB)));

	st->cur.slab = claimed.lo;
	st->cur.claimed_at = GetCurrentTimestamp();
	st->cur.last_seconds = 0;
	st->cur.last_seq = -1;
	st->last_slab = claimed.lo;

	hp = hybrid_lock(lt->slot, lt->generation);
	if (hp != NULL)
	{
		hp->claimed++;
		hybrid_unlock(lt->slot);
	}
	return st;
}

/*
 * idgen_hybrid_id
 *		hybrid_id(tag): the next ID of a hybrid tag.
 */
Datum
idgen_hybrid_id(PG_FUNCTION_ARGS)
{
	LocalTag   *lt;
	HybridState *st;
	HybridSlab *cur;

	if (unlikely(XactReadOnly))
		PreventCommandIfReadOnly("hybrid_id()");

	lt = lookup_call(fcinfo, TAG_HYBRID, "hybrid_id");
	if (unlikely(hybrid_local == NULL))
		hybrid_init();
	st = &hybrid_local[lt->entry];

	for (;;)
	{
		int64		seconds;

		if (unlikely(st->cur.slab == 0 || st->generation != lt->generation))
			st = hybrid_take_slab(lt);
		cur = &st->cur;

		seconds = (GetCurrentTimestamp() - cur->claimed_at) / USECS_PER_SEC;
		if (seconds > cur->last_seconds)
		{
			if (likely(seconds <= HYBRID_MAX_SECONDS))
			{
				cur->last_seconds = (int32) seconds;
				cur->last_seq = 0;
				break;
			}
		}
		else if (likely(cur->last_seq < HYBRID_MAX_SEQ))
		{
			/* same second, or the clock went back: stay above the last ID */
			cur->last_seq++;
			break;
		}
		hybrid_abandon(lt, st);
	}

	PG_RETURN_INT64((cur->slab << (HYBRID_SECONDS_BITS + HYBRID_SEQ_BITS)) |
					((int64) cur->last_seconds << HYBRID_SEQ_BITS) |
					cur->last_seq);
}

/*
 * idgen_hybrid_parse
 *		hybrid_parse(id): decode a hybrid ID into (slab, seconds, seq).
 */
Datum
idgen_hybrid_parse(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {0};

	if (id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("hybrid ID %lld is out of range", (long long) id),
				 errdetail("Hybrid IDs are never negative.")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = Int64GetDatum(id >> (HYBRID_SECONDS_BITS + HYBRID_SEQ_BITS));
	values[1] = Int32GetDatum((int32) ((id >> HYBRID_SEQ_BITS) &
									   HYBRID_MAX_SECONDS));
	values[2] = Int32GetDatum((int32) (id & HYBRID_MAX_SEQ));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}

/*
 * idgen_hybrid_stats
 *		One row per tag slot of this database with hybrid counters.
 */
Datum
idgen_hybrid_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < hybrid_shared->max_tags; i++)
	{
		Datum		values[HYBRID_STATS_COLS];
		bool		nulls[HYBRID_STATS_COLS] = {0};
		NameData	tag;
		Oid			seqoid;
		uint32		generation;
		HybridPool	copy;

		if (!slot_describe(i, &tag, &seqoid, &generation) ||
			!tag_may_monitor(seqoid))
			continue;

		LWLockAcquire(&hybrid_locks[i].lock, LW_SHARED);
		copy = hybrid_shared->pools[i];
		LWLockRelease(&hybrid_locks[i].lock);
		if (copy.generation != generation)
			continue;

		values[0] = CStringGetTextDatum(NameStr(tag));
		values[1] = Int64GetDatum(copy.claimed);
		values[2] = Int64GetDatum(copy.continued);
		values[3] = Int64GetDatum(copy.returned);
		values[4] = Int64GetDatum(copy.abandoned);
		values[5] = Int32GetDatum(copy.nreturned);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	return (Datum) 0;
}
