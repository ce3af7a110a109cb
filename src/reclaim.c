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
 * run [lo, hi).  The open run of a tag is kept in its chunk (xact_lo, the
 * run's start; it ends at the chunk's "next"), where the monitoring view
 * idgen.backend_ranges reads it too.  The first use of a tag in a
 * transaction (lookup.c notices it by comparing the tag's xact_stamp with
 * idgen_xact_stamp, which every top-level transaction end changes) calls
 * reclaim_note, which adds the tag to the transaction's list and opens its
 * run, unless the chunk is empty: then the refill that must follow opens
 * it.  A refill that got its new chunk closes the run (reclaim_chunk_ends)
 * and opens the next one in the new chunk (reclaim_note); one that failed
 * leaves it open.  The IDs of closed runs are counted in
 * the chunk's xact_drawn; a tag without locality also keeps each closed
 * run in a list of records, since it can go back to the pool.
 *	- Top-level abort: for each tag of the list, newest first, the open
 *	  run is rewound (next = lo), so the backend issues those IDs again;
 *	  then each closed run of a tag without locality goes back to the
 *	  tag's pool, which hands it to a backend that has not passed it.  A
 *	  locality tag's closed runs could only come back at the front of its
 *	  pool if nobody drew since, which the open run covers: they are
 *	  counted as skipped.
 *	- Commit and PREPARE: the list and the records are forgotten; a
 *	  prepared transaction keeps its IDs whatever happens to it later.
 *	- Backend exit in a transaction: the transaction can only abort, so
 *	  chunk.c undoes it (reclaim_undo) before the chunks go back.
 * A chunk that was reset or dropped under the transaction (another slot
 * generation, see lookup_reattach) gives nothing back.  Tags created with
 * reclaim => false record nothing.  A transaction that draws one tag
 * costs this file a few stores at its first use and a few at its end.
 *
 * The abort paths take no catalog access, allocate nothing and raise no
 * error: the list and the records live in arrays in TopMemoryContext that
 * only grow on the draw path, and giving back takes one pool LWLock
 * (pool.c).
 *
 * Locking: the chunks touched here are this backend's own, written without
 * a lock (chunk.c); pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "pool.h"
#include "reclaim.h"

/* a closed run of a tag without locality, drawn by the open transaction */
typedef struct DrawRecord
{
	int			slot;			/* slot and generation of the chunk */
	uint32		generation;
	IdRange		run;
} DrawRecord;

/* the tags the open transaction drew from, in order of first use */
LocalTag  **reclaim_tags = NULL;
int			reclaim_ntags = 0;
int			reclaim_max_tags = 0;

static DrawRecord *records = NULL;
int			reclaim_nrecords = 0;
static int	maxrecords = 0;

/*
 * reclaim_grow_list
 *		Make room in the list of the open transaction's tags for one more
 *		(reclaim_note).
 */
void
reclaim_grow_list(void)
{
	idgen_array_grow((void **) &reclaim_tags, &reclaim_max_tags,
					 sizeof(LocalTag *), 16);
}

/*
 * reclaim_record
 *		Keep the open run of a tag without locality, whose chunk is about
 *		to be replaced, to give it back on abort (reclaim_chunk_ends).
 */
void
reclaim_record(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	DrawRecord *r;

	if (reclaim_nrecords == maxrecords)
		idgen_array_grow((void **) &records, &maxrecords, sizeof(DrawRecord),
						 16);
	r = &records[reclaim_nrecords++];
	r->slot = lt->slot;
	r->generation = c->generation;
	r->run.lo = c->xact_lo;
	r->run.hi = c->next;
}

/*
 * reclaim_undo
 *		The transaction aborted: rewind every open run, newest first, give
 *		back the closed runs of tags without locality, count those of
 *		locality tags as skipped, then forget.
 */
void
reclaim_undo(void)
{
	int			i;

	for (i = reclaim_ntags - 1; i >= 0; i--)
	{
		LocalTag   *lt = reclaim_tags[i];
		BackendChunk *c = lt->chunk;

		/* a chunk reset under the transaction was emptied: nothing open */
		if (c->xact_lo > 0)
		{
			c->tally.rewound += c->next - c->xact_lo;
			c->next = c->xact_lo;
		}
		if (c->locality)
			c->tally.skipped += c->xact_drawn;
	}
	for (i = reclaim_nrecords - 1; i >= 0; i--)
		pool_give_back(records[i].slot, records[i].generation, records[i].run,
					   GIVE_BACK_RECLAIM, false, NULL);
	reclaim_forget();
}
