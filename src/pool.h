/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  The shared tier: one pool of IDs per tag slot in shared memory.
 *
 * The locking protocol is described at the top of pool.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_POOL_H
#define IDGEN_POOL_H

#include "postgres.h"

#include "port/atomics.h"

#include "base.h"
#include "slot.h"
#include "tag.h"

IDGEN_INTERNAL_BEGIN

/* which counter a range given back to a pool is added to */
typedef enum GiveBackKind
{
	GIVE_BACK_EXIT,				/* unused tail of an exiting backend */
	GIVE_BACK_RECLAIM			/* drawn by an aborted transaction */
} GiveBackKind;

/*
 * What a backend's chunk of a tag adds to the tag's counters; kept in the
 * chunk by its owner, and folded into the pool when the chunk goes away.
 */
typedef struct ChunkTally
{
	int64		issued;			/* IDs issued, including those rewound */
	int64		rewound;		/* IDs rewound by reclaim */
	int64		refills;		/* chunks taken from the pool */
	int64		skipped;		/* IDs of a stale chunk given up (locality) */
} ChunkTally;

/*
 * chunk_tally_add
 *		Add tally t to *sum, or subtract it when sign is -1.
 */
static inline void
chunk_tally_add(ChunkTally *sum, const ChunkTally *t, int sign)
{
	sum->issued += sign * t->issued;
	sum->rewound += sign * t->rewound;
	sum->refills += sign * t->refills;
	sum->skipped += sign * t->skipped;
}

/* what the monitoring views show of a pool */
typedef struct PoolCounters
{
	ChunkTally	chunks;			/* of chunks no longer live */
	int64		reclaimed;		/* IDs given back by aborted transactions */
	int64		returned;		/* IDs given back by exiting backends */
	int64		ranges;			/* IDs handed out by next_id_range */
	int64		claims;			/* claims from the tag's sequence */
	int64		waits;			/* refills that had to wait for a claim */
	int64		lost;			/* IDs dropped because the list was full */
	int64		skipped;		/* IDs given back below the front, dropped */
} PoolCounters;

/* how many IDs a pool holds */
typedef struct PoolContents
{
	int64		remaining;		/* IDs in the pool */
	int64		front_left;		/* of which in the shared chunk */
	int			nreturned;		/* ranges in the list of returned ranges */
} PoolContents;

/*
 * The shared chunk of a locality tag: [lo, hi), of which [next, hi) is
 * still to hand out; next at or past hi means it is used up (a taker's
 * fetch-add may carry it past hi).  Every backend drawing the tag writes
 * next, so it has a cache line of its own.  See the locking protocol in
 * pool.c; the inline functions below take from it.
 */
typedef union PoolFront
{
	struct
	{
		pg_atomic_uint64 next;	/* next ID to hand out */
		pg_atomic_uint64 hi;	/* end of the chunk */
		int64		lo;			/* start of the chunk */
		pg_atomic_uint32 generation;	/* the pool's, published once the
										 * chunk belongs to it */
	}			f;
	char		pad[PG_CACHE_LINE_SIZE];
} PoolFront;

extern void pool_shmem_request(void);
extern void pool_shmem_startup(void);

extern bool pool_take_chunk(int index, uint32 generation, const TagInfo *info,
							int64 size, int64 after, IdRange *chunk);
extern bool pool_take_front(int index, uint32 generation, const TagInfo *info,
							int64 n, IdRange *got, int64 *floor);
extern PoolFront *pool_front(int index);

/* pool_watermark's answers when the pool has nothing to hand out */
#define POOL_FLOOR_UNKNOWN		(-1)
#define POOL_FLOOR_NONE_YET		0

extern bool pool_watermark(int index, uint32 generation, int64 *floor,
						   void (*scan) (void *arg), void *arg);
extern bool pool_take_range(int index, uint32 generation,
							const TagInfo *info, int64 n, IdRange *range);
extern void pool_give_back(int index, uint32 generation, IdRange range,
						   GiveBackKind kind, bool locality,
						   const ChunkTally *tally);
extern bool pool_counters(int index, uint32 generation,
						  PoolCounters *counters, PoolContents *contents);
extern void pool_reset_counters(int index, uint32 generation,
								const ChunkTally *live);
extern void pool_release_claim(void);

/*
 * pool_front_next
 *		The next ID the shared chunk would hand out, read without the lock.
 *		A hint only, which may be a moment stale or mix two chunks: a
 *		backend compares it with the end of its own chunk to tell whether
 *		others drew since it did.  Never used to hand out IDs.
 */
static inline int64
pool_front_next(PoolFront *front)
{
	uint64		hi = pg_atomic_read_u64(&front->f.hi);
	uint64		next = pg_atomic_read_u64(&front->f.next);

	return (int64) Min(next, hi);
}

/*
 * pool_front_cut
 *		Take up to n IDs from the front of a shared chunk, if it has any
 *		left, with one atomic fetch-add on front.next.  A fetch-add that
 *		finds the chunk used up leaves front.next past its end, which means
 *		just that.  Caller holds the pool lock, shared or exclusive, or is
 *		pool_front_take.
 */
static inline bool
pool_front_cut(PoolFront *front, int64 n, IdRange *got)
{
	uint64		hi = pg_atomic_read_u64(&front->f.hi);
	uint64		next;

	if (pg_atomic_read_u64(&front->f.next) >= hi)
		return false;
	/* a full barrier: hi was read before */
	next = pg_atomic_fetch_add_u64(&front->f.next, n);
	if (next >= hi)
		return false;
	got->lo = (int64) next;
	got->hi = hi - next <= (uint64) n ? (int64) hi : got->lo + n;
	return true;
}

/*
 * pool_front_take
 *		pool_front_cut without the pool lock, for a tag that is not ordered:
 *		the one atomic operation on a shared cache line that an ID costs
 *		(see the locking protocol in pool.c).  False when the shared chunk
 *		is used up or not yet the generation's, with *moved set when slot
 *		index has moved on (the IDs taken, if any, are dropped with the
 *		pool's).  Inline: next_id()'s refill of one ID calls it.
 */
static inline bool
pool_front_take(PoolFront *front, int index, uint32 generation, int64 n,
				IdRange *got, bool *moved)
{
	*moved = false;
	if (pg_atomic_read_u32(&front->f.generation) != generation)
		return false;
	pg_read_barrier();
	if (!pool_front_cut(front, n, got))
		return false;
	*moved = slot_generation(index) != generation;
	return !*moved;
}

IDGEN_INTERNAL_END

#endif							/* IDGEN_POOL_H */
