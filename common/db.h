/*
 * db.h - MariaDB client on libmariadb: prepared statements only.
 *
 * Every query is prepared with ? placeholders and typed parameters; no SQL
 * is ever assembled from values. Sessions run in strict SQL mode and UTC.
 * The password comes from a file (database.password_file). A lost
 * connection is re-established on the next call (with a backoff while the
 * server stays down), and a statement that failed because the connection
 * dropped is retried once on the new one, unless a transaction was open.
 *
 * One struct db is one connection: use it from one thread at a time.
 */
#ifndef LIMRISTEM_DB_H
#define LIMRISTEM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

enum db_result {
	DB_OK = 0,
	DB_UNAVAILABLE = -1,	/* no connection to the server */
	DB_REFUSED = -2,	/* the server refused the statement (constraint, syntax, ...) */
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

/* The last failure: the server's error number (0 if none) and message. */
unsigned db_errno(const struct db *db);
const char *db_error(const struct db *db);

#endif
