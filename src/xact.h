/*-------------------------------------------------------------------------
 *
 * xact.h
 *	  Reclaim: IDs drawn by aborted transactions and rolled-back
 *	  subtransactions go back to their tag.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_XACT_H
#define IDGEN_XACT_H

#include "postgres.h"

#include "cache.h"

/* changes at every (sub)transaction boundary; see xact.c */
extern uint64 reclaim_stamp;

extern void reclaim_register(void);
extern void reclaim_note(LocalTag *lt);
extern void reclaim_chunk_ends(LocalTag *lt);
extern void reclaim_at_exit(void);

#endif							/* IDGEN_XACT_H */
