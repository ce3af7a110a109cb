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
 * Each grant is recorded with the root's proof of it and the root's WAL
 * position when it was made.  The node reports its highest grants, with
 * their proofs, to the root at every check (runway.c), so that a root
 * that went back raises its mark above them (root.c).  The grants of a
 * dropped tag stay, abandoned: claims never use them again, but the node
 * still reports them, since rows may hold their IDs.
 *
 * idgen.leases is readable by its owner only; backends read it as that owner
 * (idgen_spi_connect_as_owner), after checking the user's right to the tag.
 *
 * The node's name.  Grants are leased, recorded and reported under
 * idgen.node_name (by default the server's system identifier), which is
 * defined here, with what it names; the runway defines it through
 * lease_define_settings.  idgen.become_new_node() gives up every grant
 * held under the old name, and at its commit tells the supplier of the
 * grants to forget what the root said of them (supply_renewed: the runway
 * registers that at start), so that nothing here calls up to the runway.
 *
 * Shared memory is touched only through slot.c (become_new_node resets
 * the slots of the tags whose grants it gives up).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"

#include "durable.h"
#include "lease.h"
#include "slot.h"
#include "supply.h"

PG_FUNCTION_INFO_V1(idgen_become_new_node);

/* idgen.node_name: the name the grants are leased under, or "" */
static char *node_name = NULL;

/*
 * lease_define_settings
 *		Define idgen.node_name, the name under which this node leases
 *		grants; from runway_define_settings.
 */
void
lease_define_settings(void)
{
	DefineCustomStringVariable("idgen.node_name",
							   "Name under which this node leases grants, as the root's ledger shows it.",
							   "Empty: the server's system identifier.",
							   &node_name,
							   "",
							   PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);
}

/*
 * lease_node_name_is_default
 *		Whether idgen.node_name is unset (the system identifier is used).
 */
bool
lease_node_name_is_default(void)
{
	return node_name == NULL || node_name[0] == '\0';
}

/*
 * lease_node_name
 *		The name this node leases under: idgen.node_name, or the system
 *		identifier.
 */
const char *
lease_node_name(void)
{
	if (!lease_node_name_is_default())
		return node_name;
	return psprintf(UINT64_FORMAT, GetSystemIdentifier());
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
	OwnerContext as_owner;
	bool		found = false;
	uint64		i;

	*grants = 0;
	*left = 0;
	if (mark >= info->maxvalue)
		return false;
	args[0] = CStringGetTextDatum(NameStr(info->name));
	args[1] = Int64GetDatum(mark + 1);

	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	idgen_spi_read_latest("SELECT pg_catalog.lower(range), pg_catalog.upper(range)"
						  " FROM idgen.leases"
						  " WHERE tag OPERATOR(pg_catalog.=) $1 AND NOT abandoned"
						  " AND kind OPERATOR(pg_catalog.=) 'grant'"
						  " AND pg_catalog.upper(range) OPERATOR(pg_catalog.>) $2"
						  " ORDER BY 1",
						  2, argtypes, args, 0, "idgen.leases");
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
	idgen_spi_finish_as_owner(&as_owner);
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
 *		Insert a grant leased from the root into idgen.leases, with the
 *		node name it was leased under, the root's proof of it and its WAL
 *		position, as the table's owner.
 *		Called by the runway worker, whose commit makes the grant durable
 *		(it runs with synchronous_commit on) before any claim can see it.
 */
void
lease_record(const NameData *tag, IdRange grant, const char *proof,
			 XLogRecPtr root_lsn)
{
	Oid			argtypes[6] = {TEXTOID, INT8OID, INT8OID, TEXTOID, LSNOID,
	TEXTOID};
	Datum		args[6];
	OwnerContext as_owner;

	args[0] = CStringGetTextDatum(NameStr(*tag));
	args[1] = Int64GetDatum(grant.lo);
	args[2] = Int64GetDatum(grant.hi);
	args[3] = CStringGetTextDatum(proof);
	args[4] = LSNGetDatum(root_lsn);
	args[5] = CStringGetTextDatum(lease_node_name());
	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	if (SPI_execute_with_args("INSERT INTO idgen.leases (tag, range, proof, root_lsn, node)"
							  " VALUES ($1, pg_catalog.int8range($2, $3), $4, $5, $6)",
							  6, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "idgen: could not record a grant in idgen.leases");
	idgen_spi_finish_as_owner(&as_owner);
}

/*
 * lease_holdings
 *		What this node holds of a tag, as last committed: up to max of its
 *		highest grants that carry a proof (abandoned ones too), highest
 *		first, into held and proofs (allocated here); *top is the highest
 *		ID of every grant held, with or without a proof (0 if none), and
 *		*root_lsn the highest WAL position of the root any grant came with
 *		(of all tags).  *local is the range of IDs the tag issued from its
 *		own sequence before it took them from the root, while no grant lies
 *		above it (empty otherwise).  Returns how many grants went into held.
 */
int
lease_holdings(const NameData *tag, int max, IdRange **held, char ***proofs,
			   int64 *top, IdRange *local, XLogRecPtr *root_lsn)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	OwnerContext as_owner;
	MemoryContext cxt = CurrentMemoryContext;
	int			n = 0;
	uint64		i;
	bool		isnull;
	Datum		d;

	args[0] = CStringGetTextDatum(NameStr(*tag));
	args[1] = Int32GetDatum(max);
	*held = palloc(sizeof(IdRange) * Max(max, 1));
	*proofs = palloc(sizeof(char *) * Max(max, 1));
	*top = 0;
	local->lo = local->hi = 0;
	*root_lsn = InvalidXLogRecPtr;

	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	idgen_spi_read_latest("SELECT pg_catalog.lower(range), pg_catalog.upper(range), proof"
						  " FROM idgen.leases WHERE tag OPERATOR(pg_catalog.=) $1"
						  " AND kind OPERATOR(pg_catalog.=) 'grant' AND proof IS NOT NULL"
						  " ORDER BY 1 DESC LIMIT $2",
						  2, argtypes, args, 0, "idgen.leases");
	for (i = 0; i < SPI_processed; i++, n++)
	{
		MemoryContext old;

		(*held)[n].lo = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc,
													1, &isnull));
		(*held)[n].hi = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc,
													2, &isnull));
		old = MemoryContextSwitchTo(cxt);
		(*proofs)[n] = pstrdup(SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 3));
		MemoryContextSwitchTo(old);
	}
	idgen_spi_read_latest("SELECT (SELECT pg_catalog.max(pg_catalog.upper(range)) - 1"
						  "   FROM idgen.leases WHERE tag OPERATOR(pg_catalog.=) $1),"
						  " (SELECT pg_catalog.max(root_lsn) FROM idgen.leases),"
						  " pg_catalog.lower(l.range), pg_catalog.upper(l.range)"
						  " FROM (SELECT) one LEFT JOIN idgen.leases l"
						  " ON l.tag OPERATOR(pg_catalog.=) $1"
						  " AND l.kind OPERATOR(pg_catalog.=) 'local'"
						  " AND NOT EXISTS (SELECT FROM idgen.leases g"
						  "   WHERE g.tag OPERATOR(pg_catalog.=) $1"
						  "   AND g.kind OPERATOR(pg_catalog.=) 'grant'"
						  "   AND pg_catalog.lower(g.range) OPERATOR(pg_catalog.>=) pg_catalog.upper(l.range))",
						  1, argtypes, args, 1, "idgen.leases");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		*top = DatumGetInt64(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
		*root_lsn = DatumGetLSN(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	if (!isnull)
	{
		local->lo = DatumGetInt64(d);
		local->hi = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 4,
												&isnull));
	}
	idgen_spi_finish_as_owner(&as_owner);
	return n;
}

/*
 * lease_note_local
 *		A tag switched from source local to root: record the IDs it issued
 *		from its own sequence (kind 'local', abandoned: no claim uses them),
 *		which the runway worker tells the root until a grant lies above
 *		them.  As the table's owner.
 */
void
lease_note_local(const NameData *tag, IdRange local)
{
	Oid			argtypes[3] = {TEXTOID, INT8OID, INT8OID};
	Datum		args[3];
	OwnerContext as_owner;

	args[0] = CStringGetTextDatum(NameStr(*tag));
	args[1] = Int64GetDatum(local.lo);
	args[2] = Int64GetDatum(local.hi);
	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	if (SPI_execute_with_args("INSERT INTO idgen.leases (tag, range, kind, abandoned)"
							  " VALUES ($1, pg_catalog.int8range($2, $3), 'local', true)",
							  3, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "idgen: could not record local IDs in idgen.leases");
	idgen_spi_finish_as_owner(&as_owner);
}

/*
 * lease_root_tags
 *		Names of the segment tags of source 'root' in this database, by
 *		name, as a list allocated in cxt (read as the owner of idgen.tags);
 *		none when idgen.leases does not exist (1.0).  Hybrid tags never
 *		take their IDs from the root.
 */
List *
lease_root_tags(MemoryContext cxt)
{
	List	   *names = NIL;
	OwnerContext as_owner;
	Oid			nsp = idgen_extension_schema();
	uint64		i;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("leases", nsp)))
		return NIL;
	idgen_spi_connect_as_owner(idgen_table_oid("tags"), &as_owner);
	if (SPI_execute("SELECT tag FROM idgen.tags"
					" WHERE source OPERATOR(pg_catalog.=) 'root'"
					" AND kind OPERATOR(pg_catalog.=) 'segment'"
					" ORDER BY tag COLLATE \"C\"", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.tags");
	for (i = 0; i < SPI_processed; i++)
	{
		NameData   *name = MemoryContextAllocZero(cxt, sizeof(NameData));
		MemoryContext old;

		namestrcpy(name, SPI_getvalue(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1));
		old = MemoryContextSwitchTo(cxt);
		names = lappend(names, name);
		MemoryContextSwitchTo(old);
	}
	idgen_spi_finish_as_owner(&as_owner);
	return names;
}

/*
 * lease_forget
 *		A tag is being dropped: the grants this server holds of it are
 *		abandoned, as the table's owner, so that a tag created again under
 *		the name never claims from them; nothing when idgen.leases does not
 *		exist (1.0).  Their IDs are lost, never reissued anywhere, and still
 *		reported to the root (rows may hold them).
 */
void
lease_forget(const NameData *tag)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	OwnerContext as_owner;
	Oid			nsp = idgen_extension_schema();

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("leases", nsp)))
		return;
	args[0] = CStringGetTextDatum(NameStr(*tag));
	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	if (SPI_execute_with_args("UPDATE idgen.leases SET abandoned = true"
							  " WHERE tag OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "idgen: could not update idgen.leases");
	idgen_spi_finish_as_owner(&as_owner);
}

/* become_new_node() ran in the current transaction */
static bool renewing = false;

/*
 * renew_callback
 *		At the commit of become_new_node(), have the supplier of the grants
 *		forget what the root said under the old name (supply_renewed); only
 *		then are the grants gone for the runway worker's snapshots too.
 */
static void
renew_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && renewing)
		supply_renewed();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		renewing = false;
}

/*
 * renew_at_commit
 *		Call supply_renewed once the current transaction commits.
 */
static void
renew_at_commit(void)
{
	static bool registered = false;

	if (!registered)
		RegisterXactCallback(renew_callback, NULL);
	registered = true;
	renewing = true;
}

/*
 * idgen_become_new_node
 *		become_new_node(): on a copy of a node, give up every grant this
 *		server holds (the original holds them too), and drop every ID cached
 *		from them at commit, so that its tags of source root lease anew,
 *		above everything, under the new idgen.node_name.  Returns how many
 *		grants were given up.
 */
Datum
idgen_become_new_node(PG_FUNCTION_ARGS)
{
	OwnerContext as_owner;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	uint64		given_up;
	Oid			seq_nsp;
	ListCell   *lc;

	idgen_check_not_parallel("idgen.become_new_node");
	idgen_check_preloaded();
	PreventCommandIfReadOnly("idgen.become_new_node()");
	if (lease_node_name_is_default())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("idgen.node_name is not set"),
				 errdetail("Without it, a node leases under its system identifier, which a copy shares with the original."),
				 errhint("Set idgen.node_name to a name no other server uses, reload the configuration, and call idgen.become_new_node() again.")));

	idgen_spi_connect_as_owner(idgen_table_oid("leases"), &as_owner);
	args[0] = CStringGetTextDatum(lease_node_name());
	if (SPI_execute_with_args("SELECT FROM idgen.leases"
							  " WHERE node OPERATOR(pg_catalog.=) $1 LIMIT 1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.leases");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server still leases as node \"%s\"",
						lease_node_name()),
				 errdetail("The grants it holds were leased under that name, which the original server keeps."),
				 errhint("Set idgen.node_name to a name no other server uses, reload the configuration, and call idgen.become_new_node() again.")));
	if (SPI_execute("DELETE FROM idgen.leases", false, 0) != SPI_OK_DELETE)
		elog(ERROR, "idgen: could not delete from idgen.leases");
	given_up = SPI_processed;
	idgen_spi_finish_as_owner(&as_owner);
	seq_nsp = idgen_seq_schema_oid();
	foreach(lc, lease_root_tags(CurrentMemoryContext))
	{
		Oid			seqoid = get_relname_relid(NameStr(*(NameData *) lfirst(lc)),
											   seq_nsp);

		if (OidIsValid(seqoid))
			slot_reset_at_commit(seqoid);
	}
	renew_at_commit();
	ereport(LOG,
			(errmsg("idgen: this server gave up the " UINT64_FORMAT " grants it held, to lease anew as node \"%s\"",
					given_up, lease_node_name())));
	PG_RETURN_INT64((int64) given_up);
}
