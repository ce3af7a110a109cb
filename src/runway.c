/*-------------------------------------------------------------------------
 *
 * runway.c
 *	  The runway worker of a node: a background worker that keeps every
 *	  tag of source 'root' supplied with grants leased from the root
 *	  server over libpq, ahead of need, and what backends ask of it.
 *
 * Settings.  idgen.root is the libpq connection string of the server
 * above (the root, or a regional node); it is only shown to superusers
 * and never logged, since it may hold a password.  The worker is
 * registered at server start when idgen.root is set then; later changes
 * take effect at a reload (the worker reconnects: this is how nodes are
 * pointed at a promoted standby of the root).  It serves the tags of one
 * database, idgen.node_database.  The node asks for grants under the name
 * idgen.node_name (by default the server's system identifier).
 *
 * Runway.  Every round (each second, or at once when a backend asks) the
 * worker reads each root-sourced tag's mark and the grants held above it
 * (lease.c), estimates the tag's rate from how fast the mark moves, and
 * leases grants, one at a time, while the tag holds fewer than
 * idgen.runway_grants grants with IDs left, or fewer IDs than
 * idgen.runway seconds at that rate.  Each grant is leased with
 * idgen.lease_grant() on the root, which returns it only once it is
 * durable there and in the root's ledger, and then inserted into
 * idgen.leases and committed (synchronous_commit is on in the worker, so
 * the commit flushes WAL and waits for synchronous standbys) before any
 * backend can claim from it.  So backends do not wait for the network in
 * the normal case: they claim from grants already held.
 *
 * Failure.  When the root cannot be reached, or refuses a lease, the
 * worker keeps retrying with a backoff (1 s doubling to RUNWAY_MAX_BACKOFF_MS)
 * and logs one line per change of state, not one per retry; backends go on
 * claiming from the grants held.  A backend whose tag has no grant left
 * asks the worker for one round and waits for it (a new tag's first
 * grant), unless the worker already knows the root is unreachable; then
 * it fails with runway_exhausted's error (SQLSTATE 08006, with the
 * worker's last error).  Leasing resumes by itself when the root is back.
 * An error of the worker's own (a tag whose sequence was dropped by hand)
 * is logged once while it persists, and spares the other tags.
 *
 * Locking protocol (for everything in RunwayShared):
 *	- lock (a named LWLock, "idgen runway") protects every field; it is
 *	  held only to copy a few fields or the tag array, never across I/O,
 *	  SPI or anything that can raise an error, and no other idgen lock is
 *	  taken while holding it.  The worker is the only writer of tags[] and
 *	  ntags (under the lock), so it may read them without the lock.
 *	- round_cv is broadcast by the worker after each round; waiters need no
 *	  lock to sleep on it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "durable.h"
#include "idgen.h"
#include "lease.h"
#include "runway.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(idgen_runway_status);
PGDLLEXPORT void idgen_runway_main(Datum arg);

#define RUNWAY_TRANCHE			"idgen runway"
#define RUNWAY_NAP_MS			1000	/* between rounds when all is well */
#define RUNWAY_MAX_BACKOFF_MS	10000	/* between attempts when failing */
#define RUNWAY_CONNECT_MS		10000	/* to connect to the root */
#define RUNWAY_QUERY_MS			60000	/* for one lease on the root */
#define RUNWAY_MAX_LEASES		16	/* per tag and round */
#define RUNWAY_RATE_SECS		5	/* shortest window of a rate sample */
#define RUNWAY_PING_SECS		5	/* between checks of an idle root */
#define RUNWAY_ERROR_LEN		256

/* what the worker knows of the root */
typedef enum RunwayState
{
	RUNWAY_ABSENT,				/* no worker runs */
	RUNWAY_STARTING,			/* no attempt made yet */
	RUNWAY_OK,					/* the last lease (or connection) succeeded */
	RUNWAY_UNREACHABLE,			/* could not connect, or lost the connection */
	RUNWAY_REFUSED				/* the root answered a lease with an error */
} RunwayState;

/* one tag of source 'root', as the worker last saw it */
typedef struct RunwayTag
{
	NameData	tag;
	double		rate;			/* IDs per second, smoothed */
	int64		sample_left;	/* IDs left in grants at the window's start */
	int64		leased;			/* IDs leased since then */
	TimestampTz sample_at;		/* when the window started */
} RunwayTag;

typedef struct RunwayShared
{
	Latch	   *latch;			/* the worker's, or NULL */
	Oid			dboid;			/* the database it serves */
	RunwayState state;
	TimestampTz state_since;
	char		last_error[RUNWAY_ERROR_LEN];
	uint64		rounds_begun;
	uint64		rounds_done;
	ConditionVariable round_cv;
	int			ntags;
	RunwayTag	tags[FLEXIBLE_ARRAY_MEMBER];	/* idgen_max_tags of them */
} RunwayShared;

static char *runway_root = NULL;
static char *runway_node_name = NULL;
static char *runway_database = NULL;
static int	runway_seconds = 3600;
static int	runway_grants = 2;

static RunwayShared *rw = NULL;
static LWLock *rw_lock = NULL;

/* the worker's state within a round, kept across errors (longjmp) */
static bool round_failed = false;	/* a lease failed: lease no more */
static bool round_tried = false;	/* a lease was tried */
static bool round_local_error = false;	/* an error of our own occurred */
static char local_error[RUNWAY_ERROR_LEN] = "";	/* the last one logged */

/* the worker's connection to the root, and the conninfo it was made with */
static PGconn *root_conn = NULL;
static char *root_conninfo = NULL;

/*
 * runway_define_settings
 *		Define the settings of many servers; from _PG_init.
 */
void
runway_define_settings(void)
{
	DefineCustomStringVariable("idgen.root",
							   "Connection string of the server this node leases grants from.",
							   "Empty: this server leases nothing. Set it before the server starts to run the runway worker; later changes take effect at a reload.",
							   &runway_root,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("idgen.node_name",
							   "Name under which this node leases grants, as the root's ledger shows it.",
							   "Empty: the server's system identifier.",
							   &runway_node_name,
							   "",
							   PGC_SIGHUP,
							   0,
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
 *		Attach to (and, the first time, initialise) the shared state.
 *		Called with AddinShmemInitLock held.
 */
void
runway_shmem_startup(void)
{
	bool		found;

	rw = ShmemInitStruct("idgen runway", runway_shmem_size(), &found);
	rw_lock = &(GetNamedLWLockTranche(RUNWAY_TRANCHE))->lock;
	if (found)
		return;
	memset(rw, 0, runway_shmem_size());
	rw->state = RUNWAY_ABSENT;
	ConditionVariableInit(&rw->round_cv);
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
 * state_name
 *		How a state reads in the log.
 */
static const char *
state_name(RunwayState state)
{
	switch (state)
	{
		case RUNWAY_OK:
			return "reachable";
		case RUNWAY_UNREACHABLE:
			return "unreachable";
		case RUNWAY_REFUSED:
			return "refusing leases";
		default:
			return "unknown";
	}
}

/*
 * set_state
 *		Record the outcome of an attempt, and log a line when the state
 *		changes (not at every retry).  error is NULL on success.
 */
static void
set_state(RunwayState state, const char *error)
{
	RunwayState old;
	char		clean[RUNWAY_ERROR_LEN];

	clean[0] = '\0';
	if (error != NULL)
	{
		int			len;

		strlcpy(clean, error, sizeof(clean));
		/* one line: libpq's messages end with a newline, some have two */
		len = strlen(clean);
		for (int i = 0; i < len; i++)
			if (clean[i] == '\n' || clean[i] == '\t')
				clean[i] = ' ';
		while (len > 0 && (clean[len - 1] == '\n' || clean[len - 1] == ' '))
			clean[--len] = '\0';
	}

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	old = rw->state;
	if (old != state)
	{
		rw->state = state;
		rw->state_since = GetCurrentTimestamp();
	}
	if (error != NULL)
		strlcpy(rw->last_error, clean, sizeof(rw->last_error));
	LWLockRelease(rw_lock);

	if (old == state)
		return;
	if (state == RUNWAY_OK)
		ereport(LOG,
				(errmsg("idgen runway worker: root server is reachable at \"%s:%s\"",
						root_conn ? PQhost(root_conn) : "?",
						root_conn ? PQport(root_conn) : "?")));
	else
		ereport(LOG,
				(errmsg("idgen runway worker: root server is %s", state_name(state)),
				 errdetail("%s", clean),
				 errhint("Nodes go on issuing IDs from the grants they hold; the worker retries.")));
}

/*
 * root_disconnect
 *		Drop the connection to the root, if any.
 */
static void
root_disconnect(void)
{
	if (root_conn != NULL)
		PQfinish(root_conn);
	root_conn = NULL;
}

/*
 * root_wait
 *		Wait until the root's socket is ready for io, the latch is set, or
 *		deadline passes; false on timeout.  Interrupts are served.
 */
static bool
root_wait(int io, TimestampTz deadline)
{
	long		ms;
	int			rc;

	ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
	if (ms <= 0)
		return false;
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | io,
						   PQsocket(root_conn), ms, PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * root_connect
 *		Connect to idgen.root unless connected, without blocking signals;
 *		false (with the state set) on failure.
 */
static bool
root_connect(void)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {runway_root, "idgen runway worker", NULL};
	TimestampTz deadline;

	if (root_conn != NULL && PQstatus(root_conn) == CONNECTION_OK)
		return true;
	root_disconnect();

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   RUNWAY_CONNECT_MS);
	root_conn = PQconnectStartParams(keys, values, 1);
	if (root_conn == NULL)
	{
		set_state(RUNWAY_UNREACHABLE, "out of memory");
		return false;
	}
	for (;;)
	{
		PostgresPollingStatusType status;

		if (PQstatus(root_conn) == CONNECTION_BAD)
			break;
		status = PQconnectPoll(root_conn);
		if (status == PGRES_POLLING_OK || status == PGRES_POLLING_FAILED)
			break;
		if (!root_wait(status == PGRES_POLLING_READING ?
					   WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE, deadline))
		{
			set_state(RUNWAY_UNREACHABLE, "timeout while connecting");
			root_disconnect();
			return false;
		}
	}
	if (PQstatus(root_conn) != CONNECTION_OK)
	{
		set_state(RUNWAY_UNREACHABLE, PQerrorMessage(root_conn));
		root_disconnect();
		return false;
	}
	if (PQsetnonblocking(root_conn, 1) != 0)
	{
		set_state(RUNWAY_UNREACHABLE, PQerrorMessage(root_conn));
		root_disconnect();
		return false;
	}
	return true;
}

/*
 * node_name
 *		idgen.node_name, or the system identifier.
 */
static const char *
node_name(void)
{
	if (runway_node_name != NULL && runway_node_name[0] != '\0')
		return runway_node_name;
	return psprintf(UINT64_FORMAT, GetSystemIdentifier());
}

/*
 * root_exec
 *		Run one query on the root, waiting without blocking signals; its
 *		last result, or NULL (with the state set and the connection
 *		dropped) when the connection failed or timed out.  The caller
 *		clears the result.
 */
static PGresult *
root_exec(const char *sql, int nparams, const char *const *values)
{
	PGresult   *res;
	PGresult   *last = NULL;
	TimestampTz deadline;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   RUNWAY_QUERY_MS);
	if (!PQsendQueryParams(root_conn, sql, nparams, NULL, values, NULL, NULL,
						   0))
		goto lost;
	/* flush the query, then read until every result is in */
	for (;;)
	{
		int			flushed = PQflush(root_conn);

		if (flushed == 0)
			break;
		if (flushed < 0 || !root_wait(WL_SOCKET_WRITEABLE, deadline))
			goto lost;
	}
	for (;;)
	{
		while (PQisBusy(root_conn))
		{
			if (!root_wait(WL_SOCKET_READABLE, deadline) ||
				!PQconsumeInput(root_conn))
				goto lost;
		}
		res = PQgetResult(root_conn);
		if (res == NULL)
			break;
		if (last != NULL)
			PQclear(last);
		last = res;
	}
	if (last != NULL && PQstatus(root_conn) == CONNECTION_OK)
		return last;

lost:
	if (last != NULL)
		PQclear(last);
	set_state(RUNWAY_UNREACHABLE, PQstatus(root_conn) == CONNECTION_OK ?
			  "timeout while waiting for the root server" :
			  PQerrorMessage(root_conn));
	root_disconnect();
	return NULL;
}

/*
 * root_lease
 *		Lease one grant of a tag from the root into *grant, telling the root
 *		the tag's rate here (which sizes the grant); false (with the state
 *		set) on failure.
 */
static bool
root_lease(const NameData *tag, double rate, IdRange *grant)
{
	const char *values[3];
	PGresult   *res;
	bool		ok = false;

	values[0] = NameStr(*tag);
	values[1] = node_name();
	values[2] = psprintf("%.0f", rate);
	res = root_exec("SELECT pg_catalog.lower(g), pg_catalog.upper(g)"
					" FROM idgen.lease_grant($1, $2, $3) g", 3, values);
	if (res == NULL)
		return false;
	if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		PQntuples(res) == 1 && PQnfields(res) == 2 &&
		!PQgetisnull(res, 0, 0) && !PQgetisnull(res, 0, 1))
	{
		grant->lo = strtoi64(PQgetvalue(res, 0, 0), NULL, 10);
		grant->hi = strtoi64(PQgetvalue(res, 0, 1), NULL, 10);
		ok = grant->lo > 0 && grant->hi > grant->lo;
	}
	if (ok)
		set_state(RUNWAY_OK, NULL);
	else
		set_state(RUNWAY_REFUSED,
				  PQresultErrorMessage(res)[0] != '\0' ?
				  PQresultErrorMessage(res) :
				  "unexpected answer to idgen.lease_grant()");
	PQclear(res);
	return ok;
}

/*
 * root_ping
 *		Check that the root answers, so that the runway view shows an
 *		outage before a grant is needed.  A root that answers but refused
 *		the last lease stays in that state.
 */
static void
root_ping(void)
{
	PGresult   *res;

	if (!root_connect())
		return;
	res = root_exec("SELECT 1", 0, NULL);
	if (res == NULL)
		return;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		set_state(RUNWAY_UNREACHABLE, PQresultErrorMessage(res));
	else
	{
		LWLockAcquire(rw_lock, LW_SHARED);
		if (rw->state != RUNWAY_REFUSED)
		{
			LWLockRelease(rw_lock);
			set_state(RUNWAY_OK, NULL);
		}
		else
			LWLockRelease(rw_lock);
	}
	PQclear(res);
}

/*
 * tags_of_root
 *		Names of the segment tags of source 'root' in this database, in a
 *		transaction the caller opened, as a list allocated in cxt; none
 *		when the extension (1.1) is not installed here.
 */
static List *
tags_of_root(MemoryContext cxt)
{
	List	   *names = NIL;
	Oid			nsp = get_namespace_oid("idgen", true);
	uint64		i;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("leases", nsp)))
		return NIL;
	SPI_connect();
	if (SPI_execute("SELECT tag FROM idgen.tags WHERE source = 'root'"
					" AND kind = 'segment' ORDER BY tag", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "idgen: could not read idgen.tags");
	for (i = 0; i < SPI_processed; i++)
	{
		NameData   *name = MemoryContextAllocZero(cxt, sizeof(NameData));
		char	   *tag = SPI_getvalue(SPI_tuptable->vals[i],
									   SPI_tuptable->tupdesc, 1);

		MemoryContext old = MemoryContextSwitchTo(cxt);

		namestrcpy(name, tag);
		names = lappend(names, name);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return names;
}

/*
 * tag_need
 *		Read a tag's mark and grants, update its rate, and say whether it
 *		needs another grant.  Runs in a transaction; index is the tag's
 *		place in rw->tags, where its rate is kept.
 */
static bool
tag_need(const NameData *name, int index, RunwayTag *prev, int nprev)
{
	TagInfo		info;
	int64		mark;
	int			grants;
	int64		left;
	RunwayTag	t;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	(void) tag_lookup(name, &info);
	mark = durable_read(info.seqoid);
	lease_runway(&info, mark, &grants, &left);

	/*
	 * The rate window carries over from the previous round.  The rate is
	 * what was consumed from grants, not how far the mark moved: the mark
	 * jumps from one grant to the next.
	 */
	memset(&t, 0, sizeof(t));
	t.tag = *name;
	t.sample_left = left;
	t.sample_at = now;
	for (i = 0; i < nprev; i++)
		if (strcmp(NameStr(prev[i].tag), NameStr(*name)) == 0)
		{
			t = prev[i];
			if (now - t.sample_at >= RUNWAY_RATE_SECS * USECS_PER_SEC)
			{
				double		secs = (double) (now - t.sample_at) / USECS_PER_SEC;
				double		rate;

				rate = (double) Max(t.sample_left + t.leased - left, 0) / secs;
				t.rate = t.rate == 0 ? rate : (t.rate + rate) / 2;
				t.sample_left = left;
				t.leased = 0;
				t.sample_at = now;
			}
			break;
		}

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->tags[index] = t;
	LWLockRelease(rw_lock);

	return grants < runway_grants ||
		(double) left < t.rate * (double) runway_seconds;
}

/*
 * prev_update
 *		Carry a tag's entry, just changed in shared memory by the worker
 *		(the only writer), over into the copy tag_need reads it from.
 */
static void
prev_update(RunwayTag *prev, int nprev, RunwayTag *entry)
{
	int			i;

	for (i = 0; i < nprev; i++)
		if (strcmp(NameStr(prev[i].tag), NameStr(entry->tag)) == 0)
			prev[i] = *entry;
}

/*
 * serve_tag
 *		Lease grants of one tag while it needs them (tag_need), each in
 *		transactions of its own.  After a failure to lease (round_failed),
 *		only the tag's rate is updated.  index is the tag's place in
 *		rw->tags; prev holds the entries of the previous round.
 */
static void
serve_tag(const NameData *name, int index, RunwayTag *prev, int nprev)
{
	int			leased;

	for (leased = 0; leased < RUNWAY_MAX_LEASES; leased++)
	{
		bool		need;
		IdRange		grant;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		need = tag_need(name, index, prev, nprev);
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (!need || round_failed)
			break;

		/* the grant is durable on the root before we see it */
		round_tried = true;
		if (!root_connect() ||
			!root_lease(name, rw->tags[index].rate, &grant))
		{
			round_failed = true;
			break;
		}

		/* and here, before any claim can see it (synchronous_commit) */
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		lease_record(name, grant);
		PopActiveSnapshot();
		CommitTransactionCommand();

		/* tag_need copies the entry into prev for the next lease */
		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		rw->tags[index].leased += RANGE_SIZE(grant);
		LWLockRelease(rw_lock);
		prev_update(prev, nprev, &rw->tags[index]);
	}
}

/*
 * runway_error
 *		Recover from an error of the worker's own (not the root's): abort
 *		the transaction, log the error unless it is the one logged last
 *		(a local error that persists is logged once), and show it in
 *		idgen.runway.  Called in a PG_CATCH block; cxt is the round's
 *		memory context.
 */
static void
runway_error(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (strcmp(local_error, edata->message) != 0)
		ereport(LOG,
				(errmsg("idgen runway worker: %s", edata->message)));
	strlcpy(local_error, edata->message, sizeof(local_error));
	round_local_error = true;
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	strlcpy(rw->last_error, edata->message, sizeof(rw->last_error));
	LWLockRelease(rw_lock);
	FreeErrorData(edata);
}

/*
 * serve_tag_apart
 *		serve_tag, where an error (say, the tag's sequence was dropped) is
 *		recovered from, so that it spares the other tags.
 */
static void
serve_tag_apart(const NameData *name, int index, RunwayTag *prev, int nprev,
				MemoryContext cxt)
{
	PG_TRY();
	{
		serve_tag(name, index, prev, nprev);
	}
	PG_CATCH();
	{
		runway_error(cxt);
		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		memset(&rw->tags[index], 0, sizeof(RunwayTag));
		rw->tags[index].tag = *name;
		LWLockRelease(rw_lock);
	}
	PG_END_TRY();
}

/*
 * runway_round
 *		One round: find the tags that need a grant, and lease them.  cxt,
 *		the current memory context, is reset after each round.
 */
static void
runway_round(MemoryContext cxt)
{
	List	   *names;
	RunwayTag  *prev;
	int			nprev;
	ListCell   *lc;
	int			index = 0;
	static TimestampTz last_ping = 0;

	/* the rates of the previous round, by name */
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	nprev = rw->ntags;
	prev = palloc(sizeof(RunwayTag) * Max(nprev, 1));
	memcpy(prev, rw->tags, sizeof(RunwayTag) * nprev);
	LWLockRelease(rw_lock);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "idgen runway round");
	names = tags_of_root(cxt);
	PopActiveSnapshot();
	CommitTransactionCommand();

	round_failed = false;
	round_tried = false;
	foreach(lc, names)
	{
		const NameData *name = (const NameData *) lfirst(lc);

		if (index >= idgen_max_tags)
			break;
		serve_tag_apart(name, index, prev, nprev, cxt);
		index++;
	}

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->ntags = index;
	LWLockRelease(rw_lock);

	/* no lease tried this round: see whether the root still answers */
	if (!round_tried && names != NIL)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (now - last_ping >= RUNWAY_PING_SECS * USECS_PER_SEC)
		{
			last_ping = now;
			root_ping();
		}
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * runway_exit
 *		Before the worker's shared memory goes: no worker runs any more.
 */
static void
runway_exit(int code, Datum arg)
{
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->latch = NULL;
	rw->state = RUNWAY_ABSENT;
	rw->rounds_done = rw->rounds_begun;
	LWLockRelease(rw_lock);
	ConditionVariableBroadcast(&rw->round_cv);
}

/*
 * idgen_runway_main
 *		Entry point of the runway worker; see the header comment.
 */
void
idgen_runway_main(Datum arg)
{
	/* static: kept across the longjmp of an error in a round */
	static int	backoff = RUNWAY_NAP_MS;
	MemoryContext round_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(runway_database, NULL, 0);

	/* every grant recorded here is flushed, and replicated, at commit */
	SetConfigOption("synchronous_commit", "on", PGC_SUSET, PGC_S_OVERRIDE);
	root_conninfo = MemoryContextStrdup(TopMemoryContext, runway_root);
	round_cxt = AllocSetContextCreate(TopMemoryContext, "idgen runway round",
									  ALLOCSET_DEFAULT_SIZES);

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->latch = MyLatch;
	rw->dboid = MyDatabaseId;
	rw->state = RUNWAY_STARTING;
	rw->state_since = GetCurrentTimestamp();
	rw->last_error[0] = '\0';
	LWLockRelease(rw_lock);
	before_shmem_exit(runway_exit, (Datum) 0);

	for (;;)
	{
		RunwayState state;

		MemoryContextSwitchTo(round_cxt);
		MemoryContextReset(round_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (strcmp(root_conninfo, runway_root) != 0)
			{
				ereport(LOG,
						(errmsg("idgen runway worker: idgen.root changed, reconnecting")));
				root_disconnect();
				pfree(root_conninfo);
				root_conninfo = MemoryContextStrdup(TopMemoryContext,
													runway_root);
				backoff = RUNWAY_NAP_MS;
			}
		}

		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		rw->rounds_begun++;
		LWLockRelease(rw_lock);

		if (runway_root[0] != '\0')
		{
			round_local_error = false;
			PG_TRY();
			{
				runway_round(round_cxt);
			}
			PG_CATCH();
			{
				runway_error(round_cxt);
			}
			PG_END_TRY();
		}

		if (!round_local_error)
			local_error[0] = '\0';
		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		rw->rounds_done = rw->rounds_begun;
		state = rw->state;
		LWLockRelease(rw_lock);
		ConditionVariableBroadcast(&rw->round_cv);

		if (state == RUNWAY_UNREACHABLE || state == RUNWAY_REFUSED)
			backoff = Min(backoff * 2, RUNWAY_MAX_BACKOFF_MS);
		else
			backoff = RUNWAY_NAP_MS;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 backoff, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * runway_wait_for_grant
 *		A backend found no grant left for its tag: unless the worker knows
 *		the root is unreachable (or there is no worker), wake it and wait
 *		for one whole round of it, then return true (the caller looks
 *		again).  Returns false at once otherwise.
 */
bool
runway_wait_for_grant(void)
{
	uint64		target;
	Latch	   *latch;

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	latch = rw->latch;
	target = rw->rounds_begun + 1;
	if (latch == NULL || rw->dboid != MyDatabaseId ||
		rw->state == RUNWAY_UNREACHABLE || rw->state == RUNWAY_REFUSED)
	{
		LWLockRelease(rw_lock);
		return false;
	}
	LWLockRelease(rw_lock);
	SetLatch(latch);

	ConditionVariablePrepareToSleep(&rw->round_cv);
	for (;;)
	{
		bool		done;

		LWLockAcquire(rw_lock, LW_SHARED);
		done = rw->rounds_done >= target || rw->latch == NULL;
		LWLockRelease(rw_lock);
		if (done)
			break;
		ConditionVariableSleep(&rw->round_cv, PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	return true;
}

/*
 * runway_exhausted
 *		Raise the error for a tag of source 'root' with no grant left to
 *		claim n IDs from.
 */
void
runway_exhausted(const TagInfo *info, int64 n)
{
	RunwayState state;
	Oid			dboid;
	char		error[RUNWAY_ERROR_LEN];

	LWLockAcquire(rw_lock, LW_SHARED);
	state = rw->state;
	dboid = rw->dboid;
	strlcpy(error, rw->last_error, sizeof(error));
	LWLockRelease(rw_lock);

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
			 errdetail("The grants this server holds are used up, and the root server is %s: %s",
					   state_name(state), error) :
			 errdetail("The grants this server holds are used up, and no grant of " INT64_FORMAT " IDs could be leased.",
					   n),
			 errhint("Leasing resumes by itself once the server named by idgen.root is reachable; a larger idgen.runway rides out longer outages.")));
}

/*
 * idgen_runway_status
 *		runway_status(): what the worker knows of each tag of source root of
 *		this database.
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
	int			i;

	idgen_check_preloaded();
	InitMaterializedSRF(fcinfo, 0);

	LWLockAcquire(rw_lock, LW_SHARED);
	ntags = rw->dboid == MyDatabaseId ? rw->ntags : 0;
	tags = palloc(sizeof(RunwayTag) * Max(ntags, 1));
	memcpy(tags, rw->tags, sizeof(RunwayTag) * ntags);
	state = rw->state;
	since = rw->state_since;
	strlcpy(error, rw->last_error, sizeof(error));
	LWLockRelease(rw_lock);

	for (i = 0; i < ntags; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(NameStr(tags[i].tag));
		values[1] = Float8GetDatum(tags[i].rate);
		values[2] = BoolGetDatum(state == RUNWAY_OK || state == RUNWAY_REFUSED);
		nulls[2] = state != RUNWAY_OK && state != RUNWAY_REFUSED &&
			state != RUNWAY_UNREACHABLE;
		values[3] = CStringGetTextDatum(error);
		nulls[3] = error[0] == '\0';
		values[4] = TimestampTzGetDatum(since);
		nulls[4] = since == 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
