/*-------------------------------------------------------------------------
 *
 * runway_state.h
 *	  The runway's shared state and settings, as runway.c (the backend
 *	  side), uplink.c (the connection to the root) and runway_worker.c (the
 *	  worker's rounds) share them; nothing outside those three includes
 *	  this.
 *
 * The locking protocol is described at the top of runway.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_RUNWAY_STATE_H
#define IDGEN_RUNWAY_STATE_H

#include "postgres.h"

#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

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

/* the settings (runway.c) */
extern char *runway_root;
extern char *runway_database;
extern int	runway_seconds;
extern int	runway_grants;

/* the shared state and its lock (runway.c) */
extern RunwayShared *runway;
extern LWLock *runway_lock;

#endif							/* IDGEN_RUNWAY_STATE_H */
