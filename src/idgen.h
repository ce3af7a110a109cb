/*-------------------------------------------------------------------------
 *
 * idgen.h
 *	  Settings and entry points shared by the idgen subsystems.
 *
 * Each subsystem (segment allocator, snowflake, hybrid) contributes its
 * own shared memory and settings; idgen.c only wires them to PostgreSQL's
 * hooks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_H
#define IDGEN_H

#include "postgres.h"

/* idgen.max_tags: segment and hybrid tags in use at once, all databases */
extern int	idgen_max_tags;

/* true once the postmaster has loaded us via shared_preload_libraries */
extern bool idgen_preloaded;

extern void idgen_check_preloaded(void);

#endif							/* IDGEN_H */
