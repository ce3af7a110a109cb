/*-------------------------------------------------------------------------
 *
 * slot.c
 *	  The tag slot directory: idgen.max_tags slots, server-wide, each owned
 *	  by at most one tag (a database and the OID of the tag's sequence).
 *	  The segment pool (pool.c), the backends' chunks (chunk.c) and the
 *	  hybrid pools (hybrid.c) keep their state of a tag at the tag's slot
 *	  index.
 *
 * Generations.  Each slot has a generation, bumped whenever the slot is
 * freed (its tag was dropped) and whenever its tag is reset (its start was
 * raised).  Every cache of a tag's IDs records the generation it was made
 * under, and is never used once the generation moved on: next_id() compares
 * it on every call, pools compare it under their lock and start afresh.
 *
 * Lifecycle, following the transaction's outcome:
 *	- A slot is assigned by slot_attach: by create_tag (through the INSERT
 *	  trigger on idgen.tags) or by the first use of a tag since the server
 *	  started.  When the tag's sequence was created by the current
 *	  transaction, the slot is freed again if that (sub)transaction aborts:
 *	  the sequence's OID may later be given to another sequence.
 *	- A slot is freed when its sequence is dropped (drop_tag, DROP EXTENSION,
 *	  DROP SCHEMA ... CASCADE, DROP SEQUENCE, also after the sequence was
 *	  renamed or moved), or when its database is dropped: at commit, after
 *	  the drop is visible to every backend.  Callers attach under a lock on
 *	  the sequence that conflicts with DROP (tag.c), so no backend can
 *	  attach a slot to a sequence that is gone, and a later sequence that
 *	  gets the same OID never finds a slot of the old one.
 *	- A slot is reset when its tag's start was raised: before commit, so
 *	  that no backend that sees the new start can still hand out a cached ID
 *	  below it.  Resetting early is always safe: it only discards IDs.
 *	- PREPARE TRANSACTION of a transaction with any of these pending is
 *	  refused: its outcome would be decided where no callback of ours runs.
 *
 * Incarnations.  Each slot also counts how many times it has been assigned
 * to a tag.  Unlike the generation, a reset leaves it alone: state that
 * belongs to a tag for good, whatever its resets (its last watermark,
 * watermark.c), is kept while the incarnation stays.
 *
 * The claim guard.  Each slot remembers the end of the highest range (of
 * IDs, or of slab numbers) ever claimed through it.  A claim that comes
 * back below it means the tag's sequence was moved back (setval or ALTER
 * SEQUENCE by a role allowed to do so): it fails loudly instead of handing
 * out IDs again.  A reset keeps the guard; freeing the slot clears it.
 *
 * Locking protocol:
 *	- The directory lock (named tranche "idgen slots", one LWLock) protects
 *	  every TagSlot field.  It is held for a scan of max_tags slots at most,
 *	  never across anything that can raise an error, and never while a
 *	  lock of another idgen file is held.  Pool and hybrid locks are taken
 *	  without it.
 *	- A generation is changed only under the directory lock (exclusive) and
 *	  read without a lock through pg_atomic_read_u32: the fast path reads it
 *	  on every call.  A reader that sees the old value a moment longer only
 *	  uses its cache for that moment; every decision that must not use a
 *	  stale generation is rechecked under a pool lock (pool.c, hybrid.c).
 *	  Generations sit on cache lines of their own, written only when a
 *	  slot changes hands or is reset.
 *	- The pending effects of the current transaction are backend-local.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "base.h"
#include "slot.h"

#define SLOT_TRANCHE	"idgen slots"

/* one slot of the directory; see the locking protocol above */
typedef struct TagSlot
{
	Oid			dboid;			/* InvalidOid while the slot is free */
	Oid			seqoid;			/* the tag's sequence */
	NameData	tag;			/* the tag's name, for monitoring */
	int64		claimed_hi;		/* end of the highest claim, or 0 */
	uint32		incarnation;	/* bumped each time the slot is assigned */
} TagSlot;

/* an effect on the directory that waits for the transaction's outcome */
typedef enum PendingKind
{
	PENDING_RESET,				/* at pre-commit: reset the tag's slot */
	PENDING_FREE,				/* at commit: free the slot(s) */
	PENDING_FREE_ON_ABORT		/* at abort: free the slot */
} PendingKind;

typedef struct PendingEffect
{
	PendingKind kind;
	SubTransactionId subxid;	/* (sub)transaction that asked for it */
	Oid			dboid;
	Oid			seqoid;			/* InvalidOid: every slot of dboid */
} PendingEffect;

pg_atomic_uint32 *slot_generations = NULL;

static TagSlot *slots = NULL;
static LWLock *dir_lock = NULL;

static PendingEffect *pending = NULL;
int			slot_npending = 0;
static int	maxpending = 0;

/*
 * slot_shmem_size
 *		Bytes of the directory: the slots, then the generations on cache
 *		lines of their own.
 */
static Size
slot_shmem_size(void)
{
	Size		size;

	size = TYPEALIGN(PG_CACHE_LINE_SIZE,
					 mul_size(sizeof(TagSlot), idgen_max_tags));
	size = add_size(size, mul_size(sizeof(pg_atomic_uint32), idgen_max_tags));
	return add_size(size, PG_CACHE_LINE_SIZE);
}

/*
 * slot_shmem_request
 *		Ask for the directory's memory and lock; called from the
 *		shmem_request_hook.
 */
void
slot_shmem_request(void)
{
	RequestAddinShmemSpace(slot_shmem_size());
	RequestNamedLWLockTranche(SLOT_TRANCHE, 1);
}

/*
 * slot_shmem_startup
 *		Attach to (and, the first time, initialise) the directory.  Called
 *		with AddinShmemInitLock held.
 */
void
slot_shmem_startup(void)
{
	bool		found;
	char	   *base;
	int			i;

	base = ShmemInitStruct("idgen slots", slot_shmem_size(), &found);
	base = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, base);
	slots = (TagSlot *) base;
	slot_generations = (pg_atomic_uint32 *)
		(base + TYPEALIGN(PG_CACHE_LINE_SIZE,
						  sizeof(TagSlot) * idgen_max_tags));
	dir_lock = &(GetNamedLWLockTranche(SLOT_TRANCHE))->lock;
	if (found)
		return;

	memset(slots, 0, sizeof(TagSlot) * idgen_max_tags);
	for (i = 0; i < idgen_max_tags; i++)
		pg_atomic_init_u32(&slot_generations[i], 1);
}

/*
 * slot_release
 *		Free a slot, or reset it (keeping its tag and claim guard): either
 *		way its generation moves on.  Caller holds the directory lock.
 */
static void
slot_release(int index, bool reset)
{
	if (!reset)
	{
		slots[index].dboid = InvalidOid;
		slots[index].seqoid = InvalidOid;
		slots[index].claimed_hi = 0;
	}
	pg_atomic_fetch_add_u32(&slot_generations[index], 1);
}

/*
 * slot_release_matching
 *		Free (or reset) every slot of database dboid whose sequence is
 *		seqoid, or every slot of dboid when seqoid is InvalidOid.
 */
static void
slot_release_matching(Oid dboid, Oid seqoid, bool reset)
{
	int			i;

	LWLockAcquire(dir_lock, LW_EXCLUSIVE);
	for (i = 0; i < idgen_max_tags; i++)
		if (slots[i].dboid == dboid && OidIsValid(dboid) &&
			(!OidIsValid(seqoid) || slots[i].seqoid == seqoid))
			slot_release(i, reset);
	LWLockRelease(dir_lock);
}

/*
 * pending_add
 *		Remember an effect for the end of the current (sub)transaction.
 */
static void
pending_add(PendingKind kind, SubTransactionId subxid, Oid dboid, Oid seqoid)
{
	PendingEffect *p;

	if (slot_npending == maxpending)
		idgen_array_grow((void **) &pending, &maxpending,
						 sizeof(PendingEffect), 8);
	p = &pending[slot_npending++];
	p->kind = kind;
	p->subxid = subxid;
	p->dboid = dboid;
	p->seqoid = seqoid;
}

/*
 * pending_apply
 *		Carry out the pending effects of one kind, of subtransaction subxid
 *		(or of all, when subxid is InvalidSubTransactionId).  Takes only the
 *		directory lock, allocates nothing and raises no error: safe in
 *		abort paths.
 */
static void
pending_apply(PendingKind kind, SubTransactionId subxid)
{
	int			i;

	for (i = 0; i < slot_npending; i++)
		if (pending[i].kind == kind &&
			(subxid == InvalidSubTransactionId || pending[i].subxid == subxid))
			slot_release_matching(pending[i].dboid, pending[i].seqoid,
								  kind == PENDING_RESET);
}

/*
 * pending_forget
 *		Drop the pending effects of subtransaction subxid, or all of them.
 */
static void
pending_forget(SubTransactionId subxid)
{
	int			i;
	int			kept = 0;

	for (i = 0; i < slot_npending; i++)
		if (subxid != InvalidSubTransactionId && pending[i].subxid != subxid)
			pending[kept++] = pending[i];
	slot_npending = kept;
}

/*
 * slot_xact_event
 *		Apply the pending effects at the end of the top-level transaction;
 *		idgen.c calls it last.
 */
void
slot_xact_event(XactEvent event)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			pending_apply(PENDING_RESET, InvalidSubTransactionId);
			break;
		case XACT_EVENT_COMMIT:
			pending_apply(PENDING_FREE, InvalidSubTransactionId);
			pending_forget(InvalidSubTransactionId);
			break;
		case XACT_EVENT_ABORT:
			pending_apply(PENDING_FREE_ON_ABORT, InvalidSubTransactionId);
			pending_forget(InvalidSubTransactionId);
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that has created, altered or dropped an idgen tag")));
			break;
		default:
			break;
	}
}

/*
 * slot_subxact_callback
 *		A subtransaction ends: its pending effects pass to the parent, or
 *		are undone with it.
 */
static void
slot_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	int			i;

	switch (event)
	{
		case SUBXACT_EVENT_COMMIT_SUB:
			for (i = 0; i < slot_npending; i++)
				if (pending[i].subxid == mySubid)
					pending[i].subxid = parentSubid;
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			pending_apply(PENDING_FREE_ON_ABORT, mySubid);
			pending_forget(mySubid);
			break;
		default:
			break;
	}
}

/*
 * slot_init
 *		Install the subtransaction callback; from _PG_init, so that every
 *		backend has it.
 */
void
slot_init(void)
{
	RegisterSubXactCallback(slot_subxact_callback, NULL);
}

/*
 * slot_attach
 *		Find or assign the slot of a tag of this database; returns its index
 *		and current generation.  "created" is the subtransaction that
 *		created the tag's sequence, if the current transaction did: the
 *		slot is freed again if that subtransaction aborts.  The caller holds
 *		a lock on the sequence that conflicts with DROP SEQUENCE.
 */
int
slot_attach(Oid seqoid, const NameData *tag, SubTransactionId created,
			uint32 *generation)
{
	int			free_index = -1;
	int			i;

	if (created != InvalidSubTransactionId)
		pending_add(PENDING_FREE_ON_ABORT, created, MyDatabaseId, seqoid);

	LWLockAcquire(dir_lock, LW_EXCLUSIVE);
	for (i = 0; i < idgen_max_tags; i++)
	{
		if (slots[i].seqoid == seqoid && slots[i].dboid == MyDatabaseId)
		{
			*generation = slot_generation(i);
			LWLockRelease(dir_lock);
			return i;
		}
		if (!OidIsValid(slots[i].dboid) && free_index < 0)
			free_index = i;
	}
	if (free_index >= 0)
	{
		slots[free_index].dboid = MyDatabaseId;
		slots[free_index].seqoid = seqoid;
		slots[free_index].tag = *tag;
		slots[free_index].claimed_hi = 0;
		slots[free_index].incarnation++;
		*generation = slot_generation(free_index);
	}
	LWLockRelease(dir_lock);

	if (free_index < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many idgen tags in use"),
				 errdetail("All %d tag slots set by \"idgen.max_tags\" are taken by tags of this server's databases.",
						   idgen_max_tags),
				 errhint("Increase \"idgen.max_tags\" and restart the server, or drop unused tags.")));
	return free_index;
}

/*
 * slot_describe
 *		If slot index belongs to a tag of this database, return true with
 *		the tag's name, sequence and the slot's generation.
 */
bool
slot_describe(int index, NameData *tag, Oid *seqoid, uint32 *generation)
{
	bool		mine;

	LWLockAcquire(dir_lock, LW_SHARED);
	mine = slots[index].dboid == MyDatabaseId;
	*tag = slots[index].tag;
	*seqoid = slots[index].seqoid;
	*generation = slot_generation(index);
	LWLockRelease(dir_lock);
	return mine;
}

/*
 * slot_incarnation
 *		How many times slot index has been assigned to a tag (see
 *		"Incarnations" above).  Read after slot_attach, it belongs to the
 *		caller's tag as long as the generation slot_attach returned is
 *		current.
 */
uint32
slot_incarnation(int index)
{
	uint32		incarnation;

	LWLockAcquire(dir_lock, LW_SHARED);
	incarnation = slots[index].incarnation;
	LWLockRelease(dir_lock);
	return incarnation;
}

/*
 * slot_note_claim
 *		Record a claim made through slot index for the tag whose sequence is
 *		seqoid, or fail if it lies below an earlier claim (see "The claim
 *		guard" above).  The caller still holds the lock that serialises the
 *		tag's claims.
 */
void
slot_note_claim(int index, Oid seqoid, const NameData *tag, IdRange claimed)
{
	int64		claimed_hi = 0;

	LWLockAcquire(dir_lock, LW_EXCLUSIVE);
	if (slots[index].dboid == MyDatabaseId && slots[index].seqoid == seqoid)
	{
		claimed_hi = slots[index].claimed_hi;
		if (claimed.lo >= claimed_hi)
			slots[index].claimed_hi = claimed.hi;
	}
	LWLockRelease(dir_lock);

	if (claimed.lo < claimed_hi)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("high-water mark of tag \"%s\" went back", NameStr(*tag)),
				 errdetail("The tag's sequence gave %lld, but IDs up to %lld were already claimed.",
						   (long long) claimed.lo - 1,
						   (long long) claimed_hi - 1),
				 errhint("Something other than idgen moved the sequence back (setval or ALTER SEQUENCE). Set it to at least %lld with setval() before using the tag again.",
						 (long long) claimed_hi - 1)));
}

/*
 * slot_reset_at_commit
 *		The current transaction raised the start of a tag of this database:
 *		reset its slot just before commit.
 */
void
slot_reset_at_commit(Oid seqoid)
{
	pending_add(PENDING_RESET, GetCurrentSubTransactionId(), MyDatabaseId,
				seqoid);
}

/*
 * slot_free_at_commit
 *		The current transaction drops a sequence (or, with seqoid InvalidOid,
 *		a whole database): if a slot belongs to it, free the slot once the
 *		drop committed.  No slot can be attached to it meanwhile: the drop
 *		holds a lock that attaching waits for.
 */
void
slot_free_at_commit(Oid dboid, Oid seqoid)
{
	bool		found = false;
	int			i;

	LWLockAcquire(dir_lock, LW_SHARED);
	for (i = 0; i < idgen_max_tags && !found; i++)
		found = slots[i].dboid == dboid &&
			(!OidIsValid(seqoid) || slots[i].seqoid == seqoid);
	LWLockRelease(dir_lock);
	if (found)
		pending_add(PENDING_FREE, GetCurrentSubTransactionId(), dboid, seqoid);
}
