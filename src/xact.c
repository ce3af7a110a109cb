/*-------------------------------------------------------------------------
 *
 * xact.c
 *	  Reclaim: IDs drawn by aborted transactions and rolled-back
 *	  subtransactions go back to their tag.
 *
 * The IDs a backend draws from one chunk between two (sub)transaction
 * boundaries form a run [lo, hi).  next_id() notices a new run by comparing
 * the tag's xact_stamp with reclaim_stamp, which every transaction and
 * subtransaction event changes, and calls reclaim_note, which opens a
 * record of the run tagged with the current SubTransactionId; the run stays
 * open (hi unknown: it is the chunk's "next") until the next run of the
 * same tag or a refill closes it.  Records are appended in time order, so
 * the records of a subtransaction and its committed children are always
 * the tail of the array.
 *
 *	- RELEASE (SUBXACT_EVENT_COMMIT_SUB): the subtransaction's records pass
 *	  to the parent.
 *	- ROLLBACK TO (SUBXACT_EVENT_ABORT_SUB) and top-level abort: the
 *	  records are undone, newest first.  A run that ends where the chunk's
 *	  "next" is and lies inside the current chunk is rewound (next = lo), so
 *	  the backend issues those IDs again; any other run goes back to the
 *	  tag's pool, which hands it to a backend that has not passed it.
 *	- COMMIT and PREPARE: the records are forgotten; a prepared
 *	  transaction keeps its IDs whatever happens to it later.
 *	- Backend exit in a transaction: the transaction can only abort, so
 *	  its records are undone before the chunks go back (cache.c).
 * Tags created with reclaim => false record nothing.
 *
 * The abort paths take no catalog access, allocate nothing and raise no
 * error: records live in an array in TopMemoryContext that only grows on
 * the draw path, and giving back takes one pool LWLock (pool.c).
 *
 * Locking: see shmem.c.  The chunks touched here are this backend's own,
 * written without a lock; pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "pool.h"
#include "xact.h"

/* one run of IDs drawn by the open transaction */
typedef struct DrawRecord
{
	LocalTag   *lt;
	SubTransactionId subxid;	/* (sub)transaction that drew it */
	int			pool;			/* pool slot and generation of the chunk */
	uint32		generation;
	int64		lo;
	int64		hi;				/* 0 while the run is open */
} DrawRecord;

uint64		reclaim_stamp = 1;

static DrawRecord *records = NULL;
static int	nrecords = 0;
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
	c = cache_chunk(r->pool);
	lt->open_record = -1;
	if (c->generation != r->generation)
		return;					/* the chunk was reset: undo skips it */
	r->hi = c->next;
	c->xact_drawn += r->hi - r->lo;
	c->xact_lo = 0;
}

/*
 * reclaim_note
 *		First draw of a tag since the last (sub)transaction boundary or
 *		refill: open a record of the run that starts here.
 */
void
reclaim_note(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	DrawRecord *r;

	lt->xact_stamp = reclaim_stamp;
	if (!lt->info.reclaim)
		return;

	record_close(lt);
	if (nrecords == maxrecords)
	{
		maxrecords = Max(16, maxrecords * 2);
		if (records == NULL)
			records = MemoryContextAlloc(TopMemoryContext,
										 maxrecords * sizeof(DrawRecord));
		else
			records = repalloc(records, maxrecords * sizeof(DrawRecord));
	}
	r = &records[nrecords];
	r->lt = lt;
	r->subxid = GetCurrentSubTransactionId();
	r->pool = lt->pool;
	r->generation = lt->generation;
	r->lo = c->next;
	r->hi = 0;
	c->xact_lo = c->next;
	lt->open_record = nrecords++;
}

/*
 * reclaim_chunk_ends
 *		The chunk of a tag is about to be replaced: close its open run, and
 *		make the next draw open a new one in the new chunk.
 */
void
reclaim_chunk_ends(LocalTag *lt)
{
	record_close(lt);
	lt->xact_stamp = 0;
}

/*
 * undo_record
 *		Give back the IDs of one run: rewind the chunk when the run is its
 *		most recent part, else return the run to the pool.
 */
static void
undo_record(DrawRecord *r)
{
	BackendChunk *c = cache_chunk(r->pool);
	IdRange		run;

	if (r->lt->open_record == r - records)
		record_close(r->lt);
	if (c->generation != r->generation)
		return;					/* the tag was dropped: nothing to give */

	c->xact_drawn -= r->hi - r->lo;
	run.lo = r->lo;
	run.hi = r->hi;
	if (RANGE_SIZE(run) <= 0)
		return;
	if (run.hi == c->next && run.lo >= c->start)
	{
		c->next = run.lo;
		c->rewound += RANGE_SIZE(run);
	}
	else
		pool_give_back(r->pool, r->generation, run, GIVE_BACK_RECLAIM, 0, 0);
}

/*
 * forget_all
 *		The transaction committed or was prepared: its IDs stay drawn;
 *		drop every record.
 */
static void
forget_all(void)
{
	int			i;

	for (i = 0; i < nrecords; i++)
	{
		BackendChunk *c = cache_chunk(records[i].pool);

		records[i].lt->open_record = -1;
		c->xact_drawn = 0;
		c->xact_lo = 0;
	}
	nrecords = 0;
}

/*
 * undo_since
 *		Undo the records of subtransaction subxid (the tail of the array),
 *		or all records when subxid is InvalidSubTransactionId.
 */
static void
undo_since(SubTransactionId subxid)
{
	while (nrecords > 0 &&
		   (subxid == InvalidSubTransactionId ||
			records[nrecords - 1].subxid == subxid))
	{
		undo_record(&records[nrecords - 1]);
		nrecords--;
	}
}

/*
 * reclaim_xact_callback
 *		Top-level transaction events.
 */
static void
reclaim_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			undo_since(InvalidSubTransactionId);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			forget_all();
			break;
		default:
			break;
	}
	reclaim_stamp++;
}

/*
 * reclaim_subxact_callback
 *		Subtransaction events.
 */
static void
reclaim_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			i;

	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			undo_since(mySubid);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			for (i = nrecords - 1; i >= 0 && records[i].subxid == mySubid; i--)
				records[i].subxid = parentSubid;
			break;
		default:
			break;
	}
	reclaim_stamp++;
}

/*
 * reclaim_register
 *		Install the transaction callbacks; once per backend.
 */
void
reclaim_register(void)
{
	RegisterXactCallback(reclaim_xact_callback, NULL);
	RegisterSubXactCallback(reclaim_subxact_callback, NULL);
}

/*
 * reclaim_at_exit
 *		The backend exits, possibly inside a transaction, which will abort:
 *		undo its records now, while the chunks are still ours.
 */
void
reclaim_at_exit(void)
{
	undo_since(InvalidSubTransactionId);
}
