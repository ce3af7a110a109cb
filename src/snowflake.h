/*-------------------------------------------------------------------------
 *
 * snowflake.h
 *	  Snowflake IDs: time | node | sequence, strictly increasing per
 *	  database, persisted through a durable time lease.
 *
 * The locking protocol is described at the top of snowflake.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SNOWFLAKE_H
#define IDGEN_SNOWFLAKE_H

#include "postgres.h"

extern void snowflake_define_settings(void);
extern void snowflake_shmem_request(void);
extern void snowflake_shmem_startup(void);

#endif							/* IDGEN_SNOWFLAKE_H */
