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

#include "cache.h"

/* changes at every top-level transaction boundary; see reclaim.c */
extern uint64 reclaim_stamp;

/* tags the open transaction drew from: 0 when it drew nothing */
extern int	reclaim_ntags;

extern void reclaim_xact_event(XactEvent event);
extern void reclaim_note(LocalTag *lt);
extern void reclaim_chunk_ends(LocalTag *lt);
extern void reclaim_at_exit(void);

#endif							/* IDGEN_RECLAIM_H */
