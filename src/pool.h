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

#include "base.h"
#include "tag.h"

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

extern void pool_shmem_request(void);
extern void pool_shmem_startup(void);

extern bool pool_take_chunk(int index, uint32 generation, const TagInfo *info,
							int64 size, int64 after, IdRange *chunk);
extern bool pool_take_front(int index, uint32 generation, const TagInfo *info,
							int64 n, IdRange *got, int64 *floor);
extern int64 pool_front_next(int index);

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

#endif							/* IDGEN_POOL_H */
