/*-------------------------------------------------------------------------
 *
 * runway.h
 *	  The node side of many servers: the runway worker, which leases
 *	  grants from the root over libpq ahead of need and tells the root what
 *	  the node holds (runway_worker.c, uplink.c), and what backends ask of
 *	  it (runway.c; the catalog and the pools ask through supply.h).
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

extern void runway_renew(void);
extern bool runway_node_name_is_default(void);
extern const char *runway_node_name_current(void);

#endif							/* IDGEN_RUNWAY_H */
