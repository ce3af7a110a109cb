/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  What idgen's background workers (the runway worker, the snowflake
 *	  lease keeper) and the backends that wait for them share, done one
 *	  way: named wait events, the wait for a worker's answer, and a
 *	  worker's transaction.
 *
 * Asking a worker.  A backend asks by writing its request into the
 * worker's shared state (under that state's own lock) and setting the
 * worker's latch; the worker broadcasts a condition variable after each
 * attempt to serve.  worker_wait_for() is the backend's half: it sleeps
 * on that condition variable until the caller's test says the request is
 * answered, or a sleep times out.  The shared state and its locking
 * protocol are the caller's (runway.c, snowflake.c, node_id.c; pool.c,
 * whose backends wait the same way for another backend's claim); nothing
 * here touches shared memory but the condition variable, which needs no
 * lock.
 *
 * Wait events.  From PostgreSQL 17 on each kind of wait has its own name
 * (WaitEventExtensionNew), looked up once per process; before, every wait
 * is "Extension".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "pgstat.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "worker.h"

/* the names of the wait events, as pg_stat_activity shows them */
static const char *const wait_event_names[IDGEN_WAIT_EVENTS] = {
	[IDGEN_WAIT_RUNWAY_ROUND] = "IdgenRunwayRound",
	[IDGEN_WAIT_RUNWAY_NAP] = "IdgenRunwayNap",
	[IDGEN_WAIT_ROOT_SOCKET] = "IdgenRootSocket",
	[IDGEN_WAIT_SNOWFLAKE_LEASE] = "IdgenSnowflakeLease",
	[IDGEN_WAIT_SNOWFLAKE_CLOCK] = "IdgenSnowflakeClock",
	[IDGEN_WAIT_NODE_ID] = "IdgenNodeId",
	[IDGEN_WAIT_NODE_ID_CAP] = "IdgenNodeIdCap",
	[IDGEN_WAIT_GRANT_GRACE] = "IdgenGrantGrace",
	[IDGEN_WAIT_POOL_CLAIM] = "IdgenPoolClaim",
};

/*
 * idgen_wait_event
 *		The wait_event_info of a kind of wait, registered by name at its
 *		first use in this process.
 */
uint32
idgen_wait_event(IdgenWaitEvent event)
{
	static uint32 known[IDGEN_WAIT_EVENTS];

	Assert(event >= 0 && event < IDGEN_WAIT_EVENTS);
	if (known[event] == 0)
		known[event] = idgen_wait_event_new(wait_event_names[event]);
	return known[event];
}

/*
 * worker_wait_for
 *		Wait on cv, which a worker broadcasts after each attempt, until
 *		answered(arg) says the request is done: true then.  Each sleep lasts
 *		sleep_ms at most (-1: no limit); when one times out, give up
 *		(false) if give_up_at_timeout, or test again.  answered may raise an
 *		error, which cancels the wait.
 */
bool
worker_wait_for(ConditionVariable *cv, WorkerAnswered answered, void *arg,
				long sleep_ms, bool give_up_at_timeout, IdgenWaitEvent event)
{
	uint32		wait_event = idgen_wait_event(event);
	bool		done = false;

	ConditionVariablePrepareToSleep(cv);
	for (;;)
	{
		if (answered(arg))
		{
			done = true;
			break;
		}
		if (sleep_ms < 0)
			ConditionVariableSleep(cv, wait_event);
		else if (ConditionVariableTimedSleep(cv, sleep_ms, wait_event) &&
				 give_up_at_timeout)
			break;
	}
	ConditionVariableCancelSleep();
	return done;
}

/*
 * worker_xact_begin
 *		Start a transaction of a background worker, with a snapshot, and
 *		show what it does in pg_stat_activity (activity; NULL: leave it).
 */
void
worker_xact_begin(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (activity != NULL)
		pgstat_report_activity(STATE_RUNNING, activity);
}

/*
 * worker_xact_commit
 *		Commit the transaction worker_xact_begin started, and send the
 *		statistics it gathered, as core's workers do after their commits.
 */
void
worker_xact_commit(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}
