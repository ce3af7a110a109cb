/*-------------------------------------------------------------------------
 *
 * lease.c
 *	  The node side of many servers: the grants a node holds, and claims
 *	  of tags of source 'root' from them.
 *
 * A node's tag keeps its own sequence as its high-water mark, exactly as a
 * local tag does (tag.c, durable.c): every ID up to the mark may have been
 * issued on this server, none above it.  What differs is where a claim
 * finds the IDs above the mark.  A local tag takes them from [start,
 * maxvalue]; a node's tag takes them from the grants it holds, the rows of
 * idgen.leases, which the runway worker (runway.c) inserts and commits,
 * with its WAL flushed, before any claim can see them.  A claim takes the
 * lowest grant that still has IDs above the mark (and below the tag's own
 * maxvalue) and moves the mark durably to the end of what it takes, so the
 * rest of the claim path (tag_claim, slot_note_claim, the pools) is the
 * same for both sources.  Grants arrive in increasing order, since the
 * root's mark only moves forward; a claim never straddles two grants (an
 * exact claim, for a large next_id_range, skips a grant too short for it:
 * those IDs are lost, never issued twice).
 *
 * A node can use no ID outside its grants, and grants of different nodes
 * are disjoint (root.c): nothing issued on one node can be issued on
 * another.  A lost row of idgen.leases loses IDs, never duplicates them:
 * every claim stays above the mark.
 *
 * idgen.leases is readable by its owner only; backends read it as that
 * owner (durable_as_owner), after checking the user's right to the tag.
 *
 * No shared memory is touched here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "durable.h"
#include "lease.h"

/*
 * leases_relid
 *		OID of idgen.leases.
 */
static Oid
leases_relid(void)
{
	Oid			relid;

	relid = get_relname_relid("leases", get_namespace_oid("idgen", false));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table idgen.leases does not exist"),
				 errhint("Update the extension with ALTER EXTENSION idgen UPDATE.")));
	return relid;
}

/*
 * lease_scan
 *		Walk the grants of a tag that hold IDs above mark, lowest first, as
 *		last committed.  Counts them into *grants and their usable IDs into
 *		*left; when claimed is not NULL, cuts the first claim of n IDs (any
 *		number up to n unless exact) into it and returns true.
 */
static bool
lease_scan(const TagInfo *info, int64 mark, int64 n, bool exact,
		   IdRange *claimed, int *grants, int64 *left)
{
	Oid			argtypes[2] = {TEXTOID, INT8OID};
	Datum		args[2];
	Oid			save_userid;
	int			save_sec_context;
	SPIPlanPtr	plan;
	bool		found = false;
	uint64		i;

	*grants = 0;
	*left = 0;
	if (mark >= info->maxvalue)
		return false;
	args[0] = CStringGetTextDatum(NameStr(info->name));
	args[1] = Int64GetDatum(mark + 1);

	durable_as_owner(leases_relid(), &save_userid, &save_sec_context);
	SPI_connect();
	plan = SPI_prepare("SELECT pg_catalog.lower(range), pg_catalog.upper(range)"
					   " FROM idgen.leases"
					   " WHERE tag OPERATOR(pg_catalog.=) $1"
					   " AND pg_catalog.upper(range) OPERATOR(pg_catalog.>) $2"
					   " ORDER BY 1",
					   2, argtypes);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
							 InvalidSnapshot, true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.leases");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		lo;
		int64		hi;

		lo = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
										 SPI_tuptable->tupdesc, 1, &isnull));
		hi = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
										 SPI_tuptable->tupdesc, 2, &isnull));
		/* the part above the mark, within the tag's own bounds */
		lo = Max(lo, Max(mark + 1, info->start));
		hi = Min(hi, info->maxvalue + 1);
		if (hi <= lo)
			continue;
		(*grants)++;
		*left += hi - lo;
		if (claimed != NULL && !found && hi - lo >= (exact ? n : 1))
		{
			claimed->lo = lo;
			claimed->hi = hi - lo <= n ? hi : lo + n;
			found = true;
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return found;
}

/*
 * lease_claim
 *		Cut a claim of n IDs (any number up to n unless exact) above mark
 *		from the grants of a tag of source 'root'; false if no grant has
 *		them.  *left is set to the IDs left in all its grants.  The caller
 *		holds the tag's claim lock, and moves the mark.
 */
bool
lease_claim(const TagInfo *info, int64 mark, int64 n, bool exact,
			IdRange *claimed, int64 *left)
{
	int			grants;

	return lease_scan(info, mark, n, exact, claimed, &grants, left);
}

/*
 * lease_runway
 *		How many grants of a tag hold IDs above mark, and how many IDs.
 */
void
lease_runway(const TagInfo *info, int64 mark, int *grants, int64 *left)
{
	(void) lease_scan(info, mark, 0, false, NULL, grants, left);
}

/*
 * lease_record
 *		Insert a grant leased from the root into idgen.leases, as the
 *		table's owner.  Called by the runway worker, whose commit makes the
 *		grant durable (it runs with synchronous_commit on) before any
 *		claim can see it.
 */
void
lease_record(const NameData *tag, IdRange grant)
{
	Oid			argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		args[3];
	Oid			save_userid;
	int			save_sec_context;

	args[0] = CStringGetTextDatum(NameStr(*tag));
	args[1] = Int64GetDatum(grant.lo);
	args[2] = Int64GetDatum(grant.hi);
	durable_as_owner(leases_relid(), &save_userid, &save_sec_context);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO idgen.leases (tag, range)"
							  " VALUES ($1, pg_catalog.int8range($2, $3))",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "idgen: could not record a grant in idgen.leases");
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * lease_forget
 *		Delete the grants this server holds of a tag being dropped, as the
 *		table's owner; nothing when idgen.leases does not exist (1.0).
 *		Their IDs are lost, never reissued anywhere.
 */
void
lease_forget(const NameData *tag)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Oid			save_userid;
	int			save_sec_context;
	Oid			nsp = get_namespace_oid("idgen", true);

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("leases", nsp)))
		return;
	args[0] = CStringGetTextDatum(NameStr(*tag));
	durable_as_owner(leases_relid(), &save_userid, &save_sec_context);
	SPI_connect();
	if (SPI_execute_with_args("DELETE FROM idgen.leases"
							  " WHERE tag OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "idgen: could not delete from idgen.leases");
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}
