/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The backend tier: next_id() and next_id_range(), served from this
 *	  backend's chunks in shared memory.
 *
 * Each backend owns one BackendChunk [next, end) per tag slot, inside its
 * own BackendSlot.  next_id() finds the tag's LocalTag (memoised per call
 * site in fn_extra, so a constant tag name costs one memcmp), then bumps
 * chunk->next: no lock, no atomic read-modify-write, no syscall, no
 * catalog access.  An empty chunk is refilled from the tag's pool; the
 * chunk size doubles (up to the tag's chunk_max) when the previous chunk
 * lasted under a second, and halves (down to chunk_min) when it lasted
 * over ten seconds.
 *
 * Catalog changes reach a backend through relcache invalidation of the
 * tag's sequence (drop_tag drops it; alter_tag and GRANT/REVOKE invalidate
 * it): the callback only marks LocalTags invalid and bumps local_epoch, so
 * no pointer held by a caller dangles; the next use re-reads the catalog.
 * Invalidations arrive at the latest at the start of the next transaction.
 * drop_tag does not wait for that: it frees the tag's pool slot at once,
 * and every next_id() compares the slot's generation (a shared read of a
 * line that is written only when a slot is freed) with the one it attached
 * to, so no backend hands out a dropped tag's cached IDs after drop_tag
 * ran.
 *
 * At backend exit (before_shmem_exit, while shared memory is still
 * attached) every unused tail goes back to its pool.
 *
 * The IDs each transaction draws are recorded by xact.c (reclaim), which
 * may rewind a chunk when a transaction aborts.
 *
 * Locking: see shmem.c.  This file writes only its own BackendSlot, without
 * a lock; pools are touched only through pool.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "cache.h"
#include "idgen.h"
#include "pool.h"
#include "xact.h"

PG_FUNCTION_INFO_V1(idgen_next_id);
PG_FUNCTION_INFO_V1(idgen_next_id_range);

/* per call site memo of the last tag name and its LocalTag */
typedef struct CallMemo
{
	uint64		epoch;
	int			len;
	char		name[NAMEDATALEN];
	LocalTag   *lt;
} CallMemo;

static HTAB *local_tags = NULL;
static uint64 local_epoch = 1;
static BackendSlot *my_slot = NULL;

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
	for (i = 0; i < idgen_shared->max_tags; i++)
	{
		BackendChunk *c = &my_slot->chunks[i];
		IdRange		tail;

		if (c->end == 0)
			continue;
		tail.lo = c->next;
		tail.hi = c->end;
		pool_give_back(i, c->generation, tail, GIVE_BACK_EXIT,
					   c->next - c->start + c->rewound, c->rewound);
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

	idgen_check_preloaded();

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LocalTag);
	local_tags = hash_create("idgen local tags", 16, &ctl,
							 HASH_ELEM | HASH_STRINGS);
	CacheRegisterRelcacheCallback(cache_inval_callback, (Datum) 0);
	reclaim_register();

	/* a previous owner of the slot always cleared it; be sure anyway */
	my_slot = shmem_my_slot();
	memset(my_slot->chunks, 0, sizeof(BackendChunk) * idgen_shared->max_tags);
	my_slot->pid = MyProcPid;
	before_shmem_exit(cache_exit, (Datum) 0);
}

/*
 * cache_attach
 *		(Re)build a LocalTag from the catalog and attach it to its pool and
 *		to our chunk for that pool.
 */
static void
cache_attach(LocalTag *lt, const NameData *name)
{
	HASH_SEQ_STATUS status;
	LocalTag   *other;
	BackendChunk *c;
	int			index;
	uint32		generation;

	tag_lookup(name, &lt->info);
	tag_check_usage(&lt->info);
	lt->checked_user = GetUserId();

	index = pool_attach(&lt->info, &generation);
	c = &my_slot->chunks[index];
	if (c->generation != generation || c->end == 0)
	{
		/* the chunk belonged to a freed slot: its IDs are never used */
		memset(c, 0, sizeof(BackendChunk));
		lt->open_record = -1;
		lt->xact_stamp = 0;
		c->generation = generation;
		lt->refilled_at = 0;

		hash_seq_init(&status, local_tags);
		while ((other = hash_seq_search(&status)) != NULL)
			if (other != lt && other->pool == index)
				other->valid = false;
	}
	c->size = Min(Max(c->size, lt->info.chunk_min), lt->info.chunk_max);

	lt->pool = index;
	lt->generation = generation;
	lt->chunk = c;
	lt->valid = true;
	local_epoch++;
}

/*
 * cache_lookup
 *		Slow path of cache_get: find the LocalTag by name, (re)attaching it
 *		if needed, and remember it in the call site's memo.
 */
static LocalTag *
cache_lookup(FunctionCallInfo fcinfo, text *tag, TagKind kind,
			 const char *function)
{
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	NameData	name;
	LocalTag   *lt;
	bool		found;

	if (local_tags == NULL)
		cache_init();
	tag_check_name(tag, &name);
	lt = hash_search(local_tags, NameStr(name), HASH_ENTER, &found);
	if (!found)
	{
		lt->valid = false;
		lt->open_record = -1;
		lt->xact_stamp = 0;
	}
	else if (lt->valid &&
			 idgen_shared->generations[lt->pool] != lt->generation)
		lt->valid = false;
	if (!lt->valid)
		cache_attach(lt, &name);
	if (lt->info.kind != kind)
		tag_wrong_kind(&lt->info, function);

	if (memo == NULL)
		memo = fcinfo->flinfo->fn_extra =
			MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(CallMemo));
	memo->epoch = local_epoch;
	memo->len = VARSIZE_ANY_EXHDR(tag);
	memcpy(memo->name, NameStr(name), memo->len);
	memo->lt = lt;
	return lt;
}

/*
 * cache_get
 *		The LocalTag for the tag named by argument 0, checked to be of the
 *		given kind and usable by the current role.  The fast path checks
 *		the call site's memo and the generation of the tag's pool slot,
 *		which drop_tag bumps at once in every backend's view.
 */
LocalTag *
cache_get(FunctionCallInfo fcinfo, TagKind kind, const char *function)
{
	text	   *tag = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(tag);
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	LocalTag   *lt;

	if (likely(memo != NULL && memo->epoch == local_epoch &&
			   memo->len == len &&
			   memcmp(memo->name, VARDATA_ANY(tag), len) == 0 &&
			   idgen_shared->generations[memo->lt->pool] ==
			   memo->lt->generation))
		lt = memo->lt;
	else
		lt = cache_lookup(fcinfo, tag, kind, function);

	if (unlikely(lt->checked_user != GetUserId()))
	{
		tag_check_usage(&lt->info);
		lt->checked_user = GetUserId();
	}
	return lt;
}

/*
 * cache_chunk
 *		This backend's chunk for pool slot index.
 */
BackendChunk *
cache_chunk(int index)
{
	return &my_slot->chunks[index];
}

/*
 * cache_refill
 *		Replace an exhausted chunk with a new one from the pool, adapting
 *		its size to how fast the last one was used.
 */
void
cache_refill(LocalTag *lt)
{
	BackendChunk *c = lt->chunk;
	TimestampTz now = GetCurrentTimestamp();
	int64		size = c->size;
	int64		consumed = c->next - c->start;
	IdRange		chunk;

	if (lt->refilled_at != 0)
	{
		if (now - lt->refilled_at < USECS_PER_SEC)
			size *= 2;
		else if (now - lt->refilled_at > 10 * USECS_PER_SEC)
			size /= 2;
	}
	size = Min(Max(size, lt->info.chunk_min), lt->info.chunk_max);

	reclaim_chunk_ends(lt);
	pool_take_chunk(lt->pool, lt->generation, &lt->info, size,
					c->next - 1, consumed, &chunk);

	c->start = chunk.lo;
	c->next = chunk.lo;
	c->end = chunk.hi;
	c->size = size;
	lt->refilled_at = now;
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

	lt = cache_get(fcinfo, TAG_SEGMENT, "next_id");
	c = lt->chunk;
	if (unlikely(c->next >= c->end))
		cache_refill(lt);
	if (unlikely(lt->xact_stamp != reclaim_stamp))
		reclaim_note(lt);
	id = c->next;
	c->next = id + 1;
	PG_RETURN_INT64(id);
}

/*
 * idgen_next_id_range
 *		next_id_range(tag, n): n contiguous IDs [lo, lo + n), owned by the
 *		caller for good (never reclaimed).
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
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of IDs must be positive, not %lld",
						(long long) n)));

	lt = cache_get(fcinfo, TAG_SEGMENT, "next_id_range");
	pool_take_range(lt->pool, lt->generation, &lt->info, n, &range);

	typcache = lookup_type_cache(INT8RANGEOID, TYPECACHE_RANGE_INFO);
	lower.val = Int64GetDatum(range.lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = Int64GetDatum(range.hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(make_range(typcache, &lower, &upper, false));
}
