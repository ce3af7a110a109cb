/*-------------------------------------------------------------------------
 *
 * pool.h
 *	  The shared tier: one pool of IDs per tag in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_POOL_H
#define IDGEN_POOL_H

#include "postgres.h"

#include "shmem.h"
#include "tag.h"

/* which counter a range given back to a pool is added to */
typedef enum GiveBackKind
{
	GIVE_BACK_EXIT,				/* unused tail of an exiting backend */
	GIVE_BACK_RECLAIM			/* drawn by an aborted transaction */
} GiveBackKind;

extern int	pool_attach(const TagInfo *info, uint32 *generation);
extern void pool_take_chunk(int index, uint32 generation, const TagInfo *info,
							int64 size, int64 after, int64 consumed,
							IdRange *chunk);
extern void pool_take_range(int index, uint32 generation,
							const TagInfo *info, int64 n, IdRange *range);
extern void pool_give_back(int index, uint32 generation, IdRange range,
						   GiveBackKind kind, int64 issued, int64 rewound);
extern void pool_forget(Oid dboid, Oid seqoid);
extern bool pool_describe(int index, NameData *tag, uint32 *generation);
extern void pool_dropped_error(const TagInfo *info) pg_attribute_noreturn();
extern void pool_release_claim(void);

#endif							/* IDGEN_POOL_H */
