/*-------------------------------------------------------------------------
 *
 * tag.h
 *	  The catalog tier: tag names, their configuration in idgen.tags, and
 *	  durable claims from each tag's high-water-mark sequence.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_TAG_H
#define IDGEN_TAG_H

#include "postgres.h"

#include "catalog/objectaccess.h"
#include "nodes/pg_list.h"

#include "base.h"
#include "compat.h"

typedef enum TagKind
{
	TAG_SEGMENT,
	TAG_HYBRID
} TagKind;

/* a tag's configuration, as read from idgen.tags */
typedef struct TagInfo
{
	NameData	name;
	Oid			seqoid;
	TagKind		kind;
	int64		start;			/* first ID (slab) */
	int64		maxvalue;		/* last ID (slab) */
	int64		region;			/* IDs per claim */
	int32		chunk_min;		/* per-backend chunk bounds */
	int32		chunk_max;
	bool		reclaim;		/* give aborted IDs back */
	bool		locality;		/* draw from the pool's shared chunk */
	bool		ordered;		/* IDs tracked until commit (watermark) */
	bool		from_root;		/* source 'root': claims come from grants */
	int64		grant_size;		/* base size of the grants leased out */
} TagInfo;

/* grant_size of a tag whose idgen.tags has no such column (1.0) */
#define TAG_DEFAULT_GRANT_SIZE	INT64CONST(16777216)

/* largest ID of a segment tag, and largest slab of a hybrid tag (31 bits) */
#define TAG_MAX_ID		INT64CONST(9223372036854775806)
#define TAG_MAX_SLAB	INT64CONST(2147483647)

/* largest base grant size: adaptive grants grow up to 64 times it (root.c) */
#define TAG_MAX_GRANT_SIZE	(INT64CONST(1) << 40)

extern void tag_check_name(text *tag, NameData *name);
extern bool tag_read(const NameData *name, TagInfo *info);
extern SubTransactionId tag_lookup(const NameData *name, TagInfo *info);

extern void tag_check_usage(const TagInfo *info);
extern void tag_check_owner(const TagInfo *info);
extern List *tag_owned_segment_tags(void);
extern bool tag_may_monitor(Oid seqoid);
extern bool tag_claim(const TagInfo *info, int index, int64 n, bool exact,
					  IdRange *claimed, int64 *left);
IDGEN_NORETURN_BEGIN extern void tag_wrong_kind(const TagInfo *info,
												const char *function) IDGEN_NORETURN_END;
extern void tag_object_access(ObjectAccessType access, Oid classId,
							  Oid objectId, int subId, void *arg);

#endif							/* IDGEN_TAG_H */
