/*-------------------------------------------------------------------------
 *
 * reclaim.h
 *	  Reclaim: IDs drawn by transactions that abort go back to their tag.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_RECLAIM_H
#define IDGEN_RECLAIM_H

#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"

#include "lookup.h"

IDGEN_INTERNAL_BEGIN

/* the tags the open transaction drew from: none when it drew nothing */
extern LocalTag **reclaim_tags;
extern int	reclaim_ntags;
extern int	reclaim_max_tags;

/* closed runs recorded by the open transaction (reclaim.c) */
extern int	reclaim_nrecords;

extern void reclaim_grow_list(void);
extern void reclaim_undo(void);
extern void reclaim_record(LocalTag *lt);

/*
 * reclaim_open_run
 *		The transaction's run opens at the chunk's "next": the chunk has IDs
 *		left and no run open in it (a refill's install_chunk closed the last
 *		one).  The first use in the transaction listed the tag already
 *		(reclaim_note).
 */
static inline void
reclaim_open_run(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;

	if (!lt->info.reclaim)
		return;
	Assert(lt->reclaim_stamp == idgen_xact_stamp);
	Assert(c->xact_lo == 0 && c->next < c->end);
	c->xact_lo = c->next;
}

/*
 * reclaim_note
 *		First use of a tag in this transaction: add the tag to the
 *		transaction's list once, and open its run at the chunk's "next"
 *		unless one is open or the chunk is empty (the refill that follows
 *		opens it).  Inline: it runs in every transaction that draws (see
 *		reclaim.c).
 */
static inline void
reclaim_note(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;

	if (!lt->info.reclaim)
		return;
	if (lt->reclaim_stamp != idgen_xact_stamp)
	{
		if (unlikely(reclaim_ntags == reclaim_max_tags))
			reclaim_grow_list();
		reclaim_tags[reclaim_ntags++] = lt;
		lt->reclaim_stamp = idgen_xact_stamp;
	}
	if (c->xact_lo == 0 && c->next < c->end)
		reclaim_open_run(lt);
}

/*
 * reclaim_forget
 *		The transaction's IDs stay drawn: empty the list and the records.
 *		Inline: it runs at every commit of a transaction that drew.
 */
static inline void
reclaim_forget(void)
{
	for (int i = 0; i < reclaim_ntags; i++)
	{
		BackendChunk *c = reclaim_tags[i]->chunk;

		c->xact_drawn = 0;
		c->xact_lo = 0;
	}
	reclaim_ntags = 0;
	reclaim_nrecords = 0;
}

/*
 * reclaim_chunk_ends
 *		The chunk of a tag is about to be replaced: close its open run, and
 *		keep it, for a tag without locality, to give back on abort.
 */
static inline void
reclaim_chunk_ends(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;

	if (c->xact_lo == 0)
		return;
	c->xact_drawn += c->next - c->xact_lo;
	if (!lt->info.locality && c->next > c->xact_lo)
		reclaim_record(lt);
	c->xact_lo = 0;
}

/*
 * reclaim_xact_event
 *		Top-level transaction events of a transaction that drew IDs
 *		(idgen.c calls it first, and moves idgen_xact_stamp after it).  An
 *		abort run by a procedure's own ROLLBACK (a nonatomic SPI context)
 *		keeps the procedure running, with whatever IDs its variables hold:
 *		nothing is given back then.  Inline, so that the events with
 *		nothing to do cost no call.
 */
static inline void
reclaim_xact_event(XactEvent event)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
		reclaim_forget();
	else if (event == XACT_EVENT_ABORT)
	{
		if (SPI_inside_nonatomic_context())
			reclaim_forget();
		else
			reclaim_undo();
	}
}

IDGEN_INTERNAL_END

#endif							/* IDGEN_RECLAIM_H */
