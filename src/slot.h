/*-------------------------------------------------------------------------
 *
 * slot.h
 *	  The tag slot directory: which tag of which database owns each of the
 *	  idgen.max_tags slots of the server, and the slot generations that
 *	  tell every cache of a tag's IDs whether it is still valid.
 *
 * The locking protocol is described at the top of slot.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SLOT_H
#define IDGEN_SLOT_H

#include "postgres.h"

#include "access/xact.h"
#include "port/atomics.h"
#include "storage/lwlock.h"

#include "base.h"

IDGEN_INTERNAL_BEGIN

/* one generation counter per slot; see slot_generation */
extern pg_atomic_uint32 *slot_generations;

extern void slot_init(void);

/* effects the open transaction left pending at its end */
extern int	slot_npending;

extern void slot_xact_event(XactEvent event);
extern void slot_shmem_request(void);
extern void slot_shmem_startup(void);

extern int	slot_attach(Oid seqoid, const NameData *tag,
						SubTransactionId created, uint32 *generation);
extern bool slot_describe(int index, NameData *tag, Oid *seqoid,
						  uint32 *generation);
extern uint32 slot_incarnation(int index);
extern void slot_note_claim(int index, Oid seqoid, const NameData *tag,
							IdRange claimed);
extern void slot_reset_at_commit(Oid seqoid);
extern void slot_free_at_commit(Oid dboid, Oid seqoid);

/*
 * slot_generation
 *		The current generation of a slot.  Every change of a slot's owner,
 *		and every reset of its tag, bumps it: an ID cached under an older
 *		generation must never be handed out.  Read without a lock on the
 *		fast path; see slot.c.
 */
static inline uint32
slot_generation(int index)
{
	return pg_atomic_read_u32(&slot_generations[index]);
}

/*
 * slot_lock_state
 *		Lock the per-slot state of another file (a pool) for a caller that
 *		attached to slot index under generation.  Returns false, without the
 *		lock, when the slot has moved on: the caller's tag was dropped or
 *		reset, and it must attach again.  Otherwise returns true, holding
 *		the lock, with *stale set when the state still belongs to an older
 *		generation: the caller empties it before use (*state_generation is
 *		then already the current one).
 */
static inline bool
slot_lock_state(LWLock *lock, int index, uint32 generation,
				uint32 *state_generation, bool *stale)
{
	uint32		current;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	current = slot_generation(index);
	if (current != generation)
	{
		LWLockRelease(lock);
		return false;
	}
	*stale = *state_generation != current;
	*state_generation = current;
	return true;
}

IDGEN_INTERNAL_END

#endif							/* IDGEN_SLOT_H */
