/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  The backend tier's memory: each backend's chunks of IDs in shared
 *	  memory, the entries they live in, and the floors the open
 *	  transaction holds in them (ordered tags).
 *
 * Memory: one BackendArea per possible backend (MaxBackends), each padded
 * to a cache line so that no two backends write the same line, holding
 * idgen.tags_per_backend entries (at most idgen.max_tags): a tag word each,
 * which says which tag slot the entry serves, and a BackendChunk
 * [next, end) each.  A backend binds an entry to a tag slot at its first
 * use of the tag (lookup.c); the local map entry_of[] finds the entry of a
 * slot.  A backend that needs an entry for one more tag while all are
 * bound evicts the least recently used one (by transaction: the
 * reclaim_stamp of the transaction that last used it, which lookup.c
 * knows) that the open transaction does not use: not used by it at all,
 * no watermark floor, no reclaim run.  Its unused tail goes back to the
 * pool and its tally is folded into the pool's counters, exactly as at
 * backend exit, and what else the entry holds goes back through
 * chunk_evict_hook (a hybrid tag's slab, hybrid.c, hooked in by idgen.c).
 * When every entry is in use by the open transaction, binding fails with
 * a configuration-limit error naming the setting.
 *
 * Floors (ordered tags, watermark.c): at its first draw of an ordered tag
 * in a transaction the backend publishes a floor in the chunk and lists
 * the slot in chunk_floored[]; when the transaction ends, each listed
 * chunk's rest goes back to the pool and its floor is cleared
 * (chunk_floors_clear, from watermark.c's transaction event).
 *
 * At backend exit (before_shmem_exit, while shared memory is still
 * attached) every unused tail goes back to its pool.
 *
 * Locking protocol:
 *	- A BackendChunk is written only by the backend owning the area,
 *	  without any lock: this is next_id()'s fast path.  Other backends read
 *	  it without a lock, for monitoring and the watermark, and may see a
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
 *	  pool lock, and its floor is lowered under it (watermark.c).  A floor
 *	  is published (chunk_floor_note) with a write barrier before any ID
 *	  of it is returned, and cleared only after the rest went back.
 *	- BackendArea->pid is written by the owner at first use and cleared at
 *	  exit; readers skip a backend whose pid is 0.
 *	- The local map (entry_of[]) and chunk_floored[] are the owner's alone.
 *	- Pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "base.h"
#include "chunk.h"
#include "compat.h"
#include "pool.h"
#include "reclaim.h"

/*
 * One backend's entries: the header, then chunk_entries() tag words, then
 * as many chunks (see backend_area_size and the locking protocol above).
 */
typedef struct BackendArea
{
	pid_t		pid;			/* 0 when the area is unused */
} BackendArea;

/* the parts of an entry's tag word */
#define ENTRY_SLOT(w)		((int) ((w) & PG_UINT32_MAX) - 1)	/* -1: free */
#define ENTRY_WORD(w, slot) \
	(((((w) >> 32) + 1) << 32) | (uint64) ((slot) + 1))

ChunkEvictHook chunk_evict_hook = NULL;

int		   *chunk_floored = NULL;
int			chunk_nfloored = 0;

static char *backend_areas = NULL;
static BackendArea *my_area = NULL;
static pg_atomic_uint64 *my_tags = NULL;
static BackendChunk *my_chunks = NULL;

/* this backend's entry of each tag slot, or -1 (idgen_max_tags of them) */
static int *entry_of = NULL;

/*
 * chunk_entries
 *		Entries of each backend: idgen.tags_per_backend, but never more than
 *		there are tag slots.
 */
int
chunk_entries(void)
{
	return Min(idgen_tags_per_backend, idgen_max_tags);
}


/*
 * tags_offset, chunks_offset
 *		Where a backend area's tag words and chunks begin.
 */
static Size
tags_offset(void)
{
	return MAXALIGN(sizeof(BackendArea));
}

static Size
chunks_offset(void)
{
	return MAXALIGN(add_size(tags_offset(),
							 mul_size(sizeof(pg_atomic_uint64),
									  chunk_entries())));
}

/*
 * backend_area_size
 *		Bytes of one backend area, rounded up to a cache line.
 */
static Size
backend_area_size(void)
{
	Size		size;

	size = add_size(chunks_offset(),
					mul_size(sizeof(BackendChunk), chunk_entries()));
	return TYPEALIGN(PG_CACHE_LINE_SIZE, size);
}

/*
 * chunk_shmem_size
 *		Bytes of every backend's area, plus alignment padding.
 */
static Size
chunk_shmem_size(void)
{
	return add_size(mul_size(backend_area_size(), MaxBackends),
					PG_CACHE_LINE_SIZE);
}

/*
 * chunk_shmem_request
 *		Ask for the backend areas' memory; called from the
 *		shmem_request_hook.
 */
void
chunk_shmem_request(void)
{
	RequestAddinShmemSpace(chunk_shmem_size());
}

/*
 * backend_area
 *		The area of backend number index (0-based).
 */
static BackendArea *
backend_area(int index)
{
	return (BackendArea *) (backend_areas +
							(Size) index * backend_area_size());
}

/*
 * area_tags, area_chunks
 *		The tag words and the chunks of a backend area.
 */
static pg_atomic_uint64 *
area_tags(BackendArea *area)
{
	return (pg_atomic_uint64 *) ((char *) area + tags_offset());
}

static BackendChunk *
area_chunks(BackendArea *area)
{
	return (BackendChunk *) ((char *) area + chunks_offset());
}

/*
 * chunk_shmem_startup
 *		Attach to (and, the first time, initialise) the backend areas.
 *		Called with AddinShmemInitLock held.
 */
void
chunk_shmem_startup(void)
{
	bool		found;
	char	   *base;
	int			b;
	int			e;

	base = ShmemInitStruct("idgen chunks", chunk_shmem_size(), &found);
	backend_areas = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, base);
	if (found)
		return;
	memset(base, 0, chunk_shmem_size());
	for (b = 0; b < MaxBackends; b++)
		for (e = 0; e < chunk_entries(); e++)
			pg_atomic_init_u64(&area_tags(backend_area(b))[e], 0);
}

/*
 * read_entry
 *		Copy entry e of a backend area if it serves a tag slot (index, or
 *		any slot when index is -1), as the locking protocol above says;
 *		returns the slot it serves, or -1.
 */
static int
read_entry(BackendArea *area, int e, int index, BackendChunk *chunk)
{
	pg_atomic_uint64 *word = &area_tags(area)[e];
	uint64		w = pg_atomic_read_u64(word);
	int			served = ENTRY_SLOT(w);

	if (served < 0 || (index >= 0 && served != index))
		return -1;
	pg_read_barrier();
	*chunk = area_chunks(area)[e];
	pg_read_barrier();
	if (pg_atomic_read_u64(word) != w)
		return -1;				/* it changed hands meanwhile */
	return served;
}

/*
 * chunk_read
 *		Copy backend number "backend"'s chunk of tag slot index, for the
 *		monitoring views and the watermark; false when the backend holds
 *		none.  Lock-free, see the locking protocol above.
 */
bool
chunk_read(int backend, int index, pid_t *pid, BackendChunk *chunk)
{
	BackendArea *area = backend_area(backend);
	int			n = chunk_entries();
	int			e;

	*pid = area->pid;
	if (*pid == 0)
		return false;
	pg_read_barrier();
	for (e = 0; e < n; e++)
	{
		if (read_entry(area, e, index, chunk) < 0)
			continue;
		/* a first refill publishes its floor before its chunk (watermark.c) */
		return chunk->end != 0 || chunk->floor != 0;
	}
	return false;
}

/*
 * entry_copy_cmp
 *		qsort order of ChunkCopy: by tag slot, then by backend.
 */
static int
entry_copy_cmp(const void *a, const void *b)
{
	const ChunkCopy *x = (const ChunkCopy *) a;
	const ChunkCopy *y = (const ChunkCopy *) b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->backend != y->backend)
		return x->backend < y->backend ? -1 : 1;
	return 0;
}

/*
 * chunk_read_all
 *		Copy every backend's chunks (those chunk_read would show) into
 *		a palloc'd array sorted by tag slot and backend; returns how many.
 *		One pass over the backends, whatever the number of tags: for the
 *		monitoring functions that report on every tag.  Lock-free.
 */
int
chunk_read_all(ChunkCopy **copies)
{
	int			n = chunk_entries();
	int			max = 16;
	int			count = 0;
	int			b;

	*copies = palloc(sizeof(ChunkCopy) * max);
	for (b = 0; b < MaxBackends; b++)
	{
		BackendArea *area = backend_area(b);
		pid_t		pid = area->pid;
		int			e;

		if (pid == 0)
			continue;
		pg_read_barrier();
		for (e = 0; e < n; e++)
		{
			ChunkCopy  *copy;

			if (count == max)
				idgen_array_grow((void **) copies, &max,
								 sizeof(ChunkCopy), 1);
			copy = &(*copies)[count];
			copy->index = read_entry(area, e, -1, &copy->chunk);
			if (copy->index < 0 ||
				(copy->chunk.end == 0 && copy->chunk.floor == 0))
				continue;
			copy->backend = b;
			copy->pid = pid;
			count++;
		}
	}
	qsort(*copies, count, sizeof(ChunkCopy), entry_copy_cmp);
	return count;
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
	ChunkTally	tally = chunk_tally(c);

	if (index < 0 || c->end == 0)
		return;
	tail.lo = c->next;
	tail.hi = c->end;
	pool_give_back(index, c->generation, tail, GIVE_BACK_EXIT, c->locality,
				   &tally);
}

/*
 * chunk_exit
 *		Give every unused chunk tail back to its pool at backend exit.
 */
static void
chunk_exit(int code, Datum arg)
{
	int			e;

	pool_release_claim();
	/* an open transaction can only abort now: reclaim before handing back */
	reclaim_undo();
	for (e = 0; e < chunk_entries(); e++)
	{
		entry_give_back(e);
		entry_unbind(e);
	}
	pg_write_barrier();
	my_area->pid = 0;
}

/*
 * chunk_attach_backend
 *		First use of idgen's tags in this backend: claim our shared area,
 *		set up the local map, and arrange the hand-back at exit.
 */
void
chunk_attach_backend(void)
{
	int			index = idgen_proc_index();
	int			e;

	idgen_check_preloaded();
	if (index < 0 || index >= MaxBackends)
		elog(ERROR, "idgen: backend number %d out of range", index);

	entry_of = MemoryContextAlloc(TopMemoryContext,
								  sizeof(int) * idgen_max_tags);
	memset(entry_of, -1, sizeof(int) * idgen_max_tags);

	/* a previous owner of the area always cleared it; be sure anyway */
	my_area = backend_area(index);
	my_tags = area_tags(my_area);
	my_chunks = area_chunks(my_area);
	for (e = 0; e < chunk_entries(); e++)
		entry_unbind(e);
	my_area->pid = MyProcPid;
	before_shmem_exit(chunk_exit, (Datum) 0);
}

/*
 * chunk_entry
 *		This backend's entry of tag slot index, or -1 if it has none.
 */
int
chunk_entry(int index)
{
	return entry_of != NULL ? entry_of[index] : -1;
}

/*
 * chunk_at
 *		This backend's chunk in entry e.
 */
BackendChunk *
chunk_at(int e)
{
	return &my_chunks[e];
}

/*
 * chunk_of
 *		This backend's chunk for slot index.
 */
BackendChunk *
chunk_of(int index)
{
	static BackendChunk absent;
	int			e = chunk_entry(index);

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
 * chunk_free_entry
 *		An entry bound to no tag slot, or -1 if every one is bound.
 */
int
chunk_free_entry(void)
{
	int			e;

	for (e = 0; e < chunk_entries(); e++)
		if (ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e])) < 0)
			return e;
	return -1;
}

/*
 * chunk_victim
 *		The bound entry to evict for one more tag slot: the least recently
 *		used one (last_use[e]: the reclaim_stamp of the last transaction
 *		that used entry e) that the open transaction (open_stamp) does not
 *		use, and that holds no floor and no reclaim run.  Raises an error
 *		when every entry is in use.
 */
int
chunk_victim(const uint64 *last_use, uint64 open_stamp)
{
	int			n = chunk_entries();
	int			best = -1;
	int			e;

	for (e = 0; e < n; e++)
	{
		BackendChunk *c = &my_chunks[e];

		if (last_use[e] == open_stamp || c->floor != 0 ||
			c->xact_lo != 0 || c->xact_drawn != 0)
			continue;
		if (best < 0 || last_use[e] < last_use[best])
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
 * chunk_evict
 *		Free bound entry e for another tag: its tail goes back to the pool
 *		and what else it holds through chunk_evict_hook, as at backend exit.
 *		Returns the tag slot it served, and in *after the last ID (or slab)
 *		the backend used there, so that its IDs of the tag go on increasing.
 */
int
chunk_evict(int e, int64 *after)
{
	int			index = ENTRY_SLOT(pg_atomic_read_u64(&my_tags[e]));
	BackendChunk *c = &my_chunks[e];

	entry_give_back(e);
	*after = c->next - 1;
	if (chunk_evict_hook != NULL)
		*after = Max(*after, chunk_evict_hook(e, index));
	entry_unbind(e);
	return index;
}

/*
 * chunk_bind
 *		Bind free entry e to tag slot index under generation; returns its
 *		chunk, empty, at resume_after + 1 if that is positive (the last ID
 *		of the tag the backend used before an eviction, see chunk_evict).
 */
BackendChunk *
chunk_bind(int e, int index, uint32 generation, int64 resume_after)
{
	BackendChunk *c = &my_chunks[e];

	c->generation = generation;
	if (resume_after > 0)
		c->start = c->next = c->end = resume_after + 1;
	pg_write_barrier();
	pg_atomic_write_u64(&my_tags[e],
						ENTRY_WORD(pg_atomic_read_u64(&my_tags[e]), index));
	entry_of[index] = e;
	return c;
}

/*
 * chunk_reset
 *		Empty a chunk of this backend for slot generation "generation": its
 *		IDs belonged to an older one and are never used.  The open
 *		transaction's floor stays: what it drew before the tag was reset may
 *		still commit (watermark.c).
 */
void
chunk_reset(BackendChunk *c, uint32 generation)
{
	int64		floor = c->floor;

	memset(c, 0, sizeof(BackendChunk));
	c->floor = floor;
	c->generation = generation;
}

/*
 * chunk_give_back_tail
 *		Hand the unused rest of this backend's chunk of slot index, a
 *		locality tag's, back to its pool: into the shared chunk if nobody
 *		drew after it, skipped otherwise.  Done when others have passed the
 *		chunk (lookup.c's first use), and when an ordered tag's transaction
 *		ends (chunk_floors_clear).  Raises no error.
 */
void
chunk_give_back_tail(int index)
{
	BackendChunk *c = chunk_of(index);
	IdRange		tail;

	if (c->next >= c->end)
		return;
	tail.lo = c->next;
	tail.hi = c->end;
	pool_give_back(index, c->generation, tail, GIVE_BACK_EXIT, true, NULL);
	c->end = c->next;
}

/*
 * chunk_floor_note
 *		First draw of an ordered tag (slot index, chunk c) in this
 *		transaction: publish the floor of what the transaction draws,
 *		before any ID is returned, and list the slot so that the floor is
 *		cleared when the transaction ends.
 */
void
chunk_floor_note(BackendChunk *c, int index)
{
	int			i;

	/* again in the same transaction (SET ROLE, a reset): the floor stays */
	if (c->floor != 0)
		return;
	if (chunk_floored == NULL)
		chunk_floored = MemoryContextAlloc(TopMemoryContext,
										   sizeof(int) * idgen_max_tags);
	for (i = 0; i < chunk_nfloored && chunk_floored[i] != index; i++)
		;
	if (i == chunk_nfloored)
		chunk_floored[chunk_nfloored++] = index;
	c->floor = c->next < c->end ? c->next : PG_INT64_MAX;
	pg_write_barrier();
}

/*
 * chunk_floors_clear
 *		The transaction ended (its commit visible, its abort undone, or it
 *		was prepared): hand the rest of each floored chunk back, then clear
 *		the floors.  Raises no error.
 */
void
chunk_floors_clear(void)
{
	int			i;

	for (i = 0; i < chunk_nfloored; i++)
	{
		BackendChunk *c = chunk_of(chunk_floored[i]);

		chunk_give_back_tail(chunk_floored[i]);
		pg_write_barrier();
		c->floor = 0;
	}
	chunk_nfloored = 0;
}
