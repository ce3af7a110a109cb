/*-------------------------------------------------------------------------
 *
 * chunk.h
 *	  The backend tier's memory: each backend's chunks of IDs in shared
 *	  memory, one entry per tag it uses, and the floors of its open
 *	  transaction.
 *
 * The locking protocol is described at the top of chunk.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_CHUNK_H
#define IDGEN_CHUNK_H

#include "postgres.h"

#include "pool.h"
#include "tag.h"

IDGEN_INTERNAL_BEGIN

/*
 * BackendChunk: the backend tier, one per backend and tag slot.  Only the
 * owning backend writes it, without a lock; other backends read it for
 * the monitoring views and the watermark (see chunk.c).
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
								 * transaction may draw, or 0 (chunk.c) */
	uint32		generation;		/* slot generation the chunk came from */
	int32		size;			/* adaptive chunk size */
	bool		locality;		/* the tag's option, as last read */
} BackendChunk;

/* a copy of one backend's chunk of one tag slot (chunk_read_all) */
typedef struct ChunkCopy
{
	int			index;			/* tag slot */
	int			backend;		/* backend number */
	pid_t		pid;
	BackendChunk chunk;
} ChunkCopy;

/*
 * What else an entry holds, handed back when it is evicted (hybrid.c's
 * slab): returns the last ID or slab the backend used there, or 0.
 */
typedef int64 (*ChunkEvictHook) (int entry, int index);

extern ChunkEvictHook chunk_evict_hook;

/* tag slots in which the open transaction holds a floor */
extern int *chunk_floored;
extern int	chunk_nfloored;

extern void chunk_shmem_request(void);
extern void chunk_shmem_startup(void);
extern int	chunk_entries(void);
extern void chunk_attach_backend(void);

extern int	chunk_entry(int index);
extern BackendChunk *chunk_at(int entry);
extern BackendChunk *chunk_of(int index);
extern int	chunk_free_entry(void);
extern int	chunk_victim(const uint64 *last_use, uint64 open_stamp);
extern int	chunk_evict(int entry, int64 *after);
extern BackendChunk *chunk_bind(int entry, int index, uint32 generation,
								int64 resume_after);

extern void chunk_reset(BackendChunk *c, uint32 generation);
extern void chunk_give_back_tail(int index);
extern void chunk_floor_note(BackendChunk *c, int index);
extern void chunk_floors_clear(void);

extern bool chunk_read(int backend, int index, pid_t *pid,
					   BackendChunk *chunk);
extern int	chunk_read_all(ChunkCopy **copies);

/*
 * chunk_tally
 *		What a chunk adds to its tag's counters, up to now.
 */
static inline ChunkTally
chunk_tally(const BackendChunk *c)
{
	ChunkTally	t = c->tally;

	t.issued += c->next - c->start + c->tally.rewound;
	return t;
}

/*
 * chunk_size_clamp
 *		A chunk size within a tag's bounds: chunk_min to chunk_max, or 1 to
 *		chunk_max for a locality tag (see next_id.c).
 */
static inline int64
chunk_size_clamp(const TagInfo *info, int64 size)
{
	return Min(Max(size, info->locality ? 1 : info->chunk_min),
			   info->chunk_max);
}

IDGEN_INTERNAL_END

#endif							/* IDGEN_CHUNK_H */
