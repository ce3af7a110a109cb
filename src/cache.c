/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The backend tier: next_id() and next_id_range(), served from this
 *	  backend's chunks in shared memory.
 *
 * Memory: one BackendSlot per possible backend (MaxBackends), each padded
 * to a cache line so that no two backends write the same line, holding
 * idgen.tags_per_backend entries (at most idgen.max_tags): a tag word each,
 * which says which tag slot the entry serves, and a BackendChunk
 * [next, end) each.  A backend binds an entry to a tag slot at its first
 * use of the tag (cache_reattach); its local map entry_of[] finds the entry
 * of a slot, and each LocalTag points at its chunk, so that next_id()'s
 * fast path is the same whatever the number of tags.  A backend that needs
 * an entry for one more tag while all are bound evicts the least recently
 * used one (by transaction: the reclaim_stamp of the transaction that last
 * used it) that the open transaction does not use: not used by it at all,
 * no watermark floor, no reclaim run.  Its unused tail goes back to the
 * pool and its tally is folded into the pool's counters, exactly as at
 * backend exit; a hybrid tag's slab goes back to the tag (hybrid.c).  The
 * LocalTags of the slot are invalidated and remember where the backend
 * stood (resume_after), so that when the tag is used again its IDs go on
 * increasing.  When every entry is in use by the open transaction, the
 * lookup fails with a configuration-limit error naming the setting.
 *
 * next_id() finds the tag's LocalTag (memoised per call site in fn_extra,
 * so a constant tag name costs one comparison), then bumps chunk->next: no
 * lock, no atomic read-modify-write, no syscall, no catalog access.  A
 * call site whose fn_extra is empty (each execution of a prepared
 * statement starts with a new one) consults the backend's memo of its
 * last lookup for the same kind of tag instead, with the same checks, so
 * that a prepared INSERT does not look its tag up at every execution.  An
 * empty chunk is refilled from the tag's pool, in one of two ways:
 *	- locality => true (the default): from the front of the pool's shared
 *	  chunk (pool.c), one ID at a time while other backends draw too, so
 *	  that the IDs in flight of all backends lie together, as a sequence's
 *	  do, and a B-tree on them fills at its right edge.  A backend that
 *	  finds the front where its own chunk ended (nobody drew in between)
 *	  doubles its next chunk, up to chunk_max: a backend drawing alone
 *	  (a bulk load) refills rarely.  The common refill, one ID for a tag
 *	  that is not ordered, is inline in next_id() (refill_one): one
 *	  fetch-add on the shared chunk's front.  At its first use of the tag
 *	  in each transaction, a backend whose chunk has fallen more than
 *	  LOCALITY_WINDOW IDs behind the front (a pooled session that sat idle
 *	  while others drew) hands the rest of it back to the pool, which skips
 *	  it (cache_give_back_tail), instead of inserting far behind the
 *	  others; a rest only a little behind (the few IDs left over from a
 *	  multi-row transaction while others drew a few) is used.
 *	- locality => false: a chunk of its own, whose size doubles (up to the
 *	  tag's chunk_max) when the previous chunk lasted under a second, and
 *	  halves (down to chunk_min) when it lasted over ten seconds.  Fewer
 *	  refills, but each backend inserts at its own place in an index.
 *
 * What the fast path checks, and why:
 *	- the slot's generation (slot.c), read atomically: once a tag is
 *	  dropped or its start raised, no cached ID of it is handed out;
 *	- the transaction stamp (reclaim.c): the first use of a tag in each
 *	  transaction checks the role's privilege on the tag again if any
 *	  invalidation message arrived since the last check, so that a
 *	  revoked privilege or role membership takes effect at the latest at
 *	  the next transaction, and opens reclaim's run;
 *	- the current role, against the one checked (SET ROLE, SECURITY
 *	  DEFINER functions).
 * Parallel mode costs the fast path nothing: every path that leaves it (a
 * lookup, the first use in a transaction, a refill) refuses to run in
 * parallel mode (idgen_check_not_parallel).  A parallel worker starts with
 * no memo and no chunk, so its first call takes the lookup and fails; the
 * leader of a parallel plan can at most go on drawing from the chunk it
 * already drew from in the same transaction, as it would outside the plan.
 * Catalog changes reach a backend through relcache invalidation of the
 * tag's sequence (drop_tag drops it; alter_tag and GRANT/REVOKE invalidate
 * it): the callback only marks LocalTags invalid and bumps local_epoch, so
 * no pointer held by a caller dangles; the next use re-reads the catalog.
 *
 * At backend exit (before_shmem_exit, while shared memory is still
 * attached) every unused tail goes back to its pool.
 *
 * Locking protocol:
 *	- A BackendChunk is written only by the backend owning the slot,
 *	  without any lock: this is the fast path.  Other backends read it
 *	  without a lock, for monitoring and the watermark, and may see a
 *	  picture a moment stale.  Its fields are 8-byte aligned; on platforms
 *	  with PG_HAVE_8BYTE_SINGLE_COPY_ATOMICITY (all 64-bit ones) each is
 *	  read whole, elsewhere a monitoring row may show a torn value.
 *	- An entry's tag word (pg_atomic_uint64) holds a bind count in its high
 *	  32 bits and the tag slot index + 1 in its low 32 bits (0: free).  Only
 *	  the owner writes it, and every change (binding, unbinding) raises the
 *	  count, so a word never takes a value twice.  The owner unbinds an
 *	  entry by writing the word (slot 0), pg_write_barrier(), and only then
 *	  clearing the chunk; it binds one by initialising the chunk,
 *	  pg_write_barrier(), and then writing the word.  A reader (seqlock
 *	  style) reads the word, pg_read_barrier(), copies the chunk,
 *	  pg_read_barrier(), reads the word again, and uses the copy only if
 *	  both reads agree and name the slot it looks for: a copy is never
 *	  attributed to a tag it did not belong to all along.
 *	- Watermark: an entry that carries a floor of the open transaction is
 *	  never evicted, and an eviction hands its tail back through the pool
 *	  of its slot, which takes that pool's lock; a watermark reader holds
 *	  that lock exclusive for its whole scan (pool_watermark), so no entry
 *	  of the slot it reads changes hands under it.  An entry bound after
 *	  the reader looked at it holds no ID yet: its first refill needs the
 *	  pool lock, and its floor is lowered under it (watermark.c).
 *	- BackendSlot->pid is written by the owner at first use and cleared at
 *	  exit; readers skip a backend whose pid is 0.
 *	- The local map (entry_of[], entry_used[]) and the LocalTags are the
 *	  owner's alone.
 *	- Pools are touched only through pool.c, slots only through slot.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/sinval.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "base.h"
#include "cache.h"
#include "compat.h"
#include "hybrid.h"
#include "pool.h"
#include "reclaim.h"
#include "slot.h"
#include "watermark.h"

PG_FUNCTION_INFO_V1(idgen_next_id);
PG_FUNCTION_INFO_V1(idgen_next_id_range);

/*
 * How far (in IDs) others may have drawn past the rest of a locality tag's
 * chunk before the backend gives that rest up at its next transaction: a
 * few dozen IDs behind the front still land in the rightmost leaf of a
 * B-tree on them (a leaf holds about 400 bigint keys), as a sequence's
 * interleaved inserts do.
 */
#define LOCALITY_WINDOW		64

/* most IDs one next_id_range() call hands out */
#define NEXT_ID_RANGE_MAX	PG_INT32_MAX

/*
 * One backend's entries: the header, then cache_entries() tag words, then
 * as many chunks (see backend_slot_size and the locking protocol above).
 */
typedef struct BackendSlot
{
	pid_t		pid;			/* 0 when the slot is unused */
} BackendSlot;

/* the parts of an entry's tag word */
#define ENTRY_SLOT(w)		((int) ((w) & PG_UINT32_MAX) - 1)	/* -1: free */
#define ENTRY_WORD(w, slot) \
	(((((w) >> 32) + 1) << 32) | (uint64) ((slot) + 1))

/* per call site memo of the last tag name and its LocalTag */
typedef struct CallMemo
{
	uint64		epoch;
	int			len;
	char		name[NAMEDATALEN];
	LocalTag   *lt;
} CallMemo;

/* the last lookup of each kind of tag, for call sites without a memo */
static CallMemo last_lookup[TAG_HYBRID + 1];

static char *backend_slots = NULL;
static HTAB *local_tags = NULL;
static uint64 local_epoch = 1;
static BackendSlot *my_slot = NULL;
static pg_atomic_uint64 *my_tags = NULL;
static BackendChunk *my_chunks = NULL;

/* this backend's entry of each tag slot, or -1 (idgen_max_tags of them) */
static int *entry_of = NULL;

/* reclaim_stamp when each entry was last attached; scratch for eviction */
static uint64 *entry_used = NULL;
static uint64 *entry_last = NULL;

/*
 * cache_entries
 *		Entries of each backend: idgen.tags_per_backend, but never more than
 *		there are tag slots.
 */
int
cache_entries(void)
{
	return Min(idgen_tags_per_backend, idgen_max_tags);
}

/*
 * tags_offset, chunks_offset
 *		Where a backend slot's tag words and chunks begin.
 */
static Size
tags_offset(void)
{
	return MAXALIGN(sizeof(BackendSlot));
}

static Size
chunks_offset(void)
{
	return MAXALIGN(add_size(tags_offset(),
							 mul_size(sizeof(pg_atomic_uint64),
									  cache_entries())));
}

/*
 * backend_slot_size
 *		Bytes of one backend slot, rounded up to a cache line.
 */
static Size
backend_slot_size(void)
{
	Size		size;

	size = add_size(chunks_offset(),
					mul_size(sizeof(BackendChunk), cache_entries()));
	return TYPEALIGN(PG_CACHE_LINE_SIZE, size);
}

/*
 * cache_shmem_size
 *		Bytes of every backend's slot, plus alignment padding.
 */
static Size
cache_shmem_size(void)
{
	return add_size(mul_size(backend_slot_size(), MaxBackends),
					PG_CACHE_LINE_SIZE);
}

/*
 * cache_shmem_request
 *		Ask for the backend slots' memory; called from the
 *		shmem_request_hook.
 */
void
cache_shmem_request(void)
{
	RequestAddinShmemSpace(cache_shmem_size());
}

/*
 * backend_slot
 *		The slot of backend number index (0-based).
 */
static BackendSlot *
backend_slot(int index)
{
	return (BackendSlot *) (backend_slots +
							(Size) index * backend_slot_size());
}

/*
 * slot_tags, slot_chunks
 *		The tag words and the chunks of a backend slot.
 */
static pg_atomic_uint64 *
slot_tags(BackendSlot *slot)
{
	return (pg_atomic_uint64 *) ((char *) slot + tags_offset());
}

static BackendChunk *
slot_chunks(BackendSlot *slot)
{
	return (BackendChunk *) ((char *) slot + chunks_offset());
}

/*
 * cache_shmem_startup
 *		Attach to (and, the first time, initialise) the backend slots.
 *		Called with AddinShmemInitLock held.
 */
void
cache_shmem_startup(void)
{
	bool		found;
	char	   *base;
	int			b;
	int			e;

	base = ShmemInitStruct("idgen chunks", cache_shmem_size(), &found);
	backend_slots = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, base);
	if (found)
		return;
	memset(base, 0, cache_shmem_size());
	for (b = 0; b < MaxBackends; b++)
		for (e = 0; e < cache_entries(); e++)
			pg_atomic_init_u64(&slot_tags(backend_slot(b))[e], 0);
}

/*
 * read_entry
 *		Copy entry e of a backend slot if it serves a tag slot (index, or
 *		any slot when index is -1), as the locking protocol above says;
 *		returns the slot it serves, or -1.
 */
static int
read_entry(BackendSlot *slot, int e, int index, BackendChunk *chunk)
{
	pg_atomic_uint64 *word = &slot_tags(slot)[e];
	uint64		w = pg_atomic_read_u64(word);
	int			served = ENTRY_SLOT(w);

	if (served < 0 || (index >= 0 && served != index))
		return -1;
	pg_read_barrier();
	*chunk = slot_chunks(slot)[e];
	pg_read_barrier();
	if (pg_atomic_read_u64(word) != w)
		return -1;				/* it changed hands meanwhile */
	return served;
}

/*
 * cache_read_chunk
 *		Copy backend number "backend"'s chunk of tag slot index, for the
 *		monitoring views and the watermark; false when the backend holds
 *		none.  Lock-free, see the locking protocol above.
 */
bool
cache_read_chunk(int backend, int index, pid_t *pid, BackendChunk *chunk)
{
	BackendSlot *slot = backend_slot(backend);
	int			n = cache_entries();
	int			e;

	*pid = slot->pid;
	if (*pid == 0)
		return false;
	pg_read_barrier();
	for (e = 0; e < n; e++)
	{
		if (read_entry(slot, e, index, chunk) < 0)
			continue;
		/* a first refill publishes its floor before its chunk (watermark.c) */
		return chunk->end != 0 || chunk->floor != 0;
	}
	return false;
}

/*
 * entry_copy_cmp
 *		qsort order of CacheEntryCopy: by tag slot, then by backend.
 */
static int
entry_copy_cmp(const void *a, const void *b)
{
	const CacheEntryCopy *x = (const CacheEntryCopy *) a;
	const CacheEntryCopy *y = (const CacheEntryCopy *) b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->backend != y->backend)
		return x->backend < y->backend ? -1 : 1;
	return 0;
}

/*
 * cache_read_all
 *		Copy every backend's chunks (those cache_read_chunk would show) into
 *		a palloc'd array sorted by tag slot and backend; returns how many.
 *		One pass over the backends, whatever the number of tags: for the
 *		monitoring functions that report on every tag.  Lock-free.
 */
int
cache_read_all(CacheEntryCopy **copies)
{
	int			n = cache_entries();
	int			max = 16;
	int			count = 0;
	int			b;

	*copies = palloc(sizeof(CacheEntryCopy) * max);
	for (b = 0; b < MaxBackends; b++)
	{
		BackendSlot *slot = backend_slot(b);
		pid_t		pid = slot->pid;
		int			e;

		if (pid == 0)
			continue;
		pg_read_barrier();
		for (e = 0; e < n; e++)
		{
			CacheEntryCopy *copy;

			if (count == max)
				idgen_array_grow((void **) copies, &max,
								 sizeof(CacheEntryCopy), 1);
			copy = &(*copies)[count];
			copy->index = read_entry(slot, e, -1, &copy->chunk);
			if (copy->index < 0 ||
				(copy->chunk.end == 0 && copy->chunk.floor == 0))
				continue;
			copy->backend = b;
			copy->pid = pid;
			count++;
		}
	}
	qsort(*copies, count, sizeof(CacheEntryCopy), entry_copy_cmp);
	return count;
}

/*
 * cache_inval_callback
 *		Relcache invalidation: forget what we know of the tag whose sequence
 *		changed (or of every tag, for a full reset).
 */
static void
cache_inval_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	LocalTag   *lt;

	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->valid && (!OidIsValid(relid) || lt->info.seqoid == relid))
		{
			lt->valid = false;
			local_epoch++;
		}
	}
}

/*
 * entry_unbind
 *		Mark entry e free (see the locking protocol above) and clear it.
 */
static void
entry_unbind(int e)
{
	uint64		w = pg_atomic_read_u64(&my_tags[e]);
	int			index = ENTRY_SLOT(w);

	pg_atomic_write_u64(&my_tags[e], ENTRY_WORD(w, -1));
	pg_write_barrier();
	memset(&my_chunks[e], 0, sizeof(BackendChunk));
	if (index >= 0)
		entry_of[index] = -1;
	entry_used[e] = 0;
}

/*
 * entry_give_back
 *		Hand the unused tail of entry e back to its pool, folding its tally,
 *		as at backend exit.  Raises no error.
 */
static void
entry_give_back(int e)
{
	int			index = ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e]));
	BackendChunk *c = &my_chunks[e];
	IdRange		tail;
	ChunkTally	tally = cache_chunk_tally(c);

	if (index < 0 || c->end == 0)
		return;
	tail.lo = c->next;
	tail.hi = c->end;
	pool_give_back(index, c->generation, tail, GIVE_BACK_EXIT, c->locality,
				   &tally);
}

/*
 * cache_exit
 *		Give every unused chunk tail back to its pool at backend exit.
 */
static void
cache_exit(int code, Datum arg)
{
	int			e;

	pool_release_claim();
	/* an open transaction can only abort now: reclaim before handing back */
	reclaim_undo();
	for (e = 0; e < cache_entries(); e++)
	{
		entry_give_back(e);
		entry_unbind(e);
	}
	pg_write_barrier();
	my_slot->pid = 0;
}

/*
 * cache_init
 *		First use of idgen's tags in this backend: set up the local map,
 *		claim our shared slot, and arrange the hand-back at exit.
 */
static void
cache_init(void)
{
	HASHCTL		ctl;
	int			index = idgen_proc_index();
	int			e;

	idgen_check_preloaded();
	if (index < 0 || index >= MaxBackends)
		elog(ERROR, "idgen: backend number %d out of range", index);

	entry_of = MemoryContextAlloc(TopMemoryContext,
								  sizeof(int) * idgen_max_tags);
	memset(entry_of, -1, sizeof(int) * idgen_max_tags);
	entry_used = MemoryContextAllocZero(TopMemoryContext,
										sizeof(uint64) * cache_entries());
	entry_last = MemoryContextAllocZero(TopMemoryContext,
										sizeof(uint64) * cache_entries());

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LocalTag);
	local_tags = hash_create("idgen local tags", 16, &ctl,
							 HASH_ELEM | HASH_STRINGS);
	CacheRegisterRelcacheCallback(cache_inval_callback, (Datum) 0);

	/* a previous owner of the slot always cleared it; be sure anyway */
	my_slot = backend_slot(index);
	my_tags = slot_tags(my_slot);
	my_chunks = slot_chunks(my_slot);
	for (e = 0; e < cache_entries(); e++)
		entry_unbind(e);
	my_slot->pid = MyProcPid;
	before_shmem_exit(cache_exit, (Datum) 0);
}

/*
 * entry_victim
 *		The entry to bind to one more tag slot: a free one, else the least
 *		recently used one that the open transaction does not use (see the
 *		header comment).  Raises an error when every entry is in use.
 */
static int
entry_victim(void)
{
	int			n = cache_entries();
	HASH_SEQ_STATUS status;
	LocalTag   *lt;
	int			best = -1;
	int			e;

	for (e = 0; e < n; e++)
	{
		if (ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e])) < 0)
			return e;
		entry_last[e] = entry_used[e];
	}

	/*
	 * Last use of each entry: also the first uses by its LocalTags, and the
	 * transaction whose reclaim list holds one (reclaim.c), which keeps a
	 * pointer to its chunk until the transaction ends, even when the tag was
	 * looked up again meanwhile.
	 */
	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->slot < 0 || entry_of[lt->slot] < 0)
			continue;
		e = entry_of[lt->slot];
		entry_last[e] = Max(entry_last[e],
							Max(lt->xact_stamp, lt->reclaim_stamp));
	}

	for (e = 0; e < n; e++)
	{
		BackendChunk *c = &my_chunks[e];

		if (entry_last[e] == reclaim_stamp || c->floor != 0 ||
			c->xact_lo != 0 || c->xact_drawn != 0)
			continue;
		if (best < 0 || entry_last[e] < entry_last[best])
			best = e;
	}
	if (best < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many idgen tags used in one transaction"),
				 errdetail("A session holds IDs of at most %d tags at once (\"idgen.tags_per_backend\"), and the current transaction has used all of them.",
						   n),
				 errhint("Use fewer tags in one transaction, or increase \"idgen.tags_per_backend\" and restart the server.")));
	return best;
}

/*
 * entry_evict
 *		Free entry e for another tag: its tail goes back to the pool and its
 *		hybrid slab to the tag, as at backend exit, and the LocalTags of its
 *		slot are invalidated, remembering the last ID (or slab) the backend
 *		used, so that its IDs of the tag go on increasing.
 */
static void
entry_evict(int e)
{
	int			index = ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e]));
	BackendChunk *c = &my_chunks[e];
	HASH_SEQ_STATUS status;
	LocalTag   *lt;
	int64		after;

	entry_give_back(e);
	after = Max(c->next - 1, hybrid_evict(e, index));

	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->slot != index)
			continue;
		lt->valid = false;
		lt->resume_after = after;
		lt->resume_generation = c->generation;
	}
	local_epoch++;
	entry_unbind(e);
}

/*
 * entry_bind
 *		Bind an entry to tag slot index under generation for lt, evicting
 *		the least recently used one if none is free; returns it.  The chunk
 *		starts empty, at the backend's last ID of the tag if lt remembers
 *		one of the same generation (a segment tag: see entry_evict).
 */
static int
entry_bind(LocalTag *lt, TagKind kind, int index, uint32 generation)
{
	int			e = entry_victim();
	BackendChunk *c = &my_chunks[e];

	if (ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e])) >= 0)
		entry_evict(e);

	c->generation = generation;
	if (kind == TAG_SEGMENT && lt->slot == index &&
		lt->resume_generation == generation && lt->resume_after > 0)
		c->start = c->next = c->end = lt->resume_after + 1;
	pg_write_barrier();
	pg_atomic_write_u64(&my_tags[e],
						ENTRY_WORD(pg_atomic_read_u64(&my_tags[e]), index));
	entry_of[index] = e;
	return e;
}

/*
 * chunk_size_clamp
 *		A chunk size within a tag's bounds: chunk_min to chunk_max, or 1 to
 *		chunk_max for a locality tag (see the header comment).
 */
static int64
chunk_size_clamp(const TagInfo *info, int64 size)
{
	return Min(Max(size, info->locality ? 1 : info->chunk_min),
			   info->chunk_max);
}

/*
 * cache_first_use
 *		First use of a tag in this transaction (or by another role, or since
 *		the tag was attached again): refuse parallel mode, check the role's
 *		right to use it, and for a segment tag open reclaim's run of the IDs
 *		the transaction draws from here.
 */
static pg_noinline void
cache_first_use(LocalTag *lt, TagKind kind, const char *function)
{
	BackendChunk *c = lt->chunk;

	idgen_check_not_parallel(function);

	/*
	 * A privilege, a role membership or a role's attributes change only with
	 * a catalog change, which reaches this backend as an invalidation message
	 * by the start of its next transaction: while none has arrived since the
	 * last check for the same role, its answer stands.
	 */
	if (lt->checked_user != GetUserId() ||
		lt->checked_inval != SharedInvalidMessageCounter)
	{
		tag_check_usage(&lt->info);
		lt->checked_user = GetUserId();
		lt->checked_inval = SharedInvalidMessageCounter;
	}
	lt->xact_stamp = reclaim_stamp;
	if (kind != TAG_SEGMENT)
		return;
	/* a locality tag's chunk that others have passed far goes back */
	if (lt->info.locality && c->next < c->end)
	{
		int64		front = pool_front_next(lt->front);

		if (front != c->end && front - c->next > LOCALITY_WINDOW)
			cache_give_back_tail(lt->slot);
	}
	if (lt->info.ordered)
		watermark_note(lt);
	reclaim_note(lt);
}

/*
 * cache_reattach
 *		(Re)build a LocalTag from the catalog and attach it to its slot and
 *		to our chunk for that slot.  Raises an error if the tag is gone, or
 *		is not of the kind the calling function needs.
 */
void
cache_reattach(LocalTag *lt, TagKind kind, const char *function)
{
	HASH_SEQ_STATUS status;
	LocalTag   *other;
	BackendChunk *c;
	SubTransactionId created;
	int			index;
	int			e;
	uint32		generation;

	lt->valid = false;
	created = tag_lookup(&lt->name, &lt->info);
	if (lt->info.kind != kind)
		tag_wrong_kind(&lt->info, function);
	tag_check_usage(&lt->info);
	/* the next cache_get handles the first use of what is now attached */
	lt->xact_stamp = 0;

	index = slot_attach(lt->info.seqoid, &lt->name, created, &generation);
	e = entry_of[index];
	if (e < 0)
		e = entry_bind(lt, kind, index, generation);
	entry_used[e] = reclaim_stamp;
	c = &my_chunks[e];
	if (c->generation != generation || c->end == 0)
	{
		/*
		 * The chunk belonged to an older generation: never use its IDs.  The
		 * open transaction's floor stays (watermark.c): what it drew before
		 * the tag was reset may still commit.
		 */
		int64		floor = c->floor;

		memset(c, 0, sizeof(BackendChunk));
		c->floor = floor;
		c->generation = generation;
		lt->refilled_at = 0;

		hash_seq_init(&status, local_tags);
		while ((other = hash_seq_search(&status)) != NULL)
			if (other != lt && other->slot == index)
				other->valid = false;
	}
	c->size = chunk_size_clamp(&lt->info, c->size);
	c->locality = lt->info.locality;

	/* where the backend stood in another slot says nothing of this one */
	if (lt->slot != index)
		lt->resume_generation = 0;
	lt->slot = index;
	lt->entry = e;
	lt->generation = generation;
	lt->chunk = c;
	lt->front = pool_front(index);
	lt->inline_front = lt->info.locality && !lt->info.ordered ?
		lt->front : NULL;
	lt->valid = true;
	local_epoch++;
}

/*
 * cache_lookup
 *		Slow path of cache_get: find the LocalTag by name, (re)attaching it
 *		if needed, and remember it in the call site's memo and as the last
 *		lookup of its kind.  Refused in parallel mode, which cannot take the
 *		snapshots a lookup needs.
 */
static pg_noinline LocalTag *
cache_lookup(FunctionCallInfo fcinfo, text *tag, TagKind kind,
			 const char *function)
{
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	NameData	name;
	LocalTag   *lt;
	bool		found;

	idgen_check_not_parallel(function);
	if (local_tags == NULL)
		cache_init();
	tag_check_name(tag, &name);
	lt = hash_search(local_tags, NameStr(name), HASH_ENTER, &found);
	if (!found)
	{
		lt->valid = false;
		lt->reclaim_stamp = 0;
		lt->xact_stamp = 0;
		lt->checked_user = InvalidOid;
		lt->slot = -1;
		lt->entry = -1;
		lt->resume_after = 0;
		lt->resume_generation = 0;
	}
	else if (lt->valid && slot_generation(lt->slot) != lt->generation)
		lt->valid = false;
	if (!lt->valid)
		cache_reattach(lt, kind, function);
	else if (lt->info.kind != kind)
		tag_wrong_kind(&lt->info, function);

	if (memo == NULL)
		memo = fcinfo->flinfo->fn_extra =
			MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(CallMemo));
	memo->epoch = local_epoch;
	memo->len = VARSIZE_ANY_EXHDR(tag);
	memcpy(memo->name, NameStr(name), memo->len);
	memo->lt = lt;
	last_lookup[kind] = *memo;
	return lt;
}

/*
 * name_equal
 *		memcmp(a, b, len) == 0, inline: a tag name is short, and calling the
 *		C library's memcmp costs more than comparing it eight bytes at a
 *		time, the last eight overlapping the ones before (four and four for
 *		a name of four to seven bytes), never reading past len.
 */
static inline bool
name_equal(const char *a, const char *b, int len)
{
	if (len >= (int) sizeof(uint64))
	{
		uint64		x;
		uint64		y;
		int			i;

		for (i = 0; i < len - (int) sizeof(uint64); i += sizeof(uint64))
		{
			memcpy(&x, a + i, sizeof(uint64));
			memcpy(&y, b + i, sizeof(uint64));
			if (x != y)
				return false;
		}
		memcpy(&x, a + len - sizeof(uint64), sizeof(uint64));
		memcpy(&y, b + len - sizeof(uint64), sizeof(uint64));
		return x == y;
	}
	if (len >= (int) sizeof(uint32))
	{
		uint32		x1;
		uint32		y1;
		uint32		x2;
		uint32		y2;

		memcpy(&x1, a, sizeof(uint32));
		memcpy(&y1, b, sizeof(uint32));
		memcpy(&x2, a + len - sizeof(uint32), sizeof(uint32));
		memcpy(&y2, b + len - sizeof(uint32), sizeof(uint32));
		return x1 == y1 && x2 == y2;
	}
	for (int i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * tag_of_call
 *		The LocalTag for the tag named by argument 0, checked to be of the
 *		given kind and usable by the current role in this transaction.  The
 *		fast path checks the call site's memo (or, if it has none yet, the
 *		last lookup of the kind: see the header comment) and the generation
 *		of the tag's slot.  The memo of a kind only ever holds a tag of that
 *		kind; it matches nothing before it is filled (epoch 0, while
 *		local_epoch starts at 1).  Inline in next_id(); the lookup and the
 *		first use in a transaction are calls, so that the fast path saves
 *		no registers and has no stack canary.
 */
static pg_attribute_always_inline LocalTag *
tag_of_call(FunctionCallInfo fcinfo, TagKind kind, const char *function)
{
	text	   *tag = (text *) PG_GETARG_POINTER(0);
	const char *data;
	int			len;
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	LocalTag   *lt;

	/*
	 * PG_GETARG_TEXT_PP without its call: a constant or a parameter has a
	 * plain 4-byte header; a short header is read as it is, and anything else
	 * is detoasted.
	 */
	if (likely(VARATT_IS_4B_U(tag)))
	{
		len = VARSIZE(tag) - VARHDRSZ;
		data = VARDATA(tag);
	}
	else
	{
		if (VARATT_IS_EXTERNAL(tag) || VARATT_IS_COMPRESSED(tag))
			tag = PG_GETARG_TEXT_PP(0);
		len = VARSIZE_ANY_EXHDR(tag);
		data = VARDATA_ANY(tag);
	}
	if (memo == NULL)
		memo = &last_lookup[kind];
	if (likely(memo->epoch == local_epoch &&
			   memo->len == len &&
			   name_equal(memo->name, data, len) &&
			   slot_generation(memo->lt->slot) == memo->lt->generation))
		lt = memo->lt;
	else
		lt = cache_lookup(fcinfo, tag, kind, function);

	if (unlikely(lt->xact_stamp != reclaim_stamp ||
				 lt->checked_user != GetUserId()))
		cache_first_use(lt, kind, function);
	return lt;
}

/*
 * cache_get
 *		tag_of_call for the other generators (hybrid_id).
 */
LocalTag *
cache_get(FunctionCallInfo fcinfo, TagKind kind, const char *function)
{
	return tag_of_call(fcinfo, kind, function);
}

/*
 * cache_chunk
 *		This backend's chunk for slot index.
 */
BackendChunk *
cache_chunk(int index)
{
	static BackendChunk absent;
	int			e = entry_of != NULL ? entry_of[index] : -1;

	if (likely(e >= 0))
		return &my_chunks[e];

	/*
	 * No entry: the slot's was evicted, which only happens when nothing of
	 * the open transaction refers to it, or the tag moved to another slot. A
	 * chunk of no generation makes reclaim skip it.
	 */
	memset(&absent, 0, sizeof(BackendChunk));
	return &absent;
}

/*
 * cache_give_back_tail
 *		Hand the unused rest of this backend's chunk of slot index, a
 *		locality tag's, back to its pool: into the shared chunk if nobody
 *		drew after it, skipped otherwise.  Done when others have passed the
 *		chunk (cache_first_use), and when an ordered tag's transaction ends
 *		(watermark.c).  Raises no error.
 */
void
cache_give_back_tail(int index)
{
	BackendChunk *c = cache_chunk(index);
	IdRange		tail;

	if (c->next >= c->end)
		return;
	tail.lo = c->next;
	tail.hi = c->end;
	pool_give_back(index, c->generation, tail, GIVE_BACK_EXIT, true, NULL);
	c->end = c->next;
}

/*
 * cache_refill
 *		Replace an exhausted chunk with a new one from the pool, adapting
 *		its size (see the header comment).  Refused in parallel mode.
 */
static pg_noinline void
cache_refill(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	TimestampTz now = 0;
	int64		size = c->size;
	int64		last_end = c->end;
	IdRange		chunk;

	idgen_check_not_parallel("next_id");
	if (lt->info.locality)
	{
		/* a larger chunk only while nobody else draws: see the header */
		if (size > 1 &&
			(last_end == 0 || pool_front_next(lt->front) != last_end))
			size = 1;
	}
	else
	{
		now = GetCurrentTimestamp();
		if (lt->refilled_at != 0)
		{
			if (now - lt->refilled_at < USECS_PER_SEC)
				size *= 2;
			else if (now - lt->refilled_at > 10 * USECS_PER_SEC)
				size /= 2;
		}
	}

	for (;;)
	{
		bool		ok;

		size = chunk_size_clamp(&lt->info, size);
		if (lt->info.locality)
			ok = pool_take_front(lt->slot, lt->generation, &lt->info, size,
								 &chunk, lt->info.ordered ? &c->floor : NULL);
		else
			ok = pool_take_chunk(lt->slot, lt->generation, &lt->info, size,
								 c->next - 1, &chunk);
		if (ok)
			break;
		/* the tag was dropped or reset meanwhile: look it up again */
		cache_reattach(lt, TAG_SEGMENT, "next_id");
		c = lt->chunk;
		last_end = c->end;
		/* a new chunk has no floor yet */
		if (lt->info.ordered)
			watermark_note(lt);
	}

	/* locality: drawing alone (nobody took IDs since ours) doubles */
	if (lt->info.locality)
		size = chunk.lo == last_end ? size * 2 : 1;

	/*
	 * Only now, with nothing left that can fail, the run in the old chunk
	 * ends: a refill that raised an error left it open, to be rewound if the
	 * transaction aborts.
	 */
	reclaim_chunk_ends(lt);
	c->tally.issued += c->next - c->start;
	c->tally.refills++;
	c->start = chunk.lo;
	c->next = chunk.lo;
	c->end = chunk.hi;
	c->size = chunk_size_clamp(&lt->info, size);
	lt->refilled_at = now;
	/* the transaction goes on drawing, from the new chunk */
	reclaim_note(lt);
}

/*
 * refill_one
 *		cache_refill's common case, inline in next_id(): a locality tag that
 *		is not ordered, whose chunk size is one (others draw too), takes its
 *		next ID from the shared chunk with one fetch-add, and keeps the
 *		books as cache_refill does for it (a locality tag's closed run is
 *		counted, never recorded).  The first use in the transaction listed
 *		the tag for reclaim already.  False when cache_refill must do it:
 *		another kind of tag, a larger chunk, the shared chunk used up, or
 *		the slot moved on.
 */
static pg_attribute_always_inline bool
refill_one(LocalTag *lt, BackendChunk *c)
{
	IdRange		got;
	bool		moved;

	Assert(!lt->info.reclaim || lt->reclaim_stamp == reclaim_stamp);
	if (lt->inline_front == NULL || c->size != 1 ||
		!pool_front_take(lt->inline_front, lt->slot, lt->generation, 1,
						 &got, &moved))
		return false;
	if (c->xact_lo != 0)
		c->xact_drawn += c->next - c->xact_lo;
	c->tally.issued += c->next - c->start;
	c->tally.refills++;
	/* drawing alone (nobody took IDs since ours) doubles */
	c->size = got.lo == c->end ? chunk_size_clamp(&lt->info, 2) : 1;
	c->start = got.lo;
	c->next = got.lo;
	c->end = got.hi;
	c->xact_lo = lt->info.reclaim ? got.lo : 0;
	lt->refilled_at = 0;
	return true;
}

/*
 * idgen_next_id
 *		next_id(tag): the next ID of a segment tag.
 */
Datum
idgen_next_id(PG_FUNCTION_ARGS)
{
	LocalTag   *lt;
	BackendChunk *c;
	int64		id;

	if (unlikely(XactReadOnly))
		PreventCommandIfReadOnly("next_id()");

	lt = tag_of_call(fcinfo, TAG_SEGMENT, "next_id");
	c = lt->chunk;
	if (unlikely(c->next >= c->end) && !refill_one(lt, c))
	{
		cache_refill(lt);
		c = lt->chunk;
	}
	id = c->next;
	c->next = id + 1;
	PG_RETURN_INT64(id);
}

/*
 * idgen_next_id_range
 *		next_id_range(tag, n): n contiguous IDs [lo, lo + n), n at most
 *		NEXT_ID_RANGE_MAX, owned by the caller for good (never reclaimed).
 */
Datum
idgen_next_id_range(PG_FUNCTION_ARGS)
{
	int64		n = PG_GETARG_INT64(1);
	LocalTag   *lt;
	IdRange		range;

	PreventCommandIfReadOnly("next_id_range()");
	idgen_check_not_parallel("next_id_range");
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of IDs must be positive, not " INT64_FORMAT, n)));
	/* a role that may only use the tag cannot use up its space in one call */
	if (n > NEXT_ID_RANGE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of IDs must be at most %d, not " INT64_FORMAT,
						NEXT_ID_RANGE_MAX, n),
				 errhint("Call next_id_range() several times for more IDs.")));

	lt = tag_of_call(fcinfo, TAG_SEGMENT, "next_id_range");
	if (lt->info.ordered)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("next_id_range() is not available for ordered tag \"%s\"",
						NameStr(lt->info.name)),
				 errdetail("A block of IDs can be inserted at any later time, which idgen.watermark() cannot follow."),
				 errhint("Draw blocks from a tag that is not ordered.")));
	while (!pool_take_range(lt->slot, lt->generation, &lt->info, n, &range))
		cache_reattach(lt, TAG_SEGMENT, "next_id_range");

	PG_RETURN_DATUM(idgen_range_datum(range));
}
