/*-------------------------------------------------------------------------
 *
 * idgen.c
 *	  Module entry: settings, and the shared memory hooks that hand over
 *	  to each subsystem.
 *
 * idgen must be loaded through shared_preload_libraries, because every
 * generator keeps its state in shared memory.  Loaded any other way (for
 * example by CREATE EXTENSION in a server that was not configured for it)
 * the SQL functions exist but raise idgen_check_preloaded's error.
 *
 * Background workers: the snowflake lease keeper is started on demand
 * (snowflake.c), the runway worker of a node at start (runway.c), which
 * also leases a node id set to 'auto' (node_id.c); in binary-upgrade mode
 * neither runs.
 *
 * No generator runs in parallel mode, as nextval() does not: a parallel
 * worker shares none of the leader's backend-local state (chunks, reclaim's
 * records, memoised lookups) and may not take the snapshots a catalog
 * lookup or a durable claim needs.  Every function that would draw IDs,
 * look a tag up or touch a tag's shared state calls
 * idgen_check_not_parallel (base.h) first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "base.h"
#include "chunk.h"
#include "hybrid.h"
#include "node_id.h"
#include "pool.h"
#include "reclaim.h"
#include "root.h"
#include "runway.h"
#include "slot.h"
#include "snowflake.h"
#include "tag.h"
#include "watermark.h"

PG_MODULE_MAGIC;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

void		_PG_init(void);

/*
 * idgen_shmem_request
 *		Request the shared memory of every subsystem.
 */
static void
idgen_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	slot_shmem_request();
	pool_shmem_request();
	chunk_shmem_request();
	snowflake_shmem_request();
	node_id_shmem_request();
	hybrid_shmem_request();
	watermark_shmem_request();
	root_shmem_request();
	runway_shmem_request();
}

/*
 * idgen_shmem_startup
 *		Attach every subsystem to its shared memory.
 */
static void
idgen_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slot_shmem_startup();
	pool_shmem_startup();
	chunk_shmem_startup();
	snowflake_shmem_startup();
	node_id_shmem_startup();
	hybrid_shmem_startup();
	watermark_shmem_startup();
	root_shmem_startup();
	runway_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * idgen_object_drop
 *		A drop: earlier hooks first, then tag.c and snowflake.c.  Out of
 *		line, so that idgen_object_access's path for everything else saves
 *		no registers.
 */
static pg_noinline void
idgen_object_drop(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	tag_object_access(access, classId, objectId, subId, arg);
	snowflake_object_access(access, classId, objectId, subId);
}

/*
 * idgen_object_access
 *		Let tag.c and snowflake.c see every drop, after earlier hooks.  The
 *		hook runs for every function a query calls (OAT_FUNCTION_EXECUTE):
 *		anything but a drop only passes the call on to an earlier hook.
 */
static void
idgen_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	if (unlikely(access == OAT_DROP))
		idgen_object_drop(access, classId, objectId, subId, arg);
	else if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
}

/*
 * idgen_xact_work
 *		Top-level transaction events, handed to each tier in the order their
 *		promises need: reclaim first (an abort rewinds or gives back the
 *		transaction's IDs), then the watermark (it clears the transaction's
 *		floors only once those IDs are back), then the slots (pending drops
 *		and resets).  A tier is called only when the transaction left it
 *		something to do (every PREPARE goes to the watermark, which records
 *		each prepared transaction); last, at a transaction's end,
 *		idgen_xact_stamp moves, so that the next use of each tag is a first
 *		use (lookup.c).
 */
static pg_noinline void
idgen_xact_work(XactEvent event)
{
	if (reclaim_ntags > 0)
		reclaim_xact_event(event);
	if (chunk_nfloored > 0 || event == XACT_EVENT_PRE_PREPARE)
		watermark_xact_event(event);
	if (slot_npending > 0)
		slot_xact_event(event);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		idgen_xact_stamp++;
}

/*
 * idgen_xact_callback
 *		Every event of every transaction of every backend comes here.  What
 *		most of them need is done inline, without a call or a register saved:
 *		nothing (a transaction that used no tag, or an event before the
 *		end), or, at a commit or PREPARE that leaves the watermark and the
 *		slots nothing to do, reclaim's forgetting and the stamp's move.
 *		Everything else is idgen_xact_work's.
 */
static void
idgen_xact_callback(XactEvent event, void *arg)
{
	if (unlikely(chunk_nfloored > 0 || slot_npending > 0 ||
				 event == XACT_EVENT_PRE_PREPARE ||
				 event == XACT_EVENT_ABORT))
		idgen_xact_work(event);
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE)
	{
		reclaim_forget();
		idgen_xact_stamp++;
	}
}

/*
 * _PG_init
 *		Define settings and install hooks; only when preloaded.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	idgen_define_base_settings();
	snowflake_define_settings();
	root_define_settings();
	runway_define_settings();
	node_id_define_settings();
	node_id_check_settings();
	/* pg_upgrade drops and creates databases: no worker may hold one */
	if (!IsBinaryUpgrade)
		runway_register_worker();

	MarkGUCPrefixReserved("idgen");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = idgen_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = idgen_shmem_startup;
	prev_object_access_hook = object_access_hook;
	object_access_hook = idgen_object_access;
	RegisterXactCallback(idgen_xact_callback, NULL);
	slot_init();
	/* an evicted chunk entry's hybrid slab goes back to its tag */
	chunk_evict_hook = hybrid_evict;

	idgen_preloaded = true;
}
