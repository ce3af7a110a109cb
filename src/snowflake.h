/*-------------------------------------------------------------------------
 *
 * snowflake.h
 *	  Snowflake IDs: time | node | sequence, strictly increasing across a
 *	  whole server, persisted through a durable time reservation (the
 *	  settings and the README call it the lease of snowflake IDs).
 *
 * snowflake_layout.c holds the settings, the layout they define and the
 * decode functions; snowflake_time.c the server's time state
 * (snowflake_time.h); snowflake.c the generator and its keeper.  The
 * locking protocols are described at the top of snowflake_time.c and
 * snowflake.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SNOWFLAKE_H
#define IDGEN_SNOWFLAKE_H

#include "postgres.h"

#include <time.h>

#include "catalog/objectaccess.h"
#include "datatype/timestamp.h"
#include "fmgr.h"

#include "base.h"

IDGEN_INTERNAL_BEGIN

/* Unix time in milliseconds of the PostgreSQL epoch, 2000-01-01 UTC */
#define UNIX_MS_AT_PG_EPOCH \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000)

/* the layout in use, derived from the settings in the postmaster */
typedef struct SnowflakeLayout
{
	int			time_bits;
	int			node_bits;
	int			seq_bits;
	int64		unit_ms;		/* milliseconds per tick */
	int64		epoch_ms;		/* idgen.snowflake_epoch as Unix time in ms */
	int64		max_tick;		/* last tick the time field holds */
	int64		node_part;		/* idgen.snowflake_node_id << seq_bits */
	bool		node_auto;		/* idgen.snowflake_node_id = auto: leased
								 * (node_id.c) */
	int			deadline_shift; /* of a node id's deadline (node_id.c) */
	int64		seq_mask;
	int64		max_id;
} SnowflakeLayout;

extern SnowflakeLayout snowflake_layout;

/* settings (snowflake_layout.c) */
extern int	snowflake_max_clock_ahead;
extern int	snowflake_lease_ms; /* idgen.snowflake_lease: of a reservation */
extern char *snowflake_database;

extern void snowflake_define_settings(void);
extern char *setting_as_given(const char *name);
extern void forward_deprecated_setting(const char *old_name,
									   const char *new_name,
									   const char *old_given,
									   const char *new_given);
extern TimestampTz snowflake_tick_to_timestamptz(int64 tick);

extern void snowflake_shmem_request(void);
extern void snowflake_shmem_startup(void);
extern void snowflake_object_access(ObjectAccessType access, Oid classId,
									Oid objectId, int subId);

IDGEN_INTERNAL_END

extern PGDLLEXPORT void idgen_snowflake_keeper_main(Datum arg);

/*
 * snowflake_floor_div
 *		Integer division rounding towards minus infinity (b > 0).
 */
static inline int64
snowflake_floor_div(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/*
 * snowflake_tick_to_unix_ms
 *		Unix time in milliseconds at which a tick starts.
 */
static inline int64
snowflake_tick_to_unix_ms(int64 tick)
{
	return snowflake_layout.epoch_ms + tick * snowflake_layout.unit_ms;
}

/*
 * snowflake_wall_tick
 *		The system clock, in ticks since the epoch (negative before it).
 */
static inline int64
snowflake_wall_tick(void)
{
	struct timespec ts;
	int64		ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
		snowflake_layout.epoch_ms;
	return snowflake_layout.unit_ms == 1 ? ms :
		snowflake_floor_div(ms, snowflake_layout.unit_ms);
}

/*
 * snowflake_ms_to_ticks
 *		A duration setting in milliseconds as whole ticks, at least one.
 */
static inline int64
snowflake_ms_to_ticks(int ms)
{
	return Max(1, ms / snowflake_layout.unit_ms);
}

#endif							/* IDGEN_SNOWFLAKE_H */
