/*-------------------------------------------------------------------------
 *
 * durable.h
 *	  Durable high-water marks kept in sequences: read one, and move it
 *	  forward so that the move survives any crash or promotion before the
 *	  caller uses what it covers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_DURABLE_H
#define IDGEN_DURABLE_H

#include "postgres.h"

extern bool durable_lock(Oid seqoid);
extern void durable_unlock(Oid seqoid);
extern int64 durable_read(Oid seqoid);
extern void durable_advance(Oid seqoid, int64 value);
extern const char *durable_blocked(void);

#endif							/* IDGEN_DURABLE_H */
