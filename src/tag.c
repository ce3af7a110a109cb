/*-------------------------------------------------------------------------
 *
 * tag.c
 *	  The catalog tier: tag names, their configuration in idgen.tags, and
 *	  durable claims from each tag's high-water-mark sequence.
 *
 * A tag is a row of idgen.tags and a sequence idgen_seq.<tag> of the same
 * name.  The sequence holds the tag's high-water mark: every ID (slab
 * number, for hybrid tags) up to it may have been handed out, none above
 * it.  The mark only ever moves forward, through durable.c, and a claim is
 * durable before any of its IDs is handed out.  The sequence is created
 * with the tag and never rewritten; start and maxvalue live in idgen.tags.
 * Whoever owns the sequence owns the tag; using the tag needs USAGE (or
 * UPDATE) on it, as nextval does.
 *
 * idgen.tags is guarded by a trigger (idgen_tags_guard), so that whoever
 * may write the table, directly or through create_tag, alter_tag and
 * drop_tag, gets the same checks and effects:
 *	- INSERT validates the options, creates the tag's sequence (or adopts
 *	  one of the right shape owned by the caller, as pg_restore leaves it)
 *	  and assigns the tag a slot (slot.c);
 *	- UPDATE needs ownership of the tag, keeps its name and kind, never
 *	  lowers start, never lowers maxvalue below the mark; a raised start
 *	  moves the mark up to it and resets the tag's slot at commit, so that
 *	  no ID below the new start is handed out from a cache afterwards;
 *	- DELETE drops the tag's sequence (which needs ownership) and the
 *	  grants the server holds of it (lease.c);
 *	- TRUNCATE is refused.
 * Changes of start and maxvalue hold the sequence's claim lock until the
 * transaction ends, and claims read the bounds as committed once they have
 * that lock, so a claim never straddles an uncommitted change.
 *
 * Dropping a tag's sequence by any route (drop_tag, DROP EXTENSION ...
 * CASCADE, DROP SEQUENCE) frees its slot at commit: tag_object_access,
 * installed as object_access_hook, sees every drop.  So does dropping a
 * database.
 *
 * A tag of source 'root' (a node's tag, see lease.c) keeps the same mark,
 * but claims take their IDs from the grants the node holds above it
 * instead of from [start, maxvalue]; with no grant left, a claim waits
 * once for the runway worker (runway.c) and then fails like a claim at
 * maxvalue, for which pool.c raises supply_run_out's error instead.
 *
 * Shared memory is touched only through slot.c (and runway.c, for the
 * wait).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "base.h"
#include "durable.h"
#include "lease.h"
#include "slot.h"
#include "supply.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_check_tag_name);
PG_FUNCTION_INFO_V1(idgen_tags_guard);
PG_FUNCTION_INFO_V1(idgen_tag_visible);

/*
 * The columns of idgen.tags that hold a number or a flag, and their limits:
 * row_to_info checks every value against its entry.  The defaults that
 * create_tag gives (the install scripts) must agree with them: start's
 * least value, maxvalue's largest (TAG_MAX_SLAB for a hybrid tag, which
 * hybrid.h shares); sql/tag_columns.sql checks that they do.  A column
 * that 1.0 lacks takes its "absent" value from a table not yet updated.
 */
typedef enum TagColumnId
{
	COL_START,
	COL_MAXVALUE,
	COL_REGION,
	COL_CHUNK_MIN,
	COL_CHUNK_MAX,
	COL_RECLAIM,
	COL_LOCALITY,
	COL_ORDERED,
	COL_GRANT_SIZE
} TagColumnId;

typedef struct TagColumn
{
	const char *name;
	int64		min;			/* least value (numbers) */
	int64		max;			/* largest value (numbers); 0: no limit of its
								 * own */
	bool		since_1_1;		/* absent from a 1.0 table */
	int64		absent;			/* the value when it is absent */
} TagColumn;

static const TagColumn tag_columns[] = {
	[COL_START] = {"start", 1, 0, false, 0},
	/* at least start; a hybrid tag's at most TAG_MAX_SLAB */
	[COL_MAXVALUE] = {"maxvalue", 1, TAG_MAX_ID, false, 0},
	[COL_REGION] = {"region", 1, 0, false, 0},
	/* 1 <= chunk_min <= chunk_max <= region */
	[COL_CHUNK_MIN] = {"chunk_min", 1, 0, false, 0},
	[COL_CHUNK_MAX] = {"chunk_max", 1, 0, false, 0},
	[COL_RECLAIM] = {"reclaim", 0, 0, false, 0},
	/* the chunks of 1.0 */
	[COL_LOCALITY] = {"locality", 0, 0, true, false},
	[COL_ORDERED] = {"ordered", 0, 0, true, false},
	[COL_GRANT_SIZE] = {"grant_size", 1, TAG_MAX_GRANT_SIZE, true,
	TAG_DEFAULT_GRANT_SIZE},
};

/* the sequence the tags trigger is dropping, so that no warning is given */
static Oid	dropping_seqoid = InvalidOid;

static void row_to_info(HeapTuple row, TupleDesc desc, TagInfo *info);
IDGEN_NORETURN_BEGIN static void tag_not_found(const NameData *name)
			IDGEN_NORETURN_END;
IDGEN_NORETURN_BEGIN static void tag_dropped(const NameData *name)
			IDGEN_NORETURN_END;

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
 * tag_dropped
 *		Raise the error for a tag whose sequence went away under us.
 */
static void
tag_dropped(const NameData *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("tag \"%s\" was dropped", NameStr(*name))));
}

/*
 * row_value
 *		Column "name" of a row of idgen.tags into *value; false when it is
 *		NULL, or when the table has no such column (a column added by a
 *		later version, before ALTER EXTENSION UPDATE).
 */
static bool
row_value(HeapTuple row, TupleDesc desc, const char *name, Datum *value)
{
	bool		isnull;
	int			attnum = SPI_fnumber(desc, name);

	*value = (Datum) 0;
	if (attnum <= 0)
		return false;
	*value = heap_getattr(row, attnum, desc, &isnull);
	return !isnull;
}

/*
 * tag_read
 *		Read a tag's row of idgen.tags as last committed (whatever the
 *		transaction's snapshot), into *info; false if there is none.  The
 *		query is schema-qualified throughout, operators included, so that
 *		no search_path can redirect it.
 */
bool
tag_read(const NameData *name, TagInfo *info)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		found;

	memset(info, 0, sizeof(TagInfo));
	info->name = *name;
	args[0] = CStringGetTextDatum(NameStr(*name));

	SPI_connect();
	idgen_spi_read_latest("SELECT * FROM idgen.tags"
						  " WHERE tag OPERATOR(pg_catalog.=) $1",
						  1, argtypes, args, 1, "idgen.tags");
	found = SPI_processed == 1;
	if (found)
		row_to_info(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, info);
	SPI_finish();
	return found;
}

/*
 * tag_lock_sequence
 *		Find a tag's sequence and lock it in the given mode; InvalidOid if
 *		there is none.  Raises an error for a relation of that name that is
 *		not a sequence.
 */
static Oid
tag_lock_sequence(const NameData *name, LOCKMODE mode)
{
	Oid			nspoid = idgen_seq_schema_oid();
	Oid			seqoid;

	if (!OidIsValid(nspoid))
		return InvalidOid;
	seqoid = RangeVarGetRelidExtended(makeRangeVar(IDGEN_SEQ_SCHEMA,
												   pstrdup(NameStr(*name)), -1),
									  mode, RVR_MISSING_OK, NULL, NULL);
	if (OidIsValid(seqoid) && get_rel_relkind(seqoid) != RELKIND_SEQUENCE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s.%s\" is not a sequence", IDGEN_SEQ_SCHEMA,
						NameStr(*name)),
				 errdetail("The high-water mark of tag \"%s\" must be the sequence of that name in schema %s.",
						   NameStr(*name), IDGEN_SEQ_SCHEMA)));
	return seqoid;
}

/*
 * tag_lookup
 *		Read a tag's configuration and find its sequence, locked against
 *		DROP until the end of the transaction.  Returns the subtransaction
 *		that created the sequence, if the current transaction did.
 */
SubTransactionId
tag_lookup(const NameData *name, TagInfo *info)
{
	Relation	rel;
	SubTransactionId created;

	if (!OidIsValid(idgen_seq_schema_oid()) || !tag_read(name, info))
		tag_not_found(name);
	info->seqoid = tag_lock_sequence(name, AccessShareLock);
	if (!OidIsValid(info->seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence of tag \"%s\" does not exist", NameStr(*name)),
				 errhint("Drop the tag with idgen.drop_tag() and create it again.")));

	rel = relation_open(info->seqoid, NoLock);
	created = rel->rd_createSubid;
	relation_close(rel, NoLock);
	return created;
}

/*
 * tag_check_usage
 *		Using a tag needs USAGE or UPDATE on its sequence, as nextval does.
 */
void
tag_check_usage(const TagInfo *info)
{
	bool		missing = false;
	AclResult	result;

	result = pg_class_aclcheck_ext(info->seqoid, GetUserId(),
								   ACL_USAGE | ACL_UPDATE, &missing);
	if (missing)
		tag_dropped(&info->name);
	if (result != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tag \"%s\"",
						NameStr(info->name)),
				 errhint("Grant USAGE on sequence %s.%s to the role.",
						 IDGEN_SEQ_SCHEMA,
						 quote_identifier(NameStr(info->name)))));
}

/*
 * tag_may_monitor
 *		Whether the current role may see a tag's counters and caches: it
 *		may use the tag or read the mark (USAGE, UPDATE or SELECT on its
 *		sequence, as pg_sequences shows last_value), or has the privileges
 *		of pg_read_all_stats.
 */
bool
tag_may_monitor(Oid seqoid)
{
	bool		missing = false;

	if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		return true;
	return pg_class_aclcheck_ext(seqoid, GetUserId(),
								 ACL_USAGE | ACL_UPDATE | ACL_SELECT,
								 &missing) == ACLCHECK_OK && !missing;
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
 *		Durably claim the next n IDs of a tag (fewer at the end of the tag's
 *		range, unless exact) through its slot index, and return them in
 *		*claimed.  Returns false, claiming nothing, when fewer than n (or,
 *		unless exact, no) IDs are left; *left is set to the number left
 *		either way.  For a tag of source 'root', the IDs come from the grants
 *		the server holds; when they are used up (even after one round of the
 *		runway worker) it returns false with *left 0, and a caller that
 *		cannot go on raises supply_run_out's error (a prefetch need not).
 *		The caller has checked the user's right to use the tag.
 */
bool
tag_claim(const TagInfo *info, int index, int64 n, bool exact,
		  IdRange *claimed, int64 *left)
{
	TagInfo		now;
	int64		mark;
	int64		lo = 0;
	bool		waited = false;

	Assert(n > 0);
	/* a node's tag: not before the root has heard of it since the start */
	if (info->from_root)
		supply_check_tag(info);
	for (;;)
	{
		if (!durable_lock(info->seqoid) || !tag_read(&info->name, &now))
			tag_dropped(&info->name);
		mark = durable_read(info->seqoid);

		/* a node's tag: from the grants it holds (lease.c) */
		if (now.from_root)
		{
			if (lease_claim(&now, mark, n, exact, claimed, left))
				break;
			durable_unlock(info->seqoid);
			/* no grant yet (a new tag): let the runway worker lease one */
			if (!waited && supply_wait_for_grant(&info->name))
			{
				waited = true;
				continue;
			}
			/* the caller raises supply_run_out's error if it must */
			*left = 0;
			return false;
		}

		*left = 0;
		if (mark < now.maxvalue)
		{
			lo = Max(mark + 1, now.start);
			*left = now.maxvalue - lo + 1;
		}
		if (*left < (exact ? n : 1))
		{
			durable_unlock(info->seqoid);
			return false;
		}
		claimed->lo = lo;
		claimed->hi = lo + Min(n, *left);
		break;
	}

	durable_advance(info->seqoid, claimed->hi - 1);
	slot_note_claim(index, info->seqoid, &info->name, *claimed);
	durable_unlock(info->seqoid);
	return true;
}

/*
 * int8_or_null
 *		An int8 column for an error message: its value, or "NULL".
 */
static char *
int8_or_null(bool present, Datum value)
{
	return present ? psprintf(INT64_FORMAT, DatumGetInt64(value)) :
		pstrdup("NULL");
}

/*
 * row_tag_name
 *		The validated tag name of a row of idgen.tags.
 */
static NameData
row_tag_name(HeapTuple row, TupleDesc desc)
{
	Datum		v;
	NameData	name;

	if (!row_value(row, desc, "tag", &v))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tag name cannot be null")));
	tag_check_name(DatumGetTextPP(v), &name);
	return name;
}

/*
 * row_word
 *		Whether text column "name" of a row of idgen.tags is one of the
 *		words first and second, with *is_first saying which; *given is the
 *		value (or "NULL"), for the caller's error when it is neither.
 */
static bool
row_word(HeapTuple row, TupleDesc desc, const char *name, const char *first,
		 const char *second, const char **given, bool *is_first)
{
	Datum		v;

	*given = "NULL";
	*is_first = false;
	if (!row_value(row, desc, name, &v))
		return false;
	*given = TextDatumGetCString(v);
	*is_first = strcmp(*given, first) == 0;
	return *is_first || strcmp(*given, second) == 0;
}

/*
 * column_value
 *		Column col of a row of idgen.tags into *value; false when it is
 *		NULL.  A column that a 1.0 table lacks gives its absent value.
 */
static bool
column_value(HeapTuple row, TupleDesc desc, TagColumnId col, Datum *value)
{
	const TagColumn *c = &tag_columns[col];

	if (c->since_1_1 && SPI_fnumber(desc, c->name) <= 0)
	{
		*value = Int64GetDatum(c->absent);
		return true;
	}
	return row_value(row, desc, c->name, value);
}

/*
 * column_int8
 *		The value of bigint column col of a row of tag "tag", within its
 *		limits (tag_columns): raises the user's error otherwise.
 */
static int64
column_int8(HeapTuple row, TupleDesc desc, TagColumnId col, const char *tag)
{
	const TagColumn *c = &tag_columns[col];
	Datum		v;
	bool		present = column_value(row, desc, col, &v);

	if (!present || DatumGetInt64(v) < c->min ||
		(c->max != 0 && DatumGetInt64(v) > c->max))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s %s for tag \"%s\"",
						c->name, int8_or_null(present, v), tag),
				 c->max == 0 ?
				 errhint("%s must be at least " INT64_FORMAT ".",
						 c->name, c->min) :
				 errhint("%s must lie between " INT64_FORMAT " and " INT64_FORMAT ".",
						 c->name, c->min, c->max)));
	return DatumGetInt64(v);
}

/*
 * column_bool
 *		The value of boolean column col of a row: raises the user's error
 *		when it is NULL.
 */
static bool
column_bool(HeapTuple row, TupleDesc desc, TagColumnId col)
{
	Datum		v;

	if (!column_value(row, desc, col, &v))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be null", tag_columns[col].name)));
	return DatumGetBool(v);
}

/*
 * row_to_info
 *		Decode and validate a row of idgen.tags, raising the error a user
 *		should see for each bad value, in the order of the columns.  The
 *		sequence is not looked up.
 */
static void
row_to_info(HeapTuple row, TupleDesc desc, TagInfo *info)
{
	Datum		maxvalue;
	Datum		chunk_min;
	Datum		chunk_max;
	bool		has_max;
	bool		has_min;
	bool		has_cmax;
	bool		is_hybrid;
	const char *given;
	const char *tag;
	int64		max_allowed;

	memset(info, 0, sizeof(TagInfo));
	info->name = row_tag_name(row, desc);
	tag = NameStr(info->name);

	if (!row_word(row, desc, "kind", "hybrid", "segment", &given,
				  &is_hybrid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid tag kind \"%s\"", given),
				 errhint("Valid kinds are \"segment\" and \"hybrid\".")));
	info->kind = is_hybrid ? TAG_HYBRID : TAG_SEGMENT;

	info->start = column_int8(row, desc, COL_START, tag);

	/* a hybrid tag numbers slabs, the top 31 bits of its IDs */
	max_allowed = info->kind == TAG_HYBRID ? TAG_MAX_SLAB :
		tag_columns[COL_MAXVALUE].max;
	has_max = column_value(row, desc, COL_MAXVALUE, &maxvalue);
	if (!has_max || DatumGetInt64(maxvalue) < info->start ||
		DatumGetInt64(maxvalue) > max_allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid maxvalue %s for %stag \"%s\"",
						int8_or_null(has_max, maxvalue),
						info->kind == TAG_HYBRID ? "hybrid " : "", tag),
				 info->kind == TAG_HYBRID ?
				 errdetail("Slab numbers of a hybrid tag fill the 31 bits below the sign bit of its IDs.") : 0,
				 errhint("maxvalue must lie between start (" INT64_FORMAT ") and " INT64_FORMAT ".",
						 info->start, max_allowed)));
	info->maxvalue = DatumGetInt64(maxvalue);

	info->region = column_int8(row, desc, COL_REGION, tag);

	has_min = column_value(row, desc, COL_CHUNK_MIN, &chunk_min);
	has_cmax = column_value(row, desc, COL_CHUNK_MAX, &chunk_max);
	if (!has_min || !has_cmax ||
		DatumGetInt32(chunk_min) < tag_columns[COL_CHUNK_MIN].min ||
		DatumGetInt32(chunk_min) > DatumGetInt32(chunk_max) ||
		DatumGetInt32(chunk_max) > info->region)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid chunk bounds [%s, %s] for tag \"%s\"",
						has_min ? psprintf("%d", DatumGetInt32(chunk_min)) : "NULL",
						has_cmax ? psprintf("%d", DatumGetInt32(chunk_max)) : "NULL",
						tag),
				 errhint("Chunk bounds must satisfy " INT64_FORMAT " <= chunk_min <= chunk_max <= region (" INT64_FORMAT ").",
						 tag_columns[COL_CHUNK_MIN].min, info->region)));
	info->chunk_min = DatumGetInt32(chunk_min);
	info->chunk_max = DatumGetInt32(chunk_max);

	info->reclaim = column_bool(row, desc, COL_RECLAIM);
	info->locality = column_bool(row, desc, COL_LOCALITY);
	info->ordered = column_bool(row, desc, COL_ORDERED);
	if (info->ordered && (!info->locality || info->kind != TAG_SEGMENT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ordered tag \"%s\" must be a segment tag with locality", tag),
				 errdetail("An ordered tag's backends must draw from one shared chunk."),
				 errhint("Leave locality at true, or ordered at false.")));

	/* source: absent from a 1.0 table, NOT NULL in 1.1 */
	if (SPI_fnumber(desc, "source") > 0)
	{
		if (!row_word(row, desc, "source", "root", "local", &given,
					  &info->from_root))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid source \"%s\" for tag \"%s\"",
							given, tag),
					 errhint("Valid sources are \"local\" and \"root\".")));
		if (info->from_root && info->kind == TAG_HYBRID)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("hybrid tag \"%s\" cannot take its IDs from the root", tag),
					 errhint("Use a segment tag with source \"root\", or source \"local\".")));
		/* the watermark follows the transactions of one server */
		if (info->from_root && info->ordered)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ordered tag \"%s\" cannot take its IDs from the root", tag),
					 errdetail("Its watermark would follow this server's transactions only, while other servers commit IDs of the same tag."),
					 errhint("Leave ordered at false for a tag of source \"root\".")));
	}
	info->grant_size = column_int8(row, desc, COL_GRANT_SIZE, tag);
}

/*
 * check_owner
 *		Raise the usual error unless the current role owns the sequence.
 */
static void
check_owner(Oid seqoid, const NameData *name)
{
	if (!idgen_relation_ownercheck(seqoid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_SEQUENCE, NameStr(*name));
}

/*
 * tag_check_owner
 *		Raise the usual error unless the current role owns the tag.
 */
void
tag_check_owner(const TagInfo *info)
{
	check_owner(info->seqoid, &info->name);
}

/*
 * tag_owned_segment_tags
 *		Names (NameData *) of the segment tags of this database whose
 *		sequence the current role owns, as last committed.
 */
List *
tag_owned_segment_tags(void)
{
	List	   *names = NIL;
	uint64		i;
	MemoryContext cxt = CurrentMemoryContext;

	SPI_connect();
	idgen_spi_read_latest("SELECT t.tag FROM idgen.tags t"
						  " JOIN pg_catalog.pg_class c ON c.relname OPERATOR(pg_catalog.=) t.tag"
						  " AND c.relnamespace OPERATOR(pg_catalog.=) 'idgen_seq'::pg_catalog.regnamespace"
						  " WHERE t.kind OPERATOR(pg_catalog.=) 'segment'"
						  " AND pg_catalog.pg_has_role(c.relowner, 'USAGE')"
						  " ORDER BY 1",
						  0, NULL, NULL, 0, "idgen.tags");
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		NameData   *name = palloc0(sizeof(NameData));

		namestrcpy(name, SPI_getvalue(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1));
		names = lappend(names, name);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return names;
}

/*
 * run_sql
 *		Run one utility statement through SPI, as the current role.
 */
static void
run_sql(const char *sql)
{
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "idgen: could not run \"%s\"", sql);
	SPI_finish();
}

/*
 * tags_insert
 *		A new tag: create its sequence, or adopt an existing one that fits,
 *		and give the tag a slot.
 */
static void
tags_insert(TagInfo *info)
{
	HeapTuple	tuple;
	Relation	rel;
	int64		seqmin;
	int64		seqmax;
	uint32		generation;

	info->seqoid = tag_lock_sequence(&info->name, AccessShareLock);
	if (!OidIsValid(info->seqoid))
	{
		/* last_value one below start: nothing claimed yet */
		run_sql(psprintf("CREATE SEQUENCE %s.%s AS bigint MINVALUE 0 MAXVALUE " INT64_FORMAT " START " INT64_FORMAT " NO CYCLE CACHE 1",
						 IDGEN_SEQ_SCHEMA,
						 quote_identifier(NameStr(info->name)),
						 TAG_MAX_ID, info->start - 1));
		info->seqoid = tag_lock_sequence(&info->name, AccessShareLock);
		if (!OidIsValid(info->seqoid))
			elog(ERROR, "idgen: sequence of tag \"%s\" not created",
				 NameStr(info->name));
	}
	else
	{
		/* e.g. pg_restore, which creates the sequences before the rows */
		check_owner(info->seqoid, &info->name);
		tuple = SearchSysCache1(SEQRELID, ObjectIdGetDatum(info->seqoid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for sequence %u", info->seqoid);
		seqmin = ((Form_pg_sequence) GETSTRUCT(tuple))->seqmin;
		seqmax = ((Form_pg_sequence) GETSTRUCT(tuple))->seqmax;
		ReleaseSysCache(tuple);
		if (seqmin > info->start - 1 || seqmax < info->maxvalue)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sequence %s.%s does not fit tag \"%s\"",
							IDGEN_SEQ_SCHEMA,
							quote_identifier(NameStr(info->name)),
							NameStr(info->name)),
					 errdetail("Its bounds are [" INT64_FORMAT ", " INT64_FORMAT "], but the tag needs at least [" INT64_FORMAT ", " INT64_FORMAT "].",
							   seqmin, seqmax, info->start - 1,
							   info->maxvalue),
					 errhint("Drop the sequence, or let idgen.create_tag() create it.")));
	}

	if (idgen_preloaded)
	{
		rel = relation_open(info->seqoid, NoLock);
		slot_attach(info->seqoid, &info->name, rel->rd_createSubid,
					&generation);
		relation_close(rel, NoLock);
	}
}

/*
 * tags_update
 *		Changed options of a tag; see the header comment.
 */
static void
tags_update(const TagInfo *old, TagInfo *new)
{
	if (strcmp(NameStr(old->name), NameStr(new->name)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot rename tag \"%s\"", NameStr(old->name))));
	if (old->kind != new->kind)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change the kind of tag \"%s\"",
						NameStr(old->name))));

	new->seqoid = tag_lock_sequence(&new->name, AccessShareLock);
	if (!OidIsValid(new->seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence of tag \"%s\" does not exist",
						NameStr(new->name)),
				 errhint("Drop the tag with idgen.drop_tag() and create it again.")));
	check_owner(new->seqoid, &new->name);

	/*
	 * IDs above a node's mark may belong to other nodes: once a tag takes
	 * grants, its own sequence can never be its source again.
	 */
	if (old->from_root && !new->from_root)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change the source of tag \"%s\" from \"root\" to \"local\"",
						NameStr(new->name)),
				 errdetail("IDs above this server's high-water mark may have been granted to other servers."),
				 errhint("Create a new tag instead, with a start above every grant in the root's ledger.")));

	/* the watermark follows the transactions of one server */
	if (new->ordered && !old->ordered && supply_granted(&new->name))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tag \"%s\" cannot be ordered: this server has leased grants of it",
						NameStr(new->name)),
				 errdetail("Its watermark would follow this server's transactions only, while the nodes holding its grants commit IDs of the same tag."),
				 errhint("Create a new ordered tag instead.")));

	/*
	 * From local to root: the IDs issued so far are recorded, for the root to
	 * adopt at the first lease (root.c) or refuse if it may have issued them
	 * too.  Claims, which take this lock, go to the grants from the commit
	 * on.
	 */
	if (new->from_root && !old->from_root)
	{
		int64		mark;

		if (!durable_lock(new->seqoid))
			tag_dropped(&new->name);
		mark = durable_read(new->seqoid);
		if (mark >= new->start)
		{
			IdRange		local = {new->start, mark + 1};

			lease_note_local(&new->name, local);
		}
	}

	if (new->start < old->start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("start of tag \"%s\" cannot be lowered", NameStr(new->name)),
				 errdetail("Its start is " INT64_FORMAT ".", old->start)));

	if (new->start != old->start || new->maxvalue != old->maxvalue)
	{
		int64		mark;

		/* held until the transaction ends: claims wait for the outcome */
		if (!durable_lock(new->seqoid))
			tag_dropped(&new->name);
		mark = durable_read(new->seqoid);
		if (new->maxvalue < mark)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("maxvalue " INT64_FORMAT " of tag \"%s\" is below its high-water mark " INT64_FORMAT,
							new->maxvalue, NameStr(new->name), mark),
					 errdetail("IDs up to the high-water mark may already have been issued.")));
		if (new->start > old->start)
		{
			if (new->start - 1 > mark)
				durable_advance(new->seqoid, new->start - 1);
			if (idgen_preloaded)
				slot_reset_at_commit(new->seqoid);
		}
	}
	/* every backend re-reads the options at its next transaction */
	CacheInvalidateRelcacheByRelid(new->seqoid);
}

/*
 * tags_delete
 *		A dropped tag: drop its sequence, if it is still there, and forget
 *		the grants this server holds of it (a tag created again under the
 *		name must not claim from them).
 */
static void
tags_delete(const TagInfo *info)
{
	Oid			seqoid = tag_lock_sequence(&info->name, AccessShareLock);

	lease_forget(&info->name);
	if (!OidIsValid(seqoid))
		return;
	dropping_seqoid = seqoid;
	PG_TRY();
	{
		run_sql(psprintf("DROP SEQUENCE %s.%s", IDGEN_SEQ_SCHEMA,
						 quote_identifier(NameStr(info->name))));
	}
	PG_FINALLY();
	{
		dropping_seqoid = InvalidOid;
	}
	PG_END_TRY();
}

/*
 * idgen_tags_guard
 *		BEFORE INSERT OR UPDATE OR DELETE row trigger, and BEFORE TRUNCATE
 *		statement trigger, of idgen.tags.
 */
Datum
idgen_tags_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	TagInfo		old;
	TagInfo		new;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "idgen_tags_guard: not fired by a BEFORE trigger");
	/* TRUNCATE fires no row triggers: it would orphan every sequence */
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate idgen.tags"),
				 errhint("Drop tags with idgen.drop_tag().")));
	desc = RelationGetDescr(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		row_to_info(trigdata->tg_trigtuple, desc, &new);
		tags_insert(&new);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		row_to_info(trigdata->tg_trigtuple, desc, &old);
		row_to_info(trigdata->tg_newtuple, desc, &new);
		tags_update(&old, &new);
		return PointerGetDatum(trigdata->tg_newtuple);
	}
	/* a row is deleted whatever its values */
	old.name = row_tag_name(trigdata->tg_trigtuple, desc);
	tags_delete(&old);
	return PointerGetDatum(trigdata->tg_trigtuple);
}

/*
 * warn_dropped_sequence
 *		A sequence in idgen_seq is dropped other than by drop_tag (e.g. by
 *		DROP EXTENSION ... CASCADE, which may have dropped idgen.tags first):
 *		if it was a tag's, say where the tag stood, since a tag created
 *		again under that name starts over.
 */
static void
warn_dropped_sequence(Oid seqoid)
{
	char	   *name = get_rel_name(seqoid);
	Oid			nspoid = idgen_schema_oid();
	NameData	tag;
	TagInfo		info;
	int64		mark;

	/* not a tag: no row, while idgen.tags is still there */
	namestrcpy(&tag, name);
	if (OidIsValid(nspoid) && OidIsValid(get_relname_relid("tags", nspoid)) &&
		!tag_read(&tag, &info))
		return;

	mark = durable_read(seqoid);

	ereport(WARNING,
			(errmsg("dropping the sequence of idgen tag \"%s\" at high-water mark " INT64_FORMAT,
					name, mark),
			 errdetail("Rows may hold IDs of the tag up to its high-water mark, but a tag created again under this name starts at its start value."),
			 errhint("To continue above them, create the tag again with start => " INT64_FORMAT ".",
					 mark + 1)));
}

/*
 * tag_object_access
 *		object_access_hook: free the slot of a tag whose sequence is
 *		dropped (wherever it lives by then), or of every tag of a dropped
 *		database, once the drop commits.
 */
void
tag_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (access != OAT_DROP || subId != 0)
		return;
	if (classId == DatabaseRelationId)
		slot_free_at_commit(objectId, InvalidOid);
	else if (classId == RelationRelationId &&
			 get_rel_relkind(objectId) == RELKIND_SEQUENCE)
	{
		if (objectId != dropping_seqoid && OidIsValid(idgen_seq_schema_oid()) &&
			get_rel_namespace(objectId) == idgen_seq_schema_oid())
			warn_dropped_sequence(objectId);
		slot_free_at_commit(MyDatabaseId, objectId);
	}
}

/*
 * idgen_check_tag_name
 *		check_tag_name(tag) of version 1.0: raise an error unless tag is a
 *		valid tag name.  The update to 1.1 drops the SQL function, whose
 *		callers now leave the check to the trigger of idgen.tags.
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
 * idgen_tag_visible
 *		idgen_internal.tag_visible(seq): whether the current role may see the
 *		counters and caches of the tag whose sequence is seq
 *		(tag_may_monitor), for the monitoring views.
 */
Datum
idgen_tag_visible(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tag_may_monitor(PG_GETARG_OID(0)));
}
