/*-------------------------------------------------------------------------
 *
 * snowflake.c
 *	  snowflake_id(): time-ordered IDs, unique and strictly increasing
 *	  across every database and backend of a server, and the background
 *	  worker that keeps their durable time reservation.
 *
 * Words.  The reservation is what the settings, the messages and the README
 * call the lease of snowflake IDs (idgen.snowflake_lease, the sequence
 * idgen.snowflake_lease_end, the worker "idgen snowflake lease keeper", the
 * wait event IdgenSnowflakeLease); those names stay.  In the code it is the
 * reservation, so as not to be confused with a node's leases from a root
 * (lease.c) and the lease of a node id (node_id.c).
 *
 * State.  Shared memory holds one time state for the server, in
 * snowflake_time.c (below this file and node_id.c, which both work on it):
 * the logical time and sequence of the last ID issued, advanced by
 * compare-and-swap, one per ID, whatever the database; the clock's high
 * mark; the reservation and what backends asked it to cover; the floor.
 * This file keeps the keeper's own state.
 *
 * Clock.  The logical time may lead the wall clock (after borrowing, or when
 * the clock went back), by at most idgen.snowflake_max_clock_ahead.  Past that
 * a caller sleeps until the clock catches up, for a short bounded time, and
 * then fails.  After a restart the logical time resumes above the reservation
 * (the "floor"), however far the clock is behind; the lead is then counted
 * from the floor, so the bound limits drift, not the resumption.
 *
 * Reservation.  No ID is issued with a tick above the reservation, a time
 * high-water mark persisted in the sequence idgen.snowflake_lease_end (as
 * the Unix time in milliseconds at which the last reserved tick starts) of
 * one database, idgen.snowflake_database, through durable.c: WAL-logged,
 * flushed and replicated to synchronous standbys before it is used.  A
 * sequence gives the reservation what every other claim of idgen has (WAL,
 * replication to standbys, base backups, pg_dump of that database) without
 * a WAL resource manager of our own, whose records no server without idgen
 * preloaded (a standby, a recovery) could replay.  A backend can only
 * reach the sequences of its own database, so a background worker, the
 * keeper, connects to idgen.snowflake_database and does every read and
 * extension of the reservation for the whole server.  The first backend
 * that needs the reservation loads it through the keeper, so that IDs
 * resume above it after a restart, crash or promotion; backends ask for
 * more ahead of need when less than half a reservation is left (the asking
 * backend carries on), and wait (bounded) only when they reach its end.
 * Until the keeper has loaded the reservation, and whenever it cannot keep
 * it (the extension is missing in its database), snowflake_id() fails with
 * an error saying why.  In single-user mode, which runs no background
 * worker, a backend of that database keeps the reservation itself.
 *
 * The keeper connects only while there is work.  A backend that asks for
 * more reservation starts it as a dynamic background worker when none runs;
 * it connects, serves every request pending, and exits (exit code 0: the
 * postmaster forgets it quietly) once none is left.  A keeper that stayed
 * connected would hold idgen.snowflake_database, so that DROP DATABASE,
 * ALTER DATABASE ... RENAME and CREATE DATABASE ... TEMPLATE of it would
 * fail ("being accessed by other users"; PostgreSQL 15 to 17 do not
 * terminate background workers for them), pg_regress could not drop its
 * test database, and pg_upgrade could not restore the postgres database.
 * A connection lasts one transaction, which those commands wait for (DROP
 * DATABASE waits 5 seconds for other sessions to leave); one that blocks
 * behind them fails once they committed, and the backends waiting for it
 * get the error.  Under constant use that is one short-lived process per
 * half reservation (1.5 s by default).  After a failed attempt no keeper is
 * started for KEEPER_RETRY_MS, so a missing extension costs one start a
 * second, not one per call; a worker that could not be registered (no
 * free slot of max_worker_processes) is retried after KEEPER_START_RETRY_MS.
 * In binary-upgrade mode (pg_upgrade) no keeper is started at all.
 *
 * Trust.  The keeper runs as the bootstrap superuser in a database whose
 * owner may be an ordinary role.  So it sets search_path to pg_catalog,
 * pg_temp whatever the database or role settings say, runs only
 * schema-qualified queries, reads and sets the sequence as its owner under
 * SECURITY_RESTRICTED_OPERATION (durable.c), and accepts as the reservation
 * only a sequence idgen.snowflake_lease_end that is a member of the
 * extension idgen: a schema idgen and a sequence of that name created by
 * the database's owner where the extension is missing would otherwise let
 * that role own the reservation, and set it back.
 *
 * Node id.  With idgen.snowflake_node_id = 'auto' the node part of an ID comes
 * from node_id.c, which leases it from the root server: snowflake_next reads
 * it once per call from shared memory (one word holding the id and a coarse
 * deadline, after the reservation and with a read barrier in between; see
 * the ordering rules at the top of node_id.c), and the reservation never
 * covers a tick above what the root's registry records for the id held (the
 * "cap", node_id_cap()): keeper_extend caps every extension, under the time
 * state's mutex, and reads the reservation sequence first so that a capped
 * extension never sets the durable mark back.  When the id changes,
 * node_id.c stops the reservation (snowflake_stop_reservation) and raises
 * the floor and state above every tick issued or reserved before
 * (snowflake_raise_floor, both in snowflake_time.c), so that IDs stay
 * strictly increasing and a reused id continues above its previous
 * holder's IDs.
 *
 * Locking protocol (for everything in SnowflakeShared; the time state's is
 * at the top of snowflake_time.c):
 *	- mutex (a spinlock) protects keeper_latch, keeper_running,
 *	  launched_at, next_launch and status; "attempts" is bumped after every
 *	  attempt of a keeper to serve, under mutex.  keeper_running and
 *	  keeper_latch are also peeked at without it, as a hint only: a
 *	  decision to start a keeper is taken under mutex.
 *	- reservation_cv is broadcast after every attempt and whenever a keeper
 *	  exits; waiters need no lock.
 *	- mutex is never held together with the time state's mutex: a keeper
 *	  that decides to exit (under mutex) while node_id.c cuts the
 *	  reservation is started again by the next backend that needs the
 *	  reservation (reservation_ask, at every wake of reservation_wait; an
 *	  exiting keeper broadcasts reservation_cv).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "base.h"
#include "durable.h"
#include "node_id.h"
#include "snowflake.h"
#include "snowflake_time.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(idgen_snowflake_id);

/* a caller waits at most this long (or two ticks) for the clock */
#define SNOWFLAKE_CLOCK_WAIT_MS	100

/* a caller waits at most this long for the keeper */
#define RESERVATION_WAIT_MS		10000

/* no keeper is started for this long after a failed attempt */
#define KEEPER_RETRY_MS			1000

/* nor for this long after one could not be registered */
#define KEEPER_START_RETRY_MS	100

/* a keeper registered this long ago that never started is given up */
#define KEEPER_START_TIMEOUT_MS	10000

/* the sequence that holds the reservation (an SQL-visible name) */
#define RESERVATION_SEQUENCE	"snowflake_lease_end"

/* what the keeper's last attempt to serve the reservation came to */
typedef enum KeeperStatus
{
	KEEPER_ABSENT,				/* no attempt yet */
	KEEPER_READY,				/* the reservation is loaded and kept */
	KEEPER_NO_EXTENSION,		/* its database lacks the sequence */
	KEEPER_NO_SLOT,				/* it could not be started */
	KEEPER_FAILED				/* its last attempt raised an error */
} KeeperStatus;

/*
 * the keeper of the server's reservation (its time state is
 * snowflake_time.c's);
 * see the locking protocol above
 */
typedef struct SnowflakeShared
{
	slock_t		mutex;
	Latch	   *keeper_latch;	/* the keeper's, while it runs */
	bool		keeper_running; /* a keeper was started and has not exited */
	TimestampTz launched_at;	/* when the last one was started */
	TimestampTz next_launch;	/* none is started before this */
	KeeperStatus status;
	uint32		attempts;		/* the keepers' attempts to serve so far */
	ConditionVariable reservation_cv;
} SnowflakeShared;

static SnowflakeShared *sf = NULL;

IDGEN_NORETURN_BEGIN static void reservation_unavailable(KeeperStatus status)
			IDGEN_NORETURN_END;
IDGEN_NORETURN_BEGIN static void clock_ahead(int64 tick,
											 int64 wall) IDGEN_NORETURN_END;

/*
 * snowflake_shmem_request
 *		Ask for the generator's memory; called from the shmem_request_hook.
 */
void
snowflake_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(SnowflakeShared));
	snowflake_time_shmem_request();
}

/*
 * snowflake_shmem_startup
 *		Attach to (and, the first time, initialise) the generator's memory.
 *		Called with AddinShmemInitLock held.
 */
void
snowflake_shmem_startup(void)
{
	bool		found;

	snowflake_time_shmem_startup();
	sf = ShmemInitStruct("idgen snowflake", sizeof(SnowflakeShared), &found);
	if (found)
		return;

	memset(sf, 0, sizeof(SnowflakeShared));
	SpinLockInit(&sf->mutex);
	sf->status = KEEPER_ABSENT;
	ConditionVariableInit(&sf->reservation_cv);
}

/*
 * keeper_register
 *		Start a keeper (a dynamic background worker that is never restarted);
 *		false if no worker slot is free.
 */
static bool
keeper_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "idgen");
	snprintf(worker.bgw_function_name, BGW_MAXLEN,
			 "idgen_snowflake_keeper_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "idgen snowflake lease keeper");
	snprintf(worker.bgw_type, BGW_MAXLEN, "idgen snowflake lease keeper");
	return RegisterDynamicBackgroundWorker(&worker, NULL);
}

/*
 * keeper_start
 *		Start a keeper unless one runs, or the last attempt failed too
 *		recently (see the header comment).  A keeper registered long ago
 *		that never attached is taken for one that could not start.
 */
static void
keeper_start(void)
{
	TimestampTz now;
	bool		start;

	/* the common case, a keeper at work: no clock, no lock */
	if (sf->keeper_running && sf->keeper_latch != NULL)
		return;
	/* no background worker in single-user and binary-upgrade mode */
	if (!IsUnderPostmaster || IsBinaryUpgrade)
		return;

	now = GetCurrentTimestamp();
	/* one starting, or held off after a failure: no lock either */
	if ((sf->keeper_running &&
		 !TimestampDifferenceExceeds(sf->launched_at, now,
									 KEEPER_START_TIMEOUT_MS)) ||
		now < sf->next_launch)
		return;
	SpinLockAcquire(&sf->mutex);
	start = (!sf->keeper_running ||
			 (sf->keeper_latch == NULL &&
			  TimestampDifferenceExceeds(sf->launched_at, now,
										 KEEPER_START_TIMEOUT_MS))) &&
		now >= sf->next_launch;
	if (start)
	{
		sf->keeper_running = true;
		sf->launched_at = now;
	}
	SpinLockRelease(&sf->mutex);
	if (!start || keeper_register())
		return;

	SpinLockAcquire(&sf->mutex);
	sf->keeper_running = false;
	sf->next_launch = TimestampTzPlusMilliseconds(now, KEEPER_START_RETRY_MS);
	sf->status = KEEPER_NO_SLOT;
	SpinLockRelease(&sf->mutex);
	ConditionVariableBroadcast(&sf->reservation_cv);
}

/*
 * reservation_half
 *		Half a reservation length (idgen.snowflake_lease) in ticks, at least
 *		one; recomputed only when the setting changed at a reload.
 */
static inline int64
reservation_half(void)
{
	static int	cached_ms = -1;
	static int64 cached_half = 1;

	if (unlikely(snowflake_lease_ms != cached_ms))
	{
		cached_half = Max(1, snowflake_ms_to_ticks(snowflake_lease_ms) / 2);
		cached_ms = snowflake_lease_ms;
	}
	return cached_half;
}

/*
 * keeper_report
 *		Record the outcome of an attempt to serve, and wake the waiters.  A
 *		failed one holds off the next keeper for KEEPER_RETRY_MS.
 */
static void
keeper_report(KeeperStatus status)
{
	TimestampTz retry = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													KEEPER_RETRY_MS);

	SpinLockAcquire(&sf->mutex);
	sf->status = status;
	sf->attempts++;
	if (status != KEEPER_READY)
		sf->next_launch = retry;
	SpinLockRelease(&sf->mutex);
	ConditionVariableBroadcast(&sf->reservation_cv);
}

/*
 * keeper_load
 *		Resume above the persisted reservation: set floor, state, reservation
 *		and the clock's high mark, once per server start.  The caller holds
 *		durable_lock on the reservation sequence.
 */
static void
keeper_load(Oid seqoid)
{
	SnowflakeTime *st = snowflake_time;
	int64		last;
	int64		seen;
	int64		floor;

	/* the reservation sequence starts at 0: nothing reserved yet */
	last = snowflake_floor_div(durable_read(seqoid) - snowflake_layout.epoch_ms,
							   snowflake_layout.unit_ms);
	/* a leased node id may have raised the floor already */
	snowflake_raise_floor(Max(last + 1, 0));
	floor = (int64) pg_atomic_read_u64(&st->floor);
	pg_atomic_write_u64(&st->reservation, (uint64) (floor - 1));

	/*
	 * Before the restart the clock read at least this: the reservation ran at
	 * most a reservation length and the maximum lead ahead of it.  A clock
	 * behind that has gone back, which the first call reports.
	 */
	seen = last - snowflake_ms_to_ticks(snowflake_lease_ms) -
		snowflake_ms_to_ticks(snowflake_max_clock_ahead);
	pg_atomic_write_u64(&st->wall_max, (uint64) Max(seen, 0));
	pg_atomic_write_u64(&st->warned, 0);
	pg_write_barrier();
	pg_atomic_write_u32(&st->loaded, 1);
}

/*
 * keeper_extend
 *		Make the reservation cover what backends asked for, and one reservation
 *		length past the current logical time (or the clock, whichever is
 *		later).  The caller holds durable_lock on the reservation sequence.
 */
static void
keeper_extend(Oid seqoid)
{
	SnowflakeTime *st = snowflake_time;
	int64		wanted = (int64) pg_atomic_read_u64(&st->wanted);
	int64		logical;
	int64		reservation;
	int64		durable;

	logical = (int64) (pg_atomic_read_u64(&st->state) >>
					   snowflake_layout.seq_bits);
	reservation = Max(Max(wanted, logical),
					  Max(snowflake_wall_tick(),
						  (int64) pg_atomic_read_u64(&st->floor))) +
		snowflake_ms_to_ticks(snowflake_lease_ms);
	reservation = Min(reservation, snowflake_layout.max_tick);
	if (!snowflake_layout.node_auto)
	{
		durable_advance(seqoid, snowflake_tick_to_unix_ms(reservation));
		pg_atomic_write_u64(&st->reservation, (uint64) reservation);
		return;
	}

	/*
	 * A leased node id: never beyond what the root's registry covers, and
	 * never setting the durable mark back (the cap may lie below it).
	 */
	durable = snowflake_floor_div(durable_read(seqoid) -
								  snowflake_layout.epoch_ms,
								  snowflake_layout.unit_ms);
	reservation = Min(reservation, node_id_cap());
	if (reservation > durable)
	{
		durable_advance(seqoid, snowflake_tick_to_unix_ms(reservation));
		durable = reservation;
	}
	SpinLockAcquire(&st->mutex);
	pg_atomic_write_u64(&st->reservation,
						(uint64) Min(durable, node_id_cap()));
	SpinLockRelease(&st->mutex);
}

/*
 * reservation_wanted
 *		The tick backends asked the reservation to cover, as far as the keeper
 *		may extend it: with a leased node id, no further than its cap.
 */
static int64
reservation_wanted(void)
{
	SnowflakeTime *st = snowflake_time;
	int64		wanted = (int64) pg_atomic_read_u64(&st->wanted);

	if (snowflake_layout.node_auto)
		wanted = Min(wanted, node_id_cap());
	return wanted;
}

/*
 * reservation_sequence
 *		The reservation sequence of the current database, idgen's member
 *		idgen.snowflake_lease_end, or InvalidOid if there is none.  A
 *		relation of that name that the extension does not own is not the
 *		reservation (see "Trust" in the header comment).
 */
static Oid
reservation_sequence(void)
{
	Oid			extoid = get_extension_oid("idgen", true);
	Oid			nspoid;
	Oid			seqoid;

	if (!OidIsValid(extoid))
		return InvalidOid;
	nspoid = idgen_schema_oid();
	if (!OidIsValid(nspoid))
		return InvalidOid;
	seqoid = get_relname_relid(RESERVATION_SEQUENCE, nspoid);
	if (!OidIsValid(seqoid) ||
		getExtensionOfObject(RelationRelationId, seqoid) != extoid)
		return InvalidOid;
	return seqoid;
}

/*
 * reservation_keep
 *		Load the reservation if that is still to do, and extend it if a backend
 *		asked for more, from the reservation sequence of the current database;
 *		false if it has none.  The caller is in a transaction.
 */
static bool
reservation_keep(void)
{
	SnowflakeTime *st = snowflake_time;
	Oid			seqoid = reservation_sequence();

	if (!OidIsValid(seqoid) || !durable_lock(seqoid))
		return false;
	/* still the extension's, now that it is locked */
	if (reservation_sequence() != seqoid)
	{
		durable_unlock(seqoid);
		return false;
	}
	if (pg_atomic_read_u32(&st->loaded) == 0)
	{
		keeper_load(seqoid);
		keeper_extend(seqoid);
	}
	else if (reservation_wanted() >
			 (int64) pg_atomic_read_u64(&st->reservation))
		keeper_extend(seqoid);
	durable_unlock(seqoid);
	return true;
}

/*
 * reservation_work_pending
 *		Whether the reservation is still to be loaded, or a backend asked for
 *		more than it covers.
 */
static bool
reservation_work_pending(void)
{
	SnowflakeTime *st = snowflake_time;

	return pg_atomic_read_u32(&st->loaded) == 0 ||
		reservation_wanted() > (int64) pg_atomic_read_u64(&st->reservation);
}

/*
 * keeper_serve
 *		One attempt of the keeper, in a transaction of its own; returns its
 *		outcome, reported to the waiting backends.  An error is reported
 *		(and logged) as a failure.
 */
static KeeperStatus
keeper_serve(void)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	KeeperStatus status = KEEPER_FAILED;

	PG_TRY();
	{
		worker_xact_begin("keeping the snowflake lease");
		status = reservation_keep() ? KEEPER_READY : KEEPER_NO_EXTENSION;
		worker_xact_commit();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		status = KEEPER_FAILED;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	keeper_report(status);
	return status;
}

/*
 * keeper_exit
 *		The keeper leaves (also by an error while connecting): a new one
 *		may be started.  One that leaves without having said so (see
 *		idgen_snowflake_keeper_main) failed.
 */
static void
keeper_exit(int code, Datum arg)
{
	bool		mine;

	SpinLockAcquire(&sf->mutex);
	mine = sf->keeper_latch == MyLatch;
	if (mine)
	{
		sf->keeper_latch = NULL;
		sf->keeper_running = false;
	}
	SpinLockRelease(&sf->mutex);
	if (mine)
		keeper_report(KEEPER_FAILED);
}

/*
 * idgen_snowflake_keeper_main
 *		Entry point of the keeper: connect to idgen.snowflake_database,
 *		serve the reservation while backends ask, then exit (see the header
 *		comment).  A failed attempt ends it too: backends start another one
 *		when they ask again, KEEPER_RETRY_MS later at the earliest.
 */
void
idgen_snowflake_keeper_main(Datum arg)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	SpinLockAcquire(&sf->mutex);
	sf->keeper_latch = MyLatch;
	SpinLockRelease(&sf->mutex);
	before_shmem_exit(keeper_exit, (Datum) 0);

	BackgroundWorkerInitializeConnection(snowflake_database, NULL, 0);
	/* nothing the database's owner configured reaches our queries */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET,
					PGC_S_OVERRIDE);

	for (;;)
	{
		bool		failed;
		bool		done;

		CHECK_FOR_INTERRUPTS();
		failed = keeper_serve() != KEEPER_READY;

		/*
		 * Decide and say so in one step: a backend that asked before it is
		 * served by this keeper, one that asks after it sees none running and
		 * starts another (reservation_ask raises "wanted", then looks).
		 */
		SpinLockAcquire(&sf->mutex);
		done = failed || !reservation_work_pending();
		if (done)
		{
			sf->keeper_latch = NULL;
			sf->keeper_running = false;
		}
		SpinLockRelease(&sf->mutex);
		if (done)
			break;
	}

	/* keeper_exit has nothing more to report */
	ConditionVariableBroadcast(&sf->reservation_cv);
	proc_exit(0);
}

/*
 * reservation_ask
 *		Ask for the reservation to cover tick need, without waiting: a keeper
 *		at work serves it before it exits, or a new one is started.
 */
static void
reservation_ask(int64 need)
{
	SnowflakeTime *st = snowflake_time;
	uint64		wanted = pg_atomic_read_u64(&st->wanted);

	while ((int64) wanted < need &&
		   !pg_atomic_compare_exchange_u64(&st->wanted, &wanted,
										   (uint64) need))
		;
	/* the keeper decides to exit under mutex, after reading "wanted" */
	keeper_start();
}

/*
 * snowflake_object_access
 *		object_access_hook: the reservation sequence of
 *		idgen.snowflake_database, or that database, is being dropped.  The
 *		reservation it holds will not survive the drop, so cut the reservation
 *		in shared memory to below the next tick: no further ID is issued until
 *		the keeper has made a reservation durable again, in whatever sequence
 *		is there by then.  Cutting early is safe whatever the outcome of the
 *		drop: it only makes the next call ask the keeper.
 */
void
snowflake_object_access(ObjectAccessType access, Oid classId, Oid objectId,
						int subId)
{
	SnowflakeTime *st = snowflake_time;
	uint64		reservation;
	uint64		cut;

	if (access != OAT_DROP || subId != 0 || sf == NULL)
		return;
	if (classId == DatabaseRelationId)
	{
		if (objectId != get_database_oid(snowflake_database, true))
			return;
	}
	else if (classId != RelationRelationId ||
			 MyDatabaseId != get_database_oid(snowflake_database, true) ||
			 get_rel_relkind(objectId) != RELKIND_SEQUENCE ||
			 strcmp(get_rel_name(objectId), RESERVATION_SEQUENCE) != 0 ||
			 get_rel_namespace(objectId) != idgen_schema_oid())
		return;

	cut = (pg_atomic_read_u64(&st->state) >> snowflake_layout.seq_bits) - 1;
	reservation = pg_atomic_read_u64(&st->reservation);
	while ((int64) reservation > (int64) cut &&
		   !pg_atomic_compare_exchange_u64(&st->reservation, &reservation,
										   cut))
		;
}

/*
 * reservation_unavailable
 *		Raise the error for a reservation the keeper could not provide: it said
 *		why (status), or it did not answer in time.
 */
static void
reservation_unavailable(KeeperStatus status)
{
	if (status == KEEPER_NO_EXTENSION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("snowflake IDs are not available: extension idgen is not installed in database \"%s\"",
						snowflake_database),
				 errdetail("The lease of snowflake IDs is kept in the database named by \"idgen.snowflake_database\"."),
				 errhint("Create the extension idgen in database \"%s\", or set \"idgen.snowflake_database\" to a database that has it and restart the server.",
						 snowflake_database)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("snowflake IDs are not available: %s",
					status == KEEPER_ABSENT ? "the lease keeper did not start" :
					status == KEEPER_NO_SLOT ? "the lease keeper could not be started" :
					status == KEEPER_FAILED ? "the lease keeper could not extend the lease" :
					"the lease could not be extended in time"),
			 errdetail("The background worker \"idgen snowflake lease keeper\" keeps the lease of snowflake IDs durable in database \"%s\" (WAL flush, synchronous standbys).",
					   snowflake_database),
			 errhint("See the server log for its errors; it needs that database to exist, a free background worker slot (\"max_worker_processes\"), and the synchronous standbys, if any, to answer.")));
}

/* a backend's wait for the reservation (reservation_wait) */
typedef struct ReservationWait
{
	int64		need;			/* the tick the reservation must cover */
	TimestampTz start;			/* when the wait began */
	uint32		attempts;		/* the keepers' attempts before it */
} ReservationWait;

/*
 * reservation_answered
 *		Whether the reservation is loaded and covers the tick a backend waits
 *		for (a ReservationWait); asks the keeper again if not.  Raises the
 *		error once the keeper reported a failure of an attempt that began after
 *		the request, or after RESERVATION_WAIT_MS.  A leased node id's cap
 *		comes first: the keeper cannot pass it.
 */
static bool
reservation_answered(void *arg)
{
	SnowflakeTime *st = snowflake_time;
	ReservationWait *w = (ReservationWait *) arg;
	uint32		now_attempts;
	KeeperStatus status;

	for (;;)
	{
		if (pg_atomic_read_u32(&st->loaded) != 0 &&
			(int64) pg_atomic_read_u64(&st->reservation) >= w->need)
			return true;
		if (!(snowflake_layout.node_auto &&
			  pg_atomic_read_u32(&st->loaded) != 0 &&
			  w->need > node_id_cap()))
			break;
		/* waits on node_id.c's condition variable, which cancels ours */
		node_id_need_cap(w->need);
	}
	reservation_ask(w->need);

	SpinLockAcquire(&sf->mutex);
	now_attempts = sf->attempts;
	status = sf->status;
	SpinLockRelease(&sf->mutex);
	if ((now_attempts - w->attempts >= 2 && status != KEEPER_READY) ||
		TimestampDifferenceExceeds(w->start, GetCurrentTimestamp(),
								   RESERVATION_WAIT_MS))
	{
		ConditionVariableCancelSleep();
		reservation_unavailable(status);
	}
	return false;
}

/*
 * reservation_wait
 *		Have the reservation loaded and covering tick need; waits for the
 *		keeper for RESERVATION_WAIT_MS at most.  Fails as soon as the keeper
 *		reports that it cannot, after an attempt that started after this
 *		request.
 */
static void
reservation_wait(int64 need)
{
	ReservationWait w;

	/* single-user mode runs no background worker: keep it here */
	if (!IsUnderPostmaster)
	{
		reservation_ask(need);
		if (MyDatabaseId != get_database_oid(snowflake_database, true))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("snowflake IDs are not available in single-user mode outside database \"%s\"",
							snowflake_database),
					 errdetail("Without its lease keeper, only the database named by \"idgen.snowflake_database\" can keep the lease.")));
		if (!reservation_keep())
			reservation_unavailable(KEEPER_NO_EXTENSION);
		pg_read_barrier();
		return;
	}

	w.need = need;
	w.start = GetCurrentTimestamp();
	SpinLockAcquire(&sf->mutex);
	w.attempts = sf->attempts;
	SpinLockRelease(&sf->mutex);

	(void) worker_wait_for(&sf->reservation_cv, reservation_answered, &w, 100,
						   false, IDGEN_WAIT_SNOWFLAKE_LEASE);
	pg_read_barrier();
}

/*
 * clock_went_back
 *		Warn, once per high mark, that the clock reads less than a time
 *		already seen.
 */
static void
clock_went_back(int64 seen, int64 wall)
{
	SnowflakeTime *st = snowflake_time;
	uint64		warned = pg_atomic_read_u64(&st->warned);

	if ((int64) warned >= seen ||
		!pg_atomic_compare_exchange_u64(&st->warned, &warned, (uint64) seen))
		return;
	/* a leased node id's deadline, kept in wall clock terms, moved on */
	if (snowflake_layout.node_auto)
		node_id_clock_went_back();
	ereport(WARNING,
			(errmsg("system clock went back by at least %lld ms",
					(long long) ((seen - wall) * snowflake_layout.unit_ms)),
			 errdetail("snowflake_id() continues from its last logical time, so its IDs keep increasing."),
			 errhint("Check the time synchronisation of this server.")));
}

/*
 * clock_ahead
 *		Raise the error for a logical time too far ahead of the clock.
 */
static void
clock_ahead(int64 tick, int64 wall)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("could not generate a snowflake ID: logical time is %lld ms ahead of the system clock",
					(long long) ((tick - wall) * snowflake_layout.unit_ms)),
			 errdetail("\"idgen.snowflake_max_clock_ahead\" allows %d ms.",
					   snowflake_max_clock_ahead),
			 errhint("The system clock went back, or IDs were requested faster than the layout's %lld per second for too long. Wait for the clock to catch up, or raise \"idgen.snowflake_max_clock_ahead\".",
					 (long long) ((snowflake_layout.seq_mask + 1) * 1000 /
								  snowflake_layout.unit_ms))));
}

/*
 * snowflake_next
 *		The next ID of the server: a compare-and-swap on its state, unless
 *		the reservation must be extended or the clock is too far behind.
 */
static int64
snowflake_next(void)
{
	SnowflakeTime *st = snowflake_time;
	const SnowflakeLayout *l = &snowflake_layout;
	int			waited = 0;

	for (;;)
	{
		int64		seen = (int64) pg_atomic_read_u64(&st->wall_max);
		int64		wall;
		int64		base;
		int64		reservation;
		int64		node_part;
		int64		tick;
		uint64		old;
		uint64		next;

		/* read the clock after the high mark: a smaller reading went back */
		pg_read_barrier();
		wall = snowflake_wall_tick();
		if (wall > seen)
			(void) pg_atomic_compare_exchange_u64(&st->wall_max,
												  (uint64 *) &seen,
												  (uint64) wall);
		else if (wall < seen)
			clock_went_back(seen, wall);

		base = Max(wall, (int64) pg_atomic_read_u64(&st->floor));
		reservation = (int64) pg_atomic_read_u64(&st->reservation);
		node_part = l->node_part;
		if (l->node_auto)
		{
			uint64		word;

			/* read after the reservation (node_id.c): one word, no lock */
			pg_read_barrier();
			word = pg_atomic_read_u64(node_id_word);
			if (likely((uint64) (wall >> l->deadline_shift) < (word >> 32)))
				node_part = (int64) (uint32) word << l->seq_bits;
			else
				node_part = node_id_part_slow();
		}
		old = pg_atomic_read_u64(&st->state);
		for (;;)
		{
			next = Max(old + 1, (uint64) base << l->seq_bits);
			tick = (int64) (next >> l->seq_bits);
			if (tick > reservation || tick > l->max_tick ||
				(tick - base) * l->unit_ms > snowflake_max_clock_ahead)
				break;
			if (pg_atomic_compare_exchange_u64(&st->state, &old, next))
			{
				/* less than half a reservation left: have it extended ahead */
				if (reservation - tick < reservation_half())
					reservation_ask(Min(tick + reservation_half(),
										l->max_tick));
				return (((int64) next & ~l->seq_mask) << l->node_bits) |
					node_part | ((int64) next & l->seq_mask);
			}
		}

		if (tick > l->max_tick)
			ereport(ERROR,
					(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
					 errmsg("the time field of snowflake IDs is exhausted"),
					 errdetail("The %d-bit time field ran out at %s.",
							   l->time_bits,
							   timestamptz_to_str(snowflake_tick_to_timestamptz(tick))),
					 errhint("Start a new ID space with a later \"idgen.snowflake_epoch\" or a wider time field.")));
		if (tick > reservation)
			reservation_wait(tick);
		else
		{
			int			excess;

			excess = (int) Min((tick - base) * l->unit_ms -
							   snowflake_max_clock_ahead, INT_MAX);
			if (waited + (int64) excess >
				Max(SNOWFLAKE_CLOCK_WAIT_MS, 2 * l->unit_ms))
				clock_ahead(tick, wall);
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 excess,
							 idgen_wait_event(IDGEN_WAIT_SNOWFLAKE_CLOCK));
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			waited += excess;
		}
	}
}

/*
 * idgen_snowflake_id
 *		snowflake_id(): the next snowflake ID of this server.
 */
Datum
idgen_snowflake_id(PG_FUNCTION_ARGS)
{
	static bool ready = false;

	/* IDs are not issued where the reservation could not be extended */
	if (unlikely(XactReadOnly))
		PreventCommandIfReadOnly("snowflake_id()");
	idgen_check_not_parallel("snowflake_id");
	if (unlikely(!ready))
	{
		idgen_check_preloaded();
		if (IsBinaryUpgrade)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("snowflake IDs are not available in binary-upgrade mode"),
					 errdetail("pg_upgrade runs the server without the lease keeper of snowflake IDs.")));
		reservation_wait(0);
		ready = true;
	}
	PG_RETURN_INT64(snowflake_next());
}
