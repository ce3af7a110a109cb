/*-------------------------------------------------------------------------
 *
 * node_id.h
 *	  Snowflake node ids that cannot collide: with idgen.snowflake_node_id =
 *	  'auto' a node leases its node id from a registry on the root server
 *	  (idgen.node_ids), through its runway worker, and snowflake_id() issues
 *	  IDs with it only while the lease holds.
 *
 * The protocol, the timing and the locking protocol are described at the
 * top of node_id.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_NODE_ID_H
#define IDGEN_NODE_ID_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"

#include "base.h"

IDGEN_INTERNAL_BEGIN

/* the answer of the root's idgen.lease_node_id(), as the worker asks it */
#define NODE_ID_QUERY \
	"SELECT node_id, lease_ms, floor_ms, cap_ms" \
	" FROM idgen.lease_node_id($1, $2, $3, $4, $5, $6)"
#define NODE_ID_NPARAMS	6

/* one request of the runway worker to the root */
typedef struct NodeIdRequest
{
	const char *values[NODE_ID_NPARAMS];
	int			held;			/* the node id held when it was sent, or -1 */
	int64		sent;			/* node clock (us) when it was sent */
	TimestampTz sent_at;		/* wall clock then */
} NodeIdRequest;

struct pg_result;

/* the fast path of snowflake_id(): (deadline << 32) | node id */
extern pg_atomic_uint64 *node_id_word;

extern void node_id_define_settings(void);
extern void node_id_check_settings(void);
extern void node_id_shmem_request(void);
extern void node_id_shmem_startup(void);

/* backends (snowflake.c) */
extern int64 node_id_part_slow(void);
extern int64 node_id_cap(void);
extern void node_id_need_cap(int64 need);
extern void node_id_clock_went_back(void);

/* the runway worker (runway.c) */
extern bool node_id_due(void);
extern void node_id_request(NodeIdRequest *req, const char *node,
							const char *instance);
extern void node_id_answer(const NodeIdRequest *req,
						   const struct pg_result *res);
extern void node_id_no_answer(const char *why);

IDGEN_INTERNAL_END

#endif							/* IDGEN_NODE_ID_H */
