/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  The shared tier: one pool of IDs per tag slot in shared memory,
 *	  refilled from the catalog tier and drained by backends' chunks and
 *	  next_id_range.
 *
 * A pool hands out, in this order:
 *	1. ranges given back (tails of exited backends, IDs of aborted
 *	   transactions, the rest of a region too short for a next_id_range),
 *	   lowest first, but to a chunk only when it lies above the last ID the
 *	   backend issued, so that a backend's IDs increase;
 *	2. its active region, front to back; when the active region is 90%
 *	   used, the backend that notices claims the next region (the standby)
 *	   from the catalog, so that callers do not wait at the boundary.
 * Only one claim per pool runs at a time (the "claimer"); a backend that
 * finds the pool empty while a claim runs sleeps on claim_cv.  Because
 * claims are serialised and the tag's mark only moves forward, the standby
 * is always above the active region, and a region becomes active only when
 * every lower region is used up or retired to the returned ranges: the
 * chunks cut from regions increase.
 *
 * Locality.  A tag created with locality => true (the default) keeps the
 * IDs in flight of all its backends together, so that a B-tree on them is
 * filled at its right edge as with a sequence: the pool cuts a "shared
 * chunk" (chunk_max IDs) from its active region, and backends take their
 * IDs from its front, one at a time while several draw, more while one
 * draws alone (next_id.c).  Taking from the shared chunk is one atomic
 * fetch-add on its "next" word, which holds the next ID itself (shared
 * chunks only ever move up, so the word also tells which chunk an ID came
 * from); cutting the next shared chunk takes the pool lock exclusive.  A
 * tag that is not ordered takes without any lock: one atomic operation on
 * one shared cache line per ID.  An ordered tag takes under the pool lock
 * held shared, because idgen.watermark() must find no backend between
 * taking IDs and publishing them as its transaction's floor (watermark.c):
 * it holds the lock exclusive while it reads the pool and the floors.
 * IDs that come back to such a pool below its
 * front are not handed out again (they would land in the middle of the
 * index): they are counted as skipped.  Only IDs that come back exactly at
 * the front (a backend that exits or aborts before anyone else drew) are
 * taken back into the shared chunk.
 *
 * Generations.  A pool belongs to its slot's generation (slot.c).  A
 * caller passes the generation it attached under; when the slot has moved
 * on, the caller's tag was dropped or reset and it gets "false" (it must
 * attach again).  When the pool is older than the slot, the pool is
 * emptied first: its IDs belonged to the tag before the reset, or to a tag
 * that was dropped.
 *
 * Arithmetic: ranges are cut with range_cut (base.h), never by adding to
 * an ID, and every range lies below the tag's maxvalue + 1, so nothing
 * overflows at the top of the ID space.
 *
 * Locking protocol:
 *	- pool_locks[i] (named tranche "idgen pools") held exclusive protects
 *	  every field of pools[i] but front.next.  front.next is written by
 *	  atomic fetch-add (pool_front_cut) with the lock held shared, or with no
 *	  lock at all for a tag that is not ordered; any other write of it, and
 *	  every write of front.hi and front.lo, needs the lock exclusive.
 *	- A taker without the lock (pool_front_take) relies on this order:
 *	  a new shared chunk is installed by writing front.next before
 *	  front.hi (a write barrier between), and a chunk is installed only
 *	  once front.next has reached front.hi; a taker reads front.hi before
 *	  its fetch-add (a full barrier), so an ID it gets below the front.hi
 *	  it read belongs to that chunk, and one at or above it is never used
 *	  (a taker delayed between its read of front.hi and its fetch-add
 *	  while the chunk was used up and replaced loses the IDs it added
 *	  past: they are never handed out, and not counted).
 *	  A pool's generation is published only after a stale pool was emptied
 *	  (pool_lock), and the taker reads the slot's generation again after
 *	  its fetch-add: generations only grow, so if both reads match, every
 *	  ID it got belongs to the generation it attached under.
 *	- The lock is held for a few dozen instructions: never
 *	  across a claim from the catalog, a heavyweight lock, a WAL flush or
 *	  anything that can raise an error.  At most one pool lock is held at a
 *	  time, and no other idgen lock is taken while holding it; a slot's
 *	  generation is read under it with an atomic read.
 *	- claim_cv is a condition variable and needs no lock; a backend waits
 *	  on it with worker_wait_for (worker.c), under the wait event
 *	  IdgenPoolClaim, testing the claimer under the pool lock held shared.
 *	- The claim itself runs without any LWLock, under the heavyweight lock
 *	  that serialises the tag's claims (tag.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "pool.h"
#include "slot.h"
#include "supply.h"
#include "worker.h"

#define POOL_TRANCHE	"idgen pools"

/*
 * Ranges handed back to a pool (exit tails, reclaimed IDs, the rest of a
 * region too short for a next_id_range), kept sorted.  Reclaimed pieces
 * wait there until a backend that has not passed them (usually a new
 * connection) takes them; each refill of a tag without locality takes the
 * lowest one above its last ID first.  Locality tags, the default, never
 * put tails or reclaimed IDs here (pool_give_back), only next_id_range's
 * retired rests.  A tag without locality holds, at most, the tails of the
 * sessions that exited since a new one last connected and the reclaimed
 * runs every connected session has passed: t/005's 16 sessions that roll
 * back a fifth of their transactions leave 25 to 35 there.  64 leave room
 * for twice that in 1 kB a tag (10,000 tags: 10 MB), not the 16 kB of a
 * list as long as a session's tags could return at once.  When it is full
 * the smallest range is dropped, counted as lost (idgen.stats).
 */
#define POOL_MAX_RETURNED	64

/* the shared tier of one tag slot; see the locking protocol above */
typedef struct TagPool
{
	PoolFront	front;			/* the shared chunk (locality tags) */
	uint32		generation;		/* slot generation the contents belong to */
	int			claimer;		/* pid of the backend claiming, or 0 */
	ConditionVariable claim_cv; /* broadcast when a claim ends */
	IdRange		active;			/* region IDs are handed out from */
	int64		active_base;	/* where the active region began */
	IdRange		standby;		/* region claimed in advance, or empty */
	int64		installed_hi;	/* end of the last region installed, or 0 */
	PoolCounters counters;
	int			nreturned;
	IdRange		returned[POOL_MAX_RETURNED];	/* sorted by lo, disjoint */
} TagPool;

/* a pool padded to whole cache lines, so that its front has one of its own */
typedef union TagPoolPadded
{
	TagPool		pool;
	char		pad[TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(TagPool))];
} TagPoolPadded;

static TagPoolPadded *pools = NULL;
static LWLockPadded *pool_locks = NULL;

/* pool whose claim this backend runs, or -1 */
static int	claiming_index = -1;

static void returned_insert(TagPool *pool, IdRange range);

/*
 * pool_shmem_size
 *		Bytes of the pools.
 */
static Size
pool_shmem_size(void)
{
	return mul_size(sizeof(TagPoolPadded), idgen_max_tags);
}

/*
 * pool_shmem_request
 *		Ask for the pools' memory and one LWLock per pool; called from the
 *		shmem_request_hook.
 */
void
pool_shmem_request(void)
{
	RequestAddinShmemSpace(pool_shmem_size());
	RequestNamedLWLockTranche(POOL_TRANCHE, idgen_max_tags);
}

/*
 * pool_shmem_startup
 *		Attach to (and, the first time, initialise) the pools.  Called with
 *		AddinShmemInitLock held.
 */
void
pool_shmem_startup(void)
{
	bool		found;
	int			i;

	pools = ShmemInitStruct("idgen pools", pool_shmem_size(), &found);
	pool_locks = GetNamedLWLockTranche(POOL_TRANCHE);
	if (found)
		return;

	memset(pools, 0, pool_shmem_size());
	for (i = 0; i < idgen_max_tags; i++)
	{
		ConditionVariableInit(&pools[i].pool.claim_cv);
		pg_atomic_init_u64(&pools[i].pool.front.f.next, 0);
		pg_atomic_init_u64(&pools[i].pool.front.f.hi, 0);
		pg_atomic_init_u32(&pools[i].pool.front.f.generation, 0);
	}
}

/*
 * front_install
 *		Make range the pool's shared chunk, in the order that takers
 *		without the lock rely on (see the locking protocol above).  Caller
 *		holds the pool lock exclusive.
 */
static void
front_install(TagPool *pool, IdRange range)
{
	pg_atomic_write_u64(&pool->front.f.next, range.lo);
	pg_write_barrier();
	pg_atomic_write_u64(&pool->front.f.hi, range.hi);
	pool->front.f.lo = range.lo;
}

/*
 * pool_lock
 *		Lock the pool of slot index for a caller attached under generation.
 *		Returns NULL, without the lock, when the slot has moved on (the
 *		caller must attach again).  Empties a pool left from an older
 *		generation.
 */
static TagPool *
pool_lock(int index, uint32 generation)
{
	TagPool    *pool = &pools[index].pool;
	bool		stale;

	if (!slot_lock_state(&pool_locks[index].lock, index, generation,
						 &pool->generation, &stale))
		return NULL;
	if (stale)
	{
		bool		had_claimer = pool->claimer != 0;
		IdRange		none = {0, 0};

		pool->claimer = 0;
		memset(&pool->active, 0,
			   offsetof(TagPool, returned) - offsetof(TagPool, active));
		front_install(pool, none);
		pg_write_barrier();
		pg_atomic_write_u32(&pool->front.f.generation, generation);
		/* waiters for a claim of the old generation must look again */
		if (had_claimer)
			ConditionVariableBroadcast(&pool->claim_cv);
	}
	return pool;
}

/*
 * pool_unlock
 *		Release pool_lock's lock.
 */
static void
pool_unlock(int index)
{
	LWLockRelease(&pool_locks[index].lock);
}

/*
 * pool_release_claim
 *		End this backend's claim, if it runs one, and wake the waiters.
 *		Called when a claim ends or fails, and at backend exit.
 */
void
pool_release_claim(void)
{
	TagPool    *pool;
	int			index = claiming_index;

	if (index < 0)
		return;
	claiming_index = -1;
	pool = &pools[index].pool;

	LWLockAcquire(&pool_locks[index].lock, LW_EXCLUSIVE);
	if (pool->claimer == MyProcPid)
		pool->claimer = 0;
	LWLockRelease(&pool_locks[index].lock);
	ConditionVariableBroadcast(&pool->claim_cv);
}

/*
 * pool_claim
 *		Claim a region from the catalog for a pool whose claimer the caller
 *		has just become, and install it.  Returns false when the tag has no
 *		IDs left, with *left set to 0.
 */
static bool
pool_claim(int index, uint32 generation, const TagInfo *info)
{
	TagPool    *pool;
	IdRange		region;
	int64		left;
	bool		ok = false;

	claiming_index = index;
	PG_TRY();
	{
		ok = tag_claim(info, index, info->region, false, &region, &left);
	}
	PG_CATCH();
	{
		pool_release_claim();
		PG_RE_THROW();
	}
	PG_END_TRY();

	pool = pool_lock(index, generation);
	if (pool != NULL)
	{
		if (ok)
		{
			/* claims are serialised: the standby is free, and above */
			Assert(RANGE_SIZE(pool->standby) == 0);
			pool->counters.claims++;
			pool->installed_hi = region.hi;
			if (RANGE_SIZE(pool->active) == 0)
			{
				pool->active = region;
				pool->active_base = region.lo;
			}
			else
				pool->standby = region;
		}
		pool_unlock(index);
	}
	pool_release_claim();
	return ok;
}

/*
 * claim_ended
 *		Whether no claim is under way on the pool numbered *arg.
 */
static bool
claim_ended(void *arg)
{
	int			index = *(int *) arg;
	bool		busy;

	LWLockAcquire(&pool_locks[index].lock, LW_SHARED);
	busy = pools[index].pool.claimer != 0;
	LWLockRelease(&pool_locks[index].lock);
	return !busy;
}

/*
 * pool_wait_claim
 *		Sleep until the claim under way on a pool ends (wait event
 *		IdgenPoolClaim).
 */
static void
pool_wait_claim(int index)
{
	(void) worker_wait_for(&pools[index].pool.claim_cv, claim_ended, &index,
						   -1, false, IDGEN_WAIT_POOL_CLAIM);
}

/*
 * returned_above
 *		Index of the first returned range that starts above "after"
 *		(binary search: the list is sorted), or nreturned if none does.
 */
static int
returned_above(TagPool *pool, int64 after)
{
	int			lo = 0;
	int			hi = pool->nreturned;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (pool->returned[mid].lo <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * returned_take
 *		Cut up to n IDs from returned range i, dropping it once empty.
 */
static IdRange
returned_take(TagPool *pool, int i, int64 n)
{
	IdRange		cut = range_cut(&pool->returned[i], n);

	if (RANGE_SIZE(pool->returned[i]) == 0)
	{
		pool->nreturned--;
		memmove(&pool->returned[i], &pool->returned[i + 1],
				(pool->nreturned - i) * sizeof(IdRange));
	}
	return cut;
}

/*
 * returned_ids
 *		IDs in the list of returned ranges.
 */
static int64
returned_ids(TagPool *pool)
{
	int64		n = 0;
	int			i;

	for (i = 0; i < pool->nreturned; i++)
		n += RANGE_SIZE(pool->returned[i]);
	return n;
}

/*
 * pool_cut
 *		Cut up to size IDs (exactly size if exact) from the front of the
 *		active region, moving to the standby when the active region is used
 *		up.  When an exact request does not fit in what is left of the
 *		active region, that rest is retired to the returned ranges and the
 *		standby (or a new claim) follows, never the other way round.
 *		Returns false if the pool cannot serve the request.  Sets *prefetch
 *		(and makes the caller the claimer) when the caller must claim the
 *		next region now.  Caller holds the pool lock.
 */
static bool
pool_cut(TagPool *pool, int64 size, bool exact, IdRange *cut, bool *prefetch)
{
	for (;;)
	{
		if (RANGE_SIZE(pool->active) == 0 && RANGE_SIZE(pool->standby) > 0)
		{
			pool->active = pool->standby;
			pool->active_base = pool->standby.lo;
			pool->standby.lo = pool->standby.hi = 0;
		}
		if (RANGE_SIZE(pool->active) == 0)
			return false;
		if (!exact || RANGE_SIZE(pool->active) >= size)
			break;
		returned_insert(pool, pool->active);
		pool->active.lo = pool->active.hi;
	}

	*cut = range_cut(&pool->active, size);

	/* 90% of the active region used: claim the next one now */
	*prefetch = (RANGE_SIZE(pool->standby) == 0 && pool->claimer == 0 &&
				 RANGE_SIZE(pool->active) <=
				 (pool->active.hi - pool->active_base) / 10);
	if (*prefetch)
		pool->claimer = MyProcPid;
	return true;
}

/*
 * pool_refill
 *		The pool cannot serve a request for n IDs: wait for the claim under
 *		way, or make one.  Called with the pool locked; releases the lock.
 *		Raises the "run out" error when the tag has no region left to claim.
 */
static void
pool_refill(TagPool *pool, int index, uint32 generation, const TagInfo *info,
			int64 n)
{
	int64		pooled = returned_ids(pool);

	pool->counters.waits++;
	if (pool->claimer != 0)
	{
		pool_unlock(index);
		pool_wait_claim(index);
		return;
	}
	pool->claimer = MyProcPid;
	pool_unlock(index);
	if (!pool_claim(index, generation, info))
		supply_run_out(info, n, n != 1, 0, pooled);
}

/*
 * pool_served
 *		A request was served: release the pool's lock, then claim the next
 *		region if the cut asked for it (prefetch).
 */
static void
pool_served(int index, uint32 generation, const TagInfo *info, bool prefetch)
{
	pool_unlock(index);
	if (prefetch)
		(void) pool_claim(index, generation, info);
}

/*
 * pool_take_chunk
 *		Give a backend a chunk of at most size IDs, all above "after" (the
 *		last ID the backend issued).  Returns false when the slot moved on.
 */
bool
pool_take_chunk(int index, uint32 generation, const TagInfo *info,
				int64 size, int64 after, IdRange *chunk)
{
	for (;;)
	{
		TagPool    *pool = pool_lock(index, generation);
		bool		prefetch = false;
		int			i;

		if (pool == NULL)
			return false;
		i = returned_above(pool, after);
		if (i < pool->nreturned)
			*chunk = returned_take(pool, i, size);
		else if (!pool_cut(pool, size, false, chunk, &prefetch))
		{
			pool_refill(pool, index, generation, info, 1);
			continue;
		}
		pool_served(index, generation, info, prefetch);
		return true;
	}
}

/*
 * front_take
 *		pool_front_cut (pool.h) for a caller holding the pool lock: if floor
 *		is not NULL, it is lowered to the first ID taken (see
 *		pool_take_front).
 */
static bool
front_take(TagPool *pool, int64 n, IdRange *got, int64 *floor)
{
	if (!pool_front_cut(&pool->front, n, got))
		return false;
	if (floor != NULL && *floor > got->lo)
		*floor = got->lo;
	return true;
}

/*
 * front_rewind
 *		Take a range that comes back into the shared chunk, if it ends
 *		exactly at the chunk's front (nobody took IDs after it) and lies in
 *		the chunk: one compare-and-swap, which takers without the lock
 *		cannot slip past.  Caller holds the pool lock exclusive.
 */
static bool
front_rewind(TagPool *pool, IdRange range)
{
	uint64		expected = (uint64) range.hi;

	if (range.lo < pool->front.f.lo ||
		(uint64) range.hi > pg_atomic_read_u64(&pool->front.f.hi))
		return false;
	return pg_atomic_compare_exchange_u64(&pool->front.f.next, &expected,
										  (uint64) range.lo);
}

/*
 * front_take_locked
 *		pool_take_front's slow path: take from the shared chunk under the
 *		pool lock held exclusive, cutting the next one from the active
 *		region (or waiting for a claim) when it is used up.  Returns false
 *		when the slot moved on.
 */
static pg_noinline bool
front_take_locked(int index, uint32 generation, const TagInfo *info,
				  int64 n, IdRange *got, int64 *floor)
{
	for (;;)
	{
		TagPool    *pool;
		bool		prefetch = false;
		bool		took;
		IdRange		front;

		pool = pool_lock(index, generation);
		if (pool == NULL)
			return false;
		if (front_take(pool, n, got, floor))
		{
			pool_unlock(index);
			return true;
		}
		if (!pool_cut(pool, info->chunk_max, false, &front, &prefetch))
		{
			pool_refill(pool, index, generation, info, 1);
			continue;
		}
		front_install(pool, front);
		/* takers without the lock may drain a small chunk first */
		took = front_take(pool, n, got, floor);
		pool_served(index, generation, info, prefetch);
		if (took)
			return true;
	}
}

/*
 * pool_take_front
 *		Give a backend of a locality tag up to n IDs (at least one) from
 *		the front of the shared chunk, cutting the next shared chunk from
 *		the active region when this one is used up.  The common case is one
 *		fetch-add, without a lock for a tag that is not ordered, under the
 *		pool lock held shared for an ordered one: floor is not NULL for an
 *		ordered tag, and it is lowered to the first ID taken before the lock
 *		is released (the transaction's floor, see watermark.c).  Returns
 *		false when the slot moved on.
 */
bool
pool_take_front(int index, uint32 generation, const TagInfo *info,
				int64 n, IdRange *got, int64 *floor)
{
	TagPool    *pool = &pools[index].pool;

	if (floor == NULL)
	{
		bool		moved;

		if (pool_front_take(&pool->front, index, generation, n, got, &moved))
			return true;
		if (moved)
			return false;
	}
	else
	{
		LWLock	   *lock = &pool_locks[index].lock;
		bool		done;

		LWLockAcquire(lock, LW_SHARED);
		done = pool->generation == generation &&
			slot_generation(index) == generation &&
			front_take(pool, n, got, floor);
		LWLockRelease(lock);
		if (done)
			return true;
	}
	return front_take_locked(index, generation, info, n, got, floor);
}

/*
 * pool_watermark
 *		For idgen.watermark() (watermark.c): with the pool lock held
 *		exclusive, so that no backend is between taking IDs from the pool
 *		and publishing them in its chunk, set *floor to the lowest ID the
 *		pool may still hand out, POOL_FLOOR_UNKNOWN when a claim is under
 *		way with nothing left to hand out, or POOL_FLOOR_NONE_YET when no
 *		region was installed since the server started and no claim runs;
 *		and call scan(arg) to fold in the backends' chunks.
 *		Returns false when the slot moved on.
 */
bool
pool_watermark(int index, uint32 generation, int64 *floor,
			   void (*scan) (void *arg), void *arg)
{
	TagPool    *pool = pool_lock(index, generation);
	uint64		next;
	int64		f = PG_INT64_MAX;

	if (pool == NULL)
		return false;
	next = pg_atomic_read_u64(&pool->front.f.next);
	if (next < pg_atomic_read_u64(&pool->front.f.hi))
		f = (int64) next;
	if (pool->nreturned > 0)
		f = Min(f, pool->returned[0].lo);
	if (RANGE_SIZE(pool->active) > 0)
		f = Min(f, pool->active.lo);
	if (RANGE_SIZE(pool->standby) > 0)
		f = Min(f, pool->standby.lo);
	/* nothing to hand out: the next claim lands above the last one */
	if (f == PG_INT64_MAX)
		f = pool->claimer != 0 ? POOL_FLOOR_UNKNOWN :
			pool->installed_hi > 0 ? pool->installed_hi : POOL_FLOOR_NONE_YET;
	*floor = f;
	scan(arg);
	pool_unlock(index);
	return true;
}

/*
 * pool_front
 *		The shared chunk of slot index, for pool_front_next and
 *		pool_front_take (pool.h): its address never changes.
 */
PoolFront *
pool_front(int index)
{
	return &pools[index].pool.front;
}

/*
 * pool_take_range
 *		Give next_id_range n contiguous IDs: from a returned range that
 *		holds them, else from the active region like a chunk; a request
 *		larger than a region gets a claim of exactly n IDs of its own.
 *		Returns false when the slot moved on.
 */
bool
pool_take_range(int index, uint32 generation, const TagInfo *info,
				int64 n, IdRange *range)
{
	for (;;)
	{
		TagPool    *pool = pool_lock(index, generation);
		bool		prefetch = false;
		int64		pooled;
		int64		left;
		int			i;

		if (pool == NULL)
			return false;
		for (i = 0; i < pool->nreturned; i++)
			if (RANGE_SIZE(pool->returned[i]) >= n)
				break;
		if (i < pool->nreturned)
			*range = returned_take(pool, i, n);
		else if (n > info->region)
		{
			pooled = returned_ids(pool) + RANGE_SIZE(pool->active) +
				RANGE_SIZE(pool->standby);
			pool_unlock(index);
			if (!tag_claim(info, index, n, true, range, &left))
				supply_run_out(info, n, n != 1, left, pooled);
			pool = pool_lock(index, generation);
			if (pool == NULL)
				return true;	/* the range is the caller's all the same */
			pool->counters.claims++;
		}
		else if (!pool_cut(pool, n, true, range, &prefetch))
		{
			pool_refill(pool, index, generation, info, n);
			continue;
		}
		pool->counters.ranges += n;
		pool_served(index, generation, info, prefetch);
		return true;
	}
}

/*
 * returned_insert
 *		Add a range to the sorted list of returned ranges, merged with its
 *		neighbours; when the list is full, the smallest range is dropped
 *		(those IDs are lost, never duplicated).  Caller holds the pool lock.
 */
static void
returned_insert(TagPool *pool, IdRange range)
{
	int			pos = returned_above(pool, range.lo);

	if (pos > 0 && pool->returned[pos - 1].hi == range.lo)
	{
		pool->returned[pos - 1].hi = range.hi;
		if (pos < pool->nreturned && pool->returned[pos].lo == range.hi)
		{
			pool->returned[pos - 1].hi = pool->returned[pos].hi;
			pool->nreturned--;
			memmove(&pool->returned[pos], &pool->returned[pos + 1],
					(pool->nreturned - pos) * sizeof(IdRange));
		}
		return;
	}
	if (pos < pool->nreturned && pool->returned[pos].lo == range.hi)
	{
		pool->returned[pos].lo = range.lo;
		return;
	}
	if (pool->nreturned == POOL_MAX_RETURNED)
	{
		int			smallest = 0;
		int			i;

		for (i = 1; i < pool->nreturned; i++)
			if (RANGE_SIZE(pool->returned[i]) <
				RANGE_SIZE(pool->returned[smallest]))
				smallest = i;
		if (RANGE_SIZE(range) <= RANGE_SIZE(pool->returned[smallest]))
		{
			pool->counters.lost += RANGE_SIZE(range);
			return;
		}
		pool->counters.lost += RANGE_SIZE(pool->returned[smallest]);
		pool->nreturned--;
		memmove(&pool->returned[smallest], &pool->returned[smallest + 1],
				(pool->nreturned - smallest) * sizeof(IdRange));
		if (smallest < pos)
			pos--;
	}
	memmove(&pool->returned[pos + 1], &pool->returned[pos],
			(pool->nreturned - pos) * sizeof(IdRange));
	pool->returned[pos] = range;
	pool->nreturned++;
}

/*
 * pool_give_back
 *		Take back a range a backend no longer needs, and fold in the tally
 *		of a chunk that goes away (tally may be NULL).  A range that ends at
 *		the front of the shared chunk goes back into it; otherwise a
 *		locality tag's range is dropped (skipped: reissued later, it would
 *		land in the middle of the index), and any other tag's goes to the
 *		returned ranges.  Ranges of a slot that moved on are dropped.
 *		Raises no error: safe in abort and exit paths.
 */
void
pool_give_back(int index, uint32 generation, IdRange range,
			   GiveBackKind kind, bool locality, const ChunkTally *tally)
{
	TagPool    *pool = pool_lock(index, generation);
	int64		n = RANGE_SIZE(range);

	if (pool == NULL)
		return;
	if (tally != NULL)
		chunk_tally_add(&pool->counters.chunks, tally, 1);
	if (n > 0)
	{
		if (locality && !front_rewind(pool, range))
			pool->counters.skipped += n;
		else
		{
			if (kind == GIVE_BACK_EXIT)
				pool->counters.returned += n;
			else
				pool->counters.reclaimed += n;
			if (!locality)
				returned_insert(pool, range);
		}
	}
	pool_unlock(index);
}

/*
 * pool_counters
 *		Copy the counters of the pool of slot index under generation, and
 *		count the IDs it holds; false when the slot moved on.
 */
bool
pool_counters(int index, uint32 generation, PoolCounters *counters,
			  PoolContents *contents)
{
	TagPool    *pool = pool_lock(index, generation);
	uint64		next;
	uint64		hi;

	if (pool == NULL)
		return false;
	*counters = pool->counters;
	next = pg_atomic_read_u64(&pool->front.f.next);
	hi = pg_atomic_read_u64(&pool->front.f.hi);
	contents->front_left = next >= hi ? 0 : (int64) (hi - next);
	contents->remaining = returned_ids(pool) + RANGE_SIZE(pool->active) +
		RANGE_SIZE(pool->standby) + contents->front_left;
	contents->nreturned = pool->nreturned;
	pool_unlock(index);
	return true;
}

/*
 * pool_reset_counters
 *		Zero the counters of a pool; the tally of chunks still live, which
 *		is added when they go away, is subtracted ahead.
 */
void
pool_reset_counters(int index, uint32 generation, const ChunkTally *live)
{
	TagPool    *pool = pool_lock(index, generation);

	if (pool == NULL)
		return;
	memset(&pool->counters, 0, sizeof(PoolCounters));
	chunk_tally_add(&pool->counters.chunks, live, -1);
	pool_unlock(index);
}
