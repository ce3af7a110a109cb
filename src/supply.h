/*-------------------------------------------------------------------------
 *
 * supply.h
 *	  What the catalog, the pools and the grants held ask of the supply
 *	  above a tag without calling up to it: the many-servers layer
 *	  registers its answers at start; the one "ran out of IDs" error every
 *	  tier raises; whether this server granted IDs of a tag to others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_SUPPLY_H
#define IDGEN_SUPPLY_H

#include "postgres.h"

#include "compat.h"

struct TagInfo;

/* the answers of the layer that supplies tags of source 'root' */
typedef struct SupplyCallbacks
{
	/* before a claim: may the tag issue from its grants? (raises if not) */
	void		(*check_tag) (const struct TagInfo *info);
	/* no grant left: wait for one attempt to lease one; false if hopeless */
	bool		(*wait_for_grant) (const NameData *tag);
	/* raise the error of a tag whose grants are used up (never returns) */
	void		(*exhausted) (const struct TagInfo *info, int64 n);
	/* the node gave up every grant: forget what the root said of them */
	void		(*renewed) (void);
} SupplyCallbacks;

extern void supply_register(const SupplyCallbacks *callbacks);
extern void supply_check_tag(const struct TagInfo *info);
extern bool supply_wait_for_grant(const NameData *tag);
extern void supply_renewed(void);
extern bool supply_granted(const NameData *tag);
IDGEN_NORETURN_BEGIN extern void supply_run_out(const struct TagInfo *info,
												int64 n, bool contiguous,
												int64 left,
												int64 pooled) IDGEN_NORETURN_END;

#endif							/* IDGEN_SUPPLY_H */
