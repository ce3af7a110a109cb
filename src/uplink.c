/*-------------------------------------------------------------------------
 *
 * uplink.c
 *	  The runway worker's connection to the server above it (the root,
 *	  or a regional node): a libpq client that connects to the first
 *	  primary of idgen.root able to grant, runs one query at a time, and
 *	  waits on the socket without blocking signals, each within a
 *	  deadline; what the worker knows of the root's reachability (the
 *	  runway's state), and the root's errors on one line.
 *
 * Connections.  The descriptor of each connection is reserved with
 * idgen_libpq_prepare() before libpq opens it, and given back by
 * idgen_libpq_finish() (compat.h: core's libpq-be-fe-helpers.h from
 * PostgreSQL 16 on, AcquireExternalFD()/ReleaseExternalFD() before), as
 * contrib/postgres_fdw does.  The helpers' own connect and exec loops are
 * not used: they wait without a deadline, and the worker must give up on
 * a root that does not answer (RUNWAY_CONNECT_MS, RUNWAY_QUERY_MS).
 *
 * Locking protocol: this file writes state, state_since and last_error of
 * RunwayShared under runway_lock (see runway.c), never across I/O.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq-fe.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "runway_state.h"
#include "uplink.h"
#include "worker.h"

/* the connection to the root, or NULL */
static PGconn *uplink_conn = NULL;

/*
 * uplink_one_line
 *		A message of libpq or of the root on one line, cut to fit dest.
 */
void
uplink_one_line(char *dest, const char *message)
{
	int			len;

	strlcpy(dest, message, RUNWAY_ERROR_LEN);
	/* libpq's messages end with a newline, some have two */
	len = strlen(dest);
	for (int i = 0; i < len; i++)
		if (dest[i] == '\n' || dest[i] == '\t')
			dest[i] = ' ';
	while (len > 0 && (dest[len - 1] == '\n' || dest[len - 1] == ' '))
		dest[--len] = '\0';
}

/*
 * uplink_set_state
 *		Record the outcome of a contact with the root, and log a line when
 *		the state changes (not at every retry).  error is NULL on success.
 */
void
uplink_set_state(RunwayState state, const char *error)
{
	RunwayState old;
	char		clean[RUNWAY_ERROR_LEN];

	clean[0] = '\0';
	if (error != NULL)
		uplink_one_line(clean, error);

	LWLockAcquire(runway_lock, LW_EXCLUSIVE);
	old = runway->state;
	if (old != state)
	{
		runway->state = state;
		runway->state_since = GetCurrentTimestamp();
	}
	if (error != NULL)
		strlcpy(runway->last_error, clean, sizeof(runway->last_error));
	LWLockRelease(runway_lock);

	if (old == state)
		return;
	if (state == RUNWAY_OK)
		ereport(LOG,
				(errmsg("idgen runway worker: root server is reachable at \"%s:%s\"",
						uplink_conn ? PQhost(uplink_conn) : "?",
						uplink_conn ? PQport(uplink_conn) : "?")));
	else
		ereport(LOG,
				(errmsg("idgen runway worker: root server is unreachable"),
				 errdetail("%s", clean),
				 errhint("Nodes go on issuing IDs from the grants they hold; the worker retries.")));
}

/*
 * uplink_disconnect
 *		Drop the connection to the root, if any.
 */
void
uplink_disconnect(void)
{
	if (uplink_conn != NULL)
		idgen_libpq_finish(uplink_conn);
	uplink_conn = NULL;
}

/*
 * uplink_wait
 *		Wait until the socket of a connection to the root is ready for io,
 *		the latch is set, or deadline passes; false on timeout.  Interrupts
 *		are served.
 */
static bool
uplink_wait(PGconn *conn, int io, TimestampTz deadline)
{
	long		ms;
	int			rc;

	ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
	if (ms <= 0)
		return false;
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | io,
						   PQsocket(conn), ms,
						   idgen_wait_event(IDGEN_WAIT_ROOT_SOCKET));
	if (rc & WL_LATCH_SET)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * conninfo_problem
 *		Why idgen.root cannot be used, or NULL: it does not parse (libpq's
 *		message would quote it, password and all), or it holds a password.
 */
static const char *
conninfo_problem(void)
{
	PQconninfoOption *options;
	char	   *error = NULL;
	bool		password = false;

	options = PQconninfoParse(runway_root, &error);
	if (options == NULL)
	{
		if (error != NULL)
			PQfreemem(error);
		return "idgen.root is not a valid connection string";
	}
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
			o->val[0] != '\0')
			password = true;
	PQconninfoFree(options);
	if (password)
		return "idgen.root holds a password, which this server refuses to use: every reload logs the setting; put the password in a password file (libpq's passfile, by default ~/.pgpass of the server's operating system user)";
	return NULL;
}

/*
 * connect_one
 *		Connect to one server with the given libpq parameters (expanded
 *		from dbname), without blocking signals, for RUNWAY_CONNECT_MS at
 *		most; NULL (with *error set) on failure.
 */
static PGconn *
connect_one(const char *const *keys, const char *const *values,
			char **error)
{
	TimestampTz deadline;
	PGconn	   *conn;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   RUNWAY_CONNECT_MS);
	/* a descriptor for the connection, before libpq opens it */
	idgen_libpq_prepare();
	conn = PQconnectStartParams(keys, values, 0);
	if (conn == NULL)
	{
		idgen_libpq_finish(conn);
		*error = pstrdup("out of memory");
		return NULL;
	}
	for (;;)
	{
		PostgresPollingStatusType status;

		if (PQstatus(conn) == CONNECTION_BAD)
			break;
		status = PQconnectPoll(conn);
		if (status == PGRES_POLLING_OK || status == PGRES_POLLING_FAILED)
			break;
		if (!uplink_wait(conn, status == PGRES_POLLING_READING ?
						 WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE, deadline))
		{
			*error = pstrdup("timeout while connecting");
			break;
		}
	}
	if (PQstatus(conn) != CONNECTION_OK || PQsetnonblocking(conn, 1) != 0)
	{
		if (*error == NULL)
			*error = pstrdup(PQerrorMessage(conn));
		idgen_libpq_finish(conn);
		return NULL;
	}
	return conn;
}

/*
 * list_item
 *		Item i of a comma-separated list (the last one when the list is
 *		shorter, as libpq repeats a single port), or NULL for an empty list.
 */
static char *
list_item(const char *list, int i)
{
	List	   *items = NIL;
	char	   *copy;

	if (list == NULL || list[0] == '\0')
		return NULL;
	copy = pstrdup(list);
	for (char *p = strtok(copy, ","); p != NULL; p = strtok(NULL, ","))
		items = lappend(items, p);
	if (items == NIL)
		return NULL;
	return (char *) list_nth(items, Min(i, list_length(items) - 1));
}

/*
 * uplink_connect
 *		Connect to idgen.root unless connected: to the first server of its
 *		list of hosts that is a primary able to grant (not in recovery, and
 *		with the synchronous standbys it needs: a primary left running after
 *		a failover cannot commit, and would make every lease wait), trying
 *		them in turn from the one used last.  false (with the state set) on
 *		failure.
 */
bool
uplink_connect(void)
{
	static int	next_host = 0;
	PQconninfoOption *options;
	const char *problem;
	const char *hosts = NULL;
	const char *addrs = NULL;
	const char *ports = NULL;
	int			nhosts = 1;
	char	   *error = NULL;

	if (uplink_conn != NULL && PQstatus(uplink_conn) == CONNECTION_OK)
		return true;
	uplink_disconnect();
	problem = conninfo_problem();
	if (problem != NULL)
	{
		uplink_set_state(RUNWAY_UNREACHABLE, problem);
		return false;
	}
	options = PQconninfoParse(runway_root, NULL);
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
	{
		if (strcmp(o->keyword, "host") == 0)
			hosts = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			addrs = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			ports = o->val;
	}
	for (const char *p = hosts ? hosts : addrs ? addrs : ""; *p; p++)
		nhosts += *p == ',';

	for (int tried = 0; tried < nhosts && uplink_conn == NULL; tried++)
	{
		int			host = (next_host + tried) % nhosts;
		const char *keys[64];
		const char *values[64];
		int			n = 0;
		PGconn	   *conn;
		PGresult   *res;

		for (PQconninfoOption *o = options; o->keyword != NULL && n < 60; o++)
		{
			const char *val = o->val;

			if (strcmp(o->keyword, "host") == 0)
				val = list_item(hosts, host);
			else if (strcmp(o->keyword, "hostaddr") == 0)
				val = list_item(addrs, host);
			else if (strcmp(o->keyword, "port") == 0)
				val = list_item(ports, host);
			if (val == NULL || strcmp(o->keyword, "fallback_application_name") == 0)
				continue;
			keys[n] = o->keyword;
			values[n++] = val;
		}
		keys[n] = "fallback_application_name";
		values[n++] = "idgen runway worker";
		keys[n] = NULL;
		values[n] = NULL;

		error = NULL;
		conn = connect_one(keys, values, &error);
		if (conn == NULL)
			continue;
		uplink_conn = conn;
		res = uplink_exec("SELECT pg_catalog.pg_is_in_recovery(),"
						  " idgen.grants_blocked()", 0, NULL);
		if (res == NULL)
		{
			error = pstrdup("connection lost");
			continue;			/* uplink_exec dropped the connection */
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
			error = pstrdup(PQresultErrorMessage(res));
		else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
			error = psprintf("server \"%s:%s\" is in recovery",
							 PQhost(conn), PQport(conn));
		else if (!PQgetisnull(res, 0, 1))
			error = psprintf("server \"%s:%s\" cannot grant: %s",
							 PQhost(conn), PQport(conn),
							 PQgetvalue(res, 0, 1));
		PQclear(res);
		if (error != NULL)
			uplink_disconnect();
		else
			next_host = host;
	}
	PQconninfoFree(options);
	if (uplink_conn == NULL)
	{
		uplink_set_state(RUNWAY_UNREACHABLE, error ? error : "no server to connect to");
		return false;
	}
	return true;
}

/*
 * uplink_exec
 *		Run one query on the root, waiting without blocking signals; its
 *		last result, or NULL (with the state set and the connection
 *		dropped) when the connection failed or timed out.  The caller
 *		clears the result.
 */
PGresult *
uplink_exec(const char *sql, int nparams, const char *const *values)
{
	PGresult   *res;
	PGresult   *last = NULL;
	TimestampTz deadline;

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   RUNWAY_QUERY_MS);
	if (!PQsendQueryParams(uplink_conn, sql, nparams, NULL, values, NULL, NULL,
						   0))
		goto lost;
	/* flush the query, then read until every result is in */
	for (;;)
	{
		int			flushed = PQflush(uplink_conn);

		if (flushed == 0)
			break;
		if (flushed < 0 ||
			!uplink_wait(uplink_conn, WL_SOCKET_WRITEABLE, deadline))
			goto lost;
	}
	for (;;)
	{
		while (PQisBusy(uplink_conn))
		{
			if (!uplink_wait(uplink_conn, WL_SOCKET_READABLE, deadline) ||
				!PQconsumeInput(uplink_conn))
				goto lost;
		}
		res = PQgetResult(uplink_conn);
		if (res == NULL)
			break;
		if (last != NULL)
			PQclear(last);
		last = res;
	}
	if (last != NULL && PQstatus(uplink_conn) == CONNECTION_OK)
		return last;

lost:
	if (last != NULL)
		PQclear(last);
	uplink_set_state(RUNWAY_UNREACHABLE,
					 PQstatus(uplink_conn) == CONNECTION_OK ?
					 "timeout while waiting for the root server" :
					 PQerrorMessage(uplink_conn));
	uplink_disconnect();
	return NULL;
}

/*
 * uplink_error_text
 *		The root's error of a failed request, on one line: message and
 *		detail.
 */
char *
uplink_error_text(const PGresult *res)
{
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if (message == NULL)
		return pstrdup(PQresultErrorMessage(res)[0] != '\0' ?
					   PQresultErrorMessage(res) :
					   "unexpected answer of the root server");
	return detail ? psprintf("%s: %s", message, detail) : pstrdup(message);
}
