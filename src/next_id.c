/*-------------------------------------------------------------------------
 *
 * next_id.c
 *	  The segment generator: next_id() and next_id_range(), served from
 *	  this backend's chunks (chunk.c), refilled from the tag's pool.
 *
 * next_id() finds the tag's LocalTag (lookup.h), then bumps chunk->next:
 * no lock, no atomic read-modify-write, no syscall, no catalog access.  An
 * empty chunk is refilled from the tag's pool, in one of two ways:
 *	- locality => true (the default): from the front of the pool's shared
 *	  chunk (pool.c), one ID at a time while other backends draw too, so
 *	  that the IDs in flight of all backends lie together, as a sequence's
 *	  do, and a B-tree on them fills at its right edge.  A backend that
 *	  finds the front where its own chunk ended (nobody drew in between)
 *	  doubles its next chunk, up to chunk_max: a backend drawing alone
 *	  (a bulk load) refills rarely.  The common refill, one ID for a tag
 *	  that is not ordered, is inline in next_id() (refill_one): one
 *	  fetch-add on the shared chunk's front.  At its first use of the tag
 *	  in each transaction, a backend whose chunk has fallen far behind the
 *	  front (a pooled session that sat idle while others drew) hands the
 *	  rest of it back to the pool (segment_first_use).
 *	- locality => false: a chunk of its own, whose size doubles (up to the
 *	  tag's chunk_max) when the previous chunk lasted under a second, and
 *	  halves (down to chunk_min) when it lasted over ten seconds.  Fewer
 *	  refills, but each backend inserts at its own place in an index.
 *
 * Only this backend writes its chunks (see chunk.c's locking protocol);
 * pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "tcop/utility.h"
#include "utils/timestamp.h"

#include "base.h"
#include "chunk.h"
#include "lookup.h"
#include "pool.h"
#include "reclaim.h"

PG_FUNCTION_INFO_V1(idgen_next_id);
PG_FUNCTION_INFO_V1(idgen_next_id_range);

/* most IDs one next_id_range() call hands out */
#define NEXT_ID_RANGE_MAX	PG_INT32_MAX

/*
 * How far (in IDs) others may have drawn past the rest of a locality tag's
 * chunk before the backend gives that rest up at its next transaction: a
 * few dozen IDs behind the front still land in the rightmost leaf of a
 * B-tree on them (a leaf holds about 400 bigint keys), as a sequence's
 * interleaved inserts do.
 */
#define LOCALITY_WINDOW		64

/*
 * segment_first_use
 *		First use of a segment tag in this transaction (LookupFirstUse):
 *		lookup_check_use, then the steps of this tier: a locality tag's
 *		chunk that others have passed far goes back, an ordered tag's floor
 *		is published (chunk.c), and reclaim's run of the IDs the
 *		transaction draws from here opens.
 */
static pg_noinline void
segment_first_use(LocalTag *lt, const char *function)
{
	BackendChunk *c = lt->chunk;

	lookup_check_use(lt, function);
	if (lt->info.locality && c->next < c->end)
	{
		int64		front = pool_front_next(lt->front);

		if (front != c->end && front - c->next > LOCALITY_WINDOW)
			chunk_give_back_tail(lt->slot);
	}
	if (lt->info.ordered)
		chunk_floor_note(c, lt->slot);
	reclaim_note(lt);
}

/*
 * install_chunk
 *		A refill's books, once nothing is left that can fail: the open run
 *		in the old chunk ends (a refill that raised an error left it open,
 *		to be rewound if the transaction aborts), the old chunk's IDs count
 *		as issued, the new one is got, and the next refill asks for size
 *		(within the tag's bounds already).
 *		The caller then opens the transaction's run in the new chunk.
 */
static pg_attribute_always_inline void
install_chunk(LocalTag *lt, BackendChunk *c, IdRange got, int64 size)
{
	reclaim_chunk_ends(lt);
	c->tally.issued += c->next - c->start;
	c->tally.refills++;
	c->start = got.lo;
	c->next = got.lo;
	c->end = got.hi;
	c->size = size;
}

/*
 * refill_chunk
 *		Replace an exhausted chunk with a new one from the pool, adapting
 *		its size (see the header comment).  Refused in parallel mode.
 */
static pg_noinline void
refill_chunk(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	TimestampTz now = 0;
	int64		size = c->size;
	int64		last_end = c->end;
	IdRange		chunk;

	idgen_check_not_parallel("next_id");
	if (lt->info.locality)
	{
		/* a larger chunk only while nobody else draws: see the header */
		if (size > 1 &&
			(last_end == 0 || pool_front_next(lt->front) != last_end))
			size = 1;
	}
	else
	{
		now = GetCurrentTimestamp();
		if (lt->refilled_at != 0)
		{
			if (now - lt->refilled_at < USECS_PER_SEC)
				size *= 2;
			else if (now - lt->refilled_at > 10 * USECS_PER_SEC)
				size /= 2;
		}
	}

	for (;;)
	{
		bool		ok;

		size = chunk_size_clamp(&lt->info, size);
		if (lt->info.locality)
			ok = pool_take_front(lt->slot, lt->generation, &lt->info, size,
								 &chunk, lt->info.ordered ? &c->floor : NULL);
		else
			ok = pool_take_chunk(lt->slot, lt->generation, &lt->info, size,
								 c->next - 1, &chunk);
		if (ok)
			break;
		/* the tag was dropped or reset meanwhile: look it up again */
		lookup_reattach(lt, TAG_SEGMENT, "next_id");
		c = lt->chunk;
		last_end = c->end;
		/* a new chunk has no floor yet */
		if (lt->info.ordered)
			chunk_floor_note(c, lt->slot);
	}

	/* locality: drawing alone (nobody took IDs since ours) doubles */
	if (lt->info.locality)
		size = chunk.lo == last_end ? size * 2 : 1;
	install_chunk(lt, c, chunk, chunk_size_clamp(&lt->info, size));
	lt->refilled_at = now;

	/*
	 * The transaction draws on from the new chunk (listed already, unless a
	 * reattach above made it a tag that reclaims).
	 */
	reclaim_note(lt);
}

/*
 * refill_one
 *		refill_chunk's common case, inline in next_id(): a locality tag that
 *		is not ordered, whose chunk size is one (others draw too), takes its
 *		next ID from the shared chunk with one fetch-add.  False when
 *		refill_chunk must do it: another kind of tag, a larger chunk, the
 *		shared chunk used up, or the slot moved on.
 */
static pg_attribute_always_inline bool
refill_one(LocalTag *lt, BackendChunk *c)
{
	IdRange		got;
	bool		moved;

	if (!lt->info.locality || lt->info.ordered || c->size != 1 ||
		!pool_front_take(lt->front, lt->slot, lt->generation, 1,
						 &got, &moved))
		return false;
	/* drawing alone (nobody took IDs since ours) doubles */
	install_chunk(lt, c, got,
				  got.lo == c->end ? chunk_size_clamp(&lt->info, 2) : 1);
	lt->refilled_at = 0;
	reclaim_open_run(lt);
	return true;
}

/*
 * idgen_next_id
 *		next_id(tag): the next ID of a segment tag.
 */
Datum
idgen_next_id(PG_FUNCTION_ARGS)
{
	LocalTag   *lt;
	BackendChunk *c;
	int64		id;

	if (unlikely(XactReadOnly))
		PreventCommandIfReadOnly("next_id()");

	lt = lookup_tag(fcinfo, TAG_SEGMENT, "next_id", segment_first_use);
	c = lt->chunk;
	if (unlikely(c->next >= c->end) && !refill_one(lt, c))
	{
		refill_chunk(lt);
		c = lt->chunk;
	}
	id = c->next;
	c->next = id + 1;
	PG_RETURN_INT64(id);
}

/*
 * idgen_next_id_range
 *		next_id_range(tag, n): n contiguous IDs [lo, lo + n), n at most
 *		NEXT_ID_RANGE_MAX, owned by the caller for good (never reclaimed).
 */
Datum
idgen_next_id_range(PG_FUNCTION_ARGS)
{
	int64		n = PG_GETARG_INT64(1);
	LocalTag   *lt;
	IdRange		range;

	PreventCommandIfReadOnly("next_id_range()");
	idgen_check_not_parallel("next_id_range");
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of IDs must be positive, not " INT64_FORMAT, n)));
	/* a role that may only use the tag cannot use up its space in one call */
	if (n > NEXT_ID_RANGE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of IDs must be at most %d, not " INT64_FORMAT,
						NEXT_ID_RANGE_MAX, n),
				 errhint("Call next_id_range() several times for more IDs.")));

	lt = lookup_tag(fcinfo, TAG_SEGMENT, "next_id_range",
					segment_first_use);
	if (lt->info.ordered)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("next_id_range() is not available for ordered tag \"%s\"",
						NameStr(lt->info.name)),
				 errdetail("A block of IDs can be inserted at any later time, which idgen.watermark() cannot follow."),
				 errhint("Draw blocks from a tag that is not ordered.")));
	while (!pool_take_range(lt->slot, lt->generation, &lt->info, n, &range))
		lookup_reattach(lt, TAG_SEGMENT, "next_id_range");

	PG_RETURN_DATUM(idgen_range_datum(range));
}
