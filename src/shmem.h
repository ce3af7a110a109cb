/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  Shared memory of the tag allocator: one pool per tag (the shared
 *	  tier) and one slot per backend holding its chunks (the backend tier).
 *
 * The locking protocol is described at the top of shmem.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SHMEM_H
#define IDGEN_SHMEM_H

#include "postgres.h"

#include "storage/condition_variable.h"
#include "storage/lwlock.h"

/* ranges of IDs are half-open: [lo, hi) */
typedef struct IdRange
{
	int64		lo;
	int64		hi;
} IdRange;

#define RANGE_SIZE(r)	((r).hi - (r).lo)

/*
 * Ranges handed back to a pool (exit tails, reclaimed IDs), kept sorted.
 * Reclaimed pieces wait there until a backend that has not passed them
 * (usually a new connection) takes them, so the list is generous: 16 kB
 * per tag.
 */
#define POOL_MAX_RETURNED	1024

/*
 * TagPool: the shared tier of one tag.  A slot is free when seqoid is
 * InvalidOid; its generation (IdgenShared->generations) is bumped whenever
 * it is freed.  Every field is protected by "lock"; claim_cv is a condition
 * variable and needs no lock.
 */
typedef struct TagPool
{
	LWLock		lock;
	Oid			dboid;			/* database of the tag */
	Oid			seqoid;			/* the tag's high-water-mark sequence */
	NameData	tag;			/* tag name, for the monitoring views */
	IdRange		active;			/* region IDs are handed out from */
	int64		active_base;	/* where the active region began */
	IdRange		standby;		/* region claimed in advance, or empty */
	bool		claiming;		/* a backend is claiming a region */
	ConditionVariable claim_cv; /* broadcast when a claim ends */
	int			nreturned;
	IdRange		returned[POOL_MAX_RETURNED];	/* sorted by lo, disjoint */
	/* counters shown by idgen.stats, reset by idgen.reset_stats() */
	int64		issued;			/* IDs issued from chunks no longer live */
	int64		reclaimed;		/* IDs given back by aborted transactions */
	int64		returned_ids;	/* IDs given back by exiting backends */
	int64		ranges;			/* IDs handed out by next_id_range */
	int64		claims;			/* claims from the tag's sequence */
	int64		waits;			/* refills that had to wait for a claim */
	int64		lost;			/* IDs dropped because the list was full */
} TagPool;

/*
 * BackendChunk: the backend tier, one per backend and tag slot.  Only the
 * owning backend writes it, without a lock; other backends read it for
 * the monitoring views and may see a slightly stale picture.
 */
typedef struct BackendChunk
{
	int64		next;			/* next ID to hand out */
	int64		end;			/* first ID past the chunk */
	int64		start;			/* where counting of "issued" restarts */
	int64		rewound;		/* IDs given back by rewinding (reclaim) */
	int64		xact_drawn;		/* drawn by the open transaction, in closed
								 * runs (reclaim) */
	int64		xact_lo;		/* start of its open run in this chunk, or 0 */
	uint32		generation;		/* pool generation the chunk came from */
	int32		size;			/* adaptive chunk size */
} BackendChunk;

typedef struct BackendSlot
{
	pid_t		pid;			/* 0 when the slot is unused */
	BackendChunk chunks[FLEXIBLE_ARRAY_MEMBER];	/* idgen_max_tags of them */
} BackendSlot;

typedef struct IdgenShared
{
	LWLock		dir_lock;		/* assigning and freeing pool slots */
	int			max_tags;
	int			nslots;			/* backend slots */
	Size		slot_size;		/* bytes per backend slot, cache aligned */
	TagPool    *pools;			/* max_tags of them */
	uint32	   *generations;	/* per pool, on cache lines of their own */
	char	   *slots;			/* nslots backend slots */
} IdgenShared;

extern IdgenShared *idgen_shared;

extern Size tag_shmem_size(void);
extern void tag_shmem_request(void);
extern void tag_shmem_startup(void);

extern BackendSlot *shmem_backend_slot(int index);
extern BackendSlot *shmem_my_slot(void);

#endif							/* IDGEN_SHMEM_H */
