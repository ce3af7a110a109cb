/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  The backend tier: this backend's chunks in shared memory, and its
 *	  local map from tag names to them.
 *
 * The locking protocol is described at the top of cache.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_CACHE_H
#define IDGEN_CACHE_H

#include "postgres.h"

#include "fmgr.h"

#include "pool.h"
#include "tag.h"

/*
 * BackendChunk: the backend tier, one per backend and tag slot.  Only the
 * owning backend writes it, without a lock; other backends read it for
 * the monitoring views (see cache.c).
 */
typedef struct BackendChunk
{
	int64		next;			/* next ID to hand out */
	int64		end;			/* first ID past the chunk */
	int64		start;			/* where counting of "issued" restarts */
	ChunkTally	tally;			/* IDs issued before "start", rewound, refills
								 * and skipped, since attached */
	int64		xact_drawn;		/* drawn by the open transaction, in closed
								 * runs (reclaim) */
	int64		xact_lo;		/* start of its open run in this chunk, or 0 */
	int64		floor;			/* ordered tags: lowest ID the open
								 * transaction may draw, or 0 (watermark.c) */
	uint32		generation;		/* slot generation the chunk came from */
	int32		size;			/* adaptive chunk size */
	bool		locality;		/* the tag's option, as last read */
} BackendChunk;

/* what this backend knows of one tag */
typedef struct LocalTag
{
	NameData	name;			/* hash key */
	bool		valid;			/* false once invalidated; rebuilt on use */
	Oid			checked_user;	/* role whose privileges were checked */
	uint64		checked_inval;	/* SharedInvalidMessageCounter then */
	uint64		xact_stamp;		/* reclaim_stamp of the transaction whose
								 * first use was handled (cache_first_use) */
	TagInfo		info;
	int			slot;			/* index of the tag's slot */
	uint32		generation;		/* of that slot when attached */
	int			entry;			/* index of our entry of the slot */
	BackendChunk *chunk;		/* ours, in shared memory */
	PoolFront  *front;			/* the slot's shared chunk (pool.h) */
	PoolFront  *inline_front;	/* the same, when next_id() may take one ID
								 * from it inline (locality, not ordered);
								 * else NULL */
	TimestampTz refilled_at;	/* when the chunk was last refilled */
	uint64		reclaim_stamp;	/* reclaim_stamp of the transaction that
								 * listed it (reclaim.c) */
	int64		resume_after;	/* last ID (hybrid: slab) used from the entry
								 * of "slot" before it was evicted */
	uint32		resume_generation;	/* slot generation of that, or 0 */
} LocalTag;

/* a copy of one backend's chunk of one tag slot (cache_read_all) */
typedef struct CacheEntryCopy
{
	int			index;			/* tag slot */
	int			backend;		/* backend number */
	pid_t		pid;
	BackendChunk chunk;
} CacheEntryCopy;

extern void cache_shmem_request(void);
extern void cache_shmem_startup(void);

extern LocalTag *cache_get(FunctionCallInfo fcinfo, TagKind kind,
						   const char *function);
extern void cache_reattach(LocalTag *lt, TagKind kind,
						   const char *function);
extern BackendChunk *cache_chunk(int index);
extern void cache_give_back_tail(int index);
extern bool cache_read_chunk(int backend, int index, pid_t *pid,
							 BackendChunk *chunk);
extern int	cache_read_all(CacheEntryCopy **copies);
extern int	cache_entries(void);

/*
 * cache_chunk_tally
 *		What a chunk adds to its tag's counters, up to now.
 */
static inline ChunkTally
cache_chunk_tally(const BackendChunk *c)
{
	ChunkTally	t = c->tally;

	t.issued += c->next - c->start + c->tally.rewound;
	return t;
}

#endif							/* IDGEN_CACHE_H */
