/*-------------------------------------------------------------------------
 *
 * runway.c
 *	  The runway of a node, as backends see it: its settings, its shared
 *	  state, and what backends ask of the runway worker (wait for a grant,
 *	  check a tag before a claim, the error of a tag whose grants are used
 *	  up, idgen.runway).  The worker's rounds are in runway_worker.c, its
 *	  connection to the root in uplink.c.
 *
 * Settings.  idgen.root is the libpq connection string of the server
 * above (the root, or a regional node).  PostgreSQL logs every change of
 * a setting at a reload, value included, and members of
 * pg_read_all_settings can read it, so it must not hold a password: the
 * worker refuses one there, and takes it from a password file (libpq's
 * passfile, by default ~/.pgpass of the server's OS user).  A connection
 * string libpq cannot parse is reported without its contents.  The worker
 * is registered at server start when idgen.root is set then; later
 * changes take effect at a reload (the worker reconnects).  It serves the
 * tags of one database, idgen.node_database, as the bootstrap superuser,
 * with search_path set to pg_catalog, pg_temp and every query qualified,
 * and only once schema idgen there belongs to the extension: the owner of
 * that database cannot make it run code of theirs.  The node asks for
 * grants under the name idgen.node_name (by default the server's system
 * identifier), and tells which server instance it is (a random token made
 * at every start of the postmaster), so that the root can tell two servers
 * under one name apart; idgen.node_name is defined in lease.c, with the
 * grants it names.
 *
 * Runway.  Every round (each second, or at once when a backend asks) the
 * worker reads each root-sourced tag's mark and the grants held above it
 * (lease.c), estimates the tag's rate from how fast its grants are
 * consumed, and leases grants, one at a time, while the tag holds fewer
 * than idgen.runway_grants grants with IDs left, or fewer IDs than
 * idgen.runway seconds at that rate.  Each grant is leased with
 * idgen.lease_grant() on the root, which returns it only once it is
 * durable there and in the root's ledger, and then inserted into
 * idgen.leases and committed (synchronous_commit is on in the worker, so
 * the commit flushes WAL and waits for synchronous standbys) before any
 * backend can claim from it.  So backends do not wait for the network in
 * the normal case: they claim from grants already held.
 *
 * Self-healing.  Before each lease, and every RUNWAY_REPORT_SECS for every
 * tag, the worker reports what the node holds (idgen.report_holdings: its
 * highest grants with the root's proofs of them) so that a root that went
 * back raises its mark above them (root.c), and each lease request
 * carries the same, and the IDs a tag issued from its own sequence before
 * it was switched to source root.  A grant that does not lie above every
 * ID the node holds is refused here, with a log line.  Each grant comes
 * with the root's WAL position; a root later seen behind a position it
 * showed has gone back, which is logged.  When the root answers that the
 * node's grants of a tag may also be held by another server (a copy of
 * this node, or a grant given twice), the tag is stopped: its claims fail
 * (runway_check_tag) until a report is accepted again.  After a start of
 * the worker (a start or crash of the server), claims of a tag wait until
 * it has been reported once, so that a copy of this node is stopped
 * before it issues anything; not when the root cannot be reached.
 *
 * Failure.  When the root cannot be reached the worker keeps retrying
 * with a backoff (1 s doubling to RUNWAY_MAX_BACKOFF_MS) and logs one
 * line per change of state, not one per retry; backends go on claiming
 * from the grants held.  A root's refusal of a tag is kept with the tag
 * and logged when it changes.  A backend whose tag has no grant left asks
 * the worker for one round and waits for it (a new tag's first grant),
 * unless the worker already knows the root is unreachable or refuses the
 * tag; then it fails with runway_exhausted's error (SQLSTATE 08006, with
 * the reason).  Leasing resumes by itself when the root is back.  An
 * error of the worker's own (a tag whose sequence was dropped by hand) is
 * logged once while it persists, and spares the other tags.
 *
 * Locking protocol (for everything in RunwayShared):
 *	- runway_lock (a named LWLock, "idgen runway") protects every field; it is
 *	  held only to copy a few fields or the tag array, never across I/O,
 *	  SPI or anything that can raise an error, and no other idgen lock is
 *	  taken while holding it.  The worker is the only writer of tags[],
 *	  ntags, renewals_seen and instance (set once at shared memory
 *	  initialisation), so it may read them without the lock; backends
 *	  write renewals only.
 *	- round_cv is broadcast by the worker after each round; waiters need no
 *	  lock to sleep on it (worker_wait_for, worker.c).
 *	- The worker-side code of this protocol is in uplink.c (state,
 *	  last_error) and runway_worker.c (everything else).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "base.h"
#include "lease.h"
#include "runway.h"
#include "runway_state.h"
#include "supply.h"
#include "tag.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(idgen_runway_status);

char	   *runway_root = NULL;
char	   *runway_database = NULL;
int			runway_seconds = 3600;
int			runway_grants = 2;

RunwayShared *runway = NULL;
LWLock	   *runway_lock = NULL;

static bool runway_wait_for_grant(const NameData *tag);
static void runway_check_tag(const TagInfo *info);
static void runway_renew(void);
IDGEN_NORETURN_BEGIN static void runway_exhausted(const TagInfo *info,
												  int64 n) IDGEN_NORETURN_END;

/* what the catalog, the pools and the grants held ask of the runway */
static const SupplyCallbacks runway_supply = {
	.check_tag = runway_check_tag,
	.wait_for_grant = runway_wait_for_grant,
	.exhausted = runway_exhausted,
	.renewed = runway_renew,
};

/*
 * runway_define_settings
 *		Define the settings of many servers (idgen.node_name with the
 *		grants it names, in lease.c), and have the catalog, the pools and
 *		the grants held ask the runway about tags of source 'root'
 *		(supply.c); from _PG_init.
 */
void
runway_define_settings(void)
{
	supply_register(&runway_supply);
	lease_define_settings();
	DefineCustomStringVariable("idgen.root",
							   "Connection string of the server this node leases grants from.",
							   "Empty: this server leases nothing. Set it before the server starts to run the runway worker; later changes take effect at a reload. Never put a password here: use a password file.",
							   &runway_root,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("idgen.node_database",
							   "Database whose tags of source root the runway worker serves.",
							   NULL,
							   &runway_database,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.runway",
							"Seconds of IDs, at each tag's current rate, that a node keeps in grants ahead of need.",
							NULL,
							&runway_seconds,
							3600,
							0,
							INT_MAX / 1000,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.runway_grants",
							"Fewest grants with IDs left that a node keeps per tag of source root.",
							NULL,
							&runway_grants,
							2,
							1,
							1000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/*
 * runway_shmem_size
 *		Bytes of the shared state.
 */
static Size
runway_shmem_size(void)
{
	return add_size(offsetof(RunwayShared, tags),
					mul_size(sizeof(RunwayTag), idgen_max_tags));
}

/*
 * runway_shmem_request
 *		Ask for the shared state and its lock; from the shmem_request_hook.
 */
void
runway_shmem_request(void)
{
	RequestAddinShmemSpace(runway_shmem_size());
	RequestNamedLWLockTranche(RUNWAY_TRANCHE, 1);
}

/*
 * runway_shmem_startup
 *		Attach to (and, the first time, initialise) the shared state, with
 *		a new instance token: each start of the postmaster (and each
 *		restart after a crash) is a new instance of the node.  Called with
 *		AddinShmemInitLock held.
 */
void
runway_shmem_startup(void)
{
	bool		found;
	uint8		random[(RUNWAY_INSTANCE_LEN - 1) / 2];

	runway = ShmemInitStruct("idgen runway", runway_shmem_size(), &found);
	runway_lock = &(GetNamedLWLockTranche(RUNWAY_TRANCHE))->lock;
	if (found)
		return;
	memset(runway, 0, runway_shmem_size());
	runway->state = RUNWAY_ABSENT;
	ConditionVariableInit(&runway->round_cv);
	if (!pg_strong_random(random, sizeof(random)))
		elog(FATAL, "idgen: could not generate a random instance token");
	hex_encode((char *) random, sizeof(random), runway->instance);
	runway->instance[RUNWAY_INSTANCE_LEN - 1] = '\0';
}

/*
 * runway_register_worker
 *		Register the runway worker if idgen.root is set; from _PG_init in
 *		the postmaster.
 */
void
runway_register_worker(void)
{
	BackgroundWorker worker;

	if (runway_root == NULL || runway_root[0] == '\0')
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* a missing idgen.node_database fails it at start: retry calmly */
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "idgen");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "idgen_runway_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "idgen runway worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "idgen runway worker");
	RegisterBackgroundWorker(&worker);
}

/*
 * find_tag
 *		Copy the worker's entry of a tag of this database into *t; false if
 *		it has none.  Caller holds runway_lock.
 */
static bool
find_tag(const NameData *name, RunwayTag *t)
{
	if (runway->dboid != MyDatabaseId)
		return false;
	for (int i = 0; i < runway->ntags; i++)
		if (strcmp(NameStr(runway->tags[i].tag), NameStr(*name)) == 0)
		{
			*t = runway->tags[i];
			return true;
		}
	return false;
}

/*
 * round_done
 *		Whether the worker finished the round numbered *arg, or is gone.
 */
static bool
round_done(void *arg)
{
	uint64		target = *(uint64 *) arg;
	bool		done;

	LWLockAcquire(runway_lock, LW_SHARED);
	done = runway->rounds_done >= target || runway->latch == NULL;
	LWLockRelease(runway_lock);
	return done;
}

/*
 * runway_wait_for_round
 *		Wait for one whole round of the worker of this database, waking it
 *		first if wake, for at most timeout ms (-1: no limit); false at once
 *		if there is none.
 */
static bool
runway_wait_for_round(bool wake, long timeout)
{
	uint64		target;
	Latch	   *latch;

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	latch = runway->latch;
	target = runway->rounds_begun + 1;
	LWLockRelease(runway_lock);
	if (latch == NULL)
		return false;
	if (wake)
		SetLatch(latch);

	(void) worker_wait_for(&runway->round_cv, round_done, &target,
						   timeout, true, IDGEN_WAIT_RUNWAY_ROUND);
	return true;
}

/*
 * runway_wait_for_grant
 *		A backend found no grant left for its tag: unless the worker knows
 *		the root is unreachable or refuses the tag (or there is no worker),
 *		wait for one whole round of it, then return true (the caller looks
 *		again).  Returns false at once otherwise.
 */
static bool
runway_wait_for_grant(const NameData *tag)
{
	RunwayTag	t;
	bool		hopeless;

	LWLockAcquire(runway_lock, LW_SHARED);
	hopeless = runway->latch == NULL || runway->dboid != MyDatabaseId ||
		runway->state == RUNWAY_UNREACHABLE ||
		(find_tag(tag, &t) && t.refused[0] != '\0' && !t.held);
	LWLockRelease(runway_lock);
	return !hopeless && runway_wait_for_round(true, -1);
}

/*
 * runway_exhausted
 *		Raise the error for a tag of source 'root' with no grant left to
 *		claim n IDs from.
 */
static void
runway_exhausted(const TagInfo *info, int64 n)
{
	RunwayState state;
	Oid			dboid;
	char		error[RUNWAY_ERROR_LEN];
	RunwayTag	t;

	LWLockAcquire(runway_lock, LW_SHARED);
	state = runway->state;
	dboid = runway->dboid;
	strlcpy(error, runway->last_error, sizeof(error));
	if (find_tag(&info->name, &t) && t.refused[0] != '\0')
		strlcpy(error, t.refused, sizeof(error));
	else if (state != RUNWAY_UNREACHABLE)
		error[0] = '\0';
	LWLockRelease(runway_lock);

	if (state == RUNWAY_ABSENT || dboid != MyDatabaseId)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("tag \"%s\" has no IDs left from the root server",
						NameStr(info->name)),
				 errdetail("No runway worker leases grants for this database."),
				 errhint("Set idgen.root before the server starts, and idgen.node_database to this database.")));
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("tag \"%s\" has no IDs left from the root server",
					NameStr(info->name)),
			 error[0] != '\0' ?
			 errdetail("The grants this server holds are used up, and %s: %s",
					   state == RUNWAY_UNREACHABLE ?
					   "the root server is unreachable" :
					   "the root server refuses the tag", error) :
			 errdetail("The grants this server holds are used up, and no grant of " INT64_FORMAT " IDs could be leased.",
					   n),
			 errhint("Leasing resumes by itself once the server named by idgen.root is reachable and accepts the tag; a larger idgen.runway rides out longer outages.")));
}

/*
 * runway_check_tag
 *		Before a claim of a tag of this database from its grants: after a
 *		start of the worker (or idgen.become_new_node()), wait until it has
 *		reported the tag to the root, and while the root holds it back
 *		(another instance of this node may be alive: a copy of this node is
 *		stopped at its first reports, before it issues anything); then
 *		raise an error if the root said that another server may hold the
 *		same grants, or still holds the tag back.  Waits for CHECK_WAIT_MS
 *		at most, and not at all when there is no worker or the root is known
 *		to be unreachable.
 */
static void
runway_check_tag(const TagInfo *info)
{
	RunwayTag	t;
	bool		found = false;
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		bool		wait;
		bool		renewed;
		long		left;

		LWLockAcquire(runway_lock, LW_SHARED);
		found = find_tag(&info->name, &t);
		renewed = runway->renewals != runway->renewals_seen;
		wait = runway->latch != NULL && runway->dboid == MyDatabaseId &&
			runway->state != RUNWAY_UNREACHABLE &&
			(renewed || !(found && t.answered && !t.held));
		LWLockRelease(runway_lock);
		left = CHECK_WAIT_MS -
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		/* a held tag is reported at every round: no need to hurry them */
		if (!wait || left <= 0 ||
			!runway_wait_for_round(!(found && t.held) || renewed, left))
			break;
		CHECK_FOR_INTERRUPTS();
	}
	if (found && (t.stopped || t.held))
		ereport(ERROR,
				(errcode(t.held ? ERRCODE_OBJECT_IN_USE :
						 ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 t.held ?
				 errmsg("tag \"%s\" may not issue IDs from its grants yet",
						NameStr(info->name)) :
				 errmsg("tag \"%s\" issues no more IDs from its grants",
						NameStr(info->name)),
				 errdetail("The root server %s: %s",
						   t.held ? "holds this server back" :
						   "found that another server may hold the same grants",
						   t.refused),
				 errhint("See idgen.runway and the server logs of this node and the root.")));
}

/*
 * runway_renew
 *		idgen.become_new_node() gave up every grant: have the worker forget
 *		what the root said of the tags under the old name, and claims wait
 *		for its word under the new one (supply_renewed, at its commit).
 */
static void
runway_renew(void)
{
	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	runway->renewals++;
	LWLockRelease(runway_lock);
}

/*
 * state_text
 *		What idgen.runway shows as a tag's state.
 */
static const char *
state_text(RunwayState state, const RunwayTag *t)
{
	if (t->stopped)
		return "stopped";
	if (t->held)
		return "held";
	if (t->refused[0] != '\0')
		return "refused";
	switch (state)
	{
		case RUNWAY_OK:
			return "leasing";
		case RUNWAY_UNREACHABLE:
			return "unreachable";
		case RUNWAY_STARTING:
			return "starting";
		default:
			return "no worker";
	}
}

/*
 * idgen_runway_status
 *		runway_status(): what the worker knows of each tag of source root of
 *		this database that the current role may monitor.
 */
Datum
idgen_runway_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RunwayTag  *tags;
	int			ntags;
	RunwayState state;
	TimestampTz since;
	char		error[RUNWAY_ERROR_LEN];
	Oid			seq_nsp;
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);
	seq_nsp = idgen_seq_schema_oid();

	LWLockAcquire(runway_lock, LW_SHARED);
	ntags = runway->dboid == MyDatabaseId ? runway->ntags : 0;
	tags = palloc(sizeof(RunwayTag) * Max(ntags, 1));
	memcpy(tags, runway->tags, sizeof(RunwayTag) * ntags);
	state = runway->state;
	since = runway->state_since;
	strlcpy(error, runway->last_error, sizeof(error));
	LWLockRelease(runway_lock);

	for (i = 0; i < ntags; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		Oid			seqoid = InvalidOid;
		const char *last = tags[i].refused[0] != '\0' ? tags[i].refused : error;

		if (OidIsValid(seq_nsp))
			seqoid = get_relname_relid(NameStr(tags[i].tag), seq_nsp);
		if (!OidIsValid(seqoid) || !tag_may_monitor(seqoid))
			continue;
		values[0] = CStringGetTextDatum(NameStr(tags[i].tag));
		values[1] = Float8GetDatum(tags[i].rate);
		values[2] = BoolGetDatum(state == RUNWAY_OK);
		nulls[2] = state != RUNWAY_OK && state != RUNWAY_UNREACHABLE;
		values[3] = CStringGetTextDatum(state_text(state, &tags[i]));
		values[4] = CStringGetTextDatum(last);
		nulls[4] = last[0] == '\0';
		values[5] = TimestampTzGetDatum(since);
		nulls[5] = since == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
