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
#include "miscadmin.h"
#include "utils/acl.h"

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

/* pg_noreturn replaced pg_attribute_noreturn() in PostgreSQL 18 */
#if PG_VERSION_NUM >= 180000
#define IDGEN_NORETURN_BEGIN	pg_noreturn
#define IDGEN_NORETURN_END
#else
#define IDGEN_NORETURN_BEGIN
#define IDGEN_NORETURN_END		pg_attribute_noreturn()
#endif

#endif							/* IDGEN_COMPAT_H */
