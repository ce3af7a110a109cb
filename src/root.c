/*-------------------------------------------------------------------------
 *
 * root.c
 *	  The root side of many servers: idgen.lease_grant(), which hands a
 *	  node a grant of a tag's IDs, idgen.report_holdings(), by which nodes
 *	  tell what they hold, the ledger idgen.grants, the registry of nodes
 *	  idgen.nodes, idgen.grants_blocked(), and idgen.raise_marks() for a
 *	  root restored from a backup.  Whether the ledger holds a grant of a
 *	  tag, which the catalog asks before it makes a tag ordered, is
 *	  supply.c's (supply_granted): the catalog never calls up to here.
 *
 * A grant is a large claim from the tag's high-water mark through
 * tag_claim, the path every pool refill takes: durable_advance has flushed
 * the WAL of the new mark and waited for the synchronous standbys before
 * the grant is recorded and returned, so no crash or promotion to a
 * synchronous standby can hand out any of its IDs again.  Grants never
 * overlap, with each other or with what the root issues itself, and each
 * lies above every earlier one.  A node that holds a tag of source 'root'
 * can itself serve grants (root -> regional -> node): its tag_claim takes
 * them from its own grants (lease.c), with the same guarantees, to any
 * depth.
 *
 * Self-healing.  A root can still go back: restored from a base backup,
 * recovered to a point in time, failed over to an asynchronous standby.
 * It would then grant again what nodes hold.  So every node tells what it
 * holds, at every lease and at every check of the root (report_holdings,
 * every few seconds): its highest grants, each with the proof the root
 * gave with it (an HMAC of tag, node and range under a key of
 * idgen.grant_keys, which a backup, a standby and pg_dump all keep), and
 * for a tag that issued IDs from its own sequence before it took them from
 * the root, that range.  Under the tag's claim lock, before any grant:
 *	- a proven grant the ledger does not have is recorded again (kind
 *	  'healed'), and the tag's mark is raised durably above it, with every
 *	  ID cached here below it dropped (the slot is reset at commit);
 *	- a held grant that overlaps another node's row of the ledger, or a row
 *	  of the same node for another range, was granted twice (the root went
 *	  back and granted it again before the holder reported): refused, and
 *	  the node told to stop issuing from the tag's grants;
 *	- the node's highest grant must be the last one the ledger shows for
 *	  that node name; if the ledger shows a later one, that one was lost
 *	  (the node never recorded it: marked 'lost', never reissued) when the
 *	  node holds the one just before it, and otherwise another server
 *	  leases under the same name (a copy that lags): refused and stopped;
 *	  a grant marked lost that a node holds after all, likewise;
 *	- the node's own mark of the tag (of the same incarnation there, the
 *	  OID of its sequence) never goes back: a lower one than reported
 *	  before (idgen.node_marks) comes from a copy that lags: refused and
 *	  stopped;
 *	- IDs a node issued before its tag took its IDs from the root are
 *	  adopted (kind 'adopted', the mark raised above them) only when they
 *	  lie above everything this root has issued or granted, and are at
 *	  most the largest grant: a node cannot make the root skip more than
 *	  one lease would.  A root tag can be made to pass over more with
 *	  alter_tag(start => ...) by its owner; IDs that may overlap what the
 *	  root has issued are refused.
 * A root grants nothing for idgen.grant_grace after it first answers a
 * node (after a start or a promotion): a lease waits for the end of that
 * grace period, so that every live node has reported first.  What remains
 * is written in the README ("Self-healing").
 *
 * Nodes.  idgen.nodes ties each node name to the role that used it first;
 * another role is refused the name.  It also keeps the server instance
 * (a random token per start of the node's postmaster) that holds the name,
 * and a candidate: a new instance is held back (told to wait before it
 * issues from the node's grants) while the current one has reported within
 * NODE_TAKEOVER_SECS, and takes the name over once it has not (a restart
 * of the node).  When both report, two servers lease under one name (a
 * copy, a standby promoted while its primary runs): both are refused and
 * stopped until one has been silent that long.  report_holdings returns a
 * refusal instead of raising it, so that what it recorded is committed;
 * lease_grant raises it as an error.
 *
 * The ledger gets one row per grant in the caller's transaction, committed
 * with synchronous_commit on (set for the transaction), and lease_grant
 * refuses to run inside a transaction block: a caller sees a grant only
 * once it is in the committed ledger.  A grant whose statement fails
 * afterwards is lost, never reissued, since the mark has moved.
 *
 * Privileges follow sequences: leasing and reporting need USAGE (or
 * UPDATE) on the tag's sequence, exactly what next_id needs, since a grant
 * is nothing but a large next_id_range (and next_id_range already lets
 * such a role draw 2^31 IDs in one call).  A report can raise the mark
 * only to the top of a grant this root signed for that node, or by the
 * size of one grant.  The ledger, the registry and the key are read and
 * written as their owner (the role that created the extension), as
 * durable.c sets marks as the sequence's owner: callers may not touch
 * them.  This is done here rather than by a SECURITY DEFINER function so
 * that nothing but the rows idgen chooses is written with rights the
 * caller lacks.
 *
 * Size: a tag's grant_size is the base.  Like a backend's chunk, grants
 * adapt to how fast a node drains them: the node tells the rate it
 * measures (the runway worker does), and the grant is the base doubled
 * until it lasts GRANT_TARGET_SECS at that rate, up to GRANT_MAX_GROWTH
 * times the base.
 *
 * Locking protocol: RootShared.opened_at, the time this server first
 * answered a node out of recovery, is an atomic set once by
 * compare-and-swap; nothing else of root.c lives in shared memory.  A
 * tag's leases, and reports that change its ledger or mark, hold its claim
 * lock (durable_lock) to the end of their transaction, so they are
 * serialised with each other and with the tag's claims; other reports
 * release it once they have read the ledger.  The row of idgen.nodes is
 * locked (FOR UPDATE) after the claim lock.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/rangetypes.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/wait_event.h"

#include "base.h"
#include "compat.h"
#include "durable.h"
#include "root.h"
#include "slot.h"
#include "supply.h"
#include "tag.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(idgen_lease_grant);
PG_FUNCTION_INFO_V1(idgen_report_holdings);
PG_FUNCTION_INFO_V1(idgen_raise_marks);
PG_FUNCTION_INFO_V1(idgen_grants_blocked);

#define GRANT_TARGET_SECS	600 /* a grant should last at least this */
#define GRANT_MAX_GROWTH	64	/* largest grant, in base sizes */
#define NODE_TAKEOVER_SECS	12	/* silence after which a new instance takes a
								 * node's name over: more than two reports of
								 * a live one */
#define GRANT_KEY_LEN		32	/* bytes of a key made here */

/* what one report or lease request says, and what came of it */
typedef struct Holdings
{
	NameData	tag;
	const char *node;
	const char *instance;		/* "" when not told (a call by hand) */
	const char *incarnation;	/* of the tag on the node; "" when not told */
	int64		mark;			/* the node's mark of the tag */
	int			nheld;
	IdRange    *held;			/* proven grants, as the node holds them */
	char	  **proofs;
	IdRange		local;			/* IDs issued before the switch, or empty */
	/* the verdict */
	char	   *refused;		/* NULL: accepted */
	char	   *detail;
	char	   *hint;
	int			sqlstate;
	bool		stop;			/* the node must stop issuing from them */
	bool		hold;			/* the node must wait before issuing */
	int			healed;			/* grants the ledger had lost */
	bool		wrote;			/* the ledger or the mark was changed */
	MemoryContext cxt;			/* where the verdict is kept */
} Holdings;

typedef struct RootShared
{
	pg_atomic_uint64 opened_at; /* TimestampTz of the first answer, or 0 */
} RootShared;

static RootShared *root_shared = NULL;
static int	grant_grace_secs = 30;

/*
 * root_define_settings
 *		Define idgen.grant_grace; from _PG_init.
 */
void
root_define_settings(void)
{
	DefineCustomIntVariable("idgen.grant_grace",
							"Time after a start or promotion during which this server grants nothing, so that every live node reports what it holds first.",
							NULL,
							&grant_grace_secs,
							30,
							0,
							3600,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
}

/*
 * root_shmem_request
 *		Ask for the root's shared state; from the shmem_request_hook.
 */
void
root_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(RootShared));
}

/*
 * root_shmem_startup
 *		Attach to (and, the first time, initialise) the root's shared
 *		state.  Called with AddinShmemInitLock held.
 */
void
root_shmem_startup(void)
{
	bool		found;

	root_shared = ShmemInitStruct("idgen root", sizeof(RootShared), &found);
	if (!found)
		pg_atomic_init_u64(&root_shared->opened_at, 0);
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
 * largest_grant
 *		The largest grant a node can lease of a tag in one call.
 */
static int64
largest_grant(const TagInfo *info)
{
	return grant_size(info, get_float8_infinity());
}

/*
 * range_text
 *		A range for a message: [lo, hi).
 */
static char *
range_text(IdRange r)
{
	return psprintf("[" INT64_FORMAT ", " INT64_FORMAT ")", r.lo, r.hi);
}

/*
 * ledger_exec
 *		Run one statement of the ledger's, registry's or key's SQL with
 *		arguments; the caller has connected to SPI as their owner.
 */
static int
ledger_exec(const char *sql, int nargs, Oid *argtypes, Datum *args)
{
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "idgen: could not run \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	return rc;
}

/*
 * spi_int8
 *		Column col (1-based) of row i of the last SPI result, as an int8.
 */
static int64
spi_int8(uint64 i, int col)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
									   SPI_tuptable->tupdesc, col, &isnull));
}

/*
 * spi_text
 *		Column col (1-based) of row i of the last SPI result, as a string
 *		(NULL when it is NULL).
 */
static char *
spi_text(uint64 i, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col);
}

/*
 * grant_keys
 *		This server's keys for the proofs of its grants, oldest first (the
 *		one new grants are signed with); one is made if there is none.
 *		Runs as the keys' owner, connected to SPI.
 */
static List *
grant_keys(void)
{
	List	   *keys = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	uint64		i;

	ledger_exec("SELECT key FROM idgen.grant_keys ORDER BY made_at, key",
				0, NULL, NULL);
	if (SPI_processed == 0)
	{
		uint8		fresh[GRANT_KEY_LEN];
		bytea	   *key = palloc(VARHDRSZ + sizeof(fresh));
		Oid			argtypes[1] = {BYTEAOID};
		Datum		args[1];

		if (!pg_strong_random(fresh, sizeof(fresh)))
			elog(ERROR, "idgen: could not generate a key for the proofs of grants");
		SET_VARSIZE(key, VARHDRSZ + sizeof(fresh));
		memcpy(VARDATA(key), fresh, sizeof(fresh));
		args[0] = PointerGetDatum(key);
		ledger_exec("INSERT INTO idgen.grant_keys (key) VALUES ($1)",
					1, argtypes, args);
		ledger_exec("SELECT key FROM idgen.grant_keys ORDER BY made_at, key",
					0, NULL, NULL);
	}
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i],
									  SPI_tuptable->tupdesc, 1, &isnull);
		MemoryContext old = MemoryContextSwitchTo(cxt);

		keys = lappend(keys, DatumGetByteaPCopy(d));
		MemoryContextSwitchTo(old);
	}
	return keys;
}

/*
 * grant_proof
 *		The proof of a grant of tag to node: the hex HMAC-SHA256 of tag,
 *		node and range under key.
 */
static char *
grant_proof(bytea *key, const char *tag, const char *node, IdRange range)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	char	   *message = psprintf("idgen grant\037%s\037%s\037" INT64_FORMAT
								   "\037" INT64_FORMAT, tag, node,
								   range.lo, range.hi);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(2 * sizeof(digest) + 1);

	if (ctx == NULL ||
		pg_hmac_init(ctx, (uint8 *) VARDATA_ANY(key),
					 VARSIZE_ANY_EXHDR(key)) < 0 ||
		pg_hmac_update(ctx, (uint8 *) message, strlen(message)) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "idgen: could not compute the proof of a grant: %s",
			 ctx ? pg_hmac_error(ctx) : "out of memory");
	pg_hmac_free(ctx);
	hex_encode((char *) digest, sizeof(digest), hex);
	hex[2 * sizeof(digest)] = '\0';
	return hex;
}

/*
 * refuse
 *		Record the verdict that refuses h: sqlstate, message, detail, hint,
 *		and whether the node must stop issuing from its grants of the tag.
 *		The first refusal stands.
 */
static void
refuse(Holdings *h, int sqlstate, bool stop, char *message, char *detail,
	   char *hint)
{
	if (h->refused != NULL)
		return;
	h->sqlstate = sqlstate;
	h->stop = stop;
	/* made under SPI, whose memory goes at SPI_finish */
	h->refused = MemoryContextStrdup(h->cxt, message);
	h->detail = MemoryContextStrdup(h->cxt, detail);
	h->hint = MemoryContextStrdup(h->cxt, hint);
}

/*
 * copy_hint
 *		The hint of every refusal that means two holders of the same IDs.
 */
static char *
copy_hint(void)
{
	return pstrdup("On the server that is the copy, set idgen.node_name to a name no other server uses, reload, and run SELECT idgen.become_new_node(); check both servers for IDs issued twice.");
}

/*
 * spi_timestamptz
 *		Column col (1-based) of row 0 of the last SPI result, as a
 *		timestamptz (0 when it is NULL).
 */
static TimestampTz
spi_timestamptz(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  col, &isnull);

	return isnull ? 0 : DatumGetTimestampTz(d);
}

/*
 * check_node
 *		The registry: node names belong to the role that used them first,
 *		and one server instance at a time holds a name (see the header
 *		comment): a new instance is a candidate, held back while the
 *		current one may still be alive, and takes the name over once the
 *		current one has been silent for NODE_TAKEOVER_SECS (a restart of
 *		the node); when both report, two servers share the name, and both
 *		are stopped until one has been silent that long.  Connected to SPI
 *		as the owner.
 */
static void
check_node(Holdings *h, const char *role)
{
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TIMESTAMPTZOID,
	TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[6];
	char		nulls[7] = "      ";
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz quiet = now - NODE_TAKEOVER_SECS * USECS_PER_SEC;
	char	   *owner;
	char	   *current;
	char	   *candidate;
	TimestampTz seen_at;
	TimestampTz candidate_since;
	TimestampTz candidate_seen_at;
	TimestampTz seen_before;
	bool		had_candidate;
	bool		both = false;
	bool		held = false;

	args[0] = CStringGetTextDatum(h->node);
	args[1] = CStringGetTextDatum(role);
	ledger_exec("INSERT INTO idgen.nodes (node, role) VALUES ($1, $2)"
				" ON CONFLICT DO NOTHING", 2, argtypes, args);
	ledger_exec("SELECT role, instance, seen_at, candidate, candidate_since,"
				" candidate_seen_at FROM idgen.nodes"
				" WHERE node OPERATOR(pg_catalog.=) $1 FOR UPDATE",
				1, argtypes, args);
	if (SPI_processed != 1)
		elog(ERROR, "idgen: node \"%s\" is not in idgen.nodes", h->node);
	owner = spi_text(0, 1);
	current = spi_text(0, 2);
	seen_at = spi_timestamptz(3);
	candidate = spi_text(0, 4);
	candidate_since = spi_timestamptz(5);
	candidate_seen_at = spi_timestamptz(6);
	seen_before = seen_at;
	had_candidate = candidate != NULL;

	if (strcmp(owner, role) != 0)
	{
		refuse(h, ERRCODE_INSUFFICIENT_PRIVILEGE, false,
			   psprintf("node name \"%s\" belongs to role \"%s\"", h->node,
						owner),
			   psprintf("Role \"%s\" leased grants under this name first; each node name belongs to one role.",
						owner),
			   pstrdup("Give each node a name of its own with idgen.node_name."));
		return;
	}
	if (h->instance[0] == '\0')
		return;

	if (current == NULL || seen_at < quiet ||
		strcmp(current, h->instance) == 0)
	{
		/* the current instance, or the name is free: it is current */
		if (current != NULL && strcmp(current, h->instance) != 0)
			candidate = NULL;
		else if (candidate != NULL && candidate_seen_at >= quiet &&
				 candidate_seen_at > candidate_since)
			both = true;		/* the candidate reported twice meanwhile */
		else if (candidate != NULL && candidate_seen_at < quiet)
			candidate = NULL;	/* the candidate went away */
		current = pstrdup(h->instance);
		seen_at = now;
	}
	else if (candidate != NULL && strcmp(candidate, h->instance) == 0)
	{
		/* the candidate again, while the current one is alive */
		candidate_seen_at = now;
		if (seen_at > candidate_since)
			both = true;
		else
			held = true;
	}
	else
	{
		/* a new instance while the current one may be alive: a candidate */
		candidate = pstrdup(h->instance);
		candidate_since = now;
		candidate_seen_at = now;
		held = true;
	}

	/*
	 * The current instance again, soon after its last report, with nothing
	 * else changed: no write (a node reports every tag every few seconds).
	 */
	if (!held && !both && candidate == NULL &&
		!had_candidate && strcmp(current, h->instance) == 0 &&
		seen_before >= now - USECS_PER_SEC)
		return;
	args[1] = CStringGetTextDatum(current);
	args[2] = TimestampTzGetDatum(seen_at);
	args[3] = candidate ? CStringGetTextDatum(candidate) : (Datum) 0;
	args[4] = TimestampTzGetDatum(candidate_since);
	args[5] = TimestampTzGetDatum(candidate_seen_at);
	nulls[3] = nulls[4] = nulls[5] = candidate ? ' ' : 'n';
	if (SPI_execute_with_args("UPDATE idgen.nodes SET instance = $2, seen_at = $3,"
							  " candidate = $4, candidate_since = $5,"
							  " candidate_seen_at = $6"
							  " WHERE node OPERATOR(pg_catalog.=) $1",
							  6, argtypes, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "idgen: could not update idgen.nodes");

	if (both)
		refuse(h, ERRCODE_DUPLICATE_OBJECT, true,
			   psprintf("two servers lease grants as node \"%s\"", h->node),
			   psprintf("Server instances %s and %s both reported under this name: one of them is a copy of the other (pg_basebackup, a restored backup, or a standby promoted while its primary runs), and both hold the same grants.",
						current, candidate),
			   copy_hint());
	else if (held)
	{
		refuse(h, ERRCODE_OBJECT_IN_USE, false,
			   psprintf("another server instance reported as node \"%s\" in the last %d s",
						h->node, NODE_TAKEOVER_SECS),
			   psprintf("This instance may issue IDs from the node's grants once that one has been silent for %d s (a restart of the node), not while it reports (a copy).",
						NODE_TAKEOVER_SECS),
			   pstrdup("Wait; if this server is a copy of the node, give it a new identity with idgen.become_new_node()."));
		h->hold = true;
	}
}

/*
 * check_held
 *		Each grant the node proves it holds: recorded again when the ledger
 *		lost it, refused when it overlaps what the ledger shows for someone
 *		else; *raise_to is raised to the top of every one.  Connected to SPI
 *		as the owner.
 */
static void
check_held(Holdings *h, List *keys, int64 *raise_to)
{
	Oid			argtypes[4] = {TEXTOID, INT8OID, INT8OID, TEXTOID};
	Datum		args[4];
	int			i;

	args[0] = CStringGetTextDatum(NameStr(h->tag));
	args[3] = CStringGetTextDatum(h->node);
	for (i = 0; i < h->nheld && h->refused == NULL; i++)
	{
		IdRange		r = h->held[i];
		bool		mine = false;
		bool		unconfirmed = false;
		uint64		j;

		bool		proven = false;
		ListCell   *lc;

		foreach(lc, keys)
			proven |= strcmp(grant_proof((bytea *) lfirst(lc),
										 NameStr(h->tag), h->node, r),
							 h->proofs[i]) == 0;
		if (!proven)
		{
			refuse(h, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, true,
				   psprintf("grant %s of tag \"%s\" held by node \"%s\" was not granted by this server",
							range_text(r), NameStr(h->tag), h->node),
				   pstrdup("Its proof does not verify with any of this server's keys (idgen.grant_keys)."),
				   pstrdup("Check that idgen.root on the node names the server it leased the grant from; a node keeps its grants under the name it leased them with."));
			break;
		}
		/* proven: whatever the ledger says, nothing below its top is granted */
		*raise_to = Max(*raise_to, r.hi - 1);
		args[1] = Int64GetDatum(r.lo);
		args[2] = Int64GetDatum(r.hi);
		ledger_exec("SELECT node, pg_catalog.lower(range),"
					" pg_catalog.upper(range), kind, held_since IS NULL"
					" FROM idgen.grants WHERE tag OPERATOR(pg_catalog.=) $1"
					" AND range OPERATOR(pg_catalog.&&) pg_catalog.int8range($2, $3)"
					" ORDER BY 2", 3, argtypes, args);
		for (j = 0; j < SPI_processed; j++)
		{
			char	   *node = spi_text(j, 1);
			IdRange		row = {spi_int8(j, 2), spi_int8(j, 3)};
			char	   *kind = spi_text(j, 4);
			bool		same = strcmp(node, h->node) == 0 &&
				row.lo == r.lo && row.hi == r.hi;

			if (same && strcmp(kind, "lost") == 0)
				refuse(h, ERRCODE_DUPLICATE_OBJECT, true,
					   psprintf("node \"%s\" holds grant %s of tag \"%s\", which this server recorded as lost",
								h->node, range_text(r), NameStr(h->tag)),
					   psprintf("Another server reported under the name \"%s\" without it, after a later grant: two servers share this node name (one is a copy).",
								h->node),
					   copy_hint());
			else if (same)
			{
				mine = true;
				unconfirmed = strcmp(spi_text(j, 5), "t") == 0;
			}
			else
				refuse(h, ERRCODE_UNIQUE_VIOLATION, true,
					   psprintf("grant %s of tag \"%s\" held by node \"%s\" overlaps %s %s node \"%s\"",
								range_text(r), NameStr(h->tag), h->node,
								range_text(row),
								strcmp(kind, "adopted") == 0 ?
								"adopted from" : "granted to",
								node),
					   pstrdup("This server went back (restored from a backup, recovered to an earlier point, or failed over to a standby that had not received the grant) and granted these IDs again before the holder reported: both nodes may issue the same IDs."),
					   copy_hint());
		}
		if (h->refused != NULL)
			break;
		h->wrote |= unconfirmed || !mine;
		if (unconfirmed)
			ledger_exec("UPDATE idgen.grants SET held_since = pg_catalog.now()"
						" WHERE tag OPERATOR(pg_catalog.=) $1"
						" AND range OPERATOR(pg_catalog.=) pg_catalog.int8range($2, $3)",
						3, argtypes, args);
		if (!mine)
		{
			ledger_exec("INSERT INTO idgen.grants (tag, node, range, kind, held_since)"
						" VALUES ($1, $4, pg_catalog.int8range($2, $3), 'healed',"
						" pg_catalog.now())",
						4, argtypes, args);
			h->healed++;
			ereport(LOG,
					(errmsg("idgen: node \"%s\" holds grant %s of tag \"%s\", which this server had no record of",
							h->node, range_text(r), NameStr(h->tag)),
					 errdetail("This server went back (restored from a backup, recovered to an earlier point, or failed over to an asynchronous standby); the grant is recorded again.")));
		}
	}
}

/*
 * check_chain
 *		The node's highest grant must be the last one the ledger shows for
 *		its name; see the header comment.  Connected to SPI as the owner.
 */
static void
check_chain(Holdings *h)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	IdRange		top = h->held[0];
	IdRange		latest;
	int			i;

	for (i = 1; i < h->nheld; i++)
		if (h->held[i].lo > top.lo)
			top = h->held[i];
	args[0] = CStringGetTextDatum(NameStr(h->tag));
	args[1] = CStringGetTextDatum(h->node);
	ledger_exec("SELECT pg_catalog.lower(range), pg_catalog.upper(range),"
				" held_since IS NULL FROM idgen.grants"
				" WHERE tag OPERATOR(pg_catalog.=) $1"
				" AND node OPERATOR(pg_catalog.=) $2"
				" AND kind OPERATOR(pg_catalog.=) ANY ('{grant,healed}')"
				" ORDER BY 1 DESC LIMIT 2", 2, argtypes, args);
	if (SPI_processed == 0)
		return;
	latest.lo = spi_int8(0, 1);
	latest.hi = spi_int8(0, 2);
	if (latest.lo <= top.lo)
		return;

	/*
	 * The node does not hold the last grant: lost, if no server ever said it
	 * held it and the node holds the one before; another holder otherwise.
	 */
	if (strcmp(spi_text(0, 3), "t") == 0 && SPI_processed == 2 &&
		spi_int8(1, 1) == top.lo && spi_int8(1, 2) == top.hi)
	{
		Oid			types[3] = {TEXTOID, INT8OID, INT8OID};
		Datum		vals[3];

		ereport(LOG,
				(errmsg("idgen: grant %s of tag \"%s\" to node \"%s\" is lost",
						range_text(latest), NameStr(h->tag), h->node),
				 errdetail("The node reports the grant before it as its last, and no server reported holding this one: the node never recorded it. Its IDs are never granted again.")));
		vals[0] = args[0];
		vals[1] = Int64GetDatum(latest.lo);
		vals[2] = Int64GetDatum(latest.hi);
		h->wrote = true;
		ledger_exec("UPDATE idgen.grants SET kind = 'lost'"
					" WHERE tag OPERATOR(pg_catalog.=) $1"
					" AND range OPERATOR(pg_catalog.=) pg_catalog.int8range($2, $3)",
					3, types, vals);
		return;
	}
	refuse(h, ERRCODE_DUPLICATE_OBJECT, true,
		   psprintf("node \"%s\" does not hold grant %s of tag \"%s\" that this server leased to it",
					h->node, range_text(latest), NameStr(h->tag)),
		   psprintf("It holds grants up to %s only: another server leases under this node name (a copy that lags, or two servers sharing it).",
					range_text(top)),
		   copy_hint());
}

/*
 * check_local
 *		A tag that issued IDs from its own sequence before it took them from
 *		this server (h->local): adopt them if they lie above everything this
 *		server issued and within one grant, or below the tag's start;
 *		refuse otherwise.  Connected to SPI as the owner.
 */
static void
check_local(Holdings *h, const TagInfo *info, int64 mark, int64 *raise_to)
{
	Oid			argtypes[4] = {TEXTOID, INT8OID, INT8OID, TEXTOID};
	Datum		args[4];
	IdRange		l = h->local;
	char	   *ids = psprintf("IDs " INT64_FORMAT " to " INT64_FORMAT,
							   l.lo, l.hi - 1);

	if (RANGE_SIZE(l) <= 0 || l.hi - 1 < info->start)
		return;

	args[0] = CStringGetTextDatum(NameStr(h->tag));
	args[1] = Int64GetDatum(l.lo);
	args[2] = Int64GetDatum(l.hi);
	args[3] = CStringGetTextDatum(h->node);
	ledger_exec("SELECT FROM idgen.grants WHERE tag OPERATOR(pg_catalog.=) $1"
				" AND node OPERATOR(pg_catalog.=) $4 AND kind = 'adopted'"
				" AND range OPERATOR(pg_catalog.=) pg_catalog.int8range($2, $3)",
				4, argtypes, args);
	if (SPI_processed > 0)
		return;					/* adopted already */

	if (l.lo <= mark)
		refuse(h, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, false,
			   psprintf("%s of tag \"%s\", issued on node \"%s\" before the tag took its IDs from this server, may have been issued here too",
						ids, NameStr(h->tag), h->node),
			   psprintf("This server has issued or granted IDs of the tag up to " INT64_FORMAT ".",
						mark),
			   pstrdup("On the node, keep the tag local and create a new tag with source => 'root' for new rows; IDs issued on both servers cannot be told apart."));
	else if (l.hi - 1 - mark > largest_grant(info))
		refuse(h, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, false,
			   psprintf("%s of tag \"%s\", issued on node \"%s\" before the tag took its IDs from this server, are more than one grant",
						ids, NameStr(h->tag), h->node),
			   psprintf("A node may make this server pass over at most " INT64_FORMAT " IDs, as many as one grant.",
						largest_grant(info)),
			   psprintf("On this server, the tag's owner can raise its start above them: SELECT idgen.alter_tag('%s', start => " INT64_FORMAT ").",
						NameStr(h->tag), l.hi));
	else
	{
		ledger_exec("INSERT INTO idgen.grants (tag, node, range, kind)"
					" VALUES ($1, $4, pg_catalog.int8range($2, $3), 'adopted')",
					4, argtypes, args);
		h->wrote = true;
		*raise_to = Max(*raise_to, l.hi - 1);
	}
}

/*
 * check_mark
 *		A node's mark of a tag never goes back: one below the mark the node
 *		reported before, of the same incarnation of the tag there, comes
 *		from another server under its name.  Records the mark otherwise.
 *		Connected to SPI as the owner.
 */
static void
check_mark(Holdings *h)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, INT8OID};
	Datum		args[4];

	if (h->incarnation[0] == '\0')
		return;
	args[0] = CStringGetTextDatum(NameStr(h->tag));
	args[1] = CStringGetTextDatum(h->node);
	args[2] = CStringGetTextDatum(h->incarnation);
	args[3] = Int64GetDatum(h->mark);
	ledger_exec("SELECT mark FROM idgen.node_marks"
				" WHERE tag OPERATOR(pg_catalog.=) $1"
				" AND node OPERATOR(pg_catalog.=) $2"
				" AND incarnation OPERATOR(pg_catalog.=) $3"
				" AND mark OPERATOR(pg_catalog.>=) $4", 4, argtypes, args);
	/* the same mark as before: nothing to write (most reports) */
	if (SPI_processed > 0 && spi_int8(0, 1) == h->mark)
		return;
	if (SPI_processed > 0)
	{
		refuse(h, ERRCODE_DUPLICATE_OBJECT, true,
			   psprintf("node \"%s\" reports the high-water mark " INT64_FORMAT " of tag \"%s\", below the " INT64_FORMAT " it reported before",
						h->node, h->mark, NameStr(h->tag), spi_int8(0, 1)),
			   psprintf("A node's mark never goes back: another server leases under the name \"%s\" (a copy made with pg_basebackup, a restored backup, or a standby promoted while its primary runs, or after an asynchronous failover).",
						h->node),
			   copy_hint());
		return;
	}
	ledger_exec("INSERT INTO idgen.node_marks (tag, node, incarnation, mark, reported_at)"
				" VALUES ($1, $2, $3, $4, pg_catalog.now())"
				" ON CONFLICT (tag, node) DO UPDATE"
				" SET incarnation = excluded.incarnation, mark = excluded.mark,"
				" reported_at = excluded.reported_at", 4, argtypes, args);
}

/*
 * holdings_check
 *		Everything a report or a lease request of node h->node says, under
 *		the tag's claim lock: the registry, the grants it holds, the IDs it
 *		issued before it took them from here; raise the tag's mark above
 *		them.  The lock is held to the end of the transaction, so that the
 *		ledger does not change before the grant (keep_lock) or before what
 *		was written here commits; a report that changed neither the ledger
 *		nor the mark releases it at once, so that reports do not queue for
 *		each other's commits.  Returns the mark, with the verdict in h.
 */
static int64
holdings_check(Holdings *h, const TagInfo *info, bool keep_lock)
{
	OwnerContext as_owner;
	char	   *role = GetUserNameFromId(GetUserId(), false);
	int64		mark;
	int64		raise_to;
	List	   *keys;

	if (!durable_lock(info->seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" was dropped", NameStr(info->name))));
	mark = durable_read(info->seqoid);
	raise_to = mark;

	idgen_spi_connect_as_owner(idgen_table_oid("grants"), &as_owner);
	keys = grant_keys();
	check_node(h, role);
	if (h->refused == NULL)
		check_mark(h);
	if (h->refused == NULL && h->nheld > 0)
	{
		check_held(h, keys, &raise_to);
		if (h->refused == NULL)
			check_chain(h);
	}
	if (h->refused == NULL)
		check_local(h, info, raise_to, &raise_to);
	idgen_spi_finish_as_owner(&as_owner);

	/* above proven grants even when refused: never granted a third time */
	if (raise_to > mark)
	{
		h->wrote = true;
		durable_advance(info->seqoid, raise_to);
		if (idgen_preloaded)
			slot_reset_at_commit(info->seqoid);
		ereport(LOG,
				(errmsg("idgen: raised the high-water mark of tag \"%s\" from " INT64_FORMAT " to " INT64_FORMAT " for what node \"%s\" holds",
						NameStr(info->name), mark, raise_to, h->node)));
		mark = raise_to;
	}
	if (!keep_lock && !h->wrote)
		durable_unlock(info->seqoid);
	return mark;
}

/*
 * ledger_insert
 *		Record a grant in idgen.grants, as the ledger's owner.
 */
static void
ledger_insert(const Holdings *h, IdRange grant)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, INT8OID, INT8OID, NAMEOID};
	Datum		args[5];
	OwnerContext as_owner;
	NameData	session_role;

	namestrcpy(&session_role, GetUserNameFromId(GetSessionUserId(), false));
	args[0] = CStringGetTextDatum(NameStr(h->tag));
	args[1] = CStringGetTextDatum(h->node);
	args[2] = Int64GetDatum(grant.lo);
	args[3] = Int64GetDatum(grant.hi);
	args[4] = NameGetDatum(&session_role);
	idgen_spi_connect_as_owner(idgen_table_oid("grants"), &as_owner);
	if (ledger_exec("INSERT INTO idgen.grants (tag, node, range, granted_to)"
					" VALUES ($1, $2, pg_catalog.int8range($3, $4), $5)",
					5, argtypes, args) != SPI_OK_INSERT)
		elog(ERROR, "idgen: could not record a grant in idgen.grants");
	idgen_spi_finish_as_owner(&as_owner);
}

/*
 * proof_of
 *		The proof of a grant made here, as the key's owner.
 */
static char *
proof_of(const Holdings *h, IdRange grant)
{
	OwnerContext as_owner;
	char	   *proof;
	MemoryContext cxt = CurrentMemoryContext;

	idgen_spi_connect_as_owner(idgen_table_oid("grant_keys"), &as_owner);
	{
		bytea	   *key = (bytea *) linitial(grant_keys());
		MemoryContext old = MemoryContextSwitchTo(cxt);

		proof = grant_proof(key, NameStr(h->tag), h->node, grant);
		MemoryContextSwitchTo(old);
	}
	idgen_spi_finish_as_owner(&as_owner);
	return proof;
}

/*
 * range_of
 *		An int8range datum's bounds as an IdRange ([0, 0) when empty).
 */
static IdRange
range_of(Datum value)
{
	TypeCacheEntry *typcache = lookup_type_cache(INT8RANGEOID,
												 TYPECACHE_RANGE_INFO);
	RangeBound	lower;
	RangeBound	upper;
	bool		empty;
	IdRange		r = {0, 0};

	range_deserialize(typcache, DatumGetRangeTypeP(value), &lower, &upper,
					  &empty);
	if (empty || lower.infinite || upper.infinite)
	{
		if (!empty)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a range of IDs must have both bounds")));
		return r;
	}
	/* int8range is canonical: [lo, hi) */
	r.lo = DatumGetInt64(lower.val);
	r.hi = DatumGetInt64(upper.val);
	return r;
}

/*
 * holdings_read
 *		The arguments common to report_holdings and lease_grant: tag (0),
 *		node (1), and from instance_arg on: instance, incarnation, mark,
 *		held and proofs.
 *		Validates them and looks the tag up; returns its slot index.
 */
static int
holdings_read(FunctionCallInfo fcinfo, int instance_arg, Holdings *h,
			  TagInfo *info, const char *function)
{
	int			held_arg = instance_arg + 3;
	text	   *node = PG_GETARG_TEXT_PP(1);
	int			len = VARSIZE_ANY_EXHDR(node);
	ArrayType  *held = PG_GETARG_ARRAYTYPE_P(held_arg);
	ArrayType  *proofs = PG_GETARG_ARRAYTYPE_P(held_arg + 1);
	Datum	   *held_d;
	Datum	   *proof_d;
	bool	   *held_n;
	bool	   *proof_n;
	int			nproofs;
	int			i;
	SubTransactionId created;
	uint32		generation;

	idgen_check_preloaded();
	PreventCommandIfReadOnly(psprintf("%s()", function));
	memset(h, 0, sizeof(Holdings));
	h->cxt = CurrentMemoryContext;
	tag_check_name(PG_GETARG_TEXT_PP(0), &h->tag);
	if (len == 0 || len >= NAMEDATALEN ||
		memchr(VARDATA_ANY(node), '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node name \"%s\"", text_to_cstring(node)),
				 errhint("Node names are 1 to %d bytes long.",
						 NAMEDATALEN - 1)));
	h->node = text_to_cstring(node);
	h->instance = text_to_cstring(PG_GETARG_TEXT_PP(instance_arg));
	h->incarnation = text_to_cstring(PG_GETARG_TEXT_PP(instance_arg + 1));
	h->mark = PG_GETARG_INT64(instance_arg + 2);

	deconstruct_array(held, INT8RANGEOID, -1, false, TYPALIGN_DOUBLE,
					  &held_d, &held_n, &h->nheld);
	deconstruct_array(proofs, TEXTOID, -1, false, TYPALIGN_INT,
					  &proof_d, &proof_n, &nproofs);
	if (nproofs != h->nheld)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s() needs one proof for each grant held", function),
				 errdetail("%d grants and %d proofs were given.", h->nheld,
						   nproofs)));
	h->held = palloc(sizeof(IdRange) * Max(h->nheld, 1));
	h->proofs = palloc(sizeof(char *) * Max(h->nheld, 1));
	for (i = 0; i < h->nheld; i++)
	{
		if (held_n[i] || proof_n[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("grants held and their proofs cannot be null")));
		h->held[i] = range_of(held_d[i]);
		if (RANGE_SIZE(h->held[i]) <= 0 || h->held[i].lo < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid grant held %s",
							range_text(h->held[i]))));
		h->proofs[i] = TextDatumGetCString(proof_d[i]);
	}

	created = tag_lookup(&h->tag, info);
	if (info->kind != TAG_SEGMENT)
		tag_wrong_kind(info, function);
	tag_check_usage(info);
	if (info->ordered)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot lease grants of ordered tag \"%s\"",
						NameStr(h->tag)),
				 errdetail("Its watermark follows this server's transactions only; IDs granted to other servers would commit behind it."),
				 errhint("Lease grants of a tag that is not ordered.")));
	/* the first answer to a node, out of recovery, opens the grace period */
	{
		uint64		zero = 0;

		(void) pg_atomic_compare_exchange_u64(&root_shared->opened_at, &zero,
											  (uint64) GetCurrentTimestamp());
	}
	return slot_attach(info->seqoid, &h->tag, created, &generation);
}

/*
 * idgen_report_holdings
 *		report_holdings(tag, node, instance, incarnation, mark, held,
 *		proofs): what a node
 *		holds of a tag; the mark is raised above it.  Returns the refusal
 *		(NULL if none), whether the node must stop issuing from its grants
 *		of the tag or wait before it does, how many grants the ledger had
 *		lost, and this server's WAL position.
 */
Datum
idgen_report_holdings(PG_FUNCTION_ARGS)
{
	Holdings	h;
	TagInfo		info;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	idgen_check_not_parallel("idgen.report_holdings");
	(void) holdings_read(fcinfo, 2, &h, &info, "idgen.report_holdings");
	(void) holdings_check(&h, &info, false);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (h.refused != NULL)
	{
		ereport(WARNING,
				(errcode(h.sqlstate),
				 errmsg("%s", h.refused),
				 errdetail("%s", h.detail),
				 errhint("%s", h.hint)));
		values[0] = CStringGetTextDatum(psprintf("%s. %s", h.refused,
												 h.detail));
	}
	else
		nulls[0] = true;
	values[1] = BoolGetDatum(h.stop);
	values[2] = BoolGetDatum(h.hold);
	/* a refusal rolls nothing back here: what was healed stays */
	values[3] = Int32GetDatum(h.healed);
	values[4] = LSNGetDatum(GetXLogInsertRecPtr());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * idgen_lease_grant
 *		lease_grant(tag, node, ids_per_second, instance, incarnation, mark,
 *		held, proofs, local_ids): the next grant of a tag for the named node,
 *		above what it holds, sized for its rate, durable and in the ledger;
 *		see the header comment.  Returns the grant, its proof and this
 *		server's WAL position.
 */
Datum
idgen_lease_grant(PG_FUNCTION_ARGS)
{
	double		rate = PG_GETARG_FLOAT8(2);
	Holdings	h;
	TagInfo		info;
	int			index;
	int64		size;
	IdRange		grant;
	int64		left;
	TimestampTz opened;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	idgen_check_not_parallel("idgen.lease_grant");
	PreventInTransactionBlock(true, "idgen.lease_grant()");
	if (isnan(rate) || rate < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid rate %g IDs per second", rate),
				 errhint("The rate is zero or more; zero when unknown.")));
	index = holdings_read(fcinfo, 3, &h, &info, "idgen.lease_grant");
	h.local = range_of(PG_GETARG_DATUM(8));
	if (RANGE_SIZE(h.local) > 0 && h.local.lo < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid range of local IDs %s", range_text(h.local))));

	/* the grace period: nodes report what they hold before any grant */
	opened = (TimestampTz) pg_atomic_read_u64(&root_shared->opened_at);
	for (;;)
	{
		long		grace_left = grant_grace_secs * 1000L -
			TimestampDifferenceMilliseconds(opened, GetCurrentTimestamp());

		if (grace_left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 grace_left, idgen_wait_event(IDGEN_WAIT_GRANT_GRACE));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	(void) holdings_check(&h, &info, true);
	if (h.refused != NULL)
		ereport(ERROR,
				(errcode(h.sqlstate),
				 errmsg("%s", h.refused),
				 errdetail("%s", h.detail),
				 errhint("%s", h.hint)));

	size = grant_size(&info, rate);
	if (!tag_claim(&info, index, size, false, &grant, &left))
	{
		/* a regional node's tag: its own grants are used up */
		supply_run_out(&info, size, false, 0, 0);
	}
	ledger_insert(&h, grant);

	/* the ledger row is durable (and replicated) before the node sees it */
	(void) set_config_option("synchronous_commit", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = idgen_range_datum(grant);
	values[1] = CStringGetTextDatum(proof_of(&h, grant));
	values[2] = LSNGetDatum(GetXLogInsertRecPtr());
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * raise_one
 *		Raise one segment tag's mark to at least above (at most its
 *		maxvalue: every ID of the tag is then taken), as its owner may;
 *		returns its mark before, and sets *after.
 */
static int64
raise_one(const NameData *name, int64 above, int64 *after)
{
	TagInfo		info;
	int64		mark;
	int64		target;

	(void) tag_lookup(name, &info);
	if (info.kind != TAG_SEGMENT)
		tag_wrong_kind(&info, "idgen.raise_marks");
	tag_check_owner(&info);
	if (!durable_lock(info.seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" was dropped", NameStr(*name))));
	mark = durable_read(info.seqoid);
	target = Min(above, info.maxvalue);
	*after = mark;
	if (mark < target)
	{
		durable_advance(info.seqoid, target);
		slot_reset_at_commit(info.seqoid);
		*after = target;
	}
	return mark;
}

/*
 * idgen_raise_marks
 *		raise_marks(above, tag): raise the mark of tag, or of every segment
 *		tag the caller owns, to at least above, durably; one row per tag
 *		with its mark before and after.
 */
Datum
idgen_raise_marks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	List	   *names = NIL;
	ListCell   *lc;
	int64		above;

	idgen_check_not_parallel("idgen.raise_marks");
	idgen_check_preloaded();
	PreventCommandIfReadOnly("idgen.raise_marks()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the value to raise marks to cannot be null")));
	above = PG_GETARG_INT64(0);
	InitMaterializedSRF(fcinfo, 0);

	if (!PG_ARGISNULL(1))
	{
		NameData   *name = palloc(sizeof(NameData));

		tag_check_name(PG_GETARG_TEXT_PP(1), name);
		names = list_make1(name);
	}
	else
		names = tag_owned_segment_tags();

	foreach(lc, names)
	{
		NameData   *name = (NameData *) lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int64		after;

		values[1] = Int64GetDatum(raise_one(name, above, &after));
		values[0] = CStringGetTextDatum(NameStr(*name));
		values[2] = Int64GetDatum(after);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}

/*
 * idgen_grants_blocked
 *		grants_blocked(): why this server cannot grant now, or NULL: in
 *		recovery, or cut off from the synchronous standbys it needs.  The
 *		runway worker of a node asks it of each server of idgen.root, to
 *		lease from the one that can.
 */
Datum
idgen_grants_blocked(PG_FUNCTION_ARGS)
{
	const char *why = durable_blocked();

	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}
