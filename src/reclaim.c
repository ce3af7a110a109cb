/*-------------------------------------------------------------------------
 *
 * reclaim.c
 *	  Reclaim: IDs drawn by transactions that abort go back to their tag.
 *
 * The rule: no ID that can still reach a committed row is ever issued
 * again.  IDs drawn in a subtransaction that rolls back can survive it: in
 * a PL/pgSQL RETURN QUERY result or variable, in a cursor that buffered
 * them, in an INSERT ... SELECT over a function that caught the error.  So
 * they are not given back when the subtransaction rolls back, but only
 * when the top-level transaction aborts too, or never if it commits.  A
 * top-level abort ends every such path inside the backend, except one: a
 * procedure (or DO block) that runs ROLLBACK itself keeps its variables,
 * so an abort inside a procedure's own transaction control gives nothing
 * back.  Paths out of the backend (the client, NOTICE, dblink, setval of
 * another sequence, session state of PL/Perl or PL/Python) are the
 * documented caveat.
 *
 * The IDs a backend draws from one chunk within one transaction form a
 * run [lo, hi).  The first use of a tag in a transaction (cache.c notices
 * it by comparing the tag's xact_stamp with reclaim_stamp, which every
 * top-level transaction end changes) and every refill call reclaim_note,
 * which opens a record of the run; the run stays open (hi unknown: it is
 * the chunk's "next") until a refill closes it.
 *	- Top-level abort: the records are undone, newest first.  A run that
 *	  ends where the chunk's "next" is and lies inside the current chunk
 *	  is rewound (next = lo), so the backend issues those IDs again; any
 *	  other run goes back to the tag's pool, which hands it to a backend
 *	  that has not passed it.
 *	- Commit and PREPARE: the records are forgotten; a prepared
 *	  transaction keeps its IDs whatever happens to it later.
 *	- Backend exit in a transaction: the transaction can only abort, so
 *	  its records are undone before the chunks go back (cache.c).
 * Tags created with reclaim => false record nothing.  A locality tag's
 * runs in chunks it has replaced could only come back at the front of its
 * pool if nobody drew since, which the run in the current chunk covers:
 * each refill reuses the tag's record of the transaction, so a transaction
 * drawing one ID at a time between other backends' draws keeps one record
 * per tag, not one per ID.  If it aborts, the earlier runs are counted as
 * skipped.
 *
 * The abort paths take no catalog access, allocate nothing and raise no
 * error: records live in an array in TopMemoryContext that only grows on
 * the draw path, and giving back takes one pool LWLock (pool.c).
 *
 * Locking: the chunks touched here are this backend's own, written without
 * a lock (cache.c); pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/memutils.h"

#include "pool.h"
#include "reclaim.h"

/* one run of IDs drawn by the open transaction */
typedef struct DrawRecord
{
	LocalTag   *lt;
	int			slot;			/* slot and generation of the chunk */
	uint32		generation;
	int64		lo;
	int64		hi;				/* 0 while the run is open */
	int64		passed;			/* IDs of earlier runs of a locality tag,
								 * skipped if the transaction aborts */
} DrawRecord;

uint64		reclaim_stamp = 1;

static DrawRecord *records = NULL;
int			reclaim_nrecords = 0;
static int	maxrecords = 0;

/*
 * record_close
 *		Close a tag's open run at the chunk's current position.
 */
static void
record_close(LocalTag *lt)
{
	DrawRecord *r;
	BackendChunk *c;

	if (lt->open_record < 0)
		return;
	r = &records[lt->open_record];
	c = cache_chunk(r->slot);
	lt->open_record = -1;
	if (c->generation != r->generation)
		return;					/* the chunk was reset: undo skips it */
	r->hi = c->next;
	c->xact_drawn += r->hi - r->lo;
	c->xact_lo = 0;
}

/*
 * reclaim_note
 *		First use of a tag in this transaction, or a refill: open a record
 *		of the run that starts at the chunk's "next".
 */
void
reclaim_note(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	DrawRecord *r;

	if (!lt->info.reclaim)
		return;

	record_close(lt);
	if (lt->info.locality && lt->last_record >= 0)
	{
		/* the earlier run stays drawn, see the header comment */
		r = &records[lt->last_record];
		Assert(r->lt == lt);
		if (r->generation == lt->generation && r->hi > r->lo)
			r->passed += r->hi - r->lo;
	}
	else
	{
		if (reclaim_nrecords == maxrecords)
		{
			maxrecords = Max(16, maxrecords * 2);
			if (records == NULL)
				records = MemoryContextAlloc(TopMemoryContext,
											 maxrecords * sizeof(DrawRecord));
			else
				records = repalloc(records, maxrecords * sizeof(DrawRecord));
		}
		r = &records[reclaim_nrecords];
		r->lt = lt;
		r->passed = 0;
		lt->last_record = reclaim_nrecords++;
	}
	r->slot = lt->slot;
	r->generation = lt->generation;
	r->lo = c->next;
	r->hi = 0;
	c->xact_lo = c->next;
	lt->open_record = lt->last_record;
}

/*
 * reclaim_chunk_ends
 *		The chunk of a tag is about to be replaced: close its open run (the
 *		refill opens the next one in the new chunk).
 */
void
reclaim_chunk_ends(LocalTag *lt)
{
	record_close(lt);
}

/*
 * undo_record
 *		Give back the IDs of one run: rewind the chunk when the run is its
 *		most recent part, else return the run to the pool.
 */
static void
undo_record(DrawRecord *r)
{
	BackendChunk *c = cache_chunk(r->slot);
	IdRange		run;

	if (r->lt->open_record == r - records)
		record_close(r->lt);
	if (c->generation != r->generation)
		return;					/* the tag was dropped or reset */

	c->xact_drawn -= r->hi - r->lo;
	c->tally.skipped += r->passed;
	run.lo = r->lo;
	run.hi = r->hi;
	if (RANGE_SIZE(run) <= 0)
		return;
	if (run.hi == c->next && run.lo >= c->start)
	{
		c->next = run.lo;
		c->tally.rewound += RANGE_SIZE(run);
	}
	else
		pool_give_back(r->slot, r->generation, run, GIVE_BACK_RECLAIM,
					   c->locality, NULL);
}

/*
 * forget_all
 *		The transaction's IDs stay drawn: drop every record.
 */
static void
forget_all(void)
{
	int			i;

	for (i = 0; i < reclaim_nrecords; i++)
	{
		BackendChunk *c = cache_chunk(records[i].slot);

		records[i].lt->open_record = -1;
		records[i].lt->last_record = -1;
		c->xact_drawn = 0;
		c->xact_lo = 0;
	}
	reclaim_nrecords = 0;
}

/*
 * undo_all
 *		The transaction aborted: give back every run, newest first, then
 *		drop the records.
 */
static void
undo_all(void)
{
	int			i;

	for (i = reclaim_nrecords - 1; i >= 0; i--)
		undo_record(&records[i]);
	forget_all();
}

/*
 * reclaim_xact_event
 *		Top-level transaction events of a transaction that drew IDs
 *		(idgen.c calls it first, and moves reclaim_stamp after it).  An
 *		abort run by a procedure's own ROLLBACK (a nonatomic SPI context)
 *		keeps the procedure running, with whatever IDs its variables hold:
 *		nothing is given back then.
 */
void
reclaim_xact_event(XactEvent event)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
			if (SPI_inside_nonatomic_context())
				forget_all();
			else
				undo_all();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			forget_all();
			break;
		default:
			break;
	}
}

/*
 * reclaim_at_exit
 *		The backend exits, possibly inside a transaction, which will abort:
 *		undo its records now, while the chunks are still ours.
 */
void
reclaim_at_exit(void)
{
	undo_all();
}
