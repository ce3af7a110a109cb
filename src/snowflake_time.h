/*-------------------------------------------------------------------------
 *
 * snowflake_time.h
 *	  The time state of the server's snowflake IDs in shared memory: the
 *	  logical time of the last ID, the reservation, what backends asked it
 *	  to cover, and the floor.  snowflake.c and node_id.c work on it.
 *
 * The locking protocol is described at the top of snowflake_time.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SNOWFLAKE_TIME_H
#define IDGEN_SNOWFLAKE_TIME_H

#include "postgres.h"

#include "port/atomics.h"
#include "storage/spin.h"

#include "base.h"

IDGEN_INTERNAL_BEGIN

/* the time state of the server; see the locking protocol */
typedef struct SnowflakeTime
{
	pg_atomic_uint64 state;		/* (tick << seq_bits) | seq of the last ID */
	pg_atomic_uint64 reservation;	/* last tick the durable reservation
									 * covers */
	pg_atomic_uint64 wall_max;	/* latest wall clock tick seen */
	pg_atomic_uint64 warned;	/* wall_max a clock warning was given for */
	pg_atomic_uint64 wanted;	/* tick backends asked the reservation to
								 * cover */
	pg_atomic_uint32 loaded;	/* floor, state and reservation are set */
	pg_atomic_uint64 floor;		/* first tick after the reservation read at
								 * load, or after a node id change */
	slock_t		mutex;			/* the reservation's writes with a leased node
								 * id */
} SnowflakeTime;

extern SnowflakeTime *snowflake_time;

extern void snowflake_time_shmem_request(void);
extern void snowflake_time_shmem_startup(void);

/* for a node id leased from the root (node_id.c) */
extern int64 snowflake_high_tick(void);
extern int64 snowflake_stop_reservation(void);
extern void snowflake_raise_floor(int64 tick);

IDGEN_INTERNAL_END

#endif							/* IDGEN_SNOWFLAKE_TIME_H */
