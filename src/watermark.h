/*-------------------------------------------------------------------------
 *
 * watermark.h
 *	  idgen.watermark(tag) and the transaction floors behind it.
 *
 * The locking protocol is described at the top of watermark.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_WATERMARK_H
#define IDGEN_WATERMARK_H

#include "postgres.h"

#include "access/xact.h"

#include "cache.h"

extern void watermark_shmem_request(void);
extern void watermark_shmem_startup(void);

/* tag slots in which the open transaction holds a floor */
extern int	watermark_nfloored;

extern void watermark_xact_event(XactEvent event);
extern void watermark_note(LocalTag *lt);

#endif							/* IDGEN_WATERMARK_H */
