/*
 * db.h - MariaDB client on libmariadb: prepared statements only.
 *
 * Every query is prepared with ? placeholders and typed parameters; no SQL
 * is ever assembled from values. Sessions run in strict SQL mode and UTC.
 * The password comes from a file (database.password_file). A lost
 * connection is re-established on the next call (with a backoff while the
 * server stays down), and a statement that failed because the connection
 * dropped is retried once on the new one, unless a transaction was open.
 * A statement outside a transaction that InnoDB rolled back (deadlock, lock
 * wait timeout) is run again a few times before DB_RETRY is returned;
 * inside a transaction DB_RETRY tells the caller to roll back and run the
 * whole transaction again (db_error_class() sorts any error number).
 * A session waits for a row lock at most about its read timeout.
 *
 * One struct db is one connection: use it from one thread at a time.
 */
#ifndef LIMRISTEM_DB_H
#define LIMRISTEM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/settings.h"

enum db_result {
	DB_OK = 0,
	DB_UNAVAILABLE = -1,	/* no connection to the server */
	DB_REFUSED = -2,	/* the server refused the statement (constraint, syntax, ...) */
	DB_RETRY = -3,		/* rolled back for now (deadlock, lock wait timeout, Galera
				 * certification failure): run the transaction again */
};

/* What a failure means for the caller. */
enum db_error_class {
	DB_CLASS_NONE,		/* 0: no error */
	DB_CLASS_CONNECTION,	/* the connection is gone: reconnect, nothing committed */
	DB_CLASS_RETRY,		/* the transaction can succeed if run again */
	DB_CLASS_PERMANENT,	/* this statement will be refused again */
};

enum db_param_type { DB_PARAM_NULL, DB_PARAM_STRING, DB_PARAM_INT };

struct db_param {
	enum db_param_type type;
	const char *str;
	size_t len;
	long long num;
};

#define DB_STR(s) ((struct db_param){ .type = DB_PARAM_STRING, .str = (s), .len = strlen(s) })
#define DB_STRN(s, n) ((struct db_param){ .type = DB_PARAM_STRING, .str = (s), .len = (n) })
#define DB_INT(v) ((struct db_param){ .type = DB_PARAM_INT, .num = (long long)(v) })
#define DB_NULL ((struct db_param){ .type = DB_PARAM_NULL })

struct db_row {
	size_t count;
	const char *const *names;	/* column names */
	const char *const *values;	/* NULL for SQL NULL; NUL-terminated text */
	const size_t *lengths;
};

/* Returns 0 to go on, anything else to stop reading rows. */
typedef int db_row_callback(const struct db_row *row, void *arg);

/* MariaDB error numbers callers test for. */
#define DB_ER_DUP_ENTRY 1062
#define DB_ER_BAD_NULL 1048
#define DB_ER_ROW_IS_REFERENCED 1451
#define DB_ER_NO_REFERENCED_ROW 1452
#define DB_ER_CHECK_CONSTRAINT 4025
#define DB_ER_DATA_TOO_LONG 1406
#define DB_ER_OUT_OF_RANGE 1264
#define DB_ER_TRUNCATED 1265
#define DB_ER_NO_SUCH_TABLE 1146
#define DB_ER_CHECKREAD 1020		/* record changed since last read (snapshot isolation) */
#define DB_ER_LOCK_WAIT_TIMEOUT 1205
#define DB_ER_LOCK_DEADLOCK 1213	/* also Galera's certification failure */
#define DB_ER_QUERY_INTERRUPTED 1317
#define DB_ER_READ_ONLY 1290		/* --read-only: a replica, or a primary being switched */
#define DB_ER_WSREP_NOT_READY 1047	/* a Galera node not synced yet */
#define DB_CR_SERVER_GONE 2006
#define DB_CR_SERVER_LOST 2013

struct db;

/* Reads the password file now; connects on first use. */
struct db *db_new(const struct db_settings *settings, char *err, size_t errlen);
void db_free(struct db **db);

/* Connects now (if not connected). DB_OK or DB_UNAVAILABLE. */
int db_connect(struct db *db);

int db_query(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
	     db_row_callback *cb, void *arg);
int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
	    uint64_t *affected_r);
uint64_t db_last_insert_id(const struct db *db);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* The last failure: the server's (or the client library's) error number,
 * 0 if none, and message. */
unsigned db_errno(const struct db *db);
const char *db_error(const struct db *db);
/* How to treat error number code (a db_errno() value). Pure. */
enum db_error_class db_error_class(unsigned code);
/* A short name of a retryable error for logs and metric labels:
 * "deadlock", "lock_wait_timeout", "connection", ...; "other" else. */
const char *db_error_reason(unsigned code);

#endif
