/*-------------------------------------------------------------------------
 *
 * runway_worker.c
 *	  The runway worker's rounds and main loop: each round it reads the
 *	  root-sourced tags of its database and what each holds, reports the
 *	  holdings to the root, leases grants ahead of need and records them,
 *	  and serves the leased snowflake node id (node_id.c).  What it does
 *	  and why is described at the top of runway.c; its connection to the
 *	  root is uplink.c.
 *
 * Locking protocol: the worker is the only writer of tags[], ntags,
 * renewals_seen, rounds_begun, rounds_done, latch and dboid of
 * RunwayShared (see runway.c): it writes them under runway_lock, reads
 * them without it, holds the lock only to copy a few fields, and
 * broadcasts round_cv after each round.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "base.h"
#include "durable.h"
#include "lease.h"
#include "node_id.h"
#include "runway_state.h"
#include "tag.h"
#include "uplink.h"
#include "worker.h"

PGDLLEXPORT void idgen_runway_main(Datum arg);

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

/* the outcome of one request to the root */
typedef enum Contact
{
	CONTACT_LOST,				/* no answer: the state says why */
	CONTACT_REFUSED,			/* the root refused the tag */
	CONTACT_OK
} Contact;

/* the worker's state within a round, kept across errors (longjmp) */
static bool round_failed = false;	/* the root was lost: contact no more */
static bool round_local_error = false;	/* an error of our own occurred */
static char local_error[RUNWAY_ERROR_LEN] = ""; /* the last one logged */

/* the idgen.root the worker connects with, to see it change at a reload */
static char *conninfo_in_use = NULL;

/* the root's WAL position last reported as gone back, not to repeat it */
static XLogRecPtr went_back_logged = InvalidXLogRecPtr;

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
	RunwayTag  *t = &runway->tags[index];
	char		clean[RUNWAY_ERROR_LEN];
	bool		by_lease = lease;
	bool		changed;

	clean[0] = '\0';
	if (refused != NULL)
		uplink_one_line(clean, refused);
	else if (!lease && t->lease_refused)
	{
		strlcpy(clean, t->refused, sizeof(clean));
		by_lease = true;
	}
	changed = strcmp(clean, t->refused) != 0 || stop != t->stopped;

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	strlcpy(t->refused, clean, sizeof(t->refused));
	t->lease_refused = by_lease && clean[0] != '\0';
	t->stopped = stop;
	LWLockRelease(runway_lock);

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
 * went_back
 *		Say that the root went back (why), in the log and in idgen.runway.
 */
static void
went_back(const char *why)
{
	ereport(LOG,
			(errmsg("idgen runway worker: %s", why),
			 errdetail("It was restored from a backup, recovered to an earlier point, or failed over to a standby that had not received everything. This node reports the grants it holds, so that the root grants nothing below them.")));
	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	strlcpy(runway->last_error, why, sizeof(runway->last_error));
	LWLockRelease(runway_lock);
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
 * runway_report
 *		Tell the root what the node holds of a tag (idgen.report_holdings),
 *		and record its verdict on the tag.
 */
static Contact
runway_report(int index, const Holding *h)
{
	const char *values[7];
	char	   *held;
	char	   *proofs;
	PGresult   *res;
	Contact		contact = CONTACT_OK;

	held_arrays(h, &held, &proofs);
	values[0] = NameStr(runway->tags[index].tag);
	values[1] = lease_node_name();
	values[2] = runway->instance;
	values[3] = psprintf("%u", h->seqoid);
	values[4] = psprintf(INT64_FORMAT, h->mark);
	values[5] = held;
	values[6] = proofs;
	/* tried: backends that waited for it may go on (see runway_check_tag) */
	runway->tags[index].answered = true;
	if (!uplink_connect())
		return CONTACT_LOST;
	res = uplink_exec("SELECT refused, stop, hold, healed, root_lsn"
					  " FROM idgen.report_holdings($1, $2, $3, $4, $5, $6, $7)",
					  7, values);
	if (res == NULL)
		return CONTACT_LOST;
	uplink_set_state(RUNWAY_OK, NULL);
	runway->tags[index].held = false;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		PQnfields(res) != 5)
	{
		set_tag_refusal(index, uplink_error_text(res),
						runway->tags[index].stopped, false);
		contact = CONTACT_REFUSED;
	}
	else
	{
		if (strcmp(PQgetvalue(res, 0, 3), "0") != 0)
			went_back(psprintf("root server went back: it had no record of %s grants of tag \"%s\" this node holds",
							   PQgetvalue(res, 0, 3),
							   NameStr(runway->tags[index].tag)));
		check_went_back(h->root_lsn, answer_lsn(res, 4));
		LWLockAcquire(runway_lock, LW_EXCLUSIVE);
		runway->tags[index].held = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		LWLockRelease(runway_lock);
		if (!PQgetisnull(res, 0, 0))
			contact = CONTACT_REFUSED;
		set_tag_refusal(index,
						PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0),
						strcmp(PQgetvalue(res, 0, 1), "t") == 0, false);
		if (contact == CONTACT_OK)
			runway->tags[index].reported_at = GetCurrentTimestamp();
	}
	PQclear(res);
	return contact;
}

/*
 * runway_lease
 *		Lease one grant of a tag from the root into *grant, with its proof
 *		and the root's WAL position, telling the root the tag's rate here
 *		(which sizes the grant) and what the node holds.  A grant that does
 *		not lie above every ID the node holds is refused here.
 */
static Contact
runway_lease(int index, const Holding *h, IdRange *grant, char **proof,
			 XLogRecPtr *root_lsn)
{
	RunwayTag  *t = &runway->tags[index];
	const char *values[9];
	char	   *held;
	char	   *proofs;
	PGresult   *res;
	Contact		contact = CONTACT_REFUSED;
	int64		holds = Max(h->top, h->mark);

	held_arrays(h, &held, &proofs);
	values[0] = NameStr(t->tag);
	values[1] = lease_node_name();
	values[2] = psprintf("%.0f", t->rate);
	values[3] = runway->instance;
	values[4] = psprintf("%u", h->seqoid);
	values[5] = psprintf(INT64_FORMAT, h->mark);
	values[6] = held;
	values[7] = proofs;
	values[8] = RANGE_SIZE(h->local) > 0 ?
		psprintf("[" INT64_FORMAT "," INT64_FORMAT ")", h->local.lo,
				 h->local.hi) : "empty";
	if (!uplink_connect())
		return CONTACT_LOST;
	res = uplink_exec("SELECT pg_catalog.lower(ids), pg_catalog.upper(ids),"
					  " proof, root_lsn"
					  " FROM idgen.lease_grant($1, $2, $3, $4, $5, $6, $7, $8, $9)",
					  9, values);
	if (res == NULL)
		return CONTACT_LOST;
	uplink_set_state(RUNWAY_OK, NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* these mean that another server may hold the same grants */
		set_tag_refusal(index, uplink_error_text(res),
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
 * runway_need
 *		Read a tag's mark, grants and holdings (into *h, allocated in cxt),
 *		update its rate, and say whether it needs another grant.  Runs in a
 *		transaction; index is the tag's place in runway->tags, where its state
 *		is kept, and prev the entry of the previous round, if any.
 */
static bool
runway_need(const NameData *name, int index, const RunwayTag *prev,
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

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	runway->tags[index] = t;
	LWLockRelease(runway_lock);

	return grants < runway_grants ||
		(double) left < t.rate * (double) runway_seconds;
}

/*
 * serve_tag
 *		Report what a tag holds when a report is due or a lease is needed,
 *		and lease grants while it needs them (runway_need), each in
 *		transactions of its own.  After the root was lost (round_failed),
 *		only the tag's rate is updated.  index is the tag's place in
 *		runway->tags; prev its entry of the previous round, or NULL.
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

		worker_xact_begin(NULL);
		need = runway_need(name, index,
						   leased == 0 ? prev : &runway->tags[index], &h, cxt);
		worker_xact_commit();
		if (round_failed)
			break;

		/* what the node holds, before every lease and every few seconds */
		if (!reported &&
			(need || runway->tags[index].stopped ||
			 runway->tags[index].refused[0] != '\0' ||
			 GetCurrentTimestamp() - runway->tags[index].reported_at >=
			 RUNWAY_REPORT_SECS * USECS_PER_SEC))
		{
			reported = true;
			contact = runway_report(index, &h);
			if (contact == CONTACT_LOST)
				round_failed = true;
			if (contact != CONTACT_OK)
				break;
		}
		if (!need)
			break;

		/* the grant is durable on the root before we see it */
		contact = runway_lease(index, &h, &grant, &proof, &root_lsn);
		if (contact == CONTACT_LOST)
			round_failed = true;
		if (contact != CONTACT_OK)
			break;

		/* and here, before any claim can see it (synchronous_commit) */
		worker_xact_begin(NULL);
		lease_record(name, grant, proof, root_lsn);
		worker_xact_commit();

		LWLockAcquire(runway_lock, LW_EXCLUSIVE);
		runway->tags[index].leased += RANGE_SIZE(grant);
		LWLockRelease(runway_lock);
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
	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	strlcpy(runway->last_error, edata->message, sizeof(runway->last_error));
	LWLockRelease(runway_lock);
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
		LWLockAcquire(runway_lock, LW_EXCLUSIVE);
		memset(&runway->tags[index], 0, sizeof(RunwayTag));
		runway->tags[index].tag = *name;
		LWLockRelease(runway_lock);
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
	if (uplink_connect())
	{
		node_id_request(&req, lease_node_name(), runway->instance);
		res = uplink_exec(NODE_ID_QUERY, NODE_ID_NPARAMS, req.values);
		if (res != NULL)
		{
			uplink_set_state(RUNWAY_OK, NULL);
			node_id_answer(&req, res);
			PQclear(res);
			return true;
		}
	}
	LWLockAcquire(runway_lock, LW_SHARED);
	strlcpy(error, runway->last_error, sizeof(error));
	LWLockRelease(runway_lock);
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
	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	if (runway->renewals != runway->renewals_seen)
	{
		runway->ntags = 0;
		runway->renewals_seen = runway->renewals;
	}
	nprev = runway->ntags;
	prev = palloc(sizeof(RunwayTag) * Max(nprev, 1));
	memcpy(prev, runway->tags, sizeof(RunwayTag) * nprev);
	LWLockRelease(runway_lock);

	worker_xact_begin("idgen runway round");
	names = lease_root_tags(cxt);
	worker_xact_commit();

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

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	runway->ntags = index;
	LWLockRelease(runway_lock);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * runway_exit
 *		Before the worker's shared memory goes: no worker runs any more.
 */
static void
runway_exit(int code, Datum arg)
{
	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	runway->latch = NULL;
	runway->state = RUNWAY_ABSENT;
	runway->rounds_done = runway->rounds_begun;
	LWLockRelease(runway_lock);
	ConditionVariableBroadcast(&runway->round_cv);
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

	LWLockAcquire(runway_lock, LW_SHARED);
	troubled = runway->state == RUNWAY_UNREACHABLE;
	for (int i = 0; i < runway->ntags && !troubled; i++)
		troubled = runway->tags[i].refused[0] != '\0' && !runway->tags[i].held;
	LWLockRelease(runway_lock);
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
	conninfo_in_use = MemoryContextStrdup(TopMemoryContext, runway_root);
	round_cxt = AllocSetContextCreate(TopMemoryContext, "idgen runway round",
									  ALLOCSET_DEFAULT_SIZES);

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	runway->latch = MyLatch;
	runway->dboid = MyDatabaseId;
	runway->state = RUNWAY_STARTING;
	runway->state_since = GetCurrentTimestamp();
	runway->last_error[0] = '\0';
	LWLockRelease(runway_lock);
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
			if (strcmp(conninfo_in_use, runway_root) != 0)
			{
				ereport(LOG,
						(errmsg("idgen runway worker: idgen.root changed, reconnecting")));
				uplink_disconnect();
				pfree(conninfo_in_use);
				conninfo_in_use = MemoryContextStrdup(TopMemoryContext,
													  runway_root);
				backoff = RUNWAY_NAP_MS;
			}
		}

		LWLockAcquire(runway_lock, LW_EXCLUSIVE);
		runway->rounds_begun++;
		LWLockRelease(runway_lock);

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
		LWLockAcquire(runway_lock, LW_EXCLUSIVE);
		runway->rounds_done = runway->rounds_begun;
		LWLockRelease(runway_lock);
		ConditionVariableBroadcast(&runway->round_cv);

		if (round_troubled())
			backoff = Min(backoff * 2, RUNWAY_MAX_BACKOFF_MS);
		else
			backoff = RUNWAY_NAP_MS;
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 backoff, idgen_wait_event(IDGEN_WAIT_RUNWAY_NAP));
		ResetLatch(MyLatch);
	}
}
