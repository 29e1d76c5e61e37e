/*
 * db.c - prepared statements over one self-healing libmariadb connection.
 */
#include "autoconfig.h"

#include <errmsg.h>
#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/db.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/xalloc.h"

#define DB_BACKOFF_MIN_MS 100
#define DB_ERROR_MAX 512
#define DB_COLUMN_MIN 64
#define DB_STATEMENT_RETRIES 3		/* of a statement outside a transaction */
#define DB_RETRY_PAUSE_MS 20		/* doubled before each */

/* Strict mode so that the server refuses a bad row instead of mangling it;
 * UTC so that timestamps mean the same on every node. */
#define DB_SESSION_INIT \
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE," \
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'"
/* ... and a row lock is waited for less than the read timeout (InnoDB's
 * default is 50 s), so that a stuck lock is error 1205, not a connection
 * given up for dead. */
#define DB_SESSION_LOCK_WAIT ", innodb_lock_wait_timeout = %u"

struct db {
	MYSQL *mysql;
	struct endpoint address;
	char *name;
	char *user;
	char *password;
	unsigned connect_timeout_s, read_timeout_s, write_timeout_s;
	char session_init[sizeof(DB_SESSION_INIT DB_SESSION_LOCK_WAIT) + 16];
	struct backoff backoff;
	bool in_transaction;
	bool was_up;
	unsigned last_errno;
	char last_error[DB_ERROR_MAX];
	uint64_t insert_id;
	char where[ENDPOINT_PATH_MAX + ENDPOINT_HOST_MAX + 16];
};

static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

static unsigned ms_to_s(long long ms)
{
	return (unsigned)((ms + 999) / 1000);
}

struct db *db_new(const struct db_settings *s, char *err, size_t errlen)
{
	struct db *db;

	if (s->address.kind == ENDPOINT_NONE) {
		snprintf(err, errlen, "database: no address configured");
		return NULL;
	}
	pthread_once(&library_once, library_init);
	db = xcalloc(1, sizeof(*db));
	if (s->password_file[0] != '\0' &&
	    secret_read_file(s->password_file, &db->password, err, errlen) < 0) {
		free(db);
		return NULL;
	}
	db->address = s->address;
	db->name = xstrdup(s->name);
	db->user = xstrdup(s->user);
	db->connect_timeout_s = ms_to_s(s->connect_timeout_ms);
	db->read_timeout_s = ms_to_s(s->read_timeout_ms);
	db->write_timeout_s = ms_to_s(s->write_timeout_ms);
	snprintf(db->session_init, sizeof(db->session_init), DB_SESSION_INIT DB_SESSION_LOCK_WAIT,
		 db->read_timeout_s > 1 ? db->read_timeout_s - 1 : 1);	/* fits: sized for it */
	backoff_init(&db->backoff, DB_BACKOFF_MIN_MS, s->reconnect_max_ms);
	db->was_up = true;
	if (endpoint_format(&s->address, db->where, sizeof(db->where)) < 0)
		strcpy(db->where, "database");
	return db;
}

static void disconnect(struct db *db)
{
	if (db->mysql != NULL)
		mysql_close(db->mysql);
	db->mysql = NULL;
	db->in_transaction = false;
}

void db_free(struct db **dbp)
{
	struct db *db = *dbp;

	if (db == NULL)
		return;
	disconnect(db);
	secret_free(&db->password);
	free(db->name);
	free(db->user);
	free(db);
	*dbp = NULL;
}

static void set_error(struct db *db, unsigned code, const char *message)
{
	db->last_errno = code;
	snprintf(db->last_error, sizeof(db->last_error), "%s", message);
}

enum db_error_class db_error_class(unsigned code)
{
	switch (code) {
	case 0:
		return DB_CLASS_NONE;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case 1053:	/* ER_SERVER_SHUTDOWN */
	case 1158:	/* ER_NET_READ_ERROR */
	case 1159:	/* ER_NET_READ_INTERRUPTED */
	case 1160:	/* ER_NET_ERROR_ON_WRITE */
	case 1161:	/* ER_NET_WRITE_INTERRUPTED */
	case 1927:	/* ER_CONNECTION_KILLED */
	case 4031:	/* the server's idle timeout closed the session */
		return DB_CLASS_CONNECTION;
	case DB_ER_LOCK_DEADLOCK:
	case DB_ER_LOCK_WAIT_TIMEOUT:
	case DB_ER_CHECKREAD:
	case DB_ER_QUERY_INTERRUPTED:
	case DB_ER_READ_ONLY:
	case DB_ER_WSREP_NOT_READY:
	case 1180:	/* ER_ERROR_DURING_COMMIT */
	case 1637:	/* ER_TOO_MANY_CONCURRENT_TRXS */
	case 1836:	/* ER_READ_ONLY_MODE */
		return DB_CLASS_RETRY;
	default:
		return DB_CLASS_PERMANENT;
	}
}

const char *db_error_reason(unsigned code)
{
	switch (code) {
	case DB_ER_LOCK_DEADLOCK:
		return "deadlock";
	case DB_ER_LOCK_WAIT_TIMEOUT:
		return "lock_wait_timeout";
	default:
		break;
	}
	switch (db_error_class(code)) {
	case DB_CLASS_CONNECTION:
		return "connection";
	case DB_CLASS_RETRY:
		return "transient";
	case DB_CLASS_PERMANENT:
		return "refused";
	default:
		return "other";
	}
}

static bool is_connection_error(unsigned code)
{
	return db_error_class(code) == DB_CLASS_CONNECTION;
}

static int connect_failed(struct db *db)
{
	set_error(db, mysql_errno(db->mysql), mysql_error(db->mysql));
	disconnect(db);
	backoff_failed(&db->backoff, clock_monotonic_ms());
	if (db->was_up)
		log_error("database: %s unavailable: %s", db->where, db->last_error);
	db->was_up = false;
	return DB_UNAVAILABLE;
}

int db_connect(struct db *db)
{
	const char *host = NULL, *socket_path = NULL;
	unsigned port = 0;

	if (db->mysql != NULL)
		return DB_OK;
	if (!backoff_ready(&db->backoff, clock_monotonic_ms())) {
		set_error(db, CR_CONNECTION_ERROR, "database unavailable (waiting before retrying)");
		return DB_UNAVAILABLE;
	}
	db->mysql = mysql_init(NULL);
	if (db->mysql == NULL)
		log_fatal("database: out of memory");
	mysql_options(db->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &db->connect_timeout_s);
	mysql_options(db->mysql, MYSQL_OPT_READ_TIMEOUT, &db->read_timeout_s);
	mysql_options(db->mysql, MYSQL_OPT_WRITE_TIMEOUT, &db->write_timeout_s);
	mysql_options(db->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db->mysql, MYSQL_INIT_COMMAND, db->session_init);
	if (db->address.kind == ENDPOINT_UNIX) {
		socket_path = db->address.path;
		host = "localhost";
	} else {
		host = db->address.host;
		port = db->address.port;
	}
	if (mysql_real_connect(db->mysql, host, db->user, db->password, db->name, port,
			       socket_path, 0) == NULL)
		return connect_failed(db);
	backoff_succeeded(&db->backoff);
	if (!db->was_up)
		log_notice("database: %s reachable again", db->where);
	db->was_up = true;
	return DB_OK;
}

/* --- statements --------------------------------------------------------- */

struct result_columns {
	size_t count;
	MYSQL_BIND *binds;
	char **buffers;
	unsigned long *lengths;
	my_bool *nulls;
	const char **names;
	const char **values;
	size_t *sizes;
};

static void columns_free(struct result_columns *c)
{
	for (size_t i = 0; i < c->count; i++)
		free(c->buffers[i]);
	free(c->binds);
	free(c->buffers);
	free(c->lengths);
	free(c->nulls);
	free(c->names);
	free(c->values);
	free(c->sizes);
}

static void columns_bind(struct result_columns *c, MYSQL_RES *meta)
{
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);

	c->count = mysql_num_fields(meta);
	c->binds = xcalloc(c->count, sizeof(MYSQL_BIND));
	c->buffers = xcalloc(c->count, sizeof(char *));
	c->lengths = xcalloc(c->count, sizeof(unsigned long));
	c->nulls = xcalloc(c->count, sizeof(my_bool));
	c->names = xcalloc(c->count, sizeof(char *));
	c->values = xcalloc(c->count, sizeof(char *));
	c->sizes = xcalloc(c->count, sizeof(size_t));
	for (size_t i = 0; i < c->count; i++) {
		size_t size = fields[i].max_length > DB_COLUMN_MIN ? fields[i].max_length : DB_COLUMN_MIN;
		c->buffers[i] = xmalloc(size + 1);
		c->binds[i].buffer_type = MYSQL_TYPE_STRING;
		c->binds[i].buffer = c->buffers[i];
		c->binds[i].buffer_length = size;
		c->binds[i].length = &c->lengths[i];
		c->binds[i].is_null = &c->nulls[i];
		c->names[i] = fields[i].name;
	}
}

/* Re-reads columns longer than their buffer (MYSQL_DATA_TRUNCATED). */
static void columns_complete(struct result_columns *c, MYSQL_STMT *stmt)
{
	for (size_t i = 0; i < c->count; i++) {
		if (c->nulls[i] || c->lengths[i] <= c->binds[i].buffer_length)
			continue;
		c->buffers[i] = xrealloc(c->buffers[i], c->lengths[i] + 1);
		c->binds[i].buffer = c->buffers[i];
		c->binds[i].buffer_length = c->lengths[i];
		mysql_stmt_fetch_column(stmt, &c->binds[i], (unsigned)i, 0);
	}
}

static int fetch_rows(MYSQL_STMT *stmt, MYSQL_RES *meta, db_row_callback *cb, void *arg)
{
	struct result_columns c;
	int rc, stop = 0;

	memset(&c, 0, sizeof(c));
	columns_bind(&c, meta);
	if (mysql_stmt_bind_result(stmt, c.binds) != 0) {
		columns_free(&c);
		return -1;
	}
	while (!stop && ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED)) {
		struct db_row row = { c.count, c.names, c.values, c.sizes };
		if (rc == MYSQL_DATA_TRUNCATED)
			columns_complete(&c, stmt);
		for (size_t i = 0; i < c.count; i++) {
			c.buffers[i][c.nulls[i] ? 0 : c.lengths[i]] = '\0';
			c.values[i] = c.nulls[i] ? NULL : c.buffers[i];
			c.sizes[i] = c.nulls[i] ? 0 : c.lengths[i];
		}
		if (cb != NULL)
			stop = cb(&row, arg);
	}
	columns_free(&c);
	return 0;
}

static void bind_params(MYSQL_BIND *binds, unsigned long *lengths,
			const struct db_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (params[i].type) {
		case DB_PARAM_STRING:
			lengths[i] = params[i].len;
			binds[i].buffer_type = MYSQL_TYPE_STRING;
			binds[i].buffer = (void *)(uintptr_t)params[i].str;
			binds[i].buffer_length = params[i].len;
			binds[i].length = &lengths[i];
			break;
		case DB_PARAM_INT:
			binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
			binds[i].buffer = (void *)(uintptr_t)&params[i].num;
			break;
		case DB_PARAM_NULL:
			binds[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
}

/* One attempt: prepare, bind, execute, read. DB_* result. */
static int run_once(struct db *db, const char *sql, const struct db_param *params, size_t n,
		    db_row_callback *cb, void *arg, uint64_t *affected_r)
{
	MYSQL_STMT *stmt = mysql_stmt_init(db->mysql);
	MYSQL_BIND *binds = xcalloc(n, sizeof(MYSQL_BIND));
	unsigned long *lengths = xcalloc(n, sizeof(unsigned long));
	MYSQL_RES *meta = NULL;
	my_bool update_max = 1;
	int ret = DB_REFUSED;

	bind_params(binds, lengths, params, n);
	if (stmt == NULL || mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0 ||
	    mysql_stmt_param_count(stmt) != n || mysql_stmt_bind_param(stmt, binds) != 0 ||
	    mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max) != 0 ||
	    mysql_stmt_execute(stmt) != 0)
		goto out;
	meta = mysql_stmt_result_metadata(stmt);
	if (meta != NULL && (mysql_stmt_store_result(stmt) != 0 || fetch_rows(stmt, meta, cb, arg) < 0))
		goto out;
	if (affected_r != NULL)
		*affected_r = mysql_stmt_affected_rows(stmt);
	db->insert_id = mysql_stmt_insert_id(stmt);
	ret = DB_OK;
out:
	if (ret != DB_OK) {
		if (stmt != NULL && mysql_stmt_errno(stmt) != 0)
			set_error(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
		else if (stmt != NULL && mysql_stmt_param_count(stmt) != n)
			set_error(db, 0, "parameter count does not match the statement");
		else
			set_error(db, mysql_errno(db->mysql), mysql_error(db->mysql));
		if (is_connection_error(db->last_errno))
			ret = DB_UNAVAILABLE;
		else if (db_error_class(db->last_errno) == DB_CLASS_RETRY)
			ret = DB_RETRY;
	}
	if (meta != NULL)
		mysql_free_result(meta);
	if (stmt != NULL)
		mysql_stmt_close(stmt);
	free(binds);
	free(lengths);
	return ret;
}

static int run_connected(struct db *db, const char *sql, const struct db_param *params,
			 size_t n, db_row_callback *cb, void *arg, uint64_t *affected_r)
{
	bool fresh = db->mysql == NULL;
	int ret;

	db->last_errno = 0;
	db->last_error[0] = '\0';
	if (db_connect(db) != DB_OK)
		return DB_UNAVAILABLE;
	ret = run_once(db, sql, params, n, cb, arg, affected_r);
	if (ret != DB_UNAVAILABLE)
		return ret;
	/* The connection dropped under us. Inside a transaction the work so
	 * far is lost: report it. Otherwise try once on a new connection. */
	bool in_transaction = db->in_transaction;
	disconnect(db);
	if (in_transaction || fresh)
		return DB_UNAVAILABLE;
	if (db_connect(db) != DB_OK)
		return DB_UNAVAILABLE;
	return run_once(db, sql, params, n, cb, arg, affected_r);
}

static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) < 0)
		;
}

/* A statement on its own that InnoDB rolled back is run again; inside a
 * transaction only the caller can run what came before it. */
static int run(struct db *db, const char *sql, const struct db_param *params, size_t n,
	       db_row_callback *cb, void *arg, uint64_t *affected_r)
{
	for (unsigned attempt = 0;; attempt++) {
		int ret = run_connected(db, sql, params, n, cb, arg, affected_r);

		if (ret != DB_RETRY || db->in_transaction || attempt >= DB_STATEMENT_RETRIES)
			return ret;
		pause_ms(DB_RETRY_PAUSE_MS << attempt);
	}
}

int db_query(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
	     db_row_callback *cb, void *arg)
{
	return run(db, sql, params, nparams, cb, arg, NULL);
}

int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t nparams,
	    uint64_t *affected_r)
{
	return run(db, sql, params, nparams, NULL, NULL, affected_r);
}

uint64_t db_last_insert_id(const struct db *db)
{
	return db->insert_id;
}

int db_begin(struct db *db)
{
	int ret = run(db, "START TRANSACTION", NULL, 0, NULL, NULL, NULL);

	db->in_transaction = ret == DB_OK;
	return ret;
}

int db_commit(struct db *db)
{
	int ret = run(db, "COMMIT", NULL, 0, NULL, NULL, NULL);

	db->in_transaction = false;
	return ret;
}

int db_rollback(struct db *db)
{
	int ret = db->mysql != NULL ? run(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL) : DB_OK;

	db->in_transaction = false;
	return ret;
}

unsigned db_errno(const struct db *db)
{
	return db->last_errno;
}

const char *db_error(const struct db *db)
{
	return db->last_error;
}
