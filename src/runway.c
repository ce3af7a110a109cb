/*-------------------------------------------------------------------------
 *
 * runway.c
 *	  The runway worker of a node: a background worker that keeps every
 *	  tag of source 'root' supplied with grants leased from the root
 *	  server over libpq, ahead of need, tells the root what the node holds,
 *	  and what backends ask of it.
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
 * under one name apart.
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
 *	- lock (a named LWLock, "idgen runway") protects every field; it is
 *	  held only to copy a few fields or the tag array, never across I/O,
 *	  SPI or anything that can raise an error, and no other idgen lock is
 *	  taken while holding it.  The worker is the only writer of tags[],
 *	  ntags, renewals_seen and instance (set once at shared memory
 *	  initialisation), so it may read them without the lock; backends
 *	  write renewals only.
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
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "base.h"
#include "durable.h"
#include "lease.h"
#include "node_id.h"
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
#define RUNWAY_REPORT_SECS		5	/* between reports of an idle tag */
#define RUNWAY_HELD_MAX			16	/* grants told in a report */
#define RUNWAY_ERROR_LEN		256
#define CHECK_WAIT_MS			20000	/* longest wait of a claim for the
										 * root's word on its tag */
#define RUNWAY_INSTANCE_LEN		33	/* 16 random bytes in hex */

/* what the worker knows of the root */
typedef enum RunwayState
{
	RUNWAY_ABSENT,				/* no worker runs */
	RUNWAY_STARTING,			/* no attempt made yet */
	RUNWAY_OK,					/* the last contact succeeded */
	RUNWAY_UNREACHABLE			/* could not connect, or lost the connection */
} RunwayState;

/* one tag of source 'root', as the worker last saw it */
typedef struct RunwayTag
{
	NameData	tag;
	double		rate;			/* IDs per second, smoothed */
	int64		sample_left;	/* IDs left in grants at the window's start */
	int64		leased;			/* IDs leased since then */
	TimestampTz sample_at;		/* when the window started */
	TimestampTz reported_at;	/* last accepted report to the root */
	bool		answered;		/* a report was tried since the worker began */
	bool		stopped;		/* the root said others may hold its grants */
	bool		held;			/* the root said: wait (another instance) */
	bool		lease_refused;	/* refused was a lease's, not a report's */
	char		refused[RUNWAY_ERROR_LEN];	/* why the root refuses it, or "" */
} RunwayTag;

typedef struct RunwayShared
{
	Latch	   *latch;			/* the worker's, or NULL */
	Oid			dboid;			/* the database it serves */
	RunwayState state;
	TimestampTz state_since;
	char		last_error[RUNWAY_ERROR_LEN];
	char		instance[RUNWAY_INSTANCE_LEN];
	uint64		rounds_begun;
	uint64		rounds_done;
	uint32		renewals;		/* become_new_node() calls so far */
	uint32		renewals_seen;	/* the worker has forgotten what the root said
								 * of the tags up to this one */
	ConditionVariable round_cv;
	int			ntags;
	RunwayTag	tags[FLEXIBLE_ARRAY_MEMBER];	/* idgen_max_tags of them */
} RunwayShared;

/* what a tag holds, as told to the root */
typedef struct Holding
{
	Oid			seqoid;			/* the tag's sequence here: its incarnation */
	int64		mark;			/* the tag's high-water mark here */
	int			nheld;
	IdRange    *held;			/* highest grants with a proof, highest first */
	char	  **proofs;
	int64		top;			/* highest ID of every grant held */
	IdRange		local;			/* IDs issued before the switch, or empty */
	XLogRecPtr	root_lsn;		/* highest WAL position the root showed */
} Holding;

static char *runway_root = NULL;
static char *runway_node_name = NULL;
static char *runway_database = NULL;
static int	runway_seconds = 3600;
static int	runway_grants = 2;

static RunwayShared *rw = NULL;
static LWLock *rw_lock = NULL;

/* the worker's state within a round, kept across errors (longjmp) */
static bool round_failed = false;	/* the root was lost: contact no more */
static bool round_local_error = false;	/* an error of our own occurred */
static char local_error[RUNWAY_ERROR_LEN] = ""; /* the last one logged */

/* the worker's connection to the root, and the conninfo it was made with */
static PGconn *root_conn = NULL;
static char *root_conninfo = NULL;

/* the root's WAL position last reported as gone back, not to repeat it */
static XLogRecPtr went_back_logged = InvalidXLogRecPtr;

static PGresult *root_exec(const char *sql, int nparams,
						   const char *const *values);

/*
 * runway_define_settings
 *		Define the settings of many servers; from _PG_init.
 */
void
runway_define_settings(void)
{
	DefineCustomStringVariable("idgen.root",
							   "Connection string of the server this node leases grants from.",
							   "Empty: this server leases nothing. Set it before the server starts to run the runway worker; later changes take effect at a reload. Never put a password here: use a password file.",
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

	rw = ShmemInitStruct("idgen runway", runway_shmem_size(), &found);
	rw_lock = &(GetNamedLWLockTranche(RUNWAY_TRANCHE))->lock;
	if (found)
		return;
	memset(rw, 0, runway_shmem_size());
	rw->state = RUNWAY_ABSENT;
	ConditionVariableInit(&rw->round_cv);
	if (!pg_strong_random(random, sizeof(random)))
		elog(FATAL, "idgen: could not generate a random instance token");
	hex_encode((char *) random, sizeof(random), rw->instance);
	rw->instance[RUNWAY_INSTANCE_LEN - 1] = '\0';
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
 * runway_node_name_is_default
 *		Whether idgen.node_name is unset (the system identifier is used).
 */
bool
runway_node_name_is_default(void)
{
	return runway_node_name == NULL || runway_node_name[0] == '\0';
}

/*
 * runway_node_name_current
 *		The name this node leases under.
 */
const char *
runway_node_name_current(void)
{
	return node_name();
}

/*
 * one_line
 *		A message of libpq or of the root on one line, cut to fit dest.
 */
static void
one_line(char *dest, const char *message)
{
	int			len;

	strlcpy(dest, message, RUNWAY_ERROR_LEN);
	/* libpq's messages end with a newline, some have two */
	len = strlen(dest);
	for (int i = 0; i < len; i++)
		if (dest[i] == '\n' || dest[i] == '\t')
			dest[i] = ' ';
	while (len > 0 && (dest[len - 1] == '\n' || dest[len - 1] == ' '))
		dest[--len] = '\0';
}

/*
 * set_state
 *		Record the outcome of a contact with the root, and log a line when
 *		the state changes (not at every retry).  error is NULL on success.
 */
static void
set_state(RunwayState state, const char *error)
{
	RunwayState old;
	char		clean[RUNWAY_ERROR_LEN];

	clean[0] = '\0';
	if (error != NULL)
		one_line(clean, error);

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
				(errmsg("idgen runway worker: root server is unreachable"),
				 errdetail("%s", clean),
				 errhint("Nodes go on issuing IDs from the grants they hold; the worker retries.")));
}

/*
 * set_tag_refusal
 *		Record the root's verdict on a tag (refused NULL: accepted) from a
 *		report or a lease, and whether the tag must stop issuing from its
 *		grants; log a line when the refusal changes.  An accepted report
 *		leaves a lease's refusal (a grace period, say) in place: only a
 *		lease clears it.
 */
static void
set_tag_refusal(int index, const char *refused, bool stop, bool lease)
{
	RunwayTag  *t = &rw->tags[index];
	char		clean[RUNWAY_ERROR_LEN];
	bool		by_lease = lease;
	bool		changed;

	clean[0] = '\0';
	if (refused != NULL)
		one_line(clean, refused);
	else if (!lease && t->lease_refused)
	{
		strlcpy(clean, t->refused, sizeof(clean));
		by_lease = true;
	}
	changed = strcmp(clean, t->refused) != 0 || stop != t->stopped;

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	strlcpy(t->refused, clean, sizeof(t->refused));
	t->lease_refused = by_lease && clean[0] != '\0';
	t->stopped = stop;
	LWLockRelease(rw_lock);

	if (!changed)
		return;
	if (clean[0] == '\0')
		ereport(LOG,
				(errmsg("idgen runway worker: root server accepts tag \"%s\" again",
						NameStr(t->tag))));
	else
		ereport(LOG,
				(errmsg("idgen runway worker: root server refuses tag \"%s\"%s",
						NameStr(t->tag),
						stop ? ", which stops issuing IDs from its grants" : ""),
				 errdetail("%s", clean)));
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
 *		Wait until the socket of a connection to the root is ready for io,
 *		the latch is set, or deadline passes; false on timeout.  Interrupts
 *		are served.
 */
static bool
root_wait(PGconn *conn, int io, TimestampTz deadline)
{
	long		ms;
	int			rc;

	ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
	if (ms <= 0)
		return false;
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | io,
						   PQsocket(conn), ms, PG_WAIT_EXTENSION);
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * conninfo_problem
 *		Why idgen.root cannot be used, or NULL: it does not parse (libpq's
 *		message would quote it, password and all), or it holds a password.
 */
static const char *
conninfo_problem(void)
{
	PQconninfoOption *options;
	char	   *error = NULL;
	bool		password = false;

	options = PQconninfoParse(runway_root, &error);
	if (options == NULL)
	{
		if (error != NULL)
			PQfreemem(error);
		return "idgen.root is not a valid connection string";
	}
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
			o->val[0] != '\0')
			password = true;
	PQconninfoFree(options);
	if (password)
		return "idgen.root holds a password, which this server refuses to use: every reload logs the setting; put the password in a password file (libpq's passfile, by default ~/.pgpass of the server's operating system user)";
	return NULL;
}

/*
 * root_connect_params
 *		Connect to one server with the given libpq parameters (expanded
 *		from dbname), without blocking signals, for RUNWAY_CONNECT_MS at
 *		most; NULL (with *error set) on failure.
 */
static PGconn *
root_connect_params(const char *const *keys, const char *const *values,
					char **error)
{
	TimestampTz deadline;
	PGconn	   *conn;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   RUNWAY_CONNECT_MS);
	conn = PQconnectStartParams(keys, values, 0);
	if (conn == NULL)
	{
		*error = pstrdup("out of memory");
		return NULL;
	}
	for (;;)
	{
		PostgresPollingStatusType status;

		if (PQstatus(conn) == CONNECTION_BAD)
			break;
		status = PQconnectPoll(conn);
		if (status == PGRES_POLLING_OK || status == PGRES_POLLING_FAILED)
			break;
		if (!root_wait(conn, status == PGRES_POLLING_READING ?
					   WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE, deadline))
		{
			*error = pstrdup("timeout while connecting");
			break;
		}
	}
	if (PQstatus(conn) != CONNECTION_OK || PQsetnonblocking(conn, 1) != 0)
	{
		if (*error == NULL)
			*error = pstrdup(PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * list_item
 *		Item i of a comma-separated list (the last one when the list is
 *		shorter, as libpq repeats a single port), or NULL for an empty list.
 */
static char *
list_item(const char *list, int i)
{
	List	   *items = NIL;
	char	   *copy;

	if (list == NULL || list[0] == '\0')
		return NULL;
	copy = pstrdup(list);
	for (char *p = strtok(copy, ","); p != NULL; p = strtok(NULL, ","))
		items = lappend(items, p);
	if (items == NIL)
		return NULL;
	return (char *) list_nth(items, Min(i, list_length(items) - 1));
}

/*
 * root_connect
 *		Connect to idgen.root unless connected: to the first server of its
 *		list of hosts that is a primary able to grant (not in recovery, and
 *		with the synchronous standbys it needs: a primary left running after
 *		a failover cannot commit, and would make every lease wait), trying
 *		them in turn from the one used last.  false (with the state set) on
 *		failure.
 */
static bool
root_connect(void)
{
	static int	next_host = 0;
	PQconninfoOption *options;
	const char *problem;
	const char *hosts = NULL;
	const char *addrs = NULL;
	const char *ports = NULL;
	int			nhosts = 1;
	char	   *error = NULL;

	if (root_conn != NULL && PQstatus(root_conn) == CONNECTION_OK)
		return true;
	root_disconnect();
	problem = conninfo_problem();
	if (problem != NULL)
	{
		set_state(RUNWAY_UNREACHABLE, problem);
		return false;
	}
	options = PQconninfoParse(runway_root, NULL);
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
	{
		if (strcmp(o->keyword, "host") == 0)
			hosts = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			addrs = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			ports = o->val;
	}
	for (const char *p = hosts ? hosts : addrs ? addrs : ""; *p; p++)
		nhosts += *p == ',';

	for (int tried = 0; tried < nhosts && root_conn == NULL; tried++)
	{
		int			host = (next_host + tried) % nhosts;
		const char *keys[64];
		const char *values[64];
		int			n = 0;
		PGconn	   *conn;
		PGresult   *res;

		for (PQconninfoOption *o = options; o->keyword != NULL && n < 60; o++)
		{
			const char *val = o->val;

			if (strcmp(o->keyword, "host") == 0)
				val = list_item(hosts, host);
			else if (strcmp(o->keyword, "hostaddr") == 0)
				val = list_item(addrs, host);
			else if (strcmp(o->keyword, "port") == 0)
				val = list_item(ports, host);
			if (val == NULL || strcmp(o->keyword, "fallback_application_name") == 0)
				continue;
			keys[n] = o->keyword;
			values[n++] = val;
		}
		keys[n] = "fallback_application_name";
		values[n++] = "idgen runway worker";
		keys[n] = NULL;
		values[n] = NULL;

		error = NULL;
		conn = root_connect_params(keys, values, &error);
		if (conn == NULL)
			continue;
		root_conn = conn;
		res = root_exec("SELECT pg_catalog.pg_is_in_recovery(),"
						" idgen.grants_blocked()", 0, NULL);
		if (res == NULL)
		{
			error = pstrdup("connection lost");
			continue;			/* root_exec dropped the connection */
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			error = pstrdup(PQresultErrorMessage(res));
		else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			error = psprintf("server \"%s:%s\" is in recovery",
							 PQhost(conn), PQport(conn));
		else if (!PQgetisnull(res, 0, 1))
			error = psprintf("server \"%s:%s\" cannot grant: %s",
							 PQhost(conn), PQport(conn),
							 PQgetvalue(res, 0, 1));
		PQclear(res);
		if (error != NULL)
			root_disconnect();
		else
			next_host = host;
	}
	PQconninfoFree(options);
	if (root_conn == NULL)
	{
		set_state(RUNWAY_UNREACHABLE, error ? error : "no server to connect to");
		return false;
	}
	return true;
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
		if (flushed < 0 || !root_wait(root_conn, WL_SOCKET_WRITEABLE, deadline))
			goto lost;
	}
	for (;;)
	{
		while (PQisBusy(root_conn))
		{
			if (!root_wait(root_conn, WL_SOCKET_READABLE, deadline) ||
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

/* the outcome of one request to the root */
typedef enum Contact
{
	CONTACT_LOST,				/* no answer: the state says why */
	CONTACT_REFUSED,			/* the root refused the tag */
	CONTACT_OK
} Contact;

/*
 * held_arrays
 *		A tag's grants held and their proofs, as the text of an int8range[]
 *		and a text[] for the root.
 */
static void
held_arrays(const Holding *h, char **held, char **proofs)
{
	StringInfoData r;
	StringInfoData p;

	initStringInfo(&r);
	initStringInfo(&p);
	appendStringInfoChar(&r, '{');
	appendStringInfoChar(&p, '{');
	for (int i = 0; i < h->nheld; i++)
	{
		appendStringInfo(&r, "%s\"[" INT64_FORMAT "," INT64_FORMAT ")\"",
						 i > 0 ? "," : "", h->held[i].lo, h->held[i].hi);
		/* proofs are hex digits: no quoting needed */
		appendStringInfo(&p, "%s%s", i > 0 ? "," : "", h->proofs[i]);
	}
	appendStringInfoChar(&r, '}');
	appendStringInfoChar(&p, '}');
	*held = r.data;
	*proofs = p.data;
}

/*
 * root_error_text
 *		The root's error of a failed request, on one line: message and
 *		detail.
 */
static char *
root_error_text(const PGresult *res)
{
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if (message == NULL)
		return pstrdup(PQresultErrorMessage(res)[0] != '\0' ?
					   PQresultErrorMessage(res) :
					   "unexpected answer of the root server");
	return detail ? psprintf("%s: %s", message, detail) : pstrdup(message);
}

/*
 * went_back
 *		Say that the root went back (why), in the log and in idgen.runway.
 */
static void
went_back(const char *why)
{
	ereport(LOG,
			(errmsg("idgen runway worker: %s", why),
			 errdetail("It was restored from a backup, recovered to an earlier point, or failed over to a standby that had not received everything. This node reports the grants it holds, so that the root grants nothing below them.")));
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	strlcpy(rw->last_error, why, sizeof(rw->last_error));
	LWLockRelease(rw_lock);
}

/*
 * check_went_back
 *		The root answered at WAL position now: if that is behind a position
 *		it showed earlier (seen), it has gone back; say so, once per
 *		position.  (A root that went back and has written as much WAL since
 *		is not caught here, but by the grants it has no record of.)
 */
static void
check_went_back(XLogRecPtr seen, XLogRecPtr now)
{
	if (XLogRecPtrIsInvalid(seen) || now >= seen || seen == went_back_logged)
		return;
	went_back_logged = seen;
	went_back(psprintf("root server went back: its WAL position %X/%X is behind %X/%X, where it made a grant this node holds",
					   LSN_FORMAT_ARGS(now), LSN_FORMAT_ARGS(seen)));
}

/*
 * answer_lsn
 *		A pg_lsn of the root's answer.
 */
static XLogRecPtr
answer_lsn(const PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		return InvalidXLogRecPtr;
	return DatumGetLSN(DirectFunctionCall1(pg_lsn_in,
										   CStringGetDatum(PQgetvalue(res, 0, col))));
}

/*
 * root_report
 *		Tell the root what the node holds of a tag (idgen.report_holdings),
 *		and record its verdict on the tag.
 */
static Contact
root_report(int index, const Holding *h)
{
	const char *values[7];
	char	   *held;
	char	   *proofs;
	PGresult   *res;
	Contact		contact = CONTACT_OK;

	held_arrays(h, &held, &proofs);
	values[0] = NameStr(rw->tags[index].tag);
	values[1] = node_name();
	values[2] = rw->instance;
	values[3] = psprintf("%u", h->seqoid);
	values[4] = psprintf(INT64_FORMAT, h->mark);
	values[5] = held;
	values[6] = proofs;
	/* tried: backends that waited for it may go on (see runway_check_tag) */
	rw->tags[index].answered = true;
	if (!root_connect())
		return CONTACT_LOST;
	res = root_exec("SELECT refused, stop, hold, healed, root_lsn"
					" FROM idgen.report_holdings($1, $2, $3, $4, $5, $6, $7)",
					7, values);
	if (res == NULL)
		return CONTACT_LOST;
	set_state(RUNWAY_OK, NULL);
	rw->tags[index].held = false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		PQnfields(res) != 5)
	{
		set_tag_refusal(index, root_error_text(res), rw->tags[index].stopped,
						false);
		contact = CONTACT_REFUSED;
	}
	else
	{
		if (strcmp(PQgetvalue(res, 0, 3), "0") != 0)
			went_back(psprintf("root server went back: it had no record of %s grants of tag \"%s\" this node holds",
							   PQgetvalue(res, 0, 3),
							   NameStr(rw->tags[index].tag)));
		check_went_back(h->root_lsn, answer_lsn(res, 4));
		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		rw->tags[index].held = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		LWLockRelease(rw_lock);
		if (!PQgetisnull(res, 0, 0))
			contact = CONTACT_REFUSED;
		set_tag_refusal(index,
						PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
						strcmp(PQgetvalue(res, 0, 1), "t") == 0, false);
		if (contact == CONTACT_OK)
			rw->tags[index].reported_at = GetCurrentTimestamp();
	}
	PQclear(res);
	return contact;
}

/*
 * root_lease
 *		Lease one grant of a tag from the root into *grant, with its proof
 *		and the root's WAL position, telling the root the tag's rate here
 *		(which sizes the grant) and what the node holds.  A grant that does
 *		not lie above every ID the node holds is refused here.
 */
static Contact
root_lease(int index, const Holding *h, IdRange *grant, char **proof,
		   XLogRecPtr *root_lsn)
{
	RunwayTag  *t = &rw->tags[index];
	const char *values[9];
	char	   *held;
	char	   *proofs;
	PGresult   *res;
	Contact		contact = CONTACT_REFUSED;
	int64		holds = Max(h->top, h->mark);

	held_arrays(h, &held, &proofs);
	values[0] = NameStr(t->tag);
	values[1] = node_name();
	values[2] = psprintf("%.0f", t->rate);
	values[3] = rw->instance;
	values[4] = psprintf("%u", h->seqoid);
	values[5] = psprintf(INT64_FORMAT, h->mark);
	values[6] = held;
	values[7] = proofs;
	values[8] = RANGE_SIZE(h->local) > 0 ?
		psprintf("[" INT64_FORMAT "," INT64_FORMAT ")", h->local.lo,
				 h->local.hi) : "empty";
	if (!root_connect())
		return CONTACT_LOST;
	res = root_exec("SELECT pg_catalog.lower(ids), pg_catalog.upper(ids),"
					" proof, root_lsn"
					" FROM idgen.lease_grant($1, $2, $3, $4, $5, $6, $7, $8, $9)",
					9, values);
	if (res == NULL)
		return CONTACT_LOST;
	set_state(RUNWAY_OK, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* these mean that another server may hold the same grants */
		set_tag_refusal(index, root_error_text(res),
						t->stopped || (sqlstate != NULL &&
									   (strcmp(sqlstate, "23505") == 0 ||
										strcmp(sqlstate, "42710") == 0)),
						true);
	}
	else if (PQntuples(res) != 1 || PQnfields(res) != 4 ||
			 PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
			 PQgetisnull(res, 0, 2))
		set_tag_refusal(index, "unexpected answer to idgen.lease_grant()",
						t->stopped, true);
	else
	{
		grant->lo = strtoi64(PQgetvalue(res, 0, 0), NULL, 10);
		grant->hi = strtoi64(PQgetvalue(res, 0, 1), NULL, 10);
		*proof = pstrdup(PQgetvalue(res, 0, 2));
		*root_lsn = answer_lsn(res, 3);
		check_went_back(h->root_lsn, *root_lsn);
		if (grant->lo <= holds || grant->hi <= grant->lo)
			set_tag_refusal(index,
							psprintf("the root server granted [" INT64_FORMAT ", " INT64_FORMAT "), which does not lie above every ID this node holds (up to " INT64_FORMAT "): the grant is refused",
									 grant->lo, grant->hi, holds),
							t->stopped, true);
		else
		{
			set_tag_refusal(index, NULL, false, true);
			contact = CONTACT_OK;
		}
	}
	PQclear(res);
	return contact;
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
	Oid			nsp = tag_extension_schema();
	uint64		i;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("leases", nsp)))
		return NIL;
	SPI_connect();
	if (SPI_execute("SELECT tag FROM idgen.tags"
					" WHERE source OPERATOR(pg_catalog.=) 'root'"
					" AND kind OPERATOR(pg_catalog.=) 'segment'"
					" ORDER BY tag COLLATE \"C\"", true, 0) != SPI_OK_SELECT)
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
 *		Read a tag's mark, grants and holdings (into *h, allocated in cxt),
 *		update its rate, and say whether it needs another grant.  Runs in a
 *		transaction; index is the tag's place in rw->tags, where its state
 *		is kept, and prev the entry of the previous round, if any.
 */
static bool
tag_need(const NameData *name, int index, const RunwayTag *prev,
		 Holding *h, MemoryContext cxt)
{
	TagInfo		info;
	int			grants;
	int64		left;
	RunwayTag	t;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext old;

	(void) tag_lookup(name, &info);
	h->seqoid = info.seqoid;
	h->mark = durable_read(info.seqoid);
	lease_runway(&info, h->mark, &grants, &left);
	old = MemoryContextSwitchTo(cxt);
	h->nheld = lease_holdings(name, RUNWAY_HELD_MAX, &h->held, &h->proofs,
							  &h->top, &h->local, &h->root_lsn);
	MemoryContextSwitchTo(old);

	/*
	 * The rate window carries over from the previous round.  The rate is what
	 * was consumed from grants, not how far the mark moved: the mark jumps
	 * from one grant to the next.
	 */
	if (prev != NULL)
	{
		t = *prev;
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
	}
	else
	{
		memset(&t, 0, sizeof(t));
		t.tag = *name;
		t.sample_left = left;
		t.sample_at = now;
	}

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->tags[index] = t;
	LWLockRelease(rw_lock);

	return grants < runway_grants ||
		(double) left < t.rate * (double) runway_seconds;
}

/*
 * serve_tag
 *		Report what a tag holds when a report is due or a lease is needed,
 *		and lease grants while it needs them (tag_need), each in
 *		transactions of its own.  After the root was lost (round_failed),
 *		only the tag's rate is updated.  index is the tag's place in
 *		rw->tags; prev its entry of the previous round, or NULL.
 */
static void
serve_tag(const NameData *name, int index, const RunwayTag *prev,
		  MemoryContext cxt)
{
	bool		reported = false;
	int			leased;

	for (leased = 0; leased < RUNWAY_MAX_LEASES; leased++)
	{
		bool		need;
		Holding		h;
		IdRange		grant;
		char	   *proof;
		XLogRecPtr	root_lsn;
		Contact		contact;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		need = tag_need(name, index, leased == 0 ? prev : &rw->tags[index],
						&h, cxt);
		PopActiveSnapshot();
		CommitTransactionCommand();
		if (round_failed)
			break;

		/* what the node holds, before every lease and every few seconds */
		if (!reported &&
			(need || rw->tags[index].stopped ||
			 rw->tags[index].refused[0] != '\0' ||
			 GetCurrentTimestamp() - rw->tags[index].reported_at >=
			 RUNWAY_REPORT_SECS * USECS_PER_SEC))
		{
			reported = true;
			contact = root_report(index, &h);
			if (contact == CONTACT_LOST)
				round_failed = true;
			if (contact != CONTACT_OK)
				break;
		}
		if (!need)
			break;

		/* the grant is durable on the root before we see it */
		contact = root_lease(index, &h, &grant, &proof, &root_lsn);
		if (contact == CONTACT_LOST)
			round_failed = true;
		if (contact != CONTACT_OK)
			break;

		/* and here, before any claim can see it (synchronous_commit) */
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		lease_record(name, grant, proof, root_lsn);
		PopActiveSnapshot();
		CommitTransactionCommand();

		LWLockAcquire(rw_lock, LW_EXCLUSIVE);
		rw->tags[index].leased += RANGE_SIZE(grant);
		LWLockRelease(rw_lock);
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
serve_tag_apart(const NameData *name, int index, const RunwayTag *prev,
				MemoryContext cxt)
{
	PG_TRY();
	{
		serve_tag(name, index, prev, cxt);
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
 * serve_node_id
 *		Lease or renew this server's snowflake node id from the root when
 *		that is due (idgen.node_id = 'auto'; node_id.c keeps it); false when
 *		the root was lost.
 */
static bool
serve_node_id(void)
{
	NodeIdRequest req;
	PGresult   *res;
	char		error[RUNWAY_ERROR_LEN];

	if (!node_id_due())
		return true;
	if (root_connect())
	{
		node_id_request(&req, node_name(), rw->instance);
		res = root_exec(NODE_ID_QUERY, NODE_ID_NPARAMS, req.values);
		if (res != NULL)
		{
			set_state(RUNWAY_OK, NULL);
			node_id_answer(&req, res);
			PQclear(res);
			return true;
		}
	}
	LWLockAcquire(rw_lock, LW_SHARED);
	strlcpy(error, rw->last_error, sizeof(error));
	LWLockRelease(rw_lock);
	node_id_no_answer(error);
	return false;
}

/*
 * runway_round
 *		One round: report and lease each tag as it needs.  cxt, the current
 *		memory context, is reset after each round.
 */
static void
runway_round(MemoryContext cxt)
{
	List	   *names;
	RunwayTag  *prev;
	int			nprev;
	ListCell   *lc;
	int			index = 0;

	/* the state of the previous round, by name (none after a renewal) */
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	if (rw->renewals != rw->renewals_seen)
	{
		rw->ntags = 0;
		rw->renewals_seen = rw->renewals;
	}
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

	round_failed = !serve_node_id();
	foreach(lc, names)
	{
		const NameData *name = (const NameData *) lfirst(lc);
		const RunwayTag *before = NULL;

		if (index >= idgen_max_tags)
			break;
		for (int i = 0; i < nprev; i++)
			if (strcmp(NameStr(prev[i].tag), NameStr(*name)) == 0)
				before = &prev[i];
		serve_tag_apart(name, index, before, cxt);
		index++;
	}

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->ntags = index;
	LWLockRelease(rw_lock);
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
 * round_troubled
 *		Whether the root was unreachable, or refused a tag, in the last
 *		round: the worker then backs off.  A tag the root holds back is
 *		reported again at once: its backends wait.
 */
static bool
round_troubled(void)
{
	bool		troubled;

	LWLockAcquire(rw_lock, LW_SHARED);
	troubled = rw->state == RUNWAY_UNREACHABLE;
	for (int i = 0; i < rw->ntags && !troubled; i++)
		troubled = rw->tags[i].refused[0] != '\0' && !rw->tags[i].held;
	LWLockRelease(rw_lock);
	return troubled;
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

	/* nothing the database's owner creates is found by name */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET,
					PGC_S_OVERRIDE);
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
		LWLockRelease(rw_lock);
		ConditionVariableBroadcast(&rw->round_cv);

		if (round_troubled())
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
 * find_tag
 *		Copy the worker's entry of a tag of this database into *t; false if
 *		it has none.  Caller holds rw_lock.
 */
static bool
find_tag(const NameData *name, RunwayTag *t)
{
	if (rw->dboid != MyDatabaseId)
		return false;
	for (int i = 0; i < rw->ntags; i++)
		if (strcmp(NameStr(rw->tags[i].tag), NameStr(*name)) == 0)
		{
			*t = rw->tags[i];
			return true;
		}
	return false;
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

	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	latch = rw->latch;
	target = rw->rounds_begun + 1;
	LWLockRelease(rw_lock);
	if (latch == NULL)
		return false;
	if (wake)
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
		if (timeout < 0)
			ConditionVariableSleep(&rw->round_cv, PG_WAIT_EXTENSION);
		else if (ConditionVariableTimedSleep(&rw->round_cv, timeout,
											 PG_WAIT_EXTENSION))
			break;
	}
	ConditionVariableCancelSleep();
	return true;
}

/*
 * runway_wait_for_grant
 *		A backend found no grant left for its tag: unless the worker knows
 *		the root is unreachable or refuses the tag (or there is no worker),
 *		wait for one whole round of it, then return true (the caller looks
 *		again).  Returns false at once otherwise.
 */
bool
runway_wait_for_grant(const NameData *tag)
{
	RunwayTag	t;
	bool		hopeless;

	LWLockAcquire(rw_lock, LW_SHARED);
	hopeless = rw->latch == NULL || rw->dboid != MyDatabaseId ||
		rw->state == RUNWAY_UNREACHABLE ||
		(find_tag(tag, &t) && t.refused[0] != '\0' && !t.held);
	LWLockRelease(rw_lock);
	return !hopeless && runway_wait_for_round(true, -1);
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
	RunwayTag	t;

	LWLockAcquire(rw_lock, LW_SHARED);
	state = rw->state;
	dboid = rw->dboid;
	strlcpy(error, rw->last_error, sizeof(error));
	if (find_tag(&info->name, &t) && t.refused[0] != '\0')
		strlcpy(error, t.refused, sizeof(error));
	else if (state != RUNWAY_UNREACHABLE)
		error[0] = '\0';
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
void
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

		LWLockAcquire(rw_lock, LW_SHARED);
		found = find_tag(&info->name, &t);
		renewed = rw->renewals != rw->renewals_seen;
		wait = rw->latch != NULL && rw->dboid == MyDatabaseId &&
			rw->state != RUNWAY_UNREACHABLE &&
			(renewed || !(found && t.answered && !t.held));
		LWLockRelease(rw_lock);
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
 *		for its word under the new one.
 */
void
runway_renew(void)
{
	LWLockAcquire(rw_lock, LW_EXCLUSIVE);
	rw->renewals++;
	LWLockRelease(rw_lock);
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
	seq_nsp = get_namespace_oid(IDGEN_SEQ_SCHEMA, true);

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
