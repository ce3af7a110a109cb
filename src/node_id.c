/*-------------------------------------------------------------------------
 *
 * node_id.c
 *	  Snowflake node ids that cannot collide.  With
 *	  idgen.snowflake_node_id = 'auto' a node leases the node id of its
 *	  snowflake IDs from a registry on the root server, idgen.node_ids,
 *	  through its runway worker:
 *	  idgen.lease_node_id() on the root, the node's side of it, and what
 *	  snowflake_id() checks.
 *
 * The registry.  One row per node id ever leased: the node name and role
 * that hold it, the holder's server instance (a random token per start of
 * its postmaster, runway.c), when its lease ends by the root's clock
 * (leased_until), and the time mark: the latest time any holder of the id
 * may have issued an ID with.  Only idgen.lease_node_id() writes it, as
 * its owner, in its caller's transaction (refused in a transaction block,
 * committed with synchronous_commit on), so that a node sees a lease only
 * once it is durable on the root and its synchronous standbys.  A node
 * name belongs to the role that used it first (idgen.nodes, shared with
 * root.c), and leasing needs EXECUTE on the function, which PUBLIC lacks.
 *
 * The lease.  Let L be the root's idgen.snowflake_node_id_lease.  The
 * runway worker renews every L/8 (at once when a backend needs more, or
 * when the last attempt failed), sending the id it holds, whether its
 * lease ran out here ("lapsed"), and its time high-water mark T
 * (snowflake_high_tick: clock, logical time, snowflake reservation).
 * The root
 *	- renews the row of the same node name and instance: leased_until =
 *	  now + L, time mark raised to T + L (never lowered);
 *	- records a row it has no record of (it went back): the same;
 *	- otherwise assigns an id: the one asked for if it is free, else the
 *	  lowest free one that fits the node's bits.  A row is free once
 *	  leased_until + L/4 has passed by the root's clock (reserved rows,
 *	  leased_until 'infinity', never are).  The answer carries the row's
 *	  previous time mark (floor_ms): the new holder starts above it.
 * Each answer carries L and the time mark now recorded (cap_ms).
 *
 * What the node enforces.
 *	- The cap.  No ID has a tick above the time mark the registry holds
 *	  for its node id: snowflake.c never extends its reservation beyond
 *	  node_id_cap().  A later holder of the id starts above that mark, so
 *	  the two cannot issue the same ID even if the earlier one lived on
 *	  (paused, its clock wrong): uniqueness rests on the registry's marks,
 *	  not on clocks, as long as the root keeps them.
 *	- The deadline.  The node stops issuing with the id 3L/4 after it sent
 *	  the request whose answer it last accepted, by its own monotonic clock
 *	  (CLOCK_BOOTTIME where there is one, which counts a suspend), while
 *	  the root frees the id no earlier than 5L/4 after it received that
 *	  request, by its wall clock.  So between the node's last ID and the
 *	  earliest reuse lie at least L/2, and only the rates of the two
 *	  clocks matter, not their offsets: the node's clock may run up to
 *	  5/3 slower than the root's.  This is what keeps one live holder per
 *	  id, which matters when the marks are lost (below).
 *	- A new id.  When the root answers with an id other than the one held,
 *	  or with a floor, snowflake_id() stops (the word says none, the cap
 *	  none, the snowflake reservation is cut), the floor and state are
 *	  raised above the old reservation and the registry's previous mark,
 *	  and only then is the new id published: IDs stay strictly increasing,
 *	  and above everything the id's earlier holders issued.
 *
 * A root that went back (restored from a backup, to a point in time, or
 * failed over to an asynchronous standby) may have lost rows or marks.
 * After it starts or is promoted it answers, for 5L/4 after it first
 * answered a node, only live holders (requests for an id whose lease has
 * not lapsed on the node; they renew, record their row again, or take over
 * a row it shows free, with its floor): every holder that has not renewed
 * with it by then sent its last renewal before it started, and has passed
 * its deadline.  A lapsed holder asking for its id back, or a new node,
 * could otherwise be given an id a live holder still holds, whose row the
 * root lost.  Live holders' marks come back with their renewals.  What
 * remains: a holder that could not reach the root for all that time
 * stopped issuing, but the root may have lost its mark; the next holder
 * of its id then starts above the mark it has, and above the holder's IDs
 * only by the clocks (at least L/2 passed between them, by both servers'
 * clocks).  The README says so.
 *
 * The fast path.  next_id() reads one word per call (no lock): the node
 * id in its low 32 bits, and in its high 32 bits the deadline as a wall
 * clock tick shifted right by the layout's deadline_shift (rounded down),
 * 0 for none.  A call whose clock has reached it takes node_id_part_slow,
 * which checks the monotonic deadline itself (the rounding, or a clock
 * stepped since the word was made).  A clock that went back (next_id sees
 * it) clears the word's deadline, so that the slow path judges until the
 * worker makes the word again from the monotonic deadline.
 *
 * Locking protocol (for everything in NodeIdShared):
 *	- word is written by the runway worker (by compare-and-swap, in
 *	  make_word), and its deadline cleared by backends (compare-and-swap)
 *	  when the clock went back; read without a lock.  next_id reads it
 *	  after the snowflake reservation, with a read barrier in between, and
 *	  the worker publishes a new id only after it cut the reservation,
 *	  raised the state and set the cap, with a write barrier in between: a
 *	  call that sees the new id sees a reservation that is within its cap,
 *	  or one so old that the raised state lies above it.
 *	- cap is written only by the worker, read without a lock; when it goes
 *	  down (a new id) the worker sets it to none before it cuts the
 *	  snowflake reservation under the mutex of snowflake_time.c, and the
 *	  keeper caps under that mutex too.
 *	- mutex (a spinlock) protects node_id, deadline, sent, sent_at,
 *	  lease_ms, state, state_since, attempts, renew_now, error and
 *	  worker_latch.  Only the worker writes them, except renew_now (set by
 *	  backends) and worker_latch.
 *	- cv is broadcast by the worker after each attempt; waiters need no
 *	  lock.
 *	- opened_at (the root side: when this server first answered a node id
 *	  request) is set once by compare-and-swap.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "base.h"
#include "durable.h"
#include "node_id.h"
#include "snowflake.h"
#include "snowflake_time.h"
#include "tag.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(idgen_lease_node_id);
PG_FUNCTION_INFO_V1(idgen_snowflake_node_status);

IDGEN_NORETURN_BEGIN static void node_id_unavailable(int id, const char *error)
			IDGEN_NORETURN_END;

#define NODE_ID_ERROR_LEN	256
#define NODE_ID_WAIT_MS		10000	/* a backend waits this long for the
									 * worker's first attempt, or for a
									 * renewal it asked for */

/*
 * Parts of the lease L: the node renews every L/8 and stops at 3L/4 after
 * it sent the renewal; the root frees the id L/4 after leased_until and
 * assigns none for 5L/4 after it first answered.
 */
#define NODE_ID_RENEW(l)	((int64) (l) / 8)
#define NODE_ID_DEADLINE(l) ((int64) (l) * 3 / 4)
#define NODE_ID_MARGIN(l)	((int64) (l) / 4)
#define NODE_ID_GRACE(l)	((int64) (l) + NODE_ID_MARGIN(l))

/* what the worker knows of this server's node id */
typedef enum NodeIdState
{
	NODE_ID_STARTING,			/* no attempt yet */
	NODE_ID_UNASSIGNED,			/* none held: the last attempt failed */
	NODE_ID_LEASED,				/* held, renewed in time */
	NODE_ID_RENEWING,			/* held, the last renewal failed */
	NODE_ID_EXPIRED				/* held, but its lease ran out here */
} NodeIdState;

/* see the locking protocol above */
typedef struct NodeIdShared
{
	pg_atomic_uint64 word;		/* (deadline << 32) | node id; 0: none */
	pg_atomic_uint64 cap;		/* last tick the registry covers, -1: none */
	pg_atomic_uint64 opened_at; /* root: TimestampTz of the first answer */
	slock_t		mutex;
	int			node_id;		/* the id held, or -1 */
	int64		deadline;		/* node clock (us) at which its lease ends */
	int64		sent;			/* node clock when the last renewal that was
								 * answered was sent */
	TimestampTz sent_at;		/* wall clock then */
	int			lease_ms;		/* the root's lease length */
	NodeIdState state;
	TimestampTz state_since;
	uint32		attempts;		/* the worker's attempts so far */
	bool		renew_now;		/* a backend needs a renewal */
	Latch	   *worker_latch;	/* the runway worker's, while it runs */
	char		error[NODE_ID_ERROR_LEN];	/* why the last attempt failed */
	ConditionVariable cv;
} NodeIdShared;

static NodeIdShared *nid = NULL;
pg_atomic_uint64 *node_id_word = NULL;

static int	node_id_lease_ms = 120000;
static int	deprecated_node_id_lease_ms = 120000;	/* idgen.node_id_lease */

/*
 * node_id_define_settings
 *		Define idgen.snowflake_node_id_lease (of a root) and its deprecated
 *		name idgen.node_id_lease; from _PG_init.
 */
void
node_id_define_settings(void)
{
	char	   *given = setting_as_given("idgen.snowflake_node_id_lease");
	char	   *given_old = setting_as_given("idgen.node_id_lease");

	DefineCustomIntVariable("idgen.snowflake_node_id_lease",
							"Length of the leases of snowflake node ids this server gives to nodes with idgen.snowflake_node_id = auto.",
							"A node stops issuing IDs with its node id three quarters of a lease after it last asked to renew it; this server gives the id to another node a quarter of a lease after the lease ended.",
							&node_id_lease_ms,
							120000,
							1000,
							86400000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.node_id_lease",
							"Deprecated name of idgen.snowflake_node_id_lease, read at server start only.",
							NULL,
							&deprecated_node_id_lease_ms,
							120000,
							1000,
							86400000,
							PGC_SUSET,
							GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	forward_deprecated_setting("idgen.node_id_lease",
							   "idgen.snowflake_node_id_lease",
							   given_old, given);
}

/*
 * node_id_check_settings
 *		Stop the server when idgen.snowflake_node_id is 'auto' and there is no root
 *		server to lease it from; from _PG_init, once the settings of many
 *		servers are defined.
 */
void
node_id_check_settings(void)
{
	const char *root = GetConfigOption("idgen.root", false, false);

	if (snowflake_layout.node_auto && (root == NULL || root[0] == '\0'))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.snowflake_node_id\": \"auto\""),
				 errdetail("\"auto\" leases the node id from the root server named by \"idgen.root\", which is not set."),
				 errhint("Set \"idgen.root\" to the connection string of the root server, or give \"idgen.snowflake_node_id\" a number.")));
}

/*
 * node_id_shmem_request
 *		Ask for the shared state; from the shmem_request_hook.
 */
void
node_id_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(NodeIdShared));
}

/*
 * node_id_shmem_startup
 *		Attach to (and, the first time, initialise) the shared state.
 *		Called with AddinShmemInitLock held.
 */
void
node_id_shmem_startup(void)
{
	bool		found;

	nid = ShmemInitStruct("idgen node id", sizeof(NodeIdShared), &found);
	node_id_word = &nid->word;
	if (found)
		return;
	memset(nid, 0, sizeof(NodeIdShared));
	pg_atomic_init_u64(&nid->word, 0);
	pg_atomic_init_u64(&nid->cap, (uint64) INT64CONST(-1));
	pg_atomic_init_u64(&nid->opened_at, 0);
	SpinLockInit(&nid->mutex);
	nid->node_id = -1;
	nid->state = NODE_ID_STARTING;
	ConditionVariableInit(&nid->cv);
}

/*
 * node_clock
 *		The node's monotonic clock in microseconds: CLOCK_BOOTTIME, which
 *		goes on while the machine is suspended, where there is one.
 */
static int64
node_clock(void)
{
	struct timespec ts;

#ifdef CLOCK_BOOTTIME
	clock_gettime(CLOCK_BOOTTIME, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * ms_to_tick
 *		Unix time in milliseconds as the tick holding it.
 */
static int64
ms_to_tick(int64 ms)
{
	return snowflake_floor_div(ms - snowflake_layout.epoch_ms,
							   snowflake_layout.unit_ms);
}

/*
 * ms_to_timestamptz
 *		Unix time in milliseconds as a timestamptz.
 */
static TimestampTz
ms_to_timestamptz(int64 ms)
{
	return (ms - UNIX_MS_AT_PG_EPOCH) * 1000;
}

/*
 * timestamptz_to_ms
 *		A timestamptz as Unix time in milliseconds (rounded down).
 */
static int64
timestamptz_to_ms(TimestampTz ts)
{
	return snowflake_floor_div(ts, 1000) + UNIX_MS_AT_PG_EPOCH;
}

/*
 * node_id_cap
 *		The last tick the root's registry covers for the node id held, or
 *		-1: the snowflake reservation is never extended beyond it.
 */
int64
node_id_cap(void)
{
	return (int64) pg_atomic_read_u64(&nid->cap);
}

/*
 * make_word
 *		Make the fast path's word from the node id held and its deadline,
 *		by compare-and-swap (backends may clear its deadline meanwhile).
 *		Called by the worker.
 */
static void
make_word(void)
{
	uint64		old = pg_atomic_read_u64(&nid->word);

	for (;;)
	{
		int			id;
		int64		deadline;
		int64		now;
		uint64		word = 0;

		SpinLockAcquire(&nid->mutex);
		id = nid->node_id;
		deadline = nid->deadline;
		SpinLockRelease(&nid->mutex);
		now = node_clock();
		if (id >= 0 && deadline > now)
		{
			int64		tick;

			tick = snowflake_wall_tick() +
				(deadline - now) / 1000 / snowflake_layout.unit_ms;
			tick = Min(tick, snowflake_layout.max_tick);
			if (tick > 0)
				word = ((uint64) (tick >> snowflake_layout.deadline_shift) << 32) |
					(uint32) id;
		}
		if (pg_atomic_compare_exchange_u64(&nid->word, &old, word))
			break;
	}
}

/*
 * node_id_clock_went_back
 *		The clock went back: the word's deadline, in clock ticks, now lies
 *		later than the monotonic one.  Clear it, so that calls take the slow
 *		path until the worker makes the word again.
 */
void
node_id_clock_went_back(void)
{
	uint64		old = pg_atomic_read_u64(&nid->word);

	while ((old >> 32) != 0 &&
		   !pg_atomic_compare_exchange_u64(&nid->word, &old,
										   old & PG_UINT32_MAX))
		;
}

/*
 * node_id_unavailable
 *		Raise the error of snowflake_id() on a server whose node id is
 *		leased: it holds none (id < 0), or its lease ran out here.
 */
static void
node_id_unavailable(int id, const char *error)
{
	if (id >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("snowflake IDs are not available: the lease of node id %d ran out",
						id),
				 error[0] != '\0' ?
				 errdetail("The root server did not renew it in time: %s",
						   error) :
				 errdetail("The root server did not renew it in time."),
				 errhint("The runway worker renews it by itself once the root server named by \"idgen.root\" answers; see idgen.snowflake_node and the server log.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("snowflake IDs are not available: this server holds no node id"),
			 error[0] != '\0' ?
			 errdetail("\"idgen.snowflake_node_id\" is \"auto\", and the root server gave none: %s",
					   error) :
			 !IsUnderPostmaster ?
			 errdetail("\"idgen.snowflake_node_id\" is \"auto\", and single-user mode runs no runway worker to lease one.") :
			 errdetail("\"idgen.snowflake_node_id\" is \"auto\", and the runway worker has not leased one from the root server yet."),
			 errhint("The runway worker leases one by itself once the root server named by \"idgen.root\" gives one; see idgen.snowflake_node and the server log.")));
}

/* a backend's wait for a usable node id (node_id_part_slow) */
typedef struct NodeIdWait
{
	TimestampTz start;			/* when the wait began */
	int			id;				/* the id held, or -1 */
	bool		usable;			/* id is held, before its deadline */
	char		error[NODE_ID_ERROR_LEN];	/* why the last attempt failed */
} NodeIdWait;

/*
 * node_id_known
 *		Whether a backend waiting for a node id (a NodeIdWait) is done: one
 *		is held before its deadline (usable), or there is no point waiting
 *		longer (one is held past its deadline, the worker made its first
 *		attempt, there is no worker, or NODE_ID_WAIT_MS passed).
 */
static bool
node_id_known(void *arg)
{
	NodeIdWait *w = (NodeIdWait *) arg;
	int64		deadline;
	uint32		attempts;

	SpinLockAcquire(&nid->mutex);
	w->id = nid->node_id;
	deadline = nid->deadline;
	attempts = nid->attempts;
	strlcpy(w->error, nid->error, sizeof(w->error));
	SpinLockRelease(&nid->mutex);

	w->usable = w->id >= 0 && node_clock() < deadline;
	return w->usable || w->id >= 0 || attempts > 0 || !IsUnderPostmaster ||
		TimestampDifferenceExceeds(w->start, GetCurrentTimestamp(),
								   NODE_ID_WAIT_MS);
}

/*
 * node_id_part_slow
 *		The node part of the next ID, when the fast path's word does not
 *		give it: no id is held (wait for the worker's first attempt after
 *		the server started, NODE_ID_WAIT_MS at most), or the word's deadline
 *		has passed (check the monotonic one).  Raises the error otherwise.
 */
int64
node_id_part_slow(void)
{
	NodeIdWait	w;

	w.start = GetCurrentTimestamp();
	/* the common case first, without preparing a sleep */
	if (!node_id_known(&w))
		(void) worker_wait_for(&nid->cv, node_id_known, &w, 100, false,
							   IDGEN_WAIT_NODE_ID);
	if (w.usable)
		return (int64) w.id << snowflake_layout.seq_bits;
	node_id_unavailable(w.id, w.error);
	pg_unreachable();
}

/* a backend's wait for a renewal (node_id_need_cap) */
typedef struct NodeIdCapWait
{
	int64		need;			/* the tick the cap must reach */
	TimestampTz start;			/* when the wait began */
	uint32		attempts;		/* the worker's attempts before it */
} NodeIdCapWait;

/*
 * node_id_renewed
 *		Whether a backend waiting for the cap (a NodeIdCapWait) is done: the
 *		cap reached need, or the worker made an attempt since the request,
 *		or there is no point waiting longer (no worker, one that made
 *		attempts before and left, or NODE_ID_WAIT_MS passed).
 */
static bool
node_id_renewed(void *arg)
{
	NodeIdCapWait *w = (NodeIdCapWait *) arg;
	bool		attempted;
	Latch	   *latch;

	SpinLockAcquire(&nid->mutex);
	attempted = nid->attempts != w->attempts;
	latch = nid->worker_latch;
	SpinLockRelease(&nid->mutex);
	return attempted || node_id_cap() >= w->need || !IsUnderPostmaster ||
		(latch == NULL && w->attempts > 0) ||
		TimestampDifferenceExceeds(w->start, GetCurrentTimestamp(),
								   NODE_ID_WAIT_MS);
}

/*
 * node_id_need_cap
 *		The snowflake reservation must cover tick need, above the cap: ask
 *		the worker for a renewal (which records a later time mark) and wait
 *		for its attempt, NODE_ID_WAIT_MS at most.  Raises an error when the cap
 *		still lies below need.
 */
void
node_id_need_cap(int64 need)
{
	NodeIdCapWait w;
	Latch	   *latch;
	int			id;
	int64		deadline;
	char		error[NODE_ID_ERROR_LEN];

	w.need = need;
	w.start = GetCurrentTimestamp();
	SpinLockAcquire(&nid->mutex);
	w.attempts = nid->attempts;
	nid->renew_now = true;
	latch = nid->worker_latch;
	SpinLockRelease(&nid->mutex);
	if (latch != NULL)
		SetLatch(latch);

	/* a worker not started yet makes its first attempt anyway */
	(void) worker_wait_for(&nid->cv, node_id_renewed, &w, 100, false,
						   IDGEN_WAIT_NODE_ID_CAP);
	if (node_id_cap() >= need)
		return;

	SpinLockAcquire(&nid->mutex);
	id = nid->node_id;
	deadline = nid->deadline;
	strlcpy(error, nid->error, sizeof(error));
	SpinLockRelease(&nid->mutex);
	if (id < 0 || node_clock() >= deadline)
		node_id_unavailable(id, error);
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("could not generate a snowflake ID: the root server has not recorded its time for node id %d",
					id),
			 errdetail("The root server's registry covers IDs of node id %d up to %s; this server's logical time is %s.",
					   id,
					   timestamptz_to_str(snowflake_tick_to_timestamptz(node_id_cap())),
					   timestamptz_to_str(snowflake_tick_to_timestamptz(need))),
			 error[0] != '\0' ?
			 errhint("The runway worker could not renew the lease: %s", error) :
			 errhint("The runway worker renews the lease by itself; try again.")));
}

/*
 * state_name
 *		How idgen.snowflake_node shows a state.
 */
static const char *
state_name(NodeIdState state)
{
	switch (state)
	{
		case NODE_ID_STARTING:
			return "starting";
		case NODE_ID_UNASSIGNED:
			return "unassigned";
		case NODE_ID_LEASED:
			return "leased";
		case NODE_ID_RENEWING:
			return "renewing";
		case NODE_ID_EXPIRED:
			return "expired";
	}
	return "unknown";
}

/*
 * set_state
 *		Record the outcome of an attempt (error NULL: success) and count it,
 *		wake the backends that wait for it, and log a line when the state,
 *		or the reason of a failure, changes: not one per retry.  old_id is
 *		the id held before the attempt.  Called by the worker.
 */
static void
set_state(NodeIdState state, const char *error, int old_id)
{
	NodeIdState old;
	bool		changed;
	int			id;
	int64		left;
	int			lease_ms;

	SpinLockAcquire(&nid->mutex);
	old = nid->state;
	changed = old != state ||
		(error != NULL && strcmp(nid->error, error) != 0);
	if (old != state)
	{
		nid->state = state;
		nid->state_since = GetCurrentTimestamp();
	}
	if (error != NULL)
		strlcpy(nid->error, error, sizeof(nid->error));
	else
		nid->error[0] = '\0';
	nid->attempts++;
	nid->renew_now = false;
	id = nid->node_id;
	left = (nid->deadline - node_clock()) / 1000;
	lease_ms = nid->lease_ms;
	SpinLockRelease(&nid->mutex);
	ConditionVariableBroadcast(&nid->cv);

	if (state == NODE_ID_LEASED && old_id >= 0 && old_id != id)
		ereport(LOG,
				(errmsg("idgen runway worker: snowflake node id %d is no longer this server's; leased node id %d",
						old_id, id),
				 errdetail("The lease of node id %d ran out here before the root server renewed it. IDs of node id %d continue above every ID issued with it before.",
						   old_id, id)));
	else if (!changed)
		return;
	else if (state == NODE_ID_LEASED && old_id == id &&
			 (old == NODE_ID_RENEWING || old == NODE_ID_EXPIRED))
		ereport(LOG,
				(errmsg("idgen runway worker: renewed the lease of snowflake node id %d again",
						id)));
	else if (state == NODE_ID_LEASED)
		ereport(LOG,
				(errmsg("idgen runway worker: leased snowflake node id %d from the root server",
						id),
				 errdetail("The lease lasts %d ms; the worker renews it every %lld ms.",
						   lease_ms, (long long) NODE_ID_RENEW(lease_ms))));
	else if (state == NODE_ID_RENEWING)
		ereport(LOG,
				(errmsg("idgen runway worker: could not renew the lease of snowflake node id %d",
						id),
				 errdetail("%s", error),
				 errhint("snowflake_id() stops in %lld ms unless the root server renews it.",
						 (long long) Max(left, 0))));
	else if (state == NODE_ID_EXPIRED)
		ereport(LOG,
				(errmsg("idgen runway worker: the lease of snowflake node id %d ran out",
						id),
				 error != NULL ? errdetail("%s", error) : 0,
				 errhint("snowflake_id() fails until the root server renews it.")));
	else if (state == NODE_ID_UNASSIGNED)
		ereport(LOG,
				(errmsg("idgen runway worker: the root server gave no snowflake node id"),
				 errdetail("%s", error),
				 errhint("snowflake_id() fails until it gives one; the worker retries.")));
}

/*
 * worker_exit
 *		The runway worker leaves: nobody renews on request any more.
 */
static void
worker_exit(int code, Datum arg)
{
	SpinLockAcquire(&nid->mutex);
	nid->worker_latch = NULL;
	SpinLockRelease(&nid->mutex);
	ConditionVariableBroadcast(&nid->cv);
}

/*
 * node_id_due
 *		Called by the runway worker at every round: whether a request to
 *		the root is due (no id held, a renewal every L/8, a backend asked,
 *		the last attempt failed, or the cap runs short).  Also makes the
 *		fast path's word again, and notices a lease that ran out.  False
 *		when idgen.snowflake_node_id is a number.
 */
bool
node_id_due(void)
{
	static bool registered = false;
	int			id;
	int64		deadline;
	int64		sent;
	int			lease_ms;
	bool		renew_now;
	NodeIdState state;
	int64		now = node_clock();
	int64		cap_left;

	if (!snowflake_layout.node_auto)
		return false;
	if (!registered)
	{
		before_shmem_exit(worker_exit, (Datum) 0);
		registered = true;
	}

	SpinLockAcquire(&nid->mutex);
	nid->worker_latch = MyLatch;
	id = nid->node_id;
	deadline = nid->deadline;
	sent = nid->sent;
	lease_ms = nid->lease_ms;
	renew_now = nid->renew_now;
	state = nid->state;
	SpinLockRelease(&nid->mutex);
	make_word();

	if (id < 0)
		return true;
	if (now >= deadline &&
		(state == NODE_ID_LEASED || state == NODE_ID_RENEWING))
	{
		char		error[NODE_ID_ERROR_LEN];

		SpinLockAcquire(&nid->mutex);
		strlcpy(error, nid->error, sizeof(error));
		SpinLockRelease(&nid->mutex);
		set_state(NODE_ID_EXPIRED, error[0] != '\0' ? error :
				  "no renewal was answered in time", id);
	}
	cap_left = node_id_cap() - snowflake_high_tick();
	return renew_now || state != NODE_ID_LEASED ||
		now - sent >= NODE_ID_RENEW(lease_ms) * 1000 ||
		cap_left < (int64) lease_ms / 2 / snowflake_layout.unit_ms;
}

/*
 * node_id_request
 *		Fill a request to the root for node name node and server instance
 *		instance, and note when it is sent (now: the caller sends it next).
 */
void
node_id_request(NodeIdRequest *req, const char *node, const char *instance)
{
	int64		high = Max(snowflake_high_tick(), 0);

	int64		deadline;

	SpinLockAcquire(&nid->mutex);
	req->held = nid->node_id;
	deadline = nid->deadline;
	SpinLockRelease(&nid->mutex);
	req->sent_at = GetCurrentTimestamp();
	req->sent = node_clock();
	req->values[0] = node;
	req->values[1] = instance;
	req->values[2] = psprintf(INT64_FORMAT,
							  (INT64CONST(1) << snowflake_layout.node_bits) - 1);
	req->values[3] = psprintf("%d", req->held);
	/* a lapsed lease is asked back, never renewed, in a grace period */
	req->values[4] = req->held >= 0 && req->sent >= deadline ? "t" : "f";
	req->values[5] = psprintf(INT64_FORMAT, snowflake_tick_to_unix_ms(high));
}

/*
 * node_id_no_answer
 *		The request could not be sent or was not answered (why).
 */
void
node_id_no_answer(const char *why)
{
	int			id;
	int64		deadline;
	NodeIdState state = NODE_ID_UNASSIGNED;

	SpinLockAcquire(&nid->mutex);
	id = nid->node_id;
	deadline = nid->deadline;
	SpinLockRelease(&nid->mutex);
	if (id >= 0)
		state = node_clock() < deadline ? NODE_ID_RENEWING : NODE_ID_EXPIRED;
	set_state(state, why[0] != '\0' ? why : "the root server did not answer",
			  id);
}

/*
 * switch_id
 *		Take node id id, whose registry mark before was floor_ms (or none):
 *		stop issuing, raise the floor and state above everything issued
 *		with the id held before and by the new id's earlier holders, set
 *		the new cap and deadline, and only then publish it (see the locking
 *		protocol).
 */
static void
switch_id(const NodeIdRequest *req, int id, int lease_ms, bool has_floor,
		  int64 floor_ms, int64 cap)
{
	int64		first;

	pg_atomic_write_u64(&nid->word, 0);
	SpinLockAcquire(&nid->mutex);
	nid->node_id = -1;
	SpinLockRelease(&nid->mutex);
	pg_atomic_write_u64(&nid->cap, (uint64) INT64CONST(-1));
	pg_memory_barrier();

	first = snowflake_stop_reservation() + 1;
	if (has_floor)
		first = Max(first, ms_to_tick(floor_ms) + 1);
	snowflake_raise_floor(first);
	pg_atomic_write_u64(&nid->cap, (uint64) cap);
	pg_write_barrier();

	SpinLockAcquire(&nid->mutex);
	nid->node_id = id;
	nid->deadline = req->sent + NODE_ID_DEADLINE(lease_ms) * 1000;
	nid->sent = req->sent;
	nid->sent_at = req->sent_at;
	nid->lease_ms = lease_ms;
	SpinLockRelease(&nid->mutex);
	make_word();
}

/*
 * node_id_answer
 *		The root answered a request: renew the id held, take a new one, or
 *		record the refusal.
 */
void
node_id_answer(const NodeIdRequest *req, const PGresult *res)
{
	int64		max_id = (INT64CONST(1) << snowflake_layout.node_bits) - 1;
	int64		id;
	int64		lease_ms;
	int64		cap;
	char		error[NODE_ID_ERROR_LEN];

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

		if (message == NULL)
			message = "unexpected answer of the root server";
		if (detail != NULL)
			snprintf(error, sizeof(error), "%s: %s", message, detail);
		else
			strlcpy(error, message, sizeof(error));
		for (char *p = error; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		node_id_no_answer(error);
		return;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 4 ||
		PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
		PQgetisnull(res, 0, 3))
	{
		node_id_no_answer("unexpected answer to idgen.lease_node_id()");
		return;
	}
	id = strtoi64(PQgetvalue(res, 0, 0), NULL, 10);
	lease_ms = strtoi64(PQgetvalue(res, 0, 1), NULL, 10);
	cap = Min(ms_to_tick(strtoi64(PQgetvalue(res, 0, 3), NULL, 10)),
			  snowflake_layout.max_tick);
	if (id < 0 || id > max_id || lease_ms <= 0 || lease_ms > INT_MAX)
	{
		node_id_no_answer("unexpected answer to idgen.lease_node_id()");
		return;
	}

	if (id == req->held && PQgetisnull(res, 0, 2))
	{
		/* renewed: the same id, whose mark only grows */
		uint64		old = pg_atomic_read_u64(&nid->cap);

		while ((int64) old < cap &&
			   !pg_atomic_compare_exchange_u64(&nid->cap, &old, (uint64) cap))
			;
		SpinLockAcquire(&nid->mutex);
		nid->deadline = req->sent + NODE_ID_DEADLINE(lease_ms) * 1000;
		nid->sent = req->sent;
		nid->sent_at = req->sent_at;
		nid->lease_ms = (int) lease_ms;
		SpinLockRelease(&nid->mutex);
		make_word();
	}
	else
		switch_id(req, (int) id, (int) lease_ms, !PQgetisnull(res, 0, 2),
				  PQgetisnull(res, 0, 2) ? 0 :
				  strtoi64(PQgetvalue(res, 0, 2), NULL, 10), cap);
	set_state(NODE_ID_LEASED, NULL, req->held);
}

/*
 * registry_exec
 *		Run one statement on the registry with arguments (NULL nulls: none
 *		is null); the caller has connected to SPI as its owner.
 */
static int
registry_exec(const char *sql, int nargs, Oid *argtypes, Datum *args,
			  const char *nulls)
{
	int			rc;

	rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "idgen: could not run \"%s\": %s", sql,
			 SPI_result_code_string(rc));
	return rc;
}

/*
 * check_name_owner
 *		A node name belongs to the role that used it first (idgen.nodes,
 *		as root.c keeps it): record it for role, or refuse another role.
 *		Connected to SPI as the owner.
 */
static void
check_name_owner(const char *node, const char *role)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char	   *owner;

	args[0] = CStringGetTextDatum(node);
	args[1] = CStringGetTextDatum(role);
	registry_exec("INSERT INTO idgen.nodes (node, role) VALUES ($1, $2)"
				  " ON CONFLICT DO NOTHING", 2, argtypes, args, NULL);
	registry_exec("SELECT role FROM idgen.nodes"
				  " WHERE node OPERATOR(pg_catalog.=) $1",
				  1, argtypes, args, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "idgen: node \"%s\" is not in idgen.nodes", node);
	owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (strcmp(owner, role) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("node name \"%s\" belongs to role \"%s\"", node, owner),
				 errdetail("Role \"%s\" used this name first; each node name belongs to one role.",
						   owner),
				 errhint("Give each node a name of its own with idgen.node_name.")));
}

/*
 * free_node_id
 *		The node id to assign: held if it is free, else the lowest free one
 *		from 0 to max_id, free meaning no row, or a row whose lease ended
 *		before free_before; -1 if there is none.  Connected to SPI as the
 *		owner, the registry locked.
 */
static int64
free_node_id(int held, int64 max_id, TimestampTz free_before)
{
	Oid			argtypes[3] = {INT8OID, TIMESTAMPTZOID, INT8OID};
	Datum		args[3];
	bool		isnull;
	Datum		d;

	args[0] = Int64GetDatum(max_id);
	args[1] = TimestampTzGetDatum(free_before);
	args[2] = Int64GetDatum(held);
	registry_exec("SELECT pg_catalog.min(n) FROM ("
				  "  SELECT $3 AS n WHERE $3 OPERATOR(pg_catalog.>=) 0"
				  "   AND NOT EXISTS (SELECT FROM idgen.node_ids r"
				  "    WHERE r.node_id OPERATOR(pg_catalog.=) $3"
				  "     AND r.leased_until OPERATOR(pg_catalog.>=) $2)"
				  ") h",
				  3, argtypes, args, NULL);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	if (!isnull)
		return DatumGetInt64(d);

	registry_exec("SELECT pg_catalog.min(n) FROM ("
				  "  SELECT 0::pg_catalog.int8 AS n WHERE NOT EXISTS"
				  "   (SELECT FROM idgen.node_ids"
				  "     WHERE node_id OPERATOR(pg_catalog.=) 0)"
				  "  UNION ALL"
				  "  SELECT node_id FROM idgen.node_ids"
				  "   WHERE leased_until OPERATOR(pg_catalog.<) $2"
				  "  UNION ALL"
				  "  SELECT r.node_id::pg_catalog.int8 OPERATOR(pg_catalog.+) 1"
				  "    FROM idgen.node_ids r WHERE NOT EXISTS"
				  "     (SELECT FROM idgen.node_ids s"
				  "       WHERE s.node_id::pg_catalog.int8 OPERATOR(pg_catalog.=)"
				  "        (r.node_id::pg_catalog.int8 OPERATOR(pg_catalog.+) 1))"
				  ") f WHERE n OPERATOR(pg_catalog.<=) $1",
				  2, argtypes, args, NULL);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	return isnull ? -1 : DatumGetInt64(d);
}

/* the arguments of idgen.lease_node_id(), and what it decided */
typedef struct NodeIdLease
{
	const char *node;
	const char *instance;
	const char *role;
	int64		max_id;
	int			held;
	bool		lapsed;			/* the lease of held ran out on the node */
	int64		mark_ms;		/* the node's time high-water mark */
	int			lease_ms;
	/* the outcome */
	int64		id;
	bool		has_floor;
	int64		floor_ms;		/* the id's mark before, when assigned */
	int64		cap_ms;			/* the id's mark now */
} NodeIdLease;

/*
 * registry_lease
 *		Renew, record again or assign a node id for a request (see the
 *		header comment), as the registry's owner; the outcome goes into l.
 */
static void
registry_lease(NodeIdLease *l)
{
	Oid			argtypes[8] = {INT8OID, TEXTOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[8];
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz free_before;
	TimestampTz opened;
	bool		keep = false;	/* the id held stays, without a floor */
	bool		exempt = false; /* a live holder: not held back by the grace */
	bool		isnull;
	Datum		d;
	OwnerContext as_owner;

	free_before = TimestampTzPlusMilliseconds(now, -NODE_ID_MARGIN(l->lease_ms));
	args[1] = CStringGetTextDatum(l->node);
	args[2] = CStringGetTextDatum(l->instance);
	args[3] = CStringGetTextDatum(l->role);
	args[4] = TimestampTzGetDatum(now);
	args[5] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(now, l->lease_ms));
	args[6] = TimestampTzGetDatum(ms_to_timestamptz(l->mark_ms + l->lease_ms));
	args[7] = TimestampTzGetDatum(free_before);

	idgen_spi_connect_as_owner(idgen_table_oid("node_ids"), &as_owner);
	check_name_owner(l->node, l->role);
	registry_exec("LOCK TABLE idgen.node_ids IN EXCLUSIVE MODE",
				  0, NULL, NULL, NULL);

	if (l->held >= 0)
	{
		bool		live = !l->lapsed;

		args[0] = Int64GetDatum(l->held);
		registry_exec("SELECT node OPERATOR(pg_catalog.=) $2"
					  " AND instance OPERATOR(pg_catalog.=) $3,"
					  " leased_until OPERATOR(pg_catalog.>=) $8, node"
					  " FROM idgen.node_ids"
					  " WHERE node_id OPERATOR(pg_catalog.=) $1",
					  8, argtypes, args, NULL);
		if (SPI_processed == 0)
		{
			/* this server went back and lost the row: record it again */
			keep = true;
			exempt = live;
			if (live)
				ereport(LOG,
						(errmsg("idgen: node \"%s\" holds snowflake node id %d, which this server had no record of",
								l->node, l->held),
						 errdetail("This server went back (restored from a backup, recovered to an earlier point, or failed over to an asynchronous standby); the lease is recorded again.")));
		}
		else if (strcmp(SPI_getvalue(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1), "t") == 0)
		{
			keep = true;
			exempt = live;
		}
		else if (strcmp(SPI_getvalue(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 2), "t") == 0)
			ereport(WARNING,
					(errmsg("node \"%s\" reports holding snowflake node id %d, which is leased to node \"%s\"",
							l->node, l->held,
							SPI_getvalue(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 3)),
					 errdetail("Its lease there must have run out before this server gave the id to the other node; it is given another one.")));
		else
			exempt = live;		/* another's, free: taken over with its floor */
	}

	/* its live holder renews in the grace period, nobody else is answered */
	opened = (TimestampTz) pg_atomic_read_u64(&nid->opened_at);
	if (!exempt &&
		!TimestampDifferenceExceeds(opened, now,
									(int) NODE_ID_GRACE(l->lease_ms)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server assigns no snowflake node id yet"),
				 errdetail("After a start or promotion it assigns node ids only once it has answered for %lld ms (a node id lease and a quarter), so that every server still holding one has renewed it first.",
						   (long long) NODE_ID_GRACE(l->lease_ms)),
				 errhint("The runway worker of the node retries by itself.")));

	l->has_floor = false;
	if (keep)
		l->id = l->held;
	else
	{
		/* the id held if it is free, else the lowest free one */
		l->id = free_node_id(l->held, l->max_id, free_before);
		if (l->id < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("no snowflake node id is free"),
					 errdetail("Every node id from 0 to " INT64_FORMAT " is leased, or was until less than %lld ms ago.",
							   l->max_id,
							   (long long) NODE_ID_MARGIN(l->lease_ms)),
					 errhint("Stop servers that no longer issue snowflake IDs (their ids are free a quarter of a lease after their leases end), or use more node bits.")));
		args[0] = Int64GetDatum(l->id);
		registry_exec("SELECT time_mark FROM idgen.node_ids"
					  " WHERE node_id OPERATOR(pg_catalog.=) $1",
					  1, argtypes, args, NULL);
		if (SPI_processed > 0)
		{
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							  &isnull);
			l->has_floor = !isnull;
			if (!isnull)
				l->floor_ms = timestamptz_to_ms(DatumGetTimestampTz(d));
		}
	}

	/* one statement for every case: the mark only grows */
	args[0] = Int64GetDatum(l->id);
	registry_exec("INSERT INTO idgen.node_ids AS r (node_id, node, role, instance,"
				  " leased_at, renewed_at, leased_until, time_mark)"
				  " VALUES ($1::pg_catalog.int4, $2, $4, $3, $5, $5, $6, $7)"
				  " ON CONFLICT (node_id) DO UPDATE SET node = excluded.node,"
				  " role = excluded.role, instance = excluded.instance,"
				  " leased_at = CASE WHEN r.node OPERATOR(pg_catalog.=) excluded.node"
				  "  AND r.instance OPERATOR(pg_catalog.=) excluded.instance"
				  "  THEN r.leased_at ELSE excluded.leased_at END,"
				  " renewed_at = excluded.renewed_at,"
				  " leased_until = excluded.leased_until,"
				  " time_mark = GREATEST(r.time_mark, excluded.time_mark)"
				  " RETURNING time_mark",
				  7, argtypes, args, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "idgen: could not record node id " INT64_FORMAT, l->id);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	l->cap_ms = timestamptz_to_ms(DatumGetTimestampTz(d));
	idgen_spi_finish_as_owner(&as_owner);
}

/*
 * idgen_lease_node_id
 *		lease_node_id(node, instance, max_node_id, held, lapsed,
 *		time_mark_ms): the
 *		snowflake node id of a node's server instance, renewed or assigned
 *		in the registry (see the header comment), durable before the
 *		answer; returns it with the lease length, the id's mark before it
 *		was assigned (NULL on a renewal), and its mark now.
 */
Datum
idgen_lease_node_id(PG_FUNCTION_ARGS)
{
	text	   *node = PG_GETARG_TEXT_PP(0);
	int			len = VARSIZE_ANY_EXHDR(node);
	text	   *instance = PG_GETARG_TEXT_PP(1);
	int			ilen = VARSIZE_ANY_EXHDR(instance);
	const char *root = GetConfigOption("idgen.root", true, false);
	NodeIdLease l;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	uint64		zero = 0;

	idgen_check_preloaded();
	idgen_check_not_parallel("idgen.lease_node_id");
	PreventInTransactionBlock(true, "idgen.lease_node_id()");
	PreventCommandIfReadOnly("idgen.lease_node_id()");
	memset(&l, 0, sizeof(l));
	if (len == 0 || len >= NAMEDATALEN ||
		memchr(VARDATA_ANY(node), '\0', len) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node name \"%s\"", text_to_cstring(node)),
				 errhint("Node names are 1 to %d bytes long.",
						 NAMEDATALEN - 1)));
	if (ilen == 0 || ilen >= NAMEDATALEN ||
		memchr(VARDATA_ANY(instance), '\0', ilen) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid server instance \"%s\"",
						text_to_cstring(instance)),
				 errhint("A server instance is a token of 1 to %d bytes that its runway worker makes at each start.",
						 NAMEDATALEN - 1)));
	l.node = text_to_cstring(node);
	l.instance = text_to_cstring(instance);
	l.max_id = PG_GETARG_INT32(2);
	l.held = PG_GETARG_INT32(3);
	l.lapsed = PG_GETARG_BOOL(4);
	l.mark_ms = PG_GETARG_INT64(5);
	l.lease_ms = node_id_lease_ms;
	if (l.max_id < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid largest node id " INT64_FORMAT, l.max_id),
				 errhint("Node ids are 0 or more.")));
	if (l.held < -1 || l.held > l.max_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid node id held %d", l.held),
				 errhint("Give a node id from 0 to the largest one, or -1 for none.")));
	if (l.mark_ms < 0 ||
		l.mark_ms > END_TIMESTAMP / 1000 + UNIX_MS_AT_PG_EPOCH -
		86400000 - l.lease_ms)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid time mark " INT64_FORMAT " ms", l.mark_ms),
				 errhint("The time mark is a time in milliseconds since 1970-01-01 00:00:00+00.")));
	if (root != NULL && root[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server assigns no snowflake node ids: it leases from a root server itself"),
				 errdetail("Node ids come from one registry, on the root server at the top, so that no two servers below it share one."),
				 errhint("Point \"idgen.root\" of nodes with \"idgen.snowflake_node_id\" = 'auto' at the root server at the top.")));
	l.role = GetUserNameFromId(GetUserId(), false);

	/* the first answer to a node, out of recovery, opens the grace period */
	(void) pg_atomic_compare_exchange_u64(&nid->opened_at, &zero,
										  (uint64) GetCurrentTimestamp());
	registry_lease(&l);

	/* the registry's row is durable (and replicated) before the node sees it */
	(void) set_config_option("synchronous_commit", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int32GetDatum((int32) l.id);
	values[1] = Int32GetDatum(l.lease_ms);
	values[2] = Int64GetDatum(l.floor_ms);
	nulls[2] = !l.has_floor;
	values[3] = Int64GetDatum(l.cap_ms);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * idgen_snowflake_node_status
 *		snowflake_node_status(): the node id of this server's snowflake IDs,
 *		where it comes from, and the state of its lease (behind
 *		idgen.snowflake_node).  The last error, which may name the root
 *		server's host, is shown to members of pg_read_all_stats only.
 */
Datum
idgen_snowflake_node_status(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false,
	false};
	int			id;
	int64		deadline;
	TimestampTz sent_at;
	NodeIdState state;
	TimestampTz since;
	char		error[NODE_ID_ERROR_LEN];
	int64		cap;

	idgen_check_preloaded();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (!snowflake_layout.node_auto)
	{
		values[0] = Int32GetDatum((int32) (snowflake_layout.node_part >>
										   snowflake_layout.seq_bits));
		values[1] = CStringGetTextDatum("setting");
		values[2] = CStringGetTextDatum("fixed");
		for (int i = 3; i < 8; i++)
			nulls[i] = true;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}

	SpinLockAcquire(&nid->mutex);
	id = nid->node_id;
	deadline = nid->deadline;
	sent_at = nid->sent_at;
	state = nid->state;
	since = nid->state_since;
	strlcpy(error, nid->error, sizeof(error));
	SpinLockRelease(&nid->mutex);
	cap = node_id_cap();

	values[0] = Int32GetDatum(id);
	nulls[0] = id < 0;
	values[1] = CStringGetTextDatum("root");
	values[2] = CStringGetTextDatum(state_name(state));
	/* the local deadline, as a time of the wall clock */
	values[3] = TimestampTzGetDatum(GetCurrentTimestamp() +
									(deadline - node_clock()));
	nulls[3] = id < 0;
	values[4] = TimestampTzGetDatum(sent_at);
	nulls[4] = id < 0;
	values[5] = TimestampTzGetDatum(snowflake_tick_to_timestamptz(cap));
	nulls[5] = id < 0 || cap < 0;
	values[6] = CStringGetTextDatum(error);
	nulls[6] = error[0] == '\0' ||
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	values[7] = TimestampTzGetDatum(since);
	nulls[7] = since == 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
