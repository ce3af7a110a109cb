/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  The backend tier: this backend's chunks, and its local map from tag
 *	  names to them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_CACHE_H
#define IDGEN_CACHE_H

#include "postgres.h"

#include "fmgr.h"
#include "shmem.h"
#include "tag.h"

/* what this backend knows of one tag */
typedef struct LocalTag
{
	NameData	name;			/* hash key */
	bool		valid;			/* false once invalidated; rebuilt on use */
	Oid			checked_user;	/* role whose privileges were checked */
	TagInfo		info;
	int			pool;			/* index of the tag's pool slot */
	uint32		generation;		/* of that slot when attached */
	BackendChunk *chunk;		/* ours, in shared memory */
	TimestampTz refilled_at;	/* when the chunk was last refilled */
	uint64		xact_stamp;		/* reclaim_stamp at the last draw */
	int			open_record;	/* reclaim's record of the open run, or -1 */
} LocalTag;

extern LocalTag *cache_get(FunctionCallInfo fcinfo, TagKind kind,
						   const char *function);
extern void cache_refill(LocalTag *lt);
extern BackendChunk *cache_chunk(int index);

#endif							/* IDGEN_CACHE_H */
