/*
 * bench/floor.c: the floor of bench/run.sh's counts per transaction, what
 * PostgreSQL charges for calling an extension's C function with a text
 * argument.  bench/run.sh builds it in its working directory with PGXS
 * (nothing is installed) and creates idgen_bench.floor(text) from it,
 * VOLATILE STRICT like next_id(text), so that a prepared statement calls
 * it at every execution.
 */
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(idgen_bench_floor);

/*
 * idgen_bench_floor(text) returns bigint: takes a text argument, as
 * next_id(text) does, and does nothing else.
 */
Datum
idgen_bench_floor(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(0);
}
