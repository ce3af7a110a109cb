/*-------------------------------------------------------------------------
 *
 * watermark.h
 *	  idgen.watermark(tag), from the transaction floors of chunk.c.
 *
 * The locking protocol is described at the top of watermark.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_WATERMARK_H
#define IDGEN_WATERMARK_H

#include "postgres.h"

#include "access/xact.h"

extern void watermark_shmem_request(void);
extern void watermark_shmem_startup(void);

extern void watermark_xact_event(XactEvent event);

#endif							/* IDGEN_WATERMARK_H */
