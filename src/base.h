/*-------------------------------------------------------------------------
 *
 * base.h
 *	  The base tier: what every idgen subsystem may use, and which uses no
 *	  other idgen file (compat.h aside).
 *
 * ID ranges and their arithmetic, the shared settings, the checks every
 * SQL-callable function makes first (preloaded, not in parallel mode), and
 * the small helpers several subsystems need: SQL through SPI as a table's
 * owner, the extension's schemas and tables by name, int8range datums and
 * growable arrays.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_BASE_H
#define IDGEN_BASE_H

#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"

#include "compat.h"

IDGEN_INTERNAL_BEGIN

/* schema holding one sequence per tag, named exactly like the tag */
#define IDGEN_SEQ_SCHEMA	"idgen_seq"

/* idgen.max_tags: segment and hybrid tags in use at once, all databases */
extern int	idgen_max_tags;

/* idgen.tags_per_backend: chunk entries of each backend (chunk.c) */
extern int	idgen_tags_per_backend;

/*
 * The backend's transaction stamp: moves at every top-level transaction
 * end (idgen.c), so that the next use of a tag is a first use (lookup.c),
 * and stamps what a transaction touched (reclaim.c, chunk eviction).
 */
extern uint64 idgen_xact_stamp;

/* true once the postmaster has loaded us via shared_preload_libraries */
extern bool idgen_preloaded;

extern void idgen_define_base_settings(void);
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

extern Datum idgen_range_datum(IdRange r);

/*
 * The identity saved while SQL runs as a table's owner
 * (idgen_spi_connect_as_owner).
 */
typedef struct OwnerContext
{
	Oid			save_userid;
	int			save_sec_context;
} OwnerContext;

extern void idgen_spi_connect_as_owner(Oid relid, OwnerContext *saved);
extern void idgen_spi_finish_as_owner(const OwnerContext *saved);
extern void idgen_spi_read_latest(const char *sql, int nargs, Oid *argtypes,
								  Datum *args, long tcount,
								  const char *table);

extern Oid	idgen_schema_oid(void);
extern Oid	idgen_seq_schema_oid(void);
extern Oid	idgen_extension_schema(void);
extern Oid	idgen_table_oid(const char *name);

extern void idgen_array_grow(void **array, int *max, Size elsize, int min);

IDGEN_INTERNAL_END

#endif							/* IDGEN_BASE_H */
