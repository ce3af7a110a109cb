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

#include "shmem.h"

/* schema holding one sequence per tag, named exactly like the tag */
#define IDGEN_SEQ_SCHEMA	"idgen_seq"

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
	int64		region;			/* IDs per claim */
	int32		chunk_min;		/* per-backend chunk bounds */
	int32		chunk_max;
	bool		reclaim;		/* give aborted IDs back */
} TagInfo;

extern void tag_check_name(text *tag, NameData *name);
extern void tag_lookup(const NameData *name, TagInfo *info);
extern void tag_check_usage(const TagInfo *info);
extern bool tag_claim(const TagInfo *info, int64 n, bool exact,
					  bool missing_ok, IdRange *claimed);
extern void tag_wrong_kind(const TagInfo *info, const char *function);

#endif							/* IDGEN_TAG_H */
