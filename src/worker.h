/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  What idgen's background workers and the backends that wait for them
 *	  share: named wait events, the wait for a worker's answer, and the
 *	  worker's transactions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_WORKER_H
#define IDGEN_WORKER_H

#include "postgres.h"

#include "storage/condition_variable.h"

#include "compat.h"

/* every wait of idgen, each shown by its own name from PostgreSQL 17 on */
typedef enum IdgenWaitEvent
{
	IDGEN_WAIT_RUNWAY_ROUND,	/* a backend waits for a round of the runway */
	IDGEN_WAIT_RUNWAY_NAP,		/* the runway worker naps between rounds */
	IDGEN_WAIT_ROOT_SOCKET,		/* the runway worker waits for the root */
	IDGEN_WAIT_SNOWFLAKE_LEASE, /* a backend waits for the lease keeper */
	IDGEN_WAIT_SNOWFLAKE_CLOCK, /* snowflake_id() waits for the clock */
	IDGEN_WAIT_NODE_ID,			/* a backend waits for its leased node id */
	IDGEN_WAIT_NODE_ID_CAP,		/* a backend waits for a node id renewal */
	IDGEN_WAIT_GRANT_GRACE,		/* the root's grace period after its start */
	IDGEN_WAIT_POOL_CLAIM,		/* a backend waits for another's claim */
	IDGEN_WAIT_EVENTS			/* how many */
} IdgenWaitEvent;

/*
 * WorkerAnswered
 *		Whether what a backend asked of a worker is done (true), or it must
 *		go on waiting (false); it may raise an error to give up.  Called
 *		with the wait on the worker's condition variable prepared; it may
 *		wait on another one (the wait is then prepared again).
 */
typedef bool (*WorkerAnswered) (void *arg);

extern uint32 idgen_wait_event(IdgenWaitEvent event);
extern bool worker_wait_for(ConditionVariable *cv, WorkerAnswered answered,
							void *arg, long sleep_ms, bool give_up_at_timeout,
							IdgenWaitEvent event);
extern void worker_xact_begin(const char *activity);
extern void worker_xact_commit(void);

#endif							/* IDGEN_WORKER_H */
