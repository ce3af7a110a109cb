/*-------------------------------------------------------------------------
 *
 * snowflake_time.c
 *	  The time state of the server's snowflake IDs in shared memory: the
 *	  logical time and sequence of the last ID issued, the clock's high
 *	  mark, the reservation (the last tick IDs may be issued with, durable:
 *	  what the settings and the README call the lease of snowflake IDs),
 *	  what backends asked the reservation to cover, and the floor.
 *	  snowflake.c issues IDs from it and its keeper loads and extends the
 *	  reservation; node_id.c reads it, stops the reservation and raises the
 *	  floor when a leased node id changes.  It calls neither.
 *
 * State.  The logical time and sequence of the last ID issued are packed as
 * (tick << seq_bits) | seq, so that the next state is simply
 * Max(state + 1, wall << seq_bits): a sequence that runs out within a tick
 * carries into the next tick (borrows it), and a clock that goes back
 * cannot pull the state down.  The state is advanced by compare-and-swap:
 * one per ID, whatever the database.  No ID is issued with a tick above the
 * reservation, nor with one below the floor, from which the lead over the
 * clock is counted (see the header comment of snowflake.c).
 *
 * Locking protocol (for everything in SnowflakeTime):
 *	- state, wall_max, warned and wanted are atomics changed by
 *	  compare-and-swap, without a lock: this is the fast path.  wall_max is
 *	  written at most once per tick; wanted only when a backend asks for
 *	  more reservation.
 *	- floor is set by the keeper, before it sets "loaded" (after a write
 *	  barrier); with a leased node id, node_id.c also raises it (and state)
 *	  by compare-and-swap when the id changes (snowflake_raise_floor).  It
 *	  only grows, and is read without a lock.
 *	- reservation is written by the keeper, after the new value is
 *	  durable; it only grows, except when the sequence that holds it is
 *	  dropped: then snowflake_object_access cuts it (compare-and-swap)
 *	  below the next tick, and when a leased node id changes or goes
 *	  (snowflake_stop_reservation, under mutex).  With a leased node id the
 *	  keeper writes it under mutex, capped by node_id_cap() read there.  It
 *	  is read without a lock.
 *	- mutex (a spinlock) serialises those two writes of the reservation, and
 *	  nothing else; no other lock is taken while it is held.  The keeper's
 *	  own state has a lock of its own (snowflake.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/shmem.h"

#include "snowflake.h"
#include "snowflake_time.h"

SnowflakeTime *snowflake_time = NULL;

/*
 * snowflake_time_shmem_request
 *		Ask for the time state's memory; from snowflake_shmem_request.
 */
void
snowflake_time_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(SnowflakeTime));
}

/*
 * snowflake_time_shmem_startup
 *		Attach to (and, the first time, initialise) the time state; from
 *		snowflake_shmem_startup, with AddinShmemInitLock held.
 */
void
snowflake_time_shmem_startup(void)
{
	bool		found;
	SnowflakeTime *st;

	st = ShmemInitStruct("idgen snowflake time", sizeof(SnowflakeTime),
						 &found);
	snowflake_time = st;
	if (found)
		return;

	memset(st, 0, sizeof(SnowflakeTime));
	pg_atomic_init_u64(&st->state, 0);
	pg_atomic_init_u64(&st->reservation, 0);
	pg_atomic_init_u64(&st->wall_max, 0);
	pg_atomic_init_u64(&st->warned, 0);
	pg_atomic_init_u64(&st->wanted, 0);
	pg_atomic_init_u32(&st->loaded, 0);
	pg_atomic_init_u64(&st->floor, 0);
	SpinLockInit(&st->mutex);
}

/*
 * snowflake_high_tick
 *		The highest tick this server may have issued or reserved, or may
 *		issue next: the clock, the logical time, the reservation and what
 *		backends asked it to cover.  A leased node id is asked to cover a
 *		reservation length above it.
 */
int64
snowflake_high_tick(void)
{
	SnowflakeTime *st = snowflake_time;
	int64		high = snowflake_wall_tick();

	high = Max(high, (int64) (pg_atomic_read_u64(&st->state) >>
							  snowflake_layout.seq_bits));
	high = Max(high, (int64) pg_atomic_read_u64(&st->reservation));
	high = Max(high, (int64) pg_atomic_read_u64(&st->wanted));
	high = Max(high, (int64) pg_atomic_read_u64(&st->floor));
	return high;
}

/*
 * snowflake_stop_reservation
 *		A leased node id changes or goes: cut the reservation below the next
 *		tick, so that no ID is issued until it is extended again (within the
 *		new cap, which node_id.c set to none first), and return the
 *		reservation as it was, the highest tick an ID may have been issued
 *		with.
 */
int64
snowflake_stop_reservation(void)
{
	SnowflakeTime *st = snowflake_time;
	int64		reservation;
	int64		cut;

	SpinLockAcquire(&st->mutex);
	reservation = (int64) pg_atomic_read_u64(&st->reservation);
	cut = (int64) (pg_atomic_read_u64(&st->state) >>
				   snowflake_layout.seq_bits) - 1;
	if (reservation > cut)
		pg_atomic_write_u64(&st->reservation, (uint64) cut);
	SpinLockRelease(&st->mutex);
	return reservation;
}

/*
 * snowflake_raise_floor
 *		Let every later ID have a tick of at least tick: raise the floor
 *		(from which the lead over the clock is counted) and the state, by
 *		compare-and-swap; neither ever goes down.
 */
void
snowflake_raise_floor(int64 tick)
{
	SnowflakeTime *st = snowflake_time;
	uint64		floor = pg_atomic_read_u64(&st->floor);
	uint64		state = pg_atomic_read_u64(&st->state);
	uint64		min_state;

	if (tick <= 0)
		return;
	while ((int64) floor < tick &&
		   !pg_atomic_compare_exchange_u64(&st->floor, &floor, (uint64) tick))
		;
	min_state = ((uint64) tick << snowflake_layout.seq_bits) - 1;
	while (state < min_state &&
		   !pg_atomic_compare_exchange_u64(&st->state, &state, min_state))
		;
}
