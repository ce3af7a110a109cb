/*-------------------------------------------------------------------------
 *
 * idgen.h
 *	  Settings, types and entry points shared by the idgen subsystems.
 *
 * Each subsystem (slot directory, segment pool, backend chunks, snowflake,
 * hybrid) owns its own shared memory and settings; idgen.c only wires them
 * to PostgreSQL's hooks.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_H
#define IDGEN_H

#include "postgres.h"

#include "access/xact.h"

#include "compat.h"

/* idgen.max_tags: segment and hybrid tags in use at once, all databases */
extern int	idgen_max_tags;

/* idgen.tags_per_backend: chunk entries of each backend (cache.c) */
extern int	idgen_tags_per_backend;

/* true once the postmaster has loaded us via shared_preload_libraries */
extern bool idgen_preloaded;

extern void idgen_check_preloaded(void);
IDGEN_NORETURN_BEGIN extern void idgen_parallel_error(const char *function)
			IDGEN_NORETURN_END;

/*
 * idgen_check_not_parallel
 *		Refuse a call in parallel mode (a parallel worker, or the leader
 *		while a parallel plan runs), as nextval() does: a flag test, cheap
 *		enough for the first use of a tag in each transaction.  function is
 *		the SQL function's name.
 */
static inline void
idgen_check_not_parallel(const char *function)
{
	if (unlikely(IsInParallelMode()))
		idgen_parallel_error(function);
}

/*
 * A range of IDs (or slab numbers), half-open: [lo, hi).  Every range idgen
 * handles lies within [1, PG_INT64_MAX], so RANGE_SIZE cannot overflow; a
 * range is cut with range_cut, never by adding to lo.
 */
typedef struct IdRange
{
	int64		lo;
	int64		hi;
} IdRange;

#define RANGE_SIZE(r)	((r).hi - (r).lo)

/*
 * range_cut
 *		Remove up to n IDs (n > 0) from the front of *from and return them.
 */
static inline IdRange
range_cut(IdRange *from, int64 n)
{
	IdRange		cut;

	cut.lo = from->lo;
	cut.hi = RANGE_SIZE(*from) <= n ? from->hi : from->lo + n;
	from->lo = cut.hi;
	return cut;
}

#endif							/* IDGEN_H */
