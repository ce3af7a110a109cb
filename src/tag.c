/*-------------------------------------------------------------------------
 *
 * tag.c
 *	  The catalog tier: tag names, their configuration in idgen.tags, and
 *	  durable claims from each tag's high-water-mark sequence.
 *
 * A tag's sequence (idgen_seq.<tag>) holds the last ID ever claimed for
 * the tag; a claim moves it forward through durable.c, so the claim is
 * durable before any of its IDs is handed out.
 *
 * Shared memory is touched only through pool.c (pool_forget).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "durable.h"
#include "idgen.h"
#include "pool.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_check_tag_name);
PG_FUNCTION_INFO_V1(idgen_tag_changed);

/*
 * tag_check_name
 *		Validate a tag name given by the user and copy it into *name.
 */
void
tag_check_name(text *tag, NameData *name)
{
	int			len = VARSIZE_ANY_EXHDR(tag);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tag name cannot be empty")));
	if (len >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("tag name \"%s\" is too long", text_to_cstring(tag)),
				 errdetail("Tag names are at most %d bytes long.",
						   NAMEDATALEN - 1)));
	if (memchr(VARDATA_ANY(tag), '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tag name cannot contain a zero byte")));

	memset(name, 0, sizeof(NameData));
	memcpy(NameStr(*name), VARDATA_ANY(tag), len);
}

/*
 * tag_not_found
 *		Raise the error for a tag that does not exist.
 */
static void
tag_not_found(const NameData *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("tag \"%s\" does not exist", NameStr(*name)),
			 errhint("Create it with idgen.create_tag().")));
}

/*
 * tag_lookup
 *		Read a tag's configuration from the catalog.
 */
void
tag_lookup(const NameData *name, TagInfo *info)
{
	Oid			nspoid;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	HeapTuple	row;
	TupleDesc	desc;
	char	   *kind;

	memset(info, 0, sizeof(TagInfo));
	info->name = *name;

	nspoid = get_namespace_oid(IDGEN_SEQ_SCHEMA, false);
	info->seqoid = get_relname_relid(NameStr(*name), nspoid);
	if (!OidIsValid(info->seqoid))
		tag_not_found(name);

	args[0] = CStringGetTextDatum(NameStr(*name));
	SPI_connect();
	if (SPI_execute_with_args("SELECT kind, region, chunk_min, chunk_max, reclaim"
							  " FROM idgen.tags WHERE tag = $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.tags");
	if (SPI_processed != 1)
		tag_not_found(name);

	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	kind = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
	info->kind = strcmp(kind, "hybrid") == 0 ? TAG_HYBRID : TAG_SEGMENT;
	info->region = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	info->chunk_min = DatumGetInt32(SPI_getbinval(row, desc, 3, &isnull));
	info->chunk_max = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
	info->reclaim = DatumGetBool(SPI_getbinval(row, desc, 5, &isnull));
	SPI_finish();
}

/*
 * tag_check_usage
 *		Using a tag needs USAGE or UPDATE on its sequence, as nextval does.
 */
void
tag_check_usage(const TagInfo *info)
{
	if (pg_class_aclcheck(info->seqoid, GetUserId(),
						  ACL_USAGE | ACL_UPDATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tag \"%s\"",
						NameStr(info->name)),
				 errhint("Grant USAGE on sequence %s.%s to the role.",
						 IDGEN_SEQ_SCHEMA,
						 quote_identifier(NameStr(info->name)))));
}

/*
 * tag_wrong_kind
 *		Raise the error for a tag used with the wrong generator.
 */
void
tag_wrong_kind(const TagInfo *info, const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("tag \"%s\" is of kind \"%s\"", NameStr(info->name),
					info->kind == TAG_HYBRID ? "hybrid" : "segment"),
			 errhint("Use %s() for tags of this kind.",
					 info->kind == TAG_HYBRID ? "hybrid_id" : "next_id"),
			 errcontext("calling %s()", function)));
}

/*
 * tag_claim
 *		Durably claim the next n IDs of a tag (fewer at the end of the ID
 *		space unless exact) and return them in *claimed.  The caller has
 *		checked the user's right to use the tag (tag_check_usage).
 *
 * When the tag has no IDs left, returns false if missing_ok and raises an
 * error otherwise.
 */
bool
tag_claim(const TagInfo *info, int64 n, bool exact, bool missing_ok,
		  IdRange *claimed)
{
	SeqState	seq;
	int64		lo;
	int64		avail;

	Assert(n > 0);
	if (!durable_lock(info->seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" was dropped", NameStr(info->name))));
	durable_read(info->seqoid, &seq);

	lo = seq.is_called ? seq.last + 1 : seq.start;
	avail = (seq.is_called && seq.last >= seq.max) ? 0 : seq.max - lo + 1;
	if (avail < (exact ? n : 1))
	{
		durable_unlock(info->seqoid);
		if (missing_ok)
			return false;
		if (avail <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
					 errmsg("tag \"%s\" has run out of IDs",
							NameStr(info->name)),
					 errdetail("Its maxvalue %lld has been reached.",
							   (long long) seq.max),
					 errhint("Raise the tag's maxvalue with idgen.alter_tag().")));
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("tag \"%s\" has fewer than %lld IDs left",
						NameStr(info->name), (long long) n),
				 errdetail("%lld IDs remain below its maxvalue %lld.",
						   (long long) avail, (long long) seq.max),
				 errhint("Raise the tag's maxvalue with idgen.alter_tag().")));
	}

	claimed->lo = lo;
	claimed->hi = lo + Min(n, avail);
	durable_advance(info->seqoid, claimed->hi - 1);
	durable_unlock(info->seqoid);
	return true;
}

/*
 * idgen_check_tag_name
 *		check_tag_name(tag): raise an error unless tag is a valid tag name.
 */
Datum
idgen_check_tag_name(PG_FUNCTION_ARGS)
{
	NameData	name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tag name cannot be null")));
	tag_check_name(PG_GETARG_TEXT_PP(0), &name);
	PG_RETURN_VOID();
}

/*
 * idgen_tag_changed
 *		tag_changed(tag, dropping): called by alter_tag and drop_tag.  Makes
 *		every backend re-read the tag's configuration at its next
 *		transaction (relcache invalidation of the tag's sequence, sent at
 *		commit); when dropping, also frees the tag's pool at once, so that
 *		its cached IDs are never handed out again.  Needs ownership of the
 *		tag, as ALTER SEQUENCE does.
 */
Datum
idgen_tag_changed(PG_FUNCTION_ARGS)
{
	NameData	name;
	Oid			seqoid;

	tag_check_name(PG_GETARG_TEXT_PP(0), &name);
	seqoid = get_relname_relid(NameStr(name),
							   get_namespace_oid(IDGEN_SEQ_SCHEMA, false));
	if (!OidIsValid(seqoid))
		tag_not_found(&name);
	if (!pg_class_ownercheck(seqoid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_SEQUENCE, NameStr(name));

	CacheInvalidateRelcacheByRelid(seqoid);
	if (PG_GETARG_BOOL(1) && idgen_preloaded)
		pool_forget(MyDatabaseId, seqoid);
	PG_RETURN_VOID();
}
