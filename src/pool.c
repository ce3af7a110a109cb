/*-------------------------------------------------------------------------
 *
 * pool.c
 *	  The shared tier: one pool of IDs per tag in shared memory, refilled
 *	  from the catalog tier and drained by backends' chunks.
 *
 * A pool hands out, in this order:
 *	1. ranges given back (tails of exited backends, IDs of aborted
 *	   transactions), lowest first, but only to a backend that has issued
 *	   nothing at or above the range, so that a backend's IDs increase;
 *	2. its active region, front to back; when the active region is 90%
 *	   used, the backend that notices claims the next region (the standby)
 *	   from the catalog, so that callers do not wait at the boundary.
 * Only one claim per pool runs at a time ("claiming"); a backend that finds
 * the pool empty while a claim runs sleeps on claim_cv.  Because claims are
 * serialised and the sequence only moves forward, the standby is always
 * above the active region, and the chunks cut from them increase.
 *
 * Locking: see shmem.c.  The pool lock is never held across a claim; the
 * claim itself runs without any LWLock, under the sequence's heavyweight
 * lock (tag.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "utils/syscache.h"

#include "pool.h"

/* pool whose "claiming" flag this backend set, or -1 */
static int	claiming_index = -1;

static void returned_insert(TagPool *pool, IdRange range);

/*
 * pool_reset
 *		Empty a pool slot for a new tag.  Caller holds both locks.
 */
static void
pool_reset(TagPool *pool, const TagInfo *info)
{
	pool->dboid = MyDatabaseId;
	pool->seqoid = info->seqoid;
	pool->tag = info->name;
	pool->active.lo = pool->active.hi = 0;
	pool->active_base = 0;
	pool->standby.lo = pool->standby.hi = 0;
	pool->claiming = false;
	pool->nreturned = 0;
	pool->issued = pool->reclaimed = pool->returned_ids = 0;
	pool->ranges = pool->claims = pool->waits = pool->lost = 0;
}

/*
 * pool_free
 *		Free the slot at index if it still belongs to (dboid, seqoid).  The
 *		generation bump makes every chunk and cached attachment of the
 *		old tag unusable.
 */
static void
pool_free(int index, Oid dboid, Oid seqoid)
{
	TagPool    *pool = &idgen_shared->pools[index];

	LWLockAcquire(&idgen_shared->dir_lock, LW_EXCLUSIVE);
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (pool->dboid == dboid && pool->seqoid == seqoid)
	{
		pool->seqoid = InvalidOid;
		pool->dboid = InvalidOid;
		idgen_shared->generations[index]++;
	}
	LWLockRelease(&pool->lock);
	LWLockRelease(&idgen_shared->dir_lock);
}

/*
 * pool_evict_dropped
 *		Free the slots of this database whose tag no longer exists (a tag
 *		dropped other than by idgen.drop_tag, e.g. by DROP EXTENSION).
 */
static void
pool_evict_dropped(void)
{
	int			i;

	for (i = 0; i < idgen_shared->max_tags; i++)
	{
		TagPool    *pool = &idgen_shared->pools[i];
		Oid			seqoid;

		LWLockAcquire(&pool->lock, LW_SHARED);
		seqoid = pool->dboid == MyDatabaseId ? pool->seqoid : InvalidOid;
		LWLockRelease(&pool->lock);

		if (OidIsValid(seqoid) &&
			!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(seqoid)))
			pool_free(i, MyDatabaseId, seqoid);
	}
}

/*
 * pool_attach
 *		Find or assign the pool slot of a tag; returns its index and the
 *		slot's current generation.
 */
int
pool_attach(const TagInfo *info, uint32 *generation)
{
	int			attempt;

	for (attempt = 0; attempt < 2; attempt++)
	{
		int			free_index = -1;
		int			i;

		LWLockAcquire(&idgen_shared->dir_lock, LW_EXCLUSIVE);
		for (i = 0; i < idgen_shared->max_tags; i++)
		{
			TagPool    *pool = &idgen_shared->pools[i];

			if (pool->seqoid == info->seqoid && pool->dboid == MyDatabaseId)
			{
				*generation = idgen_shared->generations[i];
				LWLockRelease(&idgen_shared->dir_lock);
				return i;
			}
			if (!OidIsValid(pool->seqoid) && free_index < 0)
				free_index = i;
		}
		if (free_index >= 0)
		{
			TagPool    *pool = &idgen_shared->pools[free_index];

			LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
			pool_reset(pool, info);
			*generation = idgen_shared->generations[free_index];
			LWLockRelease(&pool->lock);
			LWLockRelease(&idgen_shared->dir_lock);
			return free_index;
		}
		LWLockRelease(&idgen_shared->dir_lock);

		if (attempt == 0)
			pool_evict_dropped();
	}

	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("too many idgen tags in use"),
			 errdetail("All %d tag slots set by \"idgen.max_tags\" are taken.",
					   idgen_shared->max_tags),
			 errhint("Increase \"idgen.max_tags\" and restart the server, or drop unused tags.")));
	return -1;					/* keep compiler quiet */
}

/*
 * pool_forget
 *		Free the slot of a tag that is being dropped.
 */
void
pool_forget(Oid dboid, Oid seqoid)
{
	int			i;

	for (i = 0; i < idgen_shared->max_tags; i++)
		pool_free(i, dboid, seqoid);
}

/*
 * pool_describe
 *		If pool slot index belongs to a live tag of this database, return
 *		true with the tag's name and the slot's generation.  Slots of tags
 *		dropped other than by drop_tag (see pool_evict_dropped) are not
 *		live.
 */
bool
pool_describe(int index, NameData *tag, uint32 *generation)
{
	TagPool    *pool = &idgen_shared->pools[index];
	Oid			seqoid;

	LWLockAcquire(&pool->lock, LW_SHARED);
	seqoid = pool->dboid == MyDatabaseId ? pool->seqoid : InvalidOid;
	*tag = pool->tag;
	*generation = idgen_shared->generations[index];
	LWLockRelease(&pool->lock);
	return OidIsValid(seqoid) &&
		SearchSysCacheExists1(RELOID, ObjectIdGetDatum(seqoid));
}

/*
 * pool_dropped_error
 *		Raise the error for a tag dropped while this backend used it.
 */
void
pool_dropped_error(const TagInfo *info)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("tag \"%s\" was dropped by another session",
					NameStr(info->name)),
			 errhint("Retry the transaction.")));
}

/*
 * pool_lock
 *		Lock a pool and check that it still belongs to the caller's tag.
 */
static TagPool *
pool_lock(int index, uint32 generation, const TagInfo *info)
{
	TagPool    *pool = &idgen_shared->pools[index];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (idgen_shared->generations[index] != generation)
	{
		LWLockRelease(&pool->lock);
		pool_dropped_error(info);
	}
	return pool;
}

/*
 * pool_release_claim
 *		Clear the "claiming" flag this backend set, and wake the waiters.
 *		Called when a claim ends, fails, or the backend exits mid-claim.
 */
void
pool_release_claim(void)
{
	TagPool    *pool;

	if (claiming_index < 0)
		return;
	pool = &idgen_shared->pools[claiming_index];
	claiming_index = -1;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	pool->claiming = false;
	LWLockRelease(&pool->lock);
	ConditionVariableBroadcast(&pool->claim_cv);
}

/*
 * pool_claim
 *		Claim a region from the catalog for a pool whose "claiming" flag the
 *		caller has just set, and install it.  With missing_ok, a tag that
 *		has run out of IDs is not an error (the prefetch case: the caller
 *		already has its chunk).
 */
static void
pool_claim(int index, uint32 generation, const TagInfo *info, bool missing_ok)
{
	TagPool    *pool = &idgen_shared->pools[index];
	IdRange		region;
	bool		ok = false;

	claiming_index = index;
	PG_TRY();
	{
		ok = tag_claim(info, info->region, false, missing_ok, &region);
	}
	PG_CATCH();
	{
		pool_release_claim();
		PG_RE_THROW();
	}
	PG_END_TRY();

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (ok && idgen_shared->generations[index] == generation)
	{
		Assert(RANGE_SIZE(pool->standby) == 0);
		if (RANGE_SIZE(pool->active) == 0)
		{
			pool->active = region;
			pool->active_base = region.lo;
		}
		else
			pool->standby = region;
		pool->claims++;
	}
	LWLockRelease(&pool->lock);
	pool_release_claim();
}

/*
 * pool_wait_claim
 *		Sleep until no claim runs on the pool.
 */
static void
pool_wait_claim(TagPool *pool)
{
	ConditionVariablePrepareToSleep(&pool->claim_cv);
	for (;;)
	{
		bool		busy;

		LWLockAcquire(&pool->lock, LW_SHARED);
		busy = pool->claiming;
		LWLockRelease(&pool->lock);
		if (!busy)
			break;
		ConditionVariableSleep(&pool->claim_cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
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
 * pool_cut
 *		Cut up to size IDs (exactly size if exact) from the front of the
 *		active region, moving to the standby when the active region is used
 *		up.  Returns false if the pool cannot serve the request.  Sets
 *		*prefetch (and the "claiming" flag) when the caller must claim the
 *		next region now.  Caller holds the pool lock.
 */
static bool
pool_cut(TagPool *pool, int64 size, bool exact, IdRange *cut, bool *prefetch)
{
	if (RANGE_SIZE(pool->active) == 0 && RANGE_SIZE(pool->standby) > 0)
	{
		pool->active = pool->standby;
		pool->active_base = pool->standby.lo;
		pool->standby.lo = pool->standby.hi = 0;
	}
	if (RANGE_SIZE(pool->active) == 0 ||
		(exact && RANGE_SIZE(pool->active) < size))
		return false;

	cut->lo = pool->active.lo;
	cut->hi = Min(pool->active.hi, pool->active.lo + size);
	pool->active.lo = cut->hi;

	/* 90% of the active region used: claim the next one now */
	*prefetch = (RANGE_SIZE(pool->standby) == 0 && !pool->claiming &&
				 (pool->active.lo - pool->active_base) * 10 >=
				 (pool->active.hi - pool->active_base) * 9);
	if (*prefetch)
		pool->claiming = true;
	return true;
}

/*
 * pool_wait_or_claim
 *		The pool cannot serve a request: wait for the claim under way, or
 *		make one.  Called with the pool lock held; releases it.
 */
static void
pool_wait_or_claim(TagPool *pool, int index, uint32 generation,
				   const TagInfo *info)
{
	pool->waits++;
	if (pool->claiming)
	{
		LWLockRelease(&pool->lock);
		pool_wait_claim(pool);
	}
	else
	{
		pool->claiming = true;
		LWLockRelease(&pool->lock);
		pool_claim(index, generation, info, false);
	}
}

/*
 * pool_take_chunk
 *		Give a backend a chunk of at most size IDs, all above "after" (the
 *		last ID the backend issued).  "consumed" IDs of the backend's
 *		previous chunk are added to the pool's count of issued IDs when
 *		the new chunk is handed over (not on error, which leaves the old
 *		chunk in place).
 */
void
pool_take_chunk(int index, uint32 generation, const TagInfo *info,
				int64 size, int64 after, int64 consumed, IdRange *chunk)
{
	for (;;)
	{
		TagPool    *pool = pool_lock(index, generation, info);
		bool		prefetch;
		int			i;

		i = returned_above(pool, after);
		if (i < pool->nreturned)
		{
			IdRange    *r = &pool->returned[i];

			chunk->lo = r->lo;
			chunk->hi = Min(r->hi, r->lo + size);
			r->lo = chunk->hi;
			pool->issued += consumed;
			if (RANGE_SIZE(*r) == 0)
			{
				pool->nreturned--;
				memmove(r, r + 1, (pool->nreturned - i) * sizeof(IdRange));
			}
			LWLockRelease(&pool->lock);
			return;
		}

		if (pool_cut(pool, size, false, chunk, &prefetch))
		{
			pool->issued += consumed;
			LWLockRelease(&pool->lock);
			if (prefetch)
				pool_claim(index, generation, info, true);
			return;
		}
		pool_wait_or_claim(pool, index, generation, info);
	}
}

/*
 * pool_take_range
 *		Give next_id_range n contiguous IDs.  Up to a region's worth come
 *		from the active region like chunks (what is left of a region too
 *		short for the request joins the returned ranges, for chunks); a
 *		larger request gets a claim of exactly n IDs of its own.
 */
void
pool_take_range(int index, uint32 generation, const TagInfo *info,
				int64 n, IdRange *range)
{
	TagPool    *pool;

	if (n > info->region)
	{
		tag_claim(info, n, true, false, range);
		pool = pool_lock(index, generation, info);
		pool->ranges += n;
		pool->claims++;
		LWLockRelease(&pool->lock);
		return;
	}

	for (;;)
	{
		bool		prefetch;

		pool = pool_lock(index, generation, info);
		if (pool_cut(pool, n, true, range, &prefetch))
		{
			pool->ranges += n;
			LWLockRelease(&pool->lock);
			if (prefetch)
				pool_claim(index, generation, info, true);
			return;
		}
		if (RANGE_SIZE(pool->active) > 0)
		{
			returned_insert(pool, pool->active);
			pool->active.lo = pool->active.hi;
		}
		pool_wait_or_claim(pool, index, generation, info);
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
			pool->lost += RANGE_SIZE(range);
			return;
		}
		pool->lost += RANGE_SIZE(pool->returned[smallest]);
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
 *		Return a range a backend no longer needs, and fold the counts of a
 *		chunk that goes away: IDs issued from it, IDs rewound in it.  Ranges
 *		of a tag whose slot was freed are dropped.
 */
void
pool_give_back(int index, uint32 generation, IdRange range,
			   GiveBackKind kind, int64 issued, int64 rewound)
{
	TagPool    *pool = &idgen_shared->pools[index];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	if (idgen_shared->generations[index] == generation)
	{
		pool->issued += issued;
		pool->reclaimed += rewound;
		if (RANGE_SIZE(range) > 0)
		{
			if (kind == GIVE_BACK_EXIT)
				pool->returned_ids += RANGE_SIZE(range);
			else
				pool->reclaimed += RANGE_SIZE(range);
			returned_insert(pool, range);
		}
	}
	LWLockRelease(&pool->lock);
}
