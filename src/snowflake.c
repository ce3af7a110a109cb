/*-------------------------------------------------------------------------
 *
 * snowflake.c
 *	  snowflake_id(): time-ordered IDs, and their decoding with
 *	  idgen.snowflake_parse() and idgen.snowflake_min_id().
 *
 * An ID is, from the top: a zero sign bit, the time in ticks of
 * idgen.snowflake_time_unit since idgen.epoch (time_bits), idgen.node_id
 * (node_bits) and a sequence number (seq_bits).  The layout is fixed at
 * server start and checked there: a bad one stops the server.
 *
 * State.  Each database using snowflake_id() has a SnowflakeDb in shared
 * memory.  Its "state" packs the logical time and sequence of the last ID
 * issued as (tick << seq_bits) | seq, so that the next state is simply
 * Max(state + 1, wall << seq_bits): a sequence that runs out within a tick
 * carries into the next tick (borrows it), and a clock that goes back
 * cannot pull the state down.  The state is advanced by compare-and-swap;
 * IDs of a database therefore increase strictly across all its backends.
 *
 * Clock.  The logical time may lead the wall clock (after borrowing, or
 * when the clock went back), by at most idgen.max_clock_ahead.  Past that a
 * caller sleeps until the clock catches up, for a short bounded time, and
 * then fails.  After a restart the logical time resumes above the lease
 * (the "floor"), however far the clock is behind; the lead is then counted
 * from the floor, so the bound limits drift, not the resumption.
 *
 * Lease.  No ID is issued with a tick above the lease, a time high-water
 * mark persisted in the sequence idgen.snowflake_lease_end (as the Unix
 * time in milliseconds at which the last leased tick starts) through
 * durable.c: WAL-logged, flushed and replicated to synchronous standbys
 * before it is used.  The first use after server start reads it and
 * resumes above it, so that IDs increase across restarts, crashes and
 * promotions.  A lease lasts idgen.snowflake_lease; when less than half of
 * it is left, the one backend that wins the "renewing" flag extends it
 * while the others carry on below it; a backend that reaches its end waits
 * for the extension.
 *
 * Locking protocol (for everything in SnowflakeShared):
 *
 *	- SnowflakeShared->lock (LWLock, exclusive) is held to find or assign a
 *	  database's entry (dboid).  Entries are never freed while the server
 *	  runs.  Nothing else is done under it.
 *	- An entry is loaded (state, lease, floor, wall_max, warned) once, by the
 *	  first backend that needs it, holding durable_lock on the database's
 *	  lease sequence; "loaded" is set after a write barrier and, once seen,
 *	  is followed by a read barrier.  floor is never written after that.
 *	- state, wall_max and warned are atomics changed by compare-and-swap,
 *	  without a lock: this is the fast path.  wall_max is written at most
 *	  once per tick.
 *	- lease is written only by a backend holding durable_lock on the lease
 *	  sequence, and only after the new value is durable; it only grows.  It
 *	  is read without a lock.
 *	- renewing is set by compare-and-swap by the one backend that extends
 *	  the lease ahead of need, and cleared by it, also on error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "durable.h"
#include "idgen.h"
#include "snowflake.h"

PG_FUNCTION_INFO_V1(idgen_snowflake_id);
PG_FUNCTION_INFO_V1(idgen_snowflake_parse);
PG_FUNCTION_INFO_V1(idgen_snowflake_min_id);

/* Unix time in milliseconds of the PostgreSQL epoch, 2000-01-01 UTC */
#define UNIX_MS_AT_PG_EPOCH \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000)

/* a caller waits at most this long (or two ticks) for the clock */
#define SNOWFLAKE_CLOCK_WAIT_MS	100

#define LEASE_SEQUENCE	"snowflake_lease_end"

/* idgen.snowflake_layout */
typedef enum SnowflakeLayoutKind
{
	LAYOUT_SNOWFLAKE,
	LAYOUT_SONYFLAKE,
	LAYOUT_CUSTOM
} SnowflakeLayoutKind;

static const struct config_enum_entry layout_options[] = {
	{"snowflake", LAYOUT_SNOWFLAKE, false},
	{"sonyflake", LAYOUT_SONYFLAKE, false},
	{"custom", LAYOUT_CUSTOM, false},
	{NULL, 0, false}
};

/* time unit and bit widths of a preset, indexed by SnowflakeLayoutKind */
typedef struct SnowflakePreset
{
	const char *time_unit;
	const char *time_bits;
	const char *node_bits;
	const char *seq_bits;
} SnowflakePreset;

static const SnowflakePreset presets[] = {
	[LAYOUT_SNOWFLAKE] = {"1", "41", "10", "12"},
	[LAYOUT_SONYFLAKE] = {"10", "39", "16", "8"}
};

/* the layout in use, derived from the settings in the postmaster */
typedef struct SnowflakeLayout
{
	int			time_bits;
	int			node_bits;
	int			seq_bits;
	int64		unit_ms;		/* milliseconds per tick */
	int64		epoch_ms;		/* idgen.epoch as Unix time in ms */
	int64		max_tick;		/* last tick the time field holds */
	int64		node_part;		/* idgen.node_id << seq_bits */
	int64		seq_mask;
	int64		max_id;
} SnowflakeLayout;

/* one database's generator; see the locking protocol above */
typedef struct SnowflakeDb
{
	pg_atomic_uint64 state;		/* (tick << seq_bits) | seq of the last ID */
	pg_atomic_uint64 lease;		/* last tick covered by the durable lease */
	pg_atomic_uint64 wall_max;	/* latest wall clock tick seen */
	pg_atomic_uint64 warned;	/* wall_max a clock warning was given for */
	pg_atomic_uint32 renewing;	/* a backend extends the lease ahead */
	bool		loaded;			/* the fields above are set */
	Oid			dboid;			/* InvalidOid while the entry is free */
	int64		floor;			/* first tick after the lease read at load */
} SnowflakeDb;

typedef struct SnowflakeShared
{
	LWLock	   *lock;			/* assigns entries to databases */
	int			ndbs;
	Size		stride;			/* bytes per entry, a whole cache line */
	char	   *dbs;			/* ndbs entries */
} SnowflakeShared;

/* settings */
static int	snowflake_node_id = 0;
static char *snowflake_epoch = NULL;
static int	snowflake_layout_kind = LAYOUT_SNOWFLAKE;
static int	snowflake_time_unit = 1;
static int	snowflake_time_bits = 41;
static int	snowflake_node_bits = 10;
static int	snowflake_seq_bits = 12;
static int	snowflake_max_clock_ahead = 1000;
static int	snowflake_lease_ms = 3000;
static int	snowflake_max_databases = 64;

static SnowflakeLayout layout;
static SnowflakeShared *snowflake_shared = NULL;

/* this backend's database entry, once loaded */
static SnowflakeDb *my_db = NULL;

/*
 * floor_div
 *		Integer division rounding towards minus infinity (b > 0).
 */
static inline int64
floor_div(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/*
 * tick_to_unix_ms
 *		Unix time in milliseconds at which a tick starts.
 */
static inline int64
tick_to_unix_ms(int64 tick)
{
	return layout.epoch_ms + tick * layout.unit_ms;
}

/*
 * tick_to_timestamptz
 *		The timestamptz at which a tick starts.
 */
static TimestampTz
tick_to_timestamptz(int64 tick)
{
	return (tick_to_unix_ms(tick) - UNIX_MS_AT_PG_EPOCH) * 1000;
}

/*
 * wall_tick
 *		The system clock, in ticks since the epoch (negative before it).
 */
static inline int64
wall_tick(void)
{
	struct timespec ts;
	int64		ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - layout.epoch_ms;
	return layout.unit_ms == 1 ? ms : floor_div(ms, layout.unit_ms);
}

/*
 * ms_to_ticks
 *		A duration setting in milliseconds as whole ticks, at least one.
 */
static int64
ms_to_ticks(int ms)
{
	return Max(1, ms / layout.unit_ms);
}

/*
 * lease_half
 *		Half a lease length in ticks, at least one; recomputed only when the
 *		setting changed at a reload.
 */
static inline int64
lease_half(void)
{
	static int	cached_ms = -1;
	static int64 cached_half = 1;

	if (unlikely(snowflake_lease_ms != cached_ms))
	{
		cached_half = Max(1, ms_to_ticks(snowflake_lease_ms) / 2);
		cached_ms = snowflake_lease_ms;
	}
	return cached_half;
}

/*
 * setting_as_given
 *		The value a setting has in the configuration before it is defined,
 *		or NULL when it is not set.
 */
static char *
setting_as_given(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return value ? pstrdup(value) : NULL;
}

/*
 * reject_setting
 *		Stop the server for a layout setting that could not be applied.
 *		PostgreSQL only warns about a bad value of an extension's setting
 *		and keeps the default, which would silently change the layout.
 */
static void
reject_setting(const char *name, const char *given)
{
	ereport(FATAL,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for parameter \"%s\": \"%s\"", name, given),
			 errdetail("Settings that define the snowflake layout never fall back to their default."),
			 errhint("Correct \"%s\" in the server configuration.", name)));
}

/*
 * check_int_applied
 *		Stop the server unless an integer setting got the value it was
 *		given.
 */
static void
check_int_applied(const char *name, const char *given, int value, int flags)
{
	int			parsed;

	if (given != NULL &&
		(!parse_int(given, &parsed, flags, NULL) || parsed != value))
		reject_setting(name, given);
}

/*
 * invalid_layout
 *		Stop the server for an inconsistent layout.
 */
static void
invalid_layout(const char *detail, const char *hint)
{
	ereport(FATAL,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid snowflake layout"),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
}

/*
 * parse_epoch
 *		idgen.epoch as Unix time in milliseconds; false if it is not a
 *		timestamp.  Uses the error-returning date parser, as the postmaster
 *		has no way to catch an error.
 */
static bool
parse_epoch(const char *str, int64 *epoch_ms)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	Timestamp	ts;

	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0 ||
		idgen_decode_datetime(field, ftype, nf, &dtype, &tm, &fsec, &tz) != 0 ||
		dtype != DTK_DATE ||
		tm2timestamp(&tm, fsec, &tz, &ts) != 0)
		return false;
	*epoch_ms = floor_div(ts, 1000) + UNIX_MS_AT_PG_EPOCH;
	return true;
}

/*
 * check_layout
 *		Apply a preset, check the layout, node id and epoch, and derive the
 *		layout in use; stop the server when anything is wrong.
 */
static void
check_layout(const char *custom_given)
{
	const char *layout_name = GetConfigOption("idgen.snowflake_layout",
											  false, false);
	int			total;
	int64		now_ms;
	int64		end_ms;

	if (snowflake_layout_kind != LAYOUT_CUSTOM)
	{
		const SnowflakePreset *p = &presets[snowflake_layout_kind];

		if (custom_given != NULL)
			invalid_layout(psprintf("\"%s\" is set, but \"idgen.snowflake_layout\" is \"%s\".",
									custom_given, layout_name),
						   "Set \"idgen.snowflake_layout\" to \"custom\" to choose the time unit and bit widths, or remove the setting.");
		/* show the preset's values in SHOW and pg_settings */
		SetConfigOption("idgen.snowflake_time_unit", p->time_unit,
						PGC_POSTMASTER, PGC_S_DYNAMIC_DEFAULT);
		SetConfigOption("idgen.snowflake_time_bits", p->time_bits,
						PGC_POSTMASTER, PGC_S_DYNAMIC_DEFAULT);
		SetConfigOption("idgen.snowflake_node_bits", p->node_bits,
						PGC_POSTMASTER, PGC_S_DYNAMIC_DEFAULT);
		SetConfigOption("idgen.snowflake_seq_bits", p->seq_bits,
						PGC_POSTMASTER, PGC_S_DYNAMIC_DEFAULT);
	}

	total = snowflake_time_bits + snowflake_node_bits + snowflake_seq_bits;
	if (total > 63)
		invalid_layout(psprintf("The time, node and sequence fields have %d + %d + %d = %d bits, but at most 63 fit in a bigint.",
								snowflake_time_bits, snowflake_node_bits,
								snowflake_seq_bits, total),
					   "Reduce \"idgen.snowflake_time_bits\", \"idgen.snowflake_node_bits\" or \"idgen.snowflake_seq_bits\".");

	if ((int64) snowflake_node_id >= (INT64CONST(1) << snowflake_node_bits))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.node_id\": %d",
						snowflake_node_id),
				 errdetail("The snowflake layout has %d node bits, so node IDs range from 0 to %lld.",
						   snowflake_node_bits,
						   (long long) ((INT64CONST(1) << snowflake_node_bits) - 1)),
				 errhint("Choose a smaller \"idgen.node_id\", or more node bits with \"idgen.snowflake_layout\" = custom.")));

	if (!parse_epoch(snowflake_epoch, &layout.epoch_ms))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.epoch\": \"%s\"",
						snowflake_epoch),
				 errhint("Give a timestamp with a time zone, such as '2025-01-01 00:00:00+00'.")));
	now_ms = floor_div(GetCurrentTimestamp(), 1000) + UNIX_MS_AT_PG_EPOCH;
	if (layout.epoch_ms > now_ms)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.epoch\": \"%s\"",
						snowflake_epoch),
				 errdetail("The epoch lies in the future."),
				 errhint("Choose an epoch in the past; it must never change once IDs were issued.")));

	/* the time field must end within the range of timestamptz */
	end_ms = END_TIMESTAMP / 1000 + UNIX_MS_AT_PG_EPOCH;
	if (snowflake_time_bits >= 62 ||
		(INT64CONST(1) << snowflake_time_bits) >
		(end_ms - layout.epoch_ms) / snowflake_time_unit)
		invalid_layout(psprintf("A %d-bit time field of %d ms ticks outlasts the range of timestamp with time zone.",
								snowflake_time_bits, snowflake_time_unit),
					   "Use fewer time bits or a shorter time unit.");
	end_ms = layout.epoch_ms +
		(INT64CONST(1) << snowflake_time_bits) * snowflake_time_unit;
	if (end_ms <= now_ms)
		invalid_layout(psprintf("The %d-bit time field of %d ms ticks since %s ran out at %s.",
								snowflake_time_bits, snowflake_time_unit,
								snowflake_epoch,
								timestamptz_to_str((end_ms - UNIX_MS_AT_PG_EPOCH) * 1000)),
					   "Use more time bits, a longer time unit or a later epoch.");

	layout.time_bits = snowflake_time_bits;
	layout.node_bits = snowflake_node_bits;
	layout.seq_bits = snowflake_seq_bits;
	layout.unit_ms = snowflake_time_unit;
	layout.max_tick = (INT64CONST(1) << snowflake_time_bits) - 1;
	layout.node_part = (int64) snowflake_node_id << snowflake_seq_bits;
	layout.seq_mask = (INT64CONST(1) << snowflake_seq_bits) - 1;
	layout.max_id = (INT64CONST(1) << total) - 1;
}

/*
 * snowflake_define_settings
 *		Define the idgen.* settings of snowflake IDs and check the layout;
 *		called from _PG_init in the postmaster.
 */
void
snowflake_define_settings(void)
{
	char	   *given_node = setting_as_given("idgen.node_id");
	char	   *given_layout = setting_as_given("idgen.snowflake_layout");
	char	   *given_unit = setting_as_given("idgen.snowflake_time_unit");
	char	   *given_time = setting_as_given("idgen.snowflake_time_bits");
	char	   *given_nodeb = setting_as_given("idgen.snowflake_node_bits");
	char	   *given_seq = setting_as_given("idgen.snowflake_seq_bits");
	char	   *given_dbs = setting_as_given("idgen.snowflake_max_databases");
	const char *custom_given = NULL;

	DefineCustomIntVariable("idgen.node_id",
							"Node number stored in every snowflake ID of this server.",
							"Give every server that issues snowflake IDs into the same tables its own number.",
							&snowflake_node_id,
							0, 0, INT_MAX,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomStringVariable("idgen.epoch",
							   "Time zero of the time field of snowflake IDs.",
							   NULL,
							   &snowflake_epoch,
							   "2025-01-01 00:00:00+00",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomEnumVariable("idgen.snowflake_layout",
							 "Layout of snowflake IDs: snowflake, sonyflake or custom.",
							 "custom uses idgen.snowflake_time_unit and the idgen.snowflake_*_bits settings.",
							 &snowflake_layout_kind,
							 LAYOUT_SNOWFLAKE, layout_options,
							 PGC_POSTMASTER, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_time_unit",
							"Length of one tick of the time field of snowflake IDs.",
							NULL,
							&snowflake_time_unit,
							1, 1, 60000,
							PGC_POSTMASTER, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_time_bits",
							"Bits of the time field of snowflake IDs.",
							NULL,
							&snowflake_time_bits,
							41, 1, 63,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_node_bits",
							"Bits of the node field of snowflake IDs.",
							NULL,
							&snowflake_node_bits,
							10, 0, 31,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_seq_bits",
							"Bits of the sequence field of snowflake IDs.",
							NULL,
							&snowflake_seq_bits,
							12, 0, 31,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.max_clock_ahead",
							"How far the logical time of snowflake IDs may run ahead of the system clock.",
							"Past it, snowflake_id() waits briefly for the clock, then fails.",
							&snowflake_max_clock_ahead,
							1000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_lease",
							"Length of time each durable extension of the snowflake lease covers.",
							NULL,
							&snowflake_lease_ms,
							3000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_max_databases",
							"Maximum number of databases using snowflake_id() at once.",
							NULL,
							&snowflake_max_databases,
							64, 1, 65536,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	check_int_applied("idgen.node_id", given_node, snowflake_node_id, 0);
	if (given_layout != NULL &&
		pg_strcasecmp(given_layout,
					  GetConfigOption("idgen.snowflake_layout",
									  false, false)) != 0)
		reject_setting("idgen.snowflake_layout", given_layout);
	check_int_applied("idgen.snowflake_time_unit", given_unit,
					  snowflake_time_unit, GUC_UNIT_MS);
	check_int_applied("idgen.snowflake_time_bits", given_time,
					  snowflake_time_bits, 0);
	check_int_applied("idgen.snowflake_node_bits", given_nodeb,
					  snowflake_node_bits, 0);
	check_int_applied("idgen.snowflake_seq_bits", given_seq,
					  snowflake_seq_bits, 0);
	check_int_applied("idgen.snowflake_max_databases", given_dbs,
					  snowflake_max_databases, 0);

	if (given_unit != NULL)
		custom_given = "idgen.snowflake_time_unit";
	else if (given_time != NULL)
		custom_given = "idgen.snowflake_time_bits";
	else if (given_nodeb != NULL)
		custom_given = "idgen.snowflake_node_bits";
	else if (given_seq != NULL)
		custom_given = "idgen.snowflake_seq_bits";
	check_layout(custom_given);
}

/*
 * entry_stride
 *		Bytes of one database entry, a whole number of cache lines so that
 *		databases do not share the line their fast path writes.
 */
static Size
entry_stride(void)
{
	return TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(SnowflakeDb));
}

/*
 * shmem_size
 *		Bytes of snowflake shared memory, including alignment padding.
 */
static Size
shmem_size(void)
{
	return add_size(TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(SnowflakeShared)),
					add_size(PG_CACHE_LINE_SIZE,
							 mul_size(entry_stride(),
									  snowflake_max_databases)));
}

/*
 * snowflake_shmem_request
 *		Ask for our memory and LWLock; called from the shmem_request_hook.
 */
void
snowflake_shmem_request(void)
{
	RequestAddinShmemSpace(shmem_size());
	RequestNamedLWLockTranche("idgen snowflake", 1);
}

/*
 * snowflake_shmem_startup
 *		Attach to (and, the first time, initialise) the snowflake shared
 *		memory.  Called with AddinShmemInitLock held.
 */
void
snowflake_shmem_startup(void)
{
	bool		found;
	char	   *base;
	int			i;

	base = ShmemInitStruct("idgen snowflake", shmem_size(), &found);
	snowflake_shared = (SnowflakeShared *) base;
	if (found)
		return;

	memset(base, 0, shmem_size());
	snowflake_shared->lock = &(GetNamedLWLockTranche("idgen snowflake"))->lock;
	snowflake_shared->ndbs = snowflake_max_databases;
	snowflake_shared->stride = entry_stride();
	snowflake_shared->dbs = (char *)
		TYPEALIGN(PG_CACHE_LINE_SIZE,
				  base + TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(SnowflakeShared)));
	for (i = 0; i < snowflake_shared->ndbs; i++)
	{
		SnowflakeDb *db = (SnowflakeDb *)
			(snowflake_shared->dbs + i * snowflake_shared->stride);

		pg_atomic_init_u64(&db->state, 0);
		pg_atomic_init_u64(&db->lease, 0);
		pg_atomic_init_u64(&db->wall_max, 0);
		pg_atomic_init_u64(&db->warned, 0);
		pg_atomic_init_u32(&db->renewing, 0);
	}
}

/*
 * lease_sequence
 *		OID of this database's lease sequence.
 */
static Oid
lease_sequence(void)
{
	Oid			nspoid = get_namespace_oid("idgen", true);
	Oid			seqoid = InvalidOid;

	if (OidIsValid(nspoid))
		seqoid = get_relname_relid(LEASE_SEQUENCE, nspoid);
	if (!OidIsValid(seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence \"idgen.%s\" does not exist", LEASE_SEQUENCE),
				 errhint("Drop and create the extension idgen again in this database.")));
	return seqoid;
}

/*
 * lock_lease
 *		durable_lock on the lease sequence; returns its OID.
 */
static Oid
lock_lease(void)
{
	Oid			seqoid = lease_sequence();

	if (!durable_lock(seqoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("sequence \"idgen.%s\" was dropped", LEASE_SEQUENCE)));
	return seqoid;
}

/*
 * extend_lease_locked
 *		Make the lease cover at least tick need, and one lease length past
 *		the current logical time (or tick, or the clock, whichever is
 *		latest).  The caller holds durable_lock on seqoid.
 */
static void
extend_lease_locked(SnowflakeDb *db, Oid seqoid, int64 tick, int64 need)
{
	int64		logical;
	int64		lease;

	if ((int64) pg_atomic_read_u64(&db->lease) >= need)
		return;
	logical = (int64) (pg_atomic_read_u64(&db->state) >> layout.seq_bits);
	lease = Max(Max(tick, logical), Max(wall_tick(), db->floor)) +
		ms_to_ticks(snowflake_lease_ms);
	lease = Min(lease, layout.max_tick);
	durable_advance(seqoid, tick_to_unix_ms(lease));
	pg_atomic_write_u64(&db->lease, (uint64) lease);
}

/*
 * extend_lease
 *		Make the lease cover at least tick need; waits for a backend that
 *		is extending it.
 */
static void
extend_lease(SnowflakeDb *db, int64 tick, int64 need)
{
	Oid			seqoid = lock_lease();

	extend_lease_locked(db, seqoid, tick, need);
	durable_unlock(seqoid);
}

/*
 * renew_lease_ahead
 *		Extend the lease before it runs out, unless another backend is
 *		already doing so.
 */
static void
renew_lease_ahead(SnowflakeDb *db, int64 tick, int64 need)
{
	uint32		expected = 0;

	if (pg_atomic_read_u32(&db->renewing) != 0 ||
		!pg_atomic_compare_exchange_u32(&db->renewing, &expected, 1))
		return;
	PG_TRY();
	{
		extend_lease(db, tick, need);
	}
	PG_FINALLY();
	{
		pg_atomic_write_u32(&db->renewing, 0);
	}
	PG_END_TRY();
}

/*
 * load_entry
 *		First use of a database's entry since server start: resume above
 *		the persisted lease, and extend it.
 */
static void
load_entry(SnowflakeDb *db)
{
	Oid			seqoid = lock_lease();

	if (!db->loaded)
	{
		int64		last;
		int64		seen;

		/* the lease sequence starts at 0: nothing leased yet */
		last = floor_div(durable_read(seqoid) - layout.epoch_ms,
						 layout.unit_ms);
		db->floor = Max(last + 1, 0);
		pg_atomic_write_u64(&db->state,
							(uint64) Max((db->floor << layout.seq_bits) - 1, 0));
		pg_atomic_write_u64(&db->lease, (uint64) (db->floor - 1));

		/*
		 * Before the restart the clock read at least this: the lease ran at
		 * most a lease length and the maximum lead ahead of it.  A clock
		 * behind that has gone back, which the first call reports.
		 */
		seen = last - ms_to_ticks(snowflake_lease_ms) -
			ms_to_ticks(snowflake_max_clock_ahead);
		pg_atomic_write_u64(&db->wall_max, (uint64) Max(seen, 0));
		pg_atomic_write_u64(&db->warned, 0);

		extend_lease_locked(db, seqoid, db->floor, db->floor);
		pg_write_barrier();
		db->loaded = true;
	}
	durable_unlock(seqoid);
}

/*
 * attach
 *		Find or assign this database's entry, load it if needed, and
 *		remember it in my_db.
 */
static void
attach(void)
{
	SnowflakeDb *db = NULL;
	SnowflakeDb *free_db = NULL;
	int			i;

	idgen_check_preloaded();
	LWLockAcquire(snowflake_shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < snowflake_shared->ndbs && db == NULL; i++)
	{
		SnowflakeDb *e = (SnowflakeDb *)
			(snowflake_shared->dbs + i * snowflake_shared->stride);

		if (e->dboid == MyDatabaseId)
			db = e;
		else if (e->dboid == InvalidOid && free_db == NULL)
			free_db = e;
	}
	if (db == NULL && free_db != NULL)
	{
		db = free_db;
		db->dboid = MyDatabaseId;
	}
	LWLockRelease(snowflake_shared->lock);
	if (db == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many databases use snowflake_id()"),
				 errdetail("%d databases already use it, the limit set by \"idgen.snowflake_max_databases\".",
						   snowflake_shared->ndbs),
				 errhint("Increase \"idgen.snowflake_max_databases\" and restart the server.")));

	if (!db->loaded)
		load_entry(db);
	pg_read_barrier();
	my_db = db;
}

/*
 * clock_went_back
 *		Warn, once per high mark, that the clock reads less than a time
 *		already seen.
 */
static void
clock_went_back(SnowflakeDb *db, int64 seen, int64 wall)
{
	uint64		warned = pg_atomic_read_u64(&db->warned);

	if ((int64) warned >= seen ||
		!pg_atomic_compare_exchange_u64(&db->warned, &warned, (uint64) seen))
		return;
	ereport(WARNING,
			(errmsg("system clock went back by at least %lld ms",
					(long long) ((seen - wall) * layout.unit_ms)),
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
					(long long) ((tick - wall) * layout.unit_ms)),
			 errdetail("\"idgen.max_clock_ahead\" allows %d ms.",
					   snowflake_max_clock_ahead),
			 errhint("The system clock went back, or IDs were requested faster than the layout's %lld per second for too long. Wait for the clock to catch up, or raise \"idgen.max_clock_ahead\".",
					 (long long) ((layout.seq_mask + 1) * 1000 / layout.unit_ms))));
}

/*
 * next_id
 *		The next ID of a database: a compare-and-swap on its state, unless
 *		the lease must be extended or the clock is too far behind.
 */
static int64
next_id(SnowflakeDb *db)
{
	int			waited = 0;

	for (;;)
	{
		int64		seen = (int64) pg_atomic_read_u64(&db->wall_max);
		int64		wall;
		int64		base;
		int64		lease;
		int64		tick;
		uint64		old;
		uint64		next;

		/* read the clock after the high mark: a smaller reading went back */
		pg_read_barrier();
		wall = wall_tick();
		if (wall > seen)
			(void) pg_atomic_compare_exchange_u64(&db->wall_max,
												  (uint64 *) &seen,
												  (uint64) wall);
		else if (wall < seen)
			clock_went_back(db, seen, wall);

		base = Max(wall, db->floor);
		lease = (int64) pg_atomic_read_u64(&db->lease);
		old = pg_atomic_read_u64(&db->state);
		for (;;)
		{
			next = Max(old + 1, (uint64) base << layout.seq_bits);
			tick = (int64) (next >> layout.seq_bits);
			if (tick > lease || tick > layout.max_tick ||
				(tick - base) * layout.unit_ms > snowflake_max_clock_ahead)
				break;
			if (pg_atomic_compare_exchange_u64(&db->state, &old, next))
			{
				/* less than half a lease left: extend it ahead of need */
				if (lease - tick < lease_half())
					renew_lease_ahead(db, tick,
									  Min(tick + lease_half(), layout.max_tick));
				return (((int64) next & ~layout.seq_mask) << layout.node_bits) |
					layout.node_part | ((int64) next & layout.seq_mask);
			}
		}

		if (tick > layout.max_tick)
			ereport(ERROR,
					(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
					 errmsg("the time field of snowflake IDs is exhausted"),
					 errdetail("The %d-bit time field ran out at %s.",
							   layout.time_bits,
							   timestamptz_to_str(tick_to_timestamptz(tick))),
					 errhint("Start a new ID space with a later \"idgen.epoch\" or a wider time field.")));
		if (tick > lease)
			extend_lease(db, tick, tick);
		else
		{
			int			excess;

			excess = (int) Min((tick - base) * layout.unit_ms -
							   snowflake_max_clock_ahead, INT_MAX);
			if (waited + (int64) excess >
				Max(SNOWFLAKE_CLOCK_WAIT_MS, 2 * layout.unit_ms))
				clock_ahead(tick, wall);
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 excess, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			waited += excess;
		}
	}
}

/*
 * idgen_snowflake_id
 *		snowflake_id(): the next snowflake ID of this database.
 */
Datum
idgen_snowflake_id(PG_FUNCTION_ARGS)
{
	/* the lease cannot be persisted in a read-only transaction */
	if (unlikely(XactReadOnly))
		PreventCommandIfReadOnly("snowflake_id()");
	if (unlikely(my_db == NULL))
		attach();
	PG_RETURN_INT64(next_id(my_db));
}

/*
 * The decode functions depend on the layout settings, which are
 * PGC_POSTMASTER: they cannot change while the server runs, so plans and
 * results computed from them stay right for the server's lifetime.  They
 * are declared IMMUTABLE (not STABLE) so that they can be used in index
 * expressions, CHECK constraints and partition bounds, and fold to
 * constants at plan time.  The price: changing the layout or epoch across a
 * restart makes stored expression indexes on them wrong (REINDEX them) --
 * but such a change already makes every stored ID mean something else.
 */

/*
 * idgen_snowflake_parse
 *		snowflake_parse(id) returns (ts, node, seq): the start of the ID's
 *		tick, its node and its sequence number.
 */
Datum
idgen_snowflake_parse(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int			shift;

	idgen_check_preloaded();
	if (id < 0 || id > layout.max_id)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%lld is not a snowflake ID", (long long) id),
				 errdetail("Snowflake IDs of this layout lie between 0 and %lld.",
						   (long long) layout.max_id)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	shift = layout.node_bits + layout.seq_bits;
	values[0] = TimestampTzGetDatum(tick_to_timestamptz(id >> shift));
	values[1] = Int32GetDatum((int32) ((id >> layout.seq_bits) &
									   ((INT64CONST(1) << layout.node_bits) - 1)));
	values[2] = Int32GetDatum((int32) (id & layout.seq_mask));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * idgen_snowflake_min_id
 *		snowflake_min_id(ts): the smallest ID of the tick holding ts, so that
 *		"id >= snowflake_min_id(ts)" holds for every ID issued at or after
 *		ts; 0 for times before the epoch.
 */
Datum
idgen_snowflake_min_id(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	int64		tick;

	idgen_check_preloaded();
	if (TIMESTAMP_IS_NOBEGIN(ts))
		PG_RETURN_INT64(0);
	tick = TIMESTAMP_IS_NOEND(ts) ? layout.max_tick + 1 :
		floor_div(floor_div(ts, 1000) + UNIX_MS_AT_PG_EPOCH - layout.epoch_ms,
				  layout.unit_ms);
	if (tick > layout.max_tick)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for snowflake IDs: \"%s\"",
						timestamptz_to_str(ts)),
				 errdetail("The time field of snowflake IDs runs out at %s.",
						   timestamptz_to_str(tick_to_timestamptz(layout.max_tick + 1)))));
	PG_RETURN_INT64(Max(tick, 0) << (layout.node_bits + layout.seq_bits));
}
