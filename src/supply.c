/*-------------------------------------------------------------------------
 *
 * supply.c
 *	  Where a tag's IDs come from when its durable tier has none left, and
 *	  where they went, as every tier may ask it: the error of a tag that
 *	  ran out of IDs; for a tag of source 'root', the answers of the
 *	  many-servers layer (runway.c), which registers them at start; and
 *	  whether this server, as a root, granted IDs of a tag to nodes (its
 *	  ledger idgen.grants, which root.c writes).  So the catalog (tag.c),
 *	  the pools (pool.c) and the grants held (lease.c) call down to this
 *	  file, never up to the runway or the root.
 *
 * The callbacks are set once in _PG_init, before any backend claims, and
 * only read after: no lock.  No shared memory is touched here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "base.h"
#include "supply.h"
#include "tag.h"

/* the many-servers layer's answers, or NULL before it registered them */
static const SupplyCallbacks *supply = NULL;

/*
 * supply_register
 *		Install the answers of the layer that supplies tags of source
 *		'root'; from _PG_init.
 */
void
supply_register(const SupplyCallbacks *callbacks)
{
	supply = callbacks;
}

/*
 * supply_check_tag
 *		Before a claim of a tag of source 'root' from its grants: let the
 *		supplier raise an error if the tag may not issue from them.
 */
void
supply_check_tag(const TagInfo *info)
{
	if (supply != NULL && supply->check_tag != NULL)
		supply->check_tag(info);
}

/*
 * supply_wait_for_grant
 *		A tag of source 'root' has no grant left: wait for the supplier's
 *		attempt to lease one, and return true (the caller looks again), or
 *		false at once when it cannot hope for one.
 */
bool
supply_wait_for_grant(const NameData *tag)
{
	if (supply == NULL || supply->wait_for_grant == NULL)
		return false;
	return supply->wait_for_grant(tag);
}

/*
 * supply_renewed
 *		The node gave up every grant it held (idgen.become_new_node()
 *		committed): let the supplier forget what the root said of them.
 */
void
supply_renewed(void)
{
	if (supply != NULL && supply->renewed != NULL)
		supply->renewed();
}

/*
 * supply_granted
 *		Whether this server's ledger holds a grant of a tag, made to a node
 *		(false when the ledger does not exist).
 */
bool
supply_granted(const NameData *tag)
{
	Oid			nsp = idgen_extension_schema();
	Oid			ledger = InvalidOid;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(NameStr(*tag))};
	OwnerContext as_owner;
	bool		found;

	if (OidIsValid(nsp))
		ledger = get_relname_relid("grants", nsp);
	if (!OidIsValid(ledger))
		return false;
	idgen_spi_connect_as_owner(ledger, &as_owner);
	if (SPI_execute_with_args("SELECT FROM idgen.grants"
							  " WHERE tag OPERATOR(pg_catalog.=) $1 LIMIT 1",
							  1, argtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.grants");
	found = SPI_processed > 0;
	idgen_spi_finish_as_owner(&as_owner);
	return found;
}

/*
 * supply_run_out
 *		Raise the error for a tag that cannot give n more IDs (contiguous:
 *		n in one piece, else any IDs would have done): "left" IDs remain
 *		below its maxvalue, "pooled" more lie in the pool where this request
 *		cannot use them.  A tag of source 'root' ran out of grants, not of
 *		IDs: its supplier says why.
 */
void
supply_run_out(const TagInfo *info, int64 n, bool contiguous, int64 left,
			   int64 pooled)
{
	if (info->from_root && supply != NULL && supply->exhausted != NULL)
		supply->exhausted(info, n);
	if (!contiguous)
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("tag \"%s\" has run out of IDs", NameStr(info->name)),
				 pooled > 0 ?
				 errdetail("Its maxvalue " INT64_FORMAT " has been reached; the " INT64_FORMAT " IDs left in its pool lie below this session's last ID, where only new sessions can use them.",
						   info->maxvalue, pooled) :
				 errdetail("Its maxvalue " INT64_FORMAT " has been reached.",
						   info->maxvalue),
				 errhint("Raise the tag's maxvalue with idgen.alter_tag().")));
	ereport(ERROR,
			(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
			 errmsg("tag \"%s\" has fewer than " INT64_FORMAT " contiguous IDs left",
					NameStr(info->name), n),
			 errdetail(INT64_FORMAT " IDs remain below its maxvalue " INT64_FORMAT ", and " INT64_FORMAT " in smaller pieces in its pool.",
					   left, info->maxvalue, pooled),
			 errhint("Raise the tag's maxvalue with idgen.alter_tag().")));
}
