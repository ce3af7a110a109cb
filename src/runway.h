/*-------------------------------------------------------------------------
 *
 * runway.h
 *	  The node side of many servers: the runway worker, which leases
 *	  grants from the root over libpq ahead of need and tells the root what
 *	  the node holds (runway_worker.c, uplink.c), and what backends ask of
 *	  it (runway.c; the catalog, the pools and the grants held ask through
 *	  supply.h).
 *
 * The locking protocol is described at the top of runway.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_RUNWAY_H
#define IDGEN_RUNWAY_H

#include "postgres.h"

#include "compat.h"

extern void runway_define_settings(void);
extern void runway_register_worker(void);
extern void runway_shmem_request(void);
extern void runway_shmem_startup(void);

#endif							/* IDGEN_RUNWAY_H */
