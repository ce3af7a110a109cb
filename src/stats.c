/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  The monitoring functions behind idgen.stats and idgen.backend_ranges,
 *	  and idgen.reset_stats().
 *
 * Rows show only tags of the current database that the current role may
 * monitor (tag_may_monitor: it may use the tag or read its sequence, or has
 * the privileges of pg_read_all_stats).
 *
 * Locking: pools are read through pool.c, under their lock; backends'
 * chunks are read without a lock (chunk.c), so a row may be a moment
 * stale.  They are read in one pass over the backends' entries
 * (chunk_read_all), not one per tag: with thousands of tags, a scan of
 * every backend for every tag would take seconds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "base.h"
#include "chunk.h"
#include "pool.h"
#include "slot.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_pool_stats);
PG_FUNCTION_INFO_V1(idgen_pool_stats_1_1);
PG_FUNCTION_INFO_V1(idgen_backend_ranges);
PG_FUNCTION_INFO_V1(idgen_reset_stats);

/* columns of idgen.pool_stats() in the extension's versions 1.0 and 1.1 */
#define POOL_STATS_COLS_1_0	11
#define POOL_STATS_COLS_1_1	13
#define BACKEND_RANGES_COLS	7

/*
 * visible_slot
 *		If slot index belongs to a tag of this database that the current
 *		role may monitor, return true with its name and generation.
 */
static bool
visible_slot(int index, NameData *tag, uint32 *generation)
{
	Oid			seqoid;

	return slot_describe(index, tag, &seqoid, generation) &&
		tag_may_monitor(seqoid);
}

/*
 * live_chunks
 *		Sum the tallies of the backends' chunks of slot index and
 *		generation, and the IDs still cached in them, from the copies of
 *		chunk_read_all (sorted by slot); *pos is where to look from, and
 *		moves past the slot's copies (slots must come in increasing order).
 */
static void
live_chunks(const ChunkCopy *copies, int ncopies, int *pos,
			int index, uint32 generation, ChunkTally *live, int64 *cached)
{
	memset(live, 0, sizeof(ChunkTally));
	*cached = 0;
	while (*pos < ncopies && copies[*pos].index < index)
		(*pos)++;
	for (; *pos < ncopies && copies[*pos].index == index; (*pos)++)
	{
		const BackendChunk *c = &copies[*pos].chunk;
		ChunkTally	t;

		if (c->generation != generation)
			continue;
		t = chunk_tally(c);
		chunk_tally_add(live, &t, 1);
		*cached += c->end - c->next;
	}
}

/*
 * pool_stats
 *		One row per visible tag of this database that has a slot, with the
 *		first ncols columns of idgen.pool_stats().
 */
static void
pool_stats(FunctionCallInfo fcinfo, int ncols)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ChunkCopy  *copies;
	int			ncopies;
	int			pos = 0;
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ncopies = chunk_read_all(&copies);

	for (i = 0; i < idgen_max_tags; i++)
	{
		Datum		values[POOL_STATS_COLS_1_1];
		bool		nulls[POOL_STATS_COLS_1_1] = {0};
		PoolCounters pc;
		PoolContents contents;
		ChunkTally	live;
		NameData	tag;
		uint32		generation;
		int64		cached;

		if (!visible_slot(i, &tag, &generation) ||
			!pool_counters(i, generation, &pc, &contents))
			continue;
		live_chunks(copies, ncopies, &pos, i, generation, &live, &cached);

		values[0] = CStringGetTextDatum(NameStr(tag));
		values[1] = Int64GetDatum(pc.chunks.issued + live.issued);
		values[2] = Int64GetDatum(pc.reclaimed + pc.chunks.rewound +
								  live.rewound);
		values[3] = Int64GetDatum(pc.returned);
		values[4] = Int64GetDatum(pc.ranges);
		values[5] = Int64GetDatum(pc.claims);
		values[6] = Int64GetDatum(pc.waits);
		values[7] = Int64GetDatum(pc.lost);
		values[8] = Int64GetDatum(contents.remaining);
		values[9] = Int64GetDatum(cached);
		values[10] = Int32GetDatum(contents.nreturned);
		/* 1.1 */
		values[11] = Int64GetDatum(pc.chunks.refills + live.refills);
		values[12] = Int64GetDatum(pc.skipped + pc.chunks.skipped +
								   live.skipped);
		Assert(rsinfo->setDesc->natts == ncols);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
}

/*
 * idgen_pool_stats
 *		idgen.pool_stats() of version 1.0 of the extension's SQL.
 */
Datum
idgen_pool_stats(PG_FUNCTION_ARGS)
{
	pool_stats(fcinfo, POOL_STATS_COLS_1_0);
	return (Datum) 0;
}

/*
 * idgen_pool_stats_1_1
 *		idgen.pool_stats() from 1.1 on: refills and skipped IDs added.
 */
Datum
idgen_pool_stats_1_1(PG_FUNCTION_ARGS)
{
	pool_stats(fcinfo, POOL_STATS_COLS_1_1);
	return (Datum) 0;
}

/*
 * idgen_backend_ranges
 *		One row per backend and visible tag of this database: the chunk it
 *		caches.
 */
Datum
idgen_backend_ranges(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ChunkCopy  *copies;
	int			ncopies;
	int			k = 0;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	ncopies = chunk_read_all(&copies);

	while (k < ncopies)
	{
		int			i = copies[k].index;
		NameData	tag;
		uint32		generation;
		bool		visible = visible_slot(i, &tag, &generation);

		for (; k < ncopies && copies[k].index == i; k++)
		{
			const BackendChunk *c = &copies[k].chunk;
			Datum		values[BACKEND_RANGES_COLS];
			bool		nulls[BACKEND_RANGES_COLS] = {0};

			if (!visible || c->generation != generation)
				continue;
			values[0] = Int32GetDatum(copies[k].pid);
			values[1] = CStringGetTextDatum(NameStr(tag));
			values[2] = Int64GetDatum(c->start);
			values[3] = Int64GetDatum(c->next);
			values[4] = Int64GetDatum(c->end);
			values[5] = Int32GetDatum(c->size);
			values[6] = Int64GetDatum(c->xact_drawn +
									  (c->xact_lo > 0 ? c->next - c->xact_lo : 0));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * idgen_reset_stats
 *		reset_stats(tag): zero the counters of one tag, or of every tag of
 *		this database when tag is NULL.  A tag that does not exist is an
 *		error, as everywhere else; one that has no slot (not used since
 *		the server started) has no counters to zero.
 */
Datum
idgen_reset_stats(PG_FUNCTION_ARGS)
{
	bool		all = PG_ARGISNULL(0);
	Oid			only = InvalidOid;
	ChunkCopy  *copies;
	int			ncopies;
	int			pos = 0;
	int			i;

	idgen_check_not_parallel("idgen.reset_stats");
	idgen_check_preloaded();
	if (!all)
	{
		NameData	name;
		TagInfo		info;

		tag_check_name(PG_GETARG_TEXT_PP(0), &name);
		(void) tag_lookup(&name, &info);
		only = info.seqoid;
	}

	ncopies = chunk_read_all(&copies);
	for (i = 0; i < idgen_max_tags; i++)
	{
		NameData	tag;
		Oid			seqoid;
		uint32		generation;
		ChunkTally	live;
		int64		cached;

		if (!slot_describe(i, &tag, &seqoid, &generation) ||
			(!all && seqoid != only))
			continue;
		live_chunks(copies, ncopies, &pos, i, generation, &live, &cached);
		pool_reset_counters(i, generation, &live);
	}
	PG_RETURN_VOID();
}
