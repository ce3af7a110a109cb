/*-------------------------------------------------------------------------
 *
 * lease.h
 *	  The node side of many servers: the grants a node holds (idgen.leases)
 *	  and claims of tags of source 'root' from them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDGEN_LEASE_H
#define IDGEN_LEASE_H

#include "postgres.h"

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"

#include "base.h"
#include "tag.h"

extern void lease_define_settings(void);
extern bool lease_node_name_is_default(void);
extern const char *lease_node_name(void);

extern bool lease_claim(const TagInfo *info, int64 mark, int64 n, bool exact,
						IdRange *claimed, int64 *left);
extern void lease_runway(const TagInfo *info, int64 mark, int *grants,
						 int64 *left);
extern void lease_record(const NameData *tag, IdRange grant,
						 const char *proof, XLogRecPtr root_lsn);
extern int	lease_holdings(const NameData *tag, int max, IdRange **held,
						   char ***proofs, int64 *top, IdRange *local,
						   XLogRecPtr *root_lsn);
extern void lease_note_local(const NameData *tag, IdRange local);
extern List *lease_root_tags(MemoryContext cxt);
extern void lease_forget(const NameData *tag);

#endif							/* IDGEN_LEASE_H */
