/*-------------------------------------------------------------------------
 *
 * runway.h
 *	  The node side of many servers: the runway worker, which leases
 *	  grants from the root over libpq ahead of need and tells the root what
 *	  the node holds, and what backends ask of it.
 *
 * The locking protocol is described at the top of runway.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_RUNWAY_H
#define IDGEN_RUNWAY_H

#include "postgres.h"

#include "compat.h"
#include "tag.h"

extern void runway_define_settings(void);
extern void runway_register_worker(void);
extern void runway_shmem_request(void);
extern void runway_shmem_startup(void);

extern bool runway_wait_for_grant(const NameData *tag);
extern void runway_check_tag(const TagInfo *info);
extern void runway_renew(void);
extern bool runway_node_name_is_default(void);
extern const char *runway_node_name_current(void);
IDGEN_NORETURN_BEGIN extern void runway_exhausted(const TagInfo *info,
												  int64 n) IDGEN_NORETURN_END;

#endif							/* IDGEN_RUNWAY_H */
