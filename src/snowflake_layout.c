/*-------------------------------------------------------------------------
 *
 * snowflake_layout.c
 *	  The settings of snowflake IDs, the layout they define, and the
 *	  functions that decode IDs: idgen.snowflake_parse() and
 *	  idgen.snowflake_min_id().
 *
 * An ID is, from the top: a zero sign bit, the time in ticks of
 * idgen.snowflake_time_unit since idgen.snowflake_epoch (time_bits),
 * idgen.snowflake_node_id (node_bits) and a sequence number (seq_bits).
 * The layout is fixed at server start and checked there: a bad one stops
 * the server.  idgen.snowflake_node_id is a number, or "auto": then the
 * node id is leased from the root server at run time (node_id.c), and the
 * layout's node_part is not used.
 *
 * idgen.epoch, idgen.node_id and idgen.max_clock_ahead are the deprecated
 * names of three of these settings until 2.0 (forward_deprecated_setting).
 *
 * No shared memory is touched here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "base.h"
#include "compat.h"
#include "snowflake.h"

PG_FUNCTION_INFO_V1(idgen_snowflake_parse);
PG_FUNCTION_INFO_V1(idgen_snowflake_min_id);

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

/* settings */
static char *snowflake_node_id = NULL;
static char *snowflake_epoch = NULL;
static char *deprecated_node_id = NULL; /* idgen.node_id, until 2.0 */
static char *deprecated_epoch = NULL;	/* idgen.epoch, until 2.0 */
static int	deprecated_max_clock_ahead = 1000;	/* idgen.max_clock_ahead */
static int	snowflake_layout_kind = LAYOUT_SNOWFLAKE;
static int	snowflake_time_unit = 1;
static int	snowflake_time_bits = 41;
static int	snowflake_node_bits = 10;
static int	snowflake_seq_bits = 12;
int			snowflake_max_clock_ahead = 1000;
int			snowflake_lease_ms = 3000;
char	   *snowflake_database = NULL;

SnowflakeLayout snowflake_layout;

/*
 * snowflake_tick_to_timestamptz
 *		The timestamptz at which a tick starts.
 */
TimestampTz
snowflake_tick_to_timestamptz(int64 tick)
{
	return (snowflake_tick_to_unix_ms(tick) - UNIX_MS_AT_PG_EPOCH) * 1000;
}

/*
 * setting_as_given
 *		The value a setting has in the configuration before it is defined,
 *		or NULL when it is not set.
 */
char *
setting_as_given(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return value ? pstrdup(value) : NULL;
}

/*
 * forward_deprecated_setting
 *		At server start, once both names of a renamed setting are defined:
 *		a value given only under the deprecated old name becomes the value
 *		of the new one, with a warning; different values under both names
 *		stop the server.  old_given and new_given are the values as given
 *		(setting_as_given before the names were defined).  The value is
 *		forwarded as a dynamic default, so the new name given in the
 *		configuration file still overrides it on a reload; a reload does
 *		not forward the old name again.
 */
void
forward_deprecated_setting(const char *old_name, const char *new_name,
						   const char *old_given, const char *new_given)
{
	if (old_given == NULL)
		return;
	if (new_given != NULL)
	{
		/* GetConfigOption returns a number in a static buffer */
		char	   *old_value = pstrdup(GetConfigOption(old_name, false, false));

		if (strcmp(old_value, GetConfigOption(new_name, false, false)) != 0)
			ereport(FATAL,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("conflicting values for parameters \"%s\" and \"%s\": \"%s\" and \"%s\"",
							old_name, new_name, old_given, new_given),
					 errdetail("\"%s\" is the deprecated name of \"%s\".",
							   old_name, new_name),
					 errhint("Remove \"%s\" from the server configuration.",
							 old_name)));
		return;
	}
	ereport(WARNING,
			(errcode(ERRCODE_WARNING_DEPRECATED_FEATURE),
			 errmsg("setting \"%s\" is deprecated", old_name),
			 errhint("Use \"%s\" instead.", new_name)));
	SetConfigOption(new_name, old_given, PGC_POSTMASTER,
					PGC_S_DYNAMIC_DEFAULT);
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
 *		idgen.snowflake_epoch as Unix time in milliseconds; false if it is
 *		not a timestamp.  Uses the error-returning date parser, as the postmaster
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
	*epoch_ms = snowflake_floor_div(ts, 1000) + UNIX_MS_AT_PG_EPOCH;
	return true;
}

/*
 * check_node_id
 *		Check hook of idgen.snowflake_node_id (and of its old name): a
 *		number of zero or more, or "auto".
 *		Whether the number fits the node bits is checked with the layout.
 */
static bool
check_node_id(char **newval, void **extra, GucSource source)
{
	int			id;

	if (pg_strcasecmp(*newval, "auto") == 0 ||
		(parse_int(*newval, &id, 0, NULL) && id >= 0))
		return true;
	GUC_check_errdetail("\"idgen.snowflake_node_id\" is a number of zero or more, or \"auto\".");
	return false;
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
	int			node_id;
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

	snowflake_layout.node_auto = pg_strcasecmp(snowflake_node_id, "auto") == 0;
	if (!snowflake_layout.node_auto &&
		!parse_int(snowflake_node_id, &node_id, 0, NULL))
		reject_setting("idgen.snowflake_node_id", snowflake_node_id);
	if (snowflake_layout.node_auto)
		node_id = 0;
	if ((int64) node_id >= (INT64CONST(1) << snowflake_node_bits))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.snowflake_node_id\": %d",
						node_id),
				 errdetail("The snowflake layout has %d node bits, so node IDs range from 0 to %lld.",
						   snowflake_node_bits,
						   (long long) ((INT64CONST(1) << snowflake_node_bits) - 1)),
				 errhint("Choose a smaller \"idgen.snowflake_node_id\", or more node bits with \"idgen.snowflake_layout\" = custom.")));

	if (!parse_epoch(snowflake_epoch, &snowflake_layout.epoch_ms))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.snowflake_epoch\": \"%s\"",
						snowflake_epoch),
				 errhint("Give a timestamp with a time zone, such as '2025-01-01 00:00:00+00'.")));
	now_ms = snowflake_floor_div(GetCurrentTimestamp(), 1000) + UNIX_MS_AT_PG_EPOCH;
	if (snowflake_layout.epoch_ms > now_ms)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"idgen.snowflake_epoch\": \"%s\"",
						snowflake_epoch),
				 errdetail("The epoch lies in the future."),
				 errhint("Choose an epoch in the past; it must never change once IDs were issued.")));

	/* the time field must end within the range of timestamptz */
	end_ms = END_TIMESTAMP / 1000 + UNIX_MS_AT_PG_EPOCH;
	if (snowflake_time_bits >= 62 ||
		(INT64CONST(1) << snowflake_time_bits) >
		(end_ms - snowflake_layout.epoch_ms) / snowflake_time_unit)
		invalid_layout(psprintf("A %d-bit time field of %d ms ticks outlasts the range of timestamp with time zone.",
								snowflake_time_bits, snowflake_time_unit),
					   "Use fewer time bits or a shorter time unit.");
	end_ms = snowflake_layout.epoch_ms +
		(INT64CONST(1) << snowflake_time_bits) * snowflake_time_unit;
	if (end_ms <= now_ms)
		invalid_layout(psprintf("The %d-bit time field of %d ms ticks since %s ran out at %s.",
								snowflake_time_bits, snowflake_time_unit,
								snowflake_epoch,
								timestamptz_to_str((end_ms - UNIX_MS_AT_PG_EPOCH) * 1000)),
					   "Use more time bits, a longer time unit or a later epoch.");

	snowflake_layout.time_bits = snowflake_time_bits;
	snowflake_layout.node_bits = snowflake_node_bits;
	snowflake_layout.seq_bits = snowflake_seq_bits;
	snowflake_layout.unit_ms = snowflake_time_unit;
	snowflake_layout.max_tick = (INT64CONST(1) << snowflake_time_bits) - 1;
	snowflake_layout.node_part = (int64) node_id << snowflake_seq_bits;
	/* the deadline of a leased node id fits 32 bits in these units */
	snowflake_layout.deadline_shift = Max(snowflake_time_bits - 32, 0);
	snowflake_layout.seq_mask = (INT64CONST(1) << snowflake_seq_bits) - 1;
	snowflake_layout.max_id = (INT64CONST(1) << total) - 1;
}

/*
 * snowflake_define_settings
 *		Define the idgen.* settings of snowflake IDs and check the layout;
 *		called from _PG_init in the postmaster.
 */
void
snowflake_define_settings(void)
{
	char	   *given_node = setting_as_given("idgen.snowflake_node_id");
	char	   *given_old_node = setting_as_given("idgen.node_id");
	char	   *given_epoch = setting_as_given("idgen.snowflake_epoch");
	char	   *given_old_epoch = setting_as_given("idgen.epoch");
	char	   *given_ahead = setting_as_given("idgen.snowflake_max_clock_ahead");
	char	   *given_old_ahead = setting_as_given("idgen.max_clock_ahead");
	char	   *given_layout = setting_as_given("idgen.snowflake_layout");
	char	   *given_unit = setting_as_given("idgen.snowflake_time_unit");
	char	   *given_time = setting_as_given("idgen.snowflake_time_bits");
	char	   *given_nodeb = setting_as_given("idgen.snowflake_node_bits");
	char	   *given_seq = setting_as_given("idgen.snowflake_seq_bits");
	const char *custom_given = NULL;

	DefineCustomStringVariable("idgen.snowflake_node_id",
							   "Node number stored in every snowflake ID of this server, or auto.",
							   "Give every server that issues snowflake IDs into the same tables its own number; auto leases one from the root server named by idgen.root.",
							   &snowflake_node_id,
							   "0",
							   PGC_POSTMASTER, 0,
							   check_node_id, NULL, NULL);
	DefineCustomStringVariable("idgen.node_id",
							   "Deprecated name of idgen.snowflake_node_id.",
							   NULL,
							   &deprecated_node_id,
							   "0",
							   PGC_POSTMASTER,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   check_node_id, NULL, NULL);
	DefineCustomStringVariable("idgen.snowflake_epoch",
							   "Time zero of the time field of snowflake IDs.",
							   NULL,
							   &snowflake_epoch,
							   "2025-01-01 00:00:00+00",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("idgen.epoch",
							   "Deprecated name of idgen.snowflake_epoch.",
							   NULL,
							   &deprecated_epoch,
							   "2025-01-01 00:00:00+00",
							   PGC_POSTMASTER,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
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
	DefineCustomIntVariable("idgen.snowflake_max_clock_ahead",
							"How far the logical time of snowflake IDs may run ahead of the system clock.",
							"Past it, snowflake_id() waits briefly for the clock, then fails.",
							&snowflake_max_clock_ahead,
							1000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.max_clock_ahead",
							"Deprecated name of idgen.snowflake_max_clock_ahead, read at server start only.",
							NULL,
							&deprecated_max_clock_ahead,
							1000, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("idgen.snowflake_lease",
							"Length of time each durable extension of the snowflake lease covers.",
							NULL,
							&snowflake_lease_ms,
							3000, 10, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("idgen.snowflake_database",
							   "Database in which the lease of snowflake IDs is kept.",
							   "The extension idgen must be installed there; its lease keeper connects to it.",
							   &snowflake_database,
							   "postgres",
							   PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);

	forward_deprecated_setting("idgen.node_id", "idgen.snowflake_node_id",
							   given_old_node, given_node);
	forward_deprecated_setting("idgen.epoch", "idgen.snowflake_epoch",
							   given_old_epoch, given_epoch);
	forward_deprecated_setting("idgen.max_clock_ahead",
							   "idgen.snowflake_max_clock_ahead",
							   given_old_ahead, given_ahead);
	if (given_node == NULL)
		given_node = given_old_node;
	if (given_node != NULL && strcmp(given_node, snowflake_node_id) != 0)
		reject_setting("idgen.snowflake_node_id", given_node);
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
	if (id < 0 || id > snowflake_layout.max_id)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%lld is not a snowflake ID", (long long) id),
				 errdetail("Snowflake IDs of this layout lie between 0 and %lld.",
						   (long long) snowflake_layout.max_id)));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	shift = snowflake_layout.node_bits + snowflake_layout.seq_bits;
	values[0] = TimestampTzGetDatum(snowflake_tick_to_timestamptz(id >> shift));
	values[1] = Int32GetDatum((int32) ((id >> snowflake_layout.seq_bits) &
									   ((INT64CONST(1) << snowflake_layout.node_bits) - 1)));
	values[2] = Int32GetDatum((int32) (id & snowflake_layout.seq_mask));
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
	tick = TIMESTAMP_IS_NOEND(ts) ? snowflake_layout.max_tick + 1 :
		snowflake_floor_div(snowflake_floor_div(ts, 1000) + UNIX_MS_AT_PG_EPOCH -
							snowflake_layout.epoch_ms,
							snowflake_layout.unit_ms);
	if (tick > snowflake_layout.max_tick)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for snowflake IDs: \"%s\"",
						timestamptz_to_str(ts)),
				 errdetail("The time field of snowflake IDs runs out at %s.",
						   timestamptz_to_str(snowflake_tick_to_timestamptz(snowflake_layout.max_tick + 1)))));
	PG_RETURN_INT64(Max(tick, 0) << (snowflake_layout.node_bits + snowflake_layout.seq_bits));
}
