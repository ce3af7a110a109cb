/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  Layout, sizing and initialisation of the tag allocator's shared
 *	  memory.
 *
 * Layout: one IdgenShared header, idgen.max_tags TagPools, then one
 * BackendSlot per possible backend (MaxBackends), each padded to a cache
 * line so that no two backends write the same line.
 *
 * Locking protocol (for every file that touches this memory):
 *
 *	- IdgenShared->dir_lock (exclusive) is held to assign a free TagPool
 *	  slot to a tag or to free one; a pool's dboid, seqoid and generation
 *	  change only under dir_lock AND that pool's lock, so holding either
 *	  one is enough to read them.  The fast path also reads a generation
 *	  without any lock, to notice a dropped tag: generations sit apart
 *	  from the pools, so that this read does not share a cache line with
 *	  anything written on refills.  dir_lock is taken before a pool lock,
 *	  never after.
 *	- TagPool->lock (exclusive) protects everything else in the pool.
 *	  It is held for a few dozen instructions: never across a claim from
 *	  the catalog, a heavyweight lock, WAL flush or anything that can
 *	  raise an error.  At most one pool lock is held at a time.
 *	- A BackendChunk is written only by the backend owning the slot,
 *	  without any lock: this is the fast path.  Other backends read it
 *	  without a lock for monitoring only; 8-byte aligned loads are atomic
 *	  on every platform PostgreSQL supports with 64-bit ints, so a reader
 *	  sees each field whole, though possibly stale.
 *	- BackendSlot->pid is written by the owner at first use and cleared at
 *	  exit; readers treat it like the chunks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "idgen.h"
#include "shmem.h"

IdgenShared *idgen_shared = NULL;

static int	idgen_lwlock_tranche = 0;

/*
 * slot_size
 *		Bytes of one backend slot, rounded up to a cache line.
 */
static Size
slot_size(void)
{
	Size		size;

	size = add_size(offsetof(BackendSlot, chunks),
					mul_size(sizeof(BackendChunk), idgen_max_tags));
	return TYPEALIGN(PG_CACHE_LINE_SIZE, size);
}

/*
 * tag_shmem_size
 *		Bytes the tag allocator needs, including alignment padding.
 */
Size
tag_shmem_size(void)
{
	Size		size;

	size = TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(IdgenShared));
	size = add_size(size, mul_size(sizeof(TagPool), idgen_max_tags));
	size = add_size(size, PG_CACHE_LINE_SIZE);
	size = add_size(size, mul_size(sizeof(uint32), idgen_max_tags));
	size = add_size(size, PG_CACHE_LINE_SIZE);
	size = add_size(size, mul_size(slot_size(), MaxBackends));
	return size;
}

/*
 * tag_shmem_request
 *		Ask for our memory and LWLock tranche; called from the
 *		shmem_request_hook in the postmaster.
 */
void
tag_shmem_request(void)
{
	RequestAddinShmemSpace(tag_shmem_size());
}

/*
 * tag_shmem_startup
 *		Attach to (and, the first time, initialise) the tag allocator's
 *		shared memory.  Called with AddinShmemInitLock held.
 */
void
tag_shmem_startup(void)
{
	bool		found;
	char	   *base;
	int			i;

	base = ShmemInitStruct("idgen tags", tag_shmem_size(), &found);
	idgen_shared = (IdgenShared *) base;

	if (idgen_lwlock_tranche == 0)
		idgen_lwlock_tranche = LWLockNewTrancheId();
	LWLockRegisterTranche(idgen_lwlock_tranche, "idgen");

	if (found)
		return;

	memset(base, 0, tag_shmem_size());
	idgen_shared->max_tags = idgen_max_tags;
	idgen_shared->nslots = MaxBackends;
	idgen_shared->slot_size = slot_size();
	idgen_shared->pools = (TagPool *)
		(base + TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(IdgenShared)));
	idgen_shared->generations = (uint32 *)
		TYPEALIGN(PG_CACHE_LINE_SIZE,
				  (char *) (idgen_shared->pools + idgen_max_tags));
	idgen_shared->slots = (char *)
		TYPEALIGN(PG_CACHE_LINE_SIZE,
				  (char *) (idgen_shared->generations + idgen_max_tags));

	LWLockInitialize(&idgen_shared->dir_lock, idgen_lwlock_tranche);
	for (i = 0; i < idgen_max_tags; i++)
	{
		LWLockInitialize(&idgen_shared->pools[i].lock, idgen_lwlock_tranche);
		ConditionVariableInit(&idgen_shared->pools[i].claim_cv);
	}
}

/*
 * shmem_backend_slot
 *		The slot of backend number index (0-based).
 */
BackendSlot *
shmem_backend_slot(int index)
{
	Assert(index >= 0 && index < idgen_shared->nslots);
	return (BackendSlot *) (idgen_shared->slots +
							(Size) index * idgen_shared->slot_size);
}

/*
 * shmem_my_slot
 *		This backend's slot, indexed by its BackendId.
 */
BackendSlot *
shmem_my_slot(void)
{
	if (MyBackendId < 1 || MyBackendId > idgen_shared->nslots)
		elog(ERROR, "idgen: backend id %d out of range", MyBackendId);
	return shmem_backend_slot(MyBackendId - 1);
}
