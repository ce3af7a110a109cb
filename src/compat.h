/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The differences between the PostgreSQL major versions idgen builds
 *	  against (15 to 18), in one place.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_COMPAT_H
#define IDGEN_COMPAT_H

#include "postgres.h"

#include "catalog/pg_class.h"
#include "libpq-fe.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/wait_event.h"

#if PG_VERSION_NUM >= 160000
#include "libpq/libpq-be-fe-helpers.h"
#include "varatt.h"
#endif

#if PG_VERSION_NUM >= 170000
#include "storage/procnumber.h"
#else
#include "storage/backendid.h"
#endif

/*
 * idgen_proc_index
 *		This backend's 0-based index among MaxBackends: MyProcNumber since
 *		PostgreSQL 17, MyBackendId - 1 before.
 */
#if PG_VERSION_NUM >= 170000
#define idgen_proc_index()	((int) MyProcNumber)
#else
#define idgen_proc_index()	((int) MyBackendId - 1)
#endif

/*
 * idgen_relation_ownercheck
 *		Whether a role owns a relation (or is a superuser):
 *		object_ownercheck since PostgreSQL 16.
 */
#if PG_VERSION_NUM >= 160000
#define idgen_relation_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define idgen_relation_ownercheck(relid, roleid) \
	pg_class_ownercheck((relid), (roleid))
#endif

/*
 * idgen_rel_new_file_subid
 *		The subtransaction that gave a relation a new file, if the current
 *		transaction did: relfilenodes became relfilelocators in PostgreSQL 16.
 */
#if PG_VERSION_NUM >= 160000
#define idgen_rel_new_file_subid(rel)	((rel)->rd_firstRelfilelocatorSubid)
#else
#define idgen_rel_new_file_subid(rel)	((rel)->rd_firstRelfilenodeSubid)
#endif

/*
 * idgen_make_range
 *		make_range() took an error-saving context from PostgreSQL 16 on.
 */
#if PG_VERSION_NUM >= 160000
#define idgen_make_range(typcache, lower, upper, empty) \
	make_range((typcache), (lower), (upper), (empty), NULL)
#else
#define idgen_make_range(typcache, lower, upper, empty) \
	make_range((typcache), (lower), (upper), (empty))
#endif

/*
 * idgen_decode_datetime
 *		DecodeDateTime() reports extra error details from PostgreSQL 16 on.
 */
#if PG_VERSION_NUM >= 160000
#define idgen_decode_datetime(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz), NULL)
#else
#define idgen_decode_datetime(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz))
#endif

/*
 * idgen_sync_standbys_defined
 *		Whether synchronous standbys are defined, as the walsenders see it.
 *		The flag became a status word in the minor releases of May 2025
 *		(15.13, 16.9, 17.5); until the checkpointer has set it after start,
 *		the setting decides.  Caller holds SyncRepLock.
 */
#if (PG_VERSION_NUM >= 150013 && PG_VERSION_NUM < 160000) || \
	(PG_VERSION_NUM >= 160009 && PG_VERSION_NUM < 170000) || \
	PG_VERSION_NUM >= 170005
#define idgen_sync_standbys_defined() \
	((WalSndCtl->sync_standbys_status & SYNC_STANDBY_INIT) ? \
	 (WalSndCtl->sync_standbys_status & SYNC_STANDBY_DEFINED) != 0 : \
	 (SyncRepStandbyNames != NULL && SyncRepStandbyNames[0] != '\0'))
#else
#define idgen_sync_standbys_defined()	(WalSndCtl->sync_standbys_defined)
#endif

/*
 * idgen_wait_event_new
 *		A wait event of its own for each kind of wait, shown by name in
 *		pg_stat_activity.wait_event: WaitEventExtensionNew() from PostgreSQL
 *		17 on (the caller keeps the number it returns); before, every wait
 *		of an extension is the one "Extension" event.
 */
#if PG_VERSION_NUM >= 170000
#define idgen_wait_event_new(name)	WaitEventExtensionNew(name)
#else
#define idgen_wait_event_new(name)	((void) (name), (uint32) PG_WAIT_EXTENSION)
#endif

/*
 * idgen_libpq_prepare, idgen_libpq_finish
 *		Reserve a file descriptor for a libpq connection a backend or worker
 *		opens, before PQconnectStart*(), and close the connection and give
 *		the descriptor back, as contrib/postgres_fdw does: core's helpers
 *		of libpq-be-fe-helpers.h from PostgreSQL 16 on, AcquireExternalFD()
 *		and ReleaseExternalFD() before.  idgen_libpq_prepare raises an error
 *		when no descriptor is left; idgen_libpq_finish takes a connection
 *		made after an idgen_libpq_prepare, or NULL when PQconnectStart*()
 *		returned none.
 */
#if PG_VERSION_NUM >= 160000
#define idgen_libpq_prepare()		libpqsrv_connect_prepare()
#define idgen_libpq_finish(conn) \
	((conn) != NULL ? libpqsrv_disconnect(conn) : ReleaseExternalFD())
#else
#define idgen_libpq_prepare() \
	do { \
		if (!AcquireExternalFD()) \
			ereport(ERROR, \
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION), \
					 errmsg("could not establish connection"), \
					 errdetail("There are too many open files on the local server."), \
					 errhint("Raise max_files_per_process, or the limit of open files of the server's operating system user."))); \
	} while (0)
#define idgen_libpq_finish(conn) \
	do { \
		if ((conn) != NULL) \
			PQfinish(conn); \
		ReleaseExternalFD(); \
	} while (0)
#endif

/* pg_noreturn replaced pg_attribute_noreturn() in PostgreSQL 18 */
#if PG_VERSION_NUM >= 180000
#define IDGEN_NORETURN_BEGIN	pg_noreturn
#define IDGEN_NORETURN_END
#else
#define IDGEN_NORETURN_BEGIN
#define IDGEN_NORETURN_END		pg_attribute_noreturn()
#endif

/*
 * What idgen's own headers declare is for idgen's files alone: between
 * IDGEN_INTERNAL_BEGIN and IDGEN_INTERNAL_END (after a header's #includes)
 * it is hidden from the dynamic linker, so that a call or a variable of
 * another idgen file costs what one of the same file does (no PLT or GOT
 * indirection).  PGXS builds modules with -fvisibility=hidden from 16 on,
 * which does the same for everything; 15 does not.  SQL-callable
 * functions, _PG_init and the workers' entry points are declared in the .c
 * files and stay visible.
 */
#if defined(__GNUC__)
#define IDGEN_INTERNAL_BEGIN	_Pragma("GCC visibility push(hidden)")
#define IDGEN_INTERNAL_END		_Pragma("GCC visibility pop")
#else
#define IDGEN_INTERNAL_BEGIN
#define IDGEN_INTERNAL_END
#endif

#endif							/* IDGEN_COMPAT_H */
