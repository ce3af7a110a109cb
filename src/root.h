/*-------------------------------------------------------------------------
 *
 * root.h
 *	  The root side of many servers: leasing grants to nodes, what nodes
 *	  report they hold, and raising marks after a restore.
 *
 * The locking protocol is described at the top of root.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_ROOT_H
#define IDGEN_ROOT_H

#include "postgres.h"

extern void root_define_settings(void);
extern void root_shmem_request(void);
extern void root_shmem_startup(void);

#endif							/* IDGEN_ROOT_H */
