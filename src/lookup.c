/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  The tag lookup every generator uses: a tag name to its LocalTag,
 *	  attached to the tag's slot and to this backend's entry of it
 *	  (chunk.c), checked for the kind and the role, and memoised per call
 *	  site so that a constant tag name costs one comparison.
 *
 * The fast path (lookup_tag, inline in lookup.h) finds the call site's
 * memo in fn_extra.  A call site whose fn_extra is empty (each execution
 * of a prepared statement starts with a new one) consults the backend's
 * memo of its last lookup for the same kind of tag instead, with the same
 * checks, so that a prepared INSERT does not look its tag up at every
 * execution.  Each LocalTag points at its chunk, so that next_id()'s fast
 * path is the same whatever the number of tags.
 *
 * What the fast path checks, and why:
 *	- the slot's generation (slot.c), read atomically: once a tag is
 *	  dropped or its start raised, no cached ID of it is handed out;
 *	- the transaction stamp (idgen_xact_stamp): the first use of a tag in
 *	  each transaction (lookup_check_use, in the generator's first use)
 *	  checks the role's privilege on the tag again if any invalidation
 *	  message arrived since the last check, so that a revoked privilege or
 *	  role membership takes effect at the latest at the next transaction;
 *	  the segment generator then does its own steps (next_id.c);
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
 * it): the callback only marks LocalTags invalid and bumps lookup_epoch,
 * so no pointer held by a caller dangles; the next use re-reads the
 * catalog.
 *
 * When an entry for one more tag is needed while all are bound, the least
 * recently used one goes (chunk_victim, chunk_evict); the LocalTags of its
 * slot are invalidated and remember where the backend stood
 * (resume_after), so that when the tag is used again its IDs go on
 * increasing.
 *
 * The LocalTags, the memos and entry_used[] are this backend's alone; no
 * shared memory is written here other than through chunk.c and slot.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/sinval.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "base.h"
#include "chunk.h"
#include "lookup.h"
#include "pool.h"
#include "slot.h"
#include "tag.h"

CallMemo	lookup_last[TAG_HYBRID + 1];
uint64		lookup_epoch = 1;

static HTAB *local_tags = NULL;

/* idgen_xact_stamp when each entry was last attached; scratch for eviction */
static uint64 *entry_used = NULL;
static uint64 *entry_last = NULL;

/*
 * lookup_inval_callback
 *		Relcache invalidation: forget what we know of the tag whose sequence
 *		changed (or of every tag, for a full reset).
 */
static void
lookup_inval_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	LocalTag   *lt;

	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->valid && (!OidIsValid(relid) || lt->info.seqoid == relid))
		{
			lt->valid = false;
			lookup_epoch++;
		}
	}
}

/*
 * lookup_init
 *		First use of idgen's tags in this backend: set up the local map and
 *		this backend's entries (chunk.c).
 */
static void
lookup_init(void)
{
	HASHCTL		ctl;

	chunk_attach_backend();
	entry_used = MemoryContextAllocZero(TopMemoryContext,
										sizeof(uint64) * chunk_entries());
	entry_last = MemoryContextAllocZero(TopMemoryContext,
										sizeof(uint64) * chunk_entries());

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(LocalTag);
	local_tags = hash_create("idgen local tags", 16, &ctl,
							 HASH_ELEM | HASH_STRINGS);
	CacheRegisterRelcacheCallback(lookup_inval_callback, (Datum) 0);
}

/*
 * evict_one
 *		Free the least recently used entry that the open transaction does
 *		not use (see the header comment) and return it.  Its last use is
 *		also the first uses by its LocalTags, and the transaction whose
 *		reclaim list holds one (reclaim.c), which keeps a pointer to its
 *		chunk until the transaction ends, even when the tag was looked up
 *		again meanwhile.
 */
static int
evict_one(void)
{
	HASH_SEQ_STATUS status;
	LocalTag   *lt;
	int			index;
	int64		after;
	uint32		generation;
	int			e;

	memcpy(entry_last, entry_used, sizeof(uint64) * chunk_entries());
	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->slot < 0 || (e = chunk_entry(lt->slot)) < 0)
			continue;
		entry_last[e] = Max(entry_last[e],
							Max(lt->xact_stamp, lt->reclaim_stamp));
	}
	e = chunk_victim(entry_last, idgen_xact_stamp);

	generation = chunk_at(e)->generation;
	index = chunk_evict(e, &after);
	entry_used[e] = 0;
	hash_seq_init(&status, local_tags);
	while ((lt = hash_seq_search(&status)) != NULL)
	{
		if (lt->slot != index)
			continue;
		lt->valid = false;
		lt->resume_after = after;
		lt->resume_generation = generation;
	}
	lookup_epoch++;
	return e;
}

/*
 * entry_bind
 *		Bind an entry to tag slot index under generation for lt, evicting
 *		the least recently used one if none is free; returns it.  The chunk
 *		starts empty, at the backend's last ID of the tag if lt remembers
 *		one of the same generation (a segment tag: see evict_one).
 */
static int
entry_bind(LocalTag *lt, TagKind kind, int index, uint32 generation)
{
	int			e = chunk_free_entry();
	int64		resume = 0;

	if (e < 0)
		e = evict_one();
	if (kind == TAG_SEGMENT && lt->slot == index &&
		lt->resume_generation == generation)
		resume = lt->resume_after;
	chunk_bind(e, index, generation, resume);
	return e;
}

/*
 * lookup_first_use
 *		The first use of a tag by a generator that needs no more than
 *		lookup_check_use (hybrid_id).
 */
pg_noinline void
lookup_first_use(LocalTag *lt, const char *function)
{
	lookup_check_use(lt, function);
}

/*
 * lookup_reattach
 *		(Re)build a LocalTag from the catalog and attach it to its slot and
 *		to our chunk for that slot.  Raises an error if the tag is gone, or
 *		is not of the kind the calling function needs.
 */
void
lookup_reattach(LocalTag *lt, TagKind kind, const char *function)
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
	/* the next lookup_tag handles the first use of what is now attached */
	lt->xact_stamp = 0;

	index = slot_attach(lt->info.seqoid, &lt->name, created, &generation);
	e = chunk_entry(index);
	if (e < 0)
		e = entry_bind(lt, kind, index, generation);
	entry_used[e] = idgen_xact_stamp;
	c = chunk_at(e);
	if (c->generation != generation || c->end == 0)
	{
		/* the chunk belonged to an older generation: never use its IDs */
		chunk_reset(c, generation);
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
	lt->valid = true;
	lookup_epoch++;
}

/*
 * lookup_slow
 *		Slow path of lookup_tag: find the LocalTag by name, (re)attaching it
 *		if needed, and remember it in the call site's memo and as the last
 *		lookup of its kind.  Refused in parallel mode, which cannot take the
 *		snapshots a lookup needs.
 */
pg_noinline LocalTag *
lookup_slow(FunctionCallInfo fcinfo, text *tag, TagKind kind,
			const char *function)
{
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	NameData	name;
	LocalTag   *lt;
	bool		found;

	idgen_check_not_parallel(function);
	if (local_tags == NULL)
		lookup_init();
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
		lookup_reattach(lt, kind, function);
	else if (lt->info.kind != kind)
		tag_wrong_kind(&lt->info, function);

	if (memo == NULL)
		memo = fcinfo->flinfo->fn_extra =
			MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(CallMemo));
	memo->epoch = lookup_epoch;
	memo->len = VARSIZE_ANY_EXHDR(tag);
	memcpy(memo->name, NameStr(name), memo->len);
	memo->lt = lt;
	lookup_last[kind] = *memo;
	return lt;
}

/*
 * lookup_call
 *		lookup_tag as a call, for the generators other than next_id()
 *		(hybrid_id).
 */
LocalTag *
lookup_call(FunctionCallInfo fcinfo, TagKind kind, const char *function)
{
	return lookup_tag(fcinfo, kind, function, lookup_first_use);
}
