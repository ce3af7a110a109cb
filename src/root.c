/*-------------------------------------------------------------------------
 *
 * root.c
 *	  The root side of many servers: idgen.lease_grant(), which hands a
 *	  node a grant of a tag's IDs, and the ledger idgen.grants.
 *
 * A grant is a large claim from the tag's high-water mark through
 * tag_claim, the path every pool refill takes: durable_advance has flushed
 * the WAL of the new mark and waited for the synchronous standbys before
 * the grant is recorded and returned, so no crash or promotion of the
 * root can hand out any of its IDs again.  Grants therefore never overlap,
 * with each other or with what the root issues itself, and each lies above
 * every earlier one.  A node that holds a tag of source 'root' can itself
 * serve grants (root -> regional -> node): its tag_claim takes them from
 * its own grants (lease.c), with the same guarantees, to any depth.
 *
 * The ledger idgen.grants gets one row per grant in the caller's
 * transaction, committed with synchronous_commit on (set for the
 * transaction), and lease_grant refuses to run inside a transaction block:
 * a caller sees a grant only once it is in the committed ledger.  A grant
 * whose statement fails afterwards is lost, never reissued, since the mark
 * has moved.
 *
 * Privileges follow sequences: leasing needs USAGE (or UPDATE) on the
 * tag's sequence, exactly what next_id needs, since a grant is nothing but
 * a large next_id_range (and next_id_range already lets such a role draw
 * 2^31 IDs in one call).  The ledger is written as its owner (the role
 * that created the extension), as durable.c sets a mark as the sequence's
 * owner: callers may not write the ledger, nor read it unless granted
 * SELECT.  This is done here rather than by a SECURITY DEFINER function so
 * that nothing but the row of the grant just made is written with rights
 * the caller lacks.
 *
 * Size: a tag's grant_size is the base.  Like a backend's chunk, grants
 * adapt to how fast a node drains them: the node tells the rate it
 * measures (the runway worker does), and the grant is the base doubled
 * until it lasts GRANT_TARGET_SECS at that rate, up to GRANT_MAX_GROWTH
 * times the base.  A node gains nothing by overstating its rate that it
 * could not have by leasing more often: both are bounded by its privilege,
 * as next_id_range is.
 *
 * Shared memory is touched only through slot.c (slot_attach).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "durable.h"
#include "idgen.h"
#include "runway.h"
#include "slot.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_lease_grant);

#define GRANT_TARGET_SECS	600		/* a grant should last at least this */
#define GRANT_MAX_GROWTH	64		/* largest grant, in base sizes */

/*
 * grants_relid
 *		OID of idgen.grants.
 */
static Oid
grants_relid(void)
{
	Oid			relid;

	relid = get_relname_relid("grants", get_namespace_oid("idgen", false));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table idgen.grants does not exist"),
				 errhint("Update the extension with ALTER EXTENSION idgen UPDATE.")));
	return relid;
}

/*
 * grant_size
 *		The size of the next grant of a tag to a node that drains rate IDs
 *		per second; see the header comment.
 */
static int64
grant_size(const TagInfo *info, double rate)
{
	int64		base = info->grant_size;
	int64		size = base;

	while ((double) size < rate * GRANT_TARGET_SECS &&
		   size / base < GRANT_MAX_GROWTH && size <= PG_INT64_MAX / 2)
		size *= 2;
	return size;
}

/*
 * ledger_insert
 *		Record a grant in idgen.grants, as the ledger's owner.
 */
static void
ledger_insert(const NameData *tag, text *node, IdRange grant)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum		args[4];
	Oid			save_userid;
	int			save_sec_context;
	char	   *session_role = GetUserNameFromId(GetSessionUserId(), false);

	args[0] = CStringGetTextDatum(NameStr(*tag));
	args[1] = PointerGetDatum(node);
	args[2] = Int64GetDatum(grant.lo);
	args[3] = Int64GetDatum(grant.hi);
	durable_as_owner(grants_relid(), &save_userid, &save_sec_context);
	SPI_connect();
	if (SPI_execute_with_args(psprintf("INSERT INTO idgen.grants (tag, node, range, granted_to)"
									   " VALUES ($1, $2, pg_catalog.int8range($3, $4), %s)",
									   quote_literal_cstr(session_role)),
							  4, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "idgen: could not record a grant in idgen.grants");
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * idgen_lease_grant
 *		lease_grant(tag, node, ids_per_second): the next grant of a tag for
 *		the named node, sized for its rate, durable and in the ledger; see
 *		the header comment.
 */
Datum
idgen_lease_grant(PG_FUNCTION_ARGS)
{
	text	   *node = PG_GETARG_TEXT_PP(1);
	double		rate = PG_GETARG_FLOAT8(2);
	int64		size;
	int			len = VARSIZE_ANY_EXHDR(node);
	NameData	name;
	TagInfo		info;
	SubTransactionId created;
	int			index;
	uint32		generation;
	IdRange		grant;
	int64		left;
	TypeCacheEntry *typcache;
	RangeBound	lower;
	RangeBound	upper;

	idgen_check_preloaded();
	PreventCommandIfReadOnly("idgen.lease_grant()");
	PreventInTransactionBlock(true, "idgen.lease_grant()");
	tag_check_name(PG_GETARG_TEXT_PP(0), &name);
	if (len == 0 || len >= NAMEDATALEN ||
		memchr(VARDATA_ANY(node), '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node name \"%s\"", text_to_cstring(node)),
				 errhint("Node names are 1 to %d bytes long.",
						 NAMEDATALEN - 1)));

	if (isnan(rate) || rate < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid rate %g IDs per second", rate),
				 errhint("The rate is zero or more; zero when unknown.")));

	created = tag_lookup(&name, &info);
	if (info.kind != TAG_SEGMENT)
		tag_wrong_kind(&info, "idgen.lease_grant");
	tag_check_usage(&info);

	size = grant_size(&info, rate);
	index = slot_attach(info.seqoid, &name, created, &generation);
	if (!tag_claim(&info, index, size, false, &grant, &left))
	{
		/* a regional node's tag: its own grants are used up */
		if (info.from_root)
			runway_exhausted(&info, size);
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("tag \"%s\" has run out of IDs", NameStr(name)),
				 errdetail("Its maxvalue " INT64_FORMAT " has been reached.",
						   info.maxvalue),
				 errhint("Raise the tag's maxvalue with idgen.alter_tag().")));
	}
	ledger_insert(&name, node, grant);

	/* the ledger row is durable (and replicated) before the node sees it */
	(void) set_config_option("synchronous_commit", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);

	typcache = lookup_type_cache(INT8RANGEOID, TYPECACHE_RANGE_INFO);
	lower.val = Int64GetDatum(grant.lo);
	lower.infinite = false;
	lower.inclusive = true;
	lower.lower = true;
	upper.val = Int64GetDatum(grant.hi);
	upper.infinite = false;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(idgen_make_range(typcache, &lower, &upper, false));
}
