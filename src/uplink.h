/*-------------------------------------------------------------------------
 *
 * uplink.h
 *	  The runway worker's connection to the server above it (uplink.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_UPLINK_H
#define IDGEN_UPLINK_H

#include "postgres.h"

#include "libpq-fe.h"

#include "runway_state.h"

extern void uplink_one_line(char *dest, const char *message);
extern void uplink_set_state(RunwayState state, const char *error);
extern bool uplink_connect(void);
extern PGresult *uplink_exec(const char *sql, int nparams,
							 const char *const *values);
extern void uplink_disconnect(void);
extern char *uplink_error_text(const PGresult *res);

#endif							/* IDGEN_UPLINK_H */
