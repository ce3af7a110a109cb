/*-------------------------------------------------------------------------
 *
 * hybrid.h
 *	  Hybrid IDs: slab | seconds since the slab was claimed | sequence.
 *
 * The locking protocol is described at the top of hybrid.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_HYBRID_H
#define IDGEN_HYBRID_H

#include "postgres.h"

#include "tag.h"

/* field widths of a hybrid ID; the sign bit stays 0 */
#define HYBRID_SECONDS_BITS	16
#define HYBRID_SEQ_BITS		16
#define HYBRID_MAX_SLAB		TAG_MAX_SLAB
#define HYBRID_MAX_SECONDS	((1 << HYBRID_SECONDS_BITS) - 1)
#define HYBRID_MAX_SEQ		((1 << HYBRID_SEQ_BITS) - 1)

extern void hybrid_shmem_request(void);
extern void hybrid_shmem_startup(void);
extern int64 hybrid_evict(int entry, int index);

#endif							/* IDGEN_HYBRID_H */
