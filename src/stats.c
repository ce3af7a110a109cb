/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  The monitoring functions behind idgen.stats and idgen.backend_ranges,
 *	  and idgen.reset_stats().
 *
 * Locking: see shmem.c.  Each pool is read under its lock in shared mode
 * (exclusive to reset it); backend chunks are read without a lock, so a
 * row may be a moment stale.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "idgen.h"
#include "pool.h"
#include "shmem.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_pool_stats);
PG_FUNCTION_INFO_V1(idgen_backend_ranges);
PG_FUNCTION_INFO_V1(idgen_reset_stats);

#define POOL_STATS_COLS		11
#define BACKEND_RANGES_COLS	7

/*
 * live_chunks
 *		Sum, over the backends' chunks of pool slot index and generation,
 *		the IDs issued from them (including those rewound since), the IDs
 *		rewound, and the IDs still cached in them.
 */
static void
live_chunks(int index, uint32 generation, int64 *issued, int64 *rewound,
			int64 *cached)
{
	int			b;

	*issued = 0;
	*rewound = 0;
	*cached = 0;
	for (b = 0; b < idgen_shared->nslots; b++)
	{
		BackendSlot *slot = shmem_backend_slot(b);
		BackendChunk *c = &slot->chunks[index];

		if (slot->pid == 0 || c->end == 0 || c->generation != generation)
			continue;
		*issued += c->next - c->start + c->rewound;
		*rewound += c->rewound;
		*cached += c->end - c->next;
	}
}

/*
 * idgen_pool_stats
 *		One row per tag of this database that has a pool slot.
 */
Datum
idgen_pool_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < idgen_shared->max_tags; i++)
	{
		TagPool    *pool = &idgen_shared->pools[i];
		Datum		values[POOL_STATS_COLS];
		bool		nulls[POOL_STATS_COLS] = {0};
		TagPool		copy;
		NameData	tag;
		uint32		generation;
		int64		remaining;
		int64		issued;
		int64		rewound;
		int64		cached;
		int			r;

		if (!pool_describe(i, &tag, &generation))
			continue;
		LWLockAcquire(&pool->lock, LW_SHARED);
		memcpy(&copy, pool, sizeof(TagPool));
		LWLockRelease(&pool->lock);

		remaining = RANGE_SIZE(copy.active) + RANGE_SIZE(copy.standby);
		for (r = 0; r < copy.nreturned; r++)
			remaining += RANGE_SIZE(copy.returned[r]);
		live_chunks(i, generation, &issued, &rewound, &cached);

		values[0] = CStringGetTextDatum(NameStr(tag));
		values[1] = Int64GetDatum(copy.issued + issued);
		values[2] = Int64GetDatum(copy.reclaimed + rewound);
		values[3] = Int64GetDatum(copy.returned_ids);
		values[4] = Int64GetDatum(copy.ranges);
		values[5] = Int64GetDatum(copy.claims);
		values[6] = Int64GetDatum(copy.waits);
		values[7] = Int64GetDatum(copy.lost);
		values[8] = Int64GetDatum(remaining);
		values[9] = Int64GetDatum(cached);
		values[10] = Int32GetDatum(copy.nreturned);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	return (Datum) 0;
}

/*
 * idgen_backend_ranges
 *		One row per backend and tag of this database: the chunk it caches.
 */
Datum
idgen_backend_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);

	for (i = 0; i < idgen_shared->max_tags; i++)
	{
		NameData	tag;
		uint32		generation;
		int			b;

		if (!pool_describe(i, &tag, &generation))
			continue;

		for (b = 0; b < idgen_shared->nslots; b++)
		{
			BackendSlot *slot = shmem_backend_slot(b);
			BackendChunk c = slot->chunks[i];
			pid_t		pid = slot->pid;
			Datum		values[BACKEND_RANGES_COLS];
			bool		nulls[BACKEND_RANGES_COLS] = {0};

			if (pid == 0 || c.end == 0 || c.generation != generation)
				continue;
			values[0] = Int32GetDatum(pid);
			values[1] = CStringGetTextDatum(NameStr(tag));
			values[2] = Int64GetDatum(c.start);
			values[3] = Int64GetDatum(c.next);
			values[4] = Int64GetDatum(c.end);
			values[5] = Int32GetDatum(c.size);
			values[6] = Int64GetDatum(c.xact_drawn +
									  (c.xact_lo > 0 ? c.next - c.xact_lo : 0));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * idgen_reset_stats
 *		reset_stats(tag): zero the counters of one tag, or of every tag of
 *		this database when tag is NULL.
 */
Datum
idgen_reset_stats(PG_FUNCTION_ARGS)
{
	NameData	name;
	bool		all = PG_ARGISNULL(0);
	int			i;

	idgen_check_preloaded();
	if (!all)
		tag_check_name(PG_GETARG_TEXT_PP(0), &name);

	for (i = 0; i < idgen_shared->max_tags; i++)
	{
		TagPool    *pool = &idgen_shared->pools[i];
		int64		issued;
		int64		rewound;
		int64		cached;

		LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
		if (pool->dboid == MyDatabaseId && OidIsValid(pool->seqoid) &&
			(all || strcmp(NameStr(pool->tag), NameStr(name)) == 0))
		{
			live_chunks(i, idgen_shared->generations[i], &issued, &rewound,
						&cached);
			pool->issued = -issued;
			pool->reclaimed = -rewound;
			pool->returned_ids = pool->ranges = 0;
			pool->claims = pool->waits = pool->lost = 0;
		}
		LWLockRelease(&pool->lock);
	}
	PG_RETURN_VOID();
}
