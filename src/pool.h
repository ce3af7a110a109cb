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

#include "idgen.h"
#include "tag.h"

/* which counter a range given back to a pool is added to */
typedef enum GiveBackKind
{
	GIVE_BACK_EXIT,				/* unused tail of an exiting backend */
	GIVE_BACK_RECLAIM			/* drawn by an aborted transaction */
} GiveBackKind;

/* what the monitoring views show of a pool */
typedef struct PoolCounters
{
	int64		issued;			/* IDs issued from chunks no longer live */
	int64		reclaimed;		/* IDs given back by aborted transactions */
	int64		returned;		/* IDs given back by exiting backends */
	int64		ranges;			/* IDs handed out by next_id_range */
	int64		claims;			/* claims from the tag's sequence */
	int64		waits;			/* refills that had to wait for a claim */
	int64		lost;			/* IDs dropped because the list was full */
	int64		remaining;		/* IDs in the pool */
	int			nreturned;		/* ranges in the list of returned ranges */
} PoolCounters;

extern void pool_shmem_request(void);
extern void pool_shmem_startup(void);

extern bool pool_take_chunk(int index, uint32 generation, const TagInfo *info,
							int64 size, int64 after, int64 consumed,
							IdRange *chunk);
extern bool pool_take_range(int index, uint32 generation,
							const TagInfo *info, int64 n, IdRange *range);
extern void pool_give_back(int index, uint32 generation, IdRange range,
						   GiveBackKind kind, int64 issued, int64 rewound);
extern bool pool_counters(int index, uint32 generation,
						  PoolCounters *counters);
extern void pool_reset_counters(int index, uint32 generation, int64 issued,
								int64 rewound);
extern void pool_release_claim(void);

#endif							/* IDGEN_POOL_H */
