/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The backend tier: next_id() and next_id_range(), served from this
 *	  backend's chunks in shared memory.
 *
 * Memory: one BackendSlot per possible backend (MaxBackends), each padded
 * to a cache line so that no two backends write the same line, holding one
 * BackendChunk [next, end) per tag slot.
 *
 * next_id() finds the tag's LocalTag (memoised per call site in fn_extra,
 * so a constant tag name costs one memcmp), then bumps chunk->next: no
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
 *	  (a bulk load) refills rarely.  At its first use of the tag in each
 *	  transaction, a backend whose chunk has fallen more than
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
 *	  the next transaction, and opens reclaim's record of the run;
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
 *	  without a lock, for monitoring only, and may see a picture a moment
 *	  stale.  Its fields are 8-byte aligned; on platforms with
 *	  PG_HAVE_8BYTE_SINGLE_COPY_ATOMICITY (all 64-bit ones) each is read
 *	  whole, elsewhere a monitoring row may show a torn value.  Nothing but
 *	  monitoring ever reads another backend's chunk.
 *	- BackendSlot->pid is written by the owner at first use and cleared at
 *	  exit; readers treat it like the chunks.
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
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "cache.h"
#include "compat.h"
#include "idgen.h"
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

/* one backend's chunks, one per tag slot */
typedef struct BackendSlot
{
	pid_t		pid;			/* 0 when the slot is unused */
	BackendChunk chunks[FLEXIBLE_ARRAY_MEMBER]; /* idgen_max_tags of them */
} BackendSlot;

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

/*
 * backend_slot_size
 *		Bytes of one backend slot, rounded up to a cache line.
 */
static Size
backend_slot_size(void)
{
	Size		size;

	size = add_size(offsetof(BackendSlot, chunks),
					mul_size(sizeof(BackendChunk), idgen_max_tags));
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
 * cache_shmem_startup
 *		Attach to (and, the first time, initialise) the backend slots.
 *		Called with AddinShmemInitLock held.
 */
void
cache_shmem_startup(void)
{
	bool		found;
	char	   *base;

	base = ShmemInitStruct("idgen chunks", cache_shmem_size(), &found);
	if (!found)
		memset(base, 0, cache_shmem_size());
	backend_slots = (char *) TYPEALIGN(PG_CACHE_LINE_SIZE, base);
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
 * cache_read_chunk
 *		Copy backend number "backend"'s chunk of tag slot index, for the
 *		monitoring views and the watermark; false when the backend holds
 *		none.  Lock-free, see the locking protocol above.
 */
bool
cache_read_chunk(int backend, int index, pid_t *pid, BackendChunk *chunk)
{
	BackendSlot *slot = backend_slot(backend);

	*pid = slot->pid;
	*chunk = slot->chunks[index];
	/* a first refill publishes its floor before its chunk (watermark.c) */
	return *pid != 0 && (chunk->end != 0 || chunk->floor != 0);
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
 * cache_exit
 *		Give every unused chunk tail back to its pool at backend exit.
 */
static void
cache_exit(int code, Datum arg)
{
	int			i;

	pool_release_claim();
	/* an open transaction can only abort now: reclaim before handing back */
	reclaim_at_exit();
	for (i = 0; i < idgen_max_tags; i++)
	{
		BackendChunk *c = &my_slot->chunks[i];
		IdRange		tail;
		ChunkTally	tally = cache_chunk_tally(c);

		if (c->end == 0)
			continue;
		tail.lo = c->next;
		tail.hi = c->end;
		pool_give_back(i, c->generation, tail, GIVE_BACK_EXIT, c->locality,
					   &tally);
		memset(c, 0, sizeof(BackendChunk));
	}
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

	idgen_check_preloaded();
	if (index < 0 || index >= MaxBackends)
		elog(ERROR, "idgen: backend number %d out of range", index);

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LocalTag);
	local_tags = hash_create("idgen local tags", 16, &ctl,
							 HASH_ELEM | HASH_STRINGS);
	CacheRegisterRelcacheCallback(cache_inval_callback, (Datum) 0);

	/* a previous owner of the slot always cleared it; be sure anyway */
	my_slot = backend_slot(index);
	memset(my_slot->chunks, 0, sizeof(BackendChunk) * idgen_max_tags);
	my_slot->pid = MyProcPid;
	before_shmem_exit(cache_exit, (Datum) 0);
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
 *		right to use it, and for a segment tag open reclaim's record of the
 *		IDs the transaction draws from here.
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
		int64		front = pool_front_next(lt->slot);

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
	uint32		generation;

	lt->valid = false;
	created = tag_lookup(&lt->name, &lt->info);
	if (lt->info.kind != kind)
		tag_wrong_kind(&lt->info, function);
	tag_check_usage(&lt->info);
	/* the next cache_get handles the first use of what is now attached */
	lt->xact_stamp = 0;

	index = slot_attach(lt->info.seqoid, &lt->name, created, &generation);
	c = &my_slot->chunks[index];
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

	lt->slot = index;
	lt->generation = generation;
	lt->chunk = c;
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
 *		time, then four, then byte by byte (never reading past len).
 */
static inline bool
name_equal(const char *a, const char *b, int len)
{
	int			i = 0;

	for (; i + (int) sizeof(uint64) <= len; i += sizeof(uint64))
	{
		uint64		x;
		uint64		y;

		memcpy(&x, a + i, sizeof(uint64));
		memcpy(&y, b + i, sizeof(uint64));
		if (x != y)
			return false;
	}
	if (i + (int) sizeof(uint32) <= len)
	{
		uint32		x;
		uint32		y;

		memcpy(&x, a + i, sizeof(uint32));
		memcpy(&y, b + i, sizeof(uint32));
		if (x != y)
			return false;
		i += sizeof(uint32);
	}
	for (; i < len; i++)
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
	int			len;
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	LocalTag   *lt;

	/* PG_GETARG_TEXT_PP without its call for the usual, plain argument */
	if (unlikely(VARATT_IS_EXTERNAL(tag) || VARATT_IS_COMPRESSED(tag)))
		tag = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(tag);
	if (memo == NULL)
		memo = &last_lookup[kind];
	if (likely(memo->epoch == local_epoch &&
			   memo->len == len &&
			   name_equal(memo->name, VARDATA_ANY(tag), len) &&
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
	return &my_slot->chunks[index];
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
	BackendChunk *c = &my_slot->chunks[index];
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
			(last_end == 0 || pool_front_next(lt->slot) != last_end))
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
	if (unlikely(c->next >= c->end))
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
	TypeCacheEntry *typcache;
	RangeBound	lower;
	RangeBound	upper;

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

	typcache = lookup_type_cache(INT8RANGEOID, TYPECACHE_RANGE_INFO);
	lower.val = Int64GetDatum(range.lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = Int64GetDatum(range.hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(idgen_make_range(typcache, &lower, &upper, false));
}
