/*-------------------------------------------------------------------------
 *
 * lookup.h
 *	  The tag lookup every generator uses: from a tag name to what this
 *	  backend knows of the tag (LocalTag), checked for the kind and the
 *	  role, memoised per call site; the fast path is inline here.
 *
 * The LocalTags are this backend's alone (see lookup.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_LOOKUP_H
#define IDGEN_LOOKUP_H

#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/sinval.h"

#include "base.h"
#include "chunk.h"
#include "pool.h"
#include "slot.h"
#include "tag.h"

IDGEN_INTERNAL_BEGIN

/* what this backend knows of one tag */
typedef struct LocalTag
{
	NameData	name;			/* hash key */
	bool		valid;			/* false once invalidated; rebuilt on use */
	Oid			checked_user;	/* role whose privileges were checked */
	uint64		checked_inval;	/* SharedInvalidMessageCounter then */
	uint64		xact_stamp;		/* idgen_xact_stamp of the transaction whose
								 * first use was handled (lookup_check_use) */
	TagInfo		info;
	int			slot;			/* index of the tag's slot */
	uint32		generation;		/* of that slot when attached */
	int			entry;			/* index of our entry of the slot */
	BackendChunk *chunk;		/* ours, in shared memory */
	PoolFront  *front;			/* the slot's shared chunk (pool.h) */
	TimestampTz refilled_at;	/* when the chunk was last refilled */
	uint64		reclaim_stamp;	/* idgen_xact_stamp of the transaction that
								 * listed it (reclaim.c) */
	int64		resume_after;	/* last ID (hybrid: slab) used from the entry
								 * of "slot" before it was evicted */
	uint32		resume_generation;	/* slot generation of that, or 0 */
} LocalTag;

/* per call site memo of the last tag name and its LocalTag */
typedef struct CallMemo
{
	uint64		epoch;
	int			len;
	char		name[NAMEDATALEN];
	LocalTag   *lt;
} CallMemo;

/* the last lookup of each kind of tag, for call sites without a memo */
extern CallMemo lookup_last[TAG_HYBRID + 1];

/* moves whenever a LocalTag is invalidated or attached: memos expire */
extern uint64 lookup_epoch;

extern LocalTag *lookup_slow(FunctionCallInfo fcinfo, text *tag,
							 TagKind kind, const char *function);

/*
 * What a generator does at the first use of a tag in a transaction (or by
 * another role, or since the tag was attached again): lookup_check_use,
 * and whatever its own tier needs once per transaction.
 */
typedef void (*LookupFirstUse) (LocalTag *lt, const char *function);

extern void lookup_first_use(LocalTag *lt, const char *function);
extern void lookup_reattach(LocalTag *lt, TagKind kind,
							const char *function);
extern LocalTag *lookup_call(FunctionCallInfo fcinfo, TagKind kind,
							 const char *function);

/*
 * lookup_check_use
 *		The checks of a tag's first use: refuse parallel mode, and check the
 *		role's right to use the tag again if an invalidation message arrived
 *		since the last check or the role is another.  A privilege, a role
 *		membership or a role's attributes change only with a catalog change,
 *		which reaches this backend as an invalidation message by the start
 *		of its next transaction: while none has arrived since the last check
 *		for the same role, its answer stands.  Marks the first use handled.
 *		Inline in each generator's first use (see LookupFirstUse).
 */
static inline void
lookup_check_use(LocalTag *lt, const char *function)
{
	idgen_check_not_parallel(function);
	if (lt->checked_user != GetUserId() ||
		lt->checked_inval != SharedInvalidMessageCounter)
	{
		tag_check_usage(&lt->info);
		lt->checked_user = GetUserId();
		lt->checked_inval = SharedInvalidMessageCounter;
	}
	lt->xact_stamp = idgen_xact_stamp;
}

/*
 * lookup_name_equal
 *		memcmp(a, b, len) == 0, inline: a tag name is short, and calling the
 *		C library's memcmp costs more than comparing it eight bytes at a
 *		time, the last eight overlapping the ones before (four and four for
 *		a name of four to seven bytes), never reading past len.
 */
static inline bool
lookup_name_equal(const char *a, const char *b, int len)
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
 * lookup_tag
 *		The LocalTag for the tag named by argument 0, checked to be of the
 *		given kind and usable by the current role in this transaction.  The
 *		fast path checks the call site's memo (or, if it has none yet, the
 *		last lookup of the kind: see lookup.c) and the generation of the
 *		tag's slot.  The memo of a kind only ever holds a tag of that kind;
 *		it matches nothing before it is filled (epoch 0, while lookup_epoch
 *		starts at 1).  first_use is the generator's (LookupFirstUse), a
 *		constant.  Inline in next_id(); the lookup and the first use in a
 *		transaction are calls, so that the fast path saves no registers and
 *		has no stack canary.
 */
static pg_attribute_always_inline LocalTag *
lookup_tag(FunctionCallInfo fcinfo, TagKind kind, const char *function,
		   LookupFirstUse first_use)
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
		memo = &lookup_last[kind];
	if (likely(memo->epoch == lookup_epoch &&
			   memo->len == len &&
			   lookup_name_equal(memo->name, data, len) &&
			   slot_generation(memo->lt->slot) == memo->lt->generation))
		lt = memo->lt;
	else
		lt = lookup_slow(fcinfo, tag, kind, function);

	if (unlikely(lt->xact_stamp != idgen_xact_stamp ||
				 lt->checked_user != GetUserId()))
		first_use(lt, function);
	return lt;
}

IDGEN_INTERNAL_END

#endif							/* IDGEN_LOOKUP_H */
