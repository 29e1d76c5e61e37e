/*
 * writeback.c - the database writer thread (see writeback.h).
 *
 * Statements wait in a queue (any thread pushes); the writer takes up to
 * WRITEBACK_BATCH_MAX of them as the batch in flight, which only it
 * touches, and keeps it until it is committed or given up.
 */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/strbuf.h"
#include "common/writeback.h"
#include "common/xalloc.h"

#define FLUSH_INTERVAL_MS 500
#define STOP_GRACE_MS 3000
#define RETRY_MIN_MS 50			/* after a rollback; doubled up to RETRY_MAX_MS */
#define RETRY_MAX_MS 5000
#define UNAVAILABLE_WAIT_MS 2000	/* while the database is unreachable */
#define LOG_INTERVAL_MS (60 * 1000)
#define WRITER_ID_LEN 16
#define WRITERS_KEEP_DAYS 7		/* a writer's row outlives any outage it retries across */
#define PRUNE_INTERVAL_MS (24LL * 3600 * 1000)
#define MARKER_RETRY_MS (3600LL * 1000)	/* after the marker table was missing */
#define PARAM_LOG_MAX 80

#define STRINGIFY(x) #x
#define TO_TEXT(x) STRINGIFY(x)

struct statement {
	struct statement *next;
	const char *sql;
	size_t nparams;
	struct db_param params[WRITEBACK_PARAMS_MAX];
	char *copies[WRITEBACK_PARAMS_MAX];	/* the strings params point at */
};

/* The batch in flight: the writer thread's alone. */
struct batch {
	struct statement *head;
	size_t count;
	uint64_t seq;			/* this writer's batch number, for the marker */
	unsigned attempts;		/* rolled back by contention (deadlocks) so far */
	unsigned tries;			/* attempts that failed, for whatever reason */
};

enum outcome {
	WRITTEN,			/* committed now */
	WRITTEN_BEFORE,			/* an attempt whose COMMIT was cut off had committed it */
	RUN_AGAIN,			/* a statement was given up: the rest at once */
	ROLLED_BACK,			/* deadlock and the like: again after a pause */
	UNREACHABLE,			/* the connection failed: again when it is back */
};

struct writeback_metrics {
	struct metric *queued, *written, *dropped, *failed_refused, *failed_retries,
		*failed_shutdown;
	struct metric *retries[4];	/* by enum retry_reason */
};

enum retry_reason { RETRY_DEADLOCK, RETRY_LOCK_WAIT, RETRY_TRANSIENT, RETRY_CONNECTION };
static const char *const retry_reasons[] = { "deadlock", "lock_wait_timeout", "transient",
					     "connection" };

struct writeback {
	char name[32], what[96];	/* for the log */
	struct db *db;
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct statement *head, *tail;
	size_t queued;			/* in the queue, under lock */
	size_t in_flight;		/* in the batch, under lock (for the gauge) */
	uint64_t dropped;

	/* the writer thread's */
	struct batch batch;
	uint64_t next_seq;
	char id[2 * WRITER_ID_LEN + 1];	/* random, in hex */
	bool no_marker;			/* writeback_writers missing: at-least-once */
	int64_t marker_retry_ms, prune_ms;
	struct backoff retry;
	char why[256];			/* the last failure, kept past the rollback */
	struct writeback_metrics m;
	struct log_ratelimit drop_log, give_up_log, wait_log;
	struct log_ratelimit retry_log[4];	/* by enum retry_reason: one kind never hides another */
};

static void count(struct metric *m, uint64_t n)
{
	if (m != NULL)
		metric_add(m, n);
}

static void statement_free(struct statement *st)
{
	for (size_t i = 0; i < st->nparams; i++)
		free(st->copies[i]);
	free(st);
}

static void statements_free(struct statement *st)
{
	while (st != NULL) {
		struct statement *next = st->next;

		statement_free(st);
		st = next;
	}
}

static void register_metrics(struct writeback *wb, struct metrics *m)
{
	char labels[96];

	if (m == NULL)
		return;
	snprintf(labels, sizeof(labels), "writer=\"%s\"", wb->name);	/* fits: name is 31 */
	wb->m.queued = metrics_gauge(m, "writeback_queued", labels,
				     "database writes waiting to be committed");
	wb->m.written = metrics_counter(m, "writeback_written_total", labels,
					"database writes committed");
	wb->m.dropped = metrics_counter(m, "writeback_dropped_total", labels,
					"database writes dropped because the queue was full");
	for (int i = 0; i < 4; i++) {
		snprintf(labels, sizeof(labels), "writer=\"%s\",reason=\"%s\"", wb->name,
			 retry_reasons[i]);
		wb->m.retries[i] = metrics_counter(m, "writeback_retries_total", labels,
						   "batches of database writes tried again, by why "
						   "the last attempt failed");
	}
	static const char *const failures[] = { "refused", "retries", "shutdown" };
	struct metric **failed[] = { &wb->m.failed_refused, &wb->m.failed_retries,
				     &wb->m.failed_shutdown };
	for (int i = 0; i < 3; i++) {
		snprintf(labels, sizeof(labels), "writer=\"%s\",reason=\"%s\"", wb->name, failures[i]);
		*failed[i] = metrics_counter(m, "writeback_failed_total", labels,
					     "database writes given up: refused by the database, "
					     "rolled back too often, or unwritten at shutdown");
	}
}

struct writeback *writeback_new(const char *name, const char *what, const struct db_settings *settings,
				struct metrics *metrics, char *err, size_t errlen)
{
	struct writeback *wb = xcalloc(1, sizeof(*wb));
	unsigned char random[WRITER_ID_LEN];

	snprintf(wb->name, sizeof(wb->name), "%s", name);	/* a long name is cut */
	snprintf(wb->what, sizeof(wb->what), "%s", what);
	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
		snprintf(err, errlen, "%s: no random bytes for the writer's id", name);
		free(wb);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(random); i++)
		snprintf(wb->id + 2 * i, 3, "%02x", random[i]);	/* fits: sized for it */
	if ((wb->db = db_new(settings, err, errlen)) == NULL) {
		free(wb);
		return NULL;
	}
	pthread_mutex_init(&wb->lock, NULL);
	pthread_cond_init(&wb->wake, NULL);
	backoff_init(&wb->retry, RETRY_MIN_MS, RETRY_MAX_MS);
	wb->next_seq = 1;
	wb->drop_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(LOG_INTERVAL_MS);
	for (int i = 0; i < 4; i++)
		wb->retry_log[i] = (struct log_ratelimit)LOG_RATELIMIT_INIT(LOG_INTERVAL_MS);
	wb->give_up_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(LOG_INTERVAL_MS / 60);
	wb->wait_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(LOG_INTERVAL_MS);
	register_metrics(wb, metrics);
	return wb;
}

/* Under lock. */
static void update_gauge(struct writeback *wb)
{
	if (wb->m.queued != NULL)
		metric_set(wb->m.queued, (double)(wb->queued + wb->in_flight));
}

void writeback_push(struct writeback *wb, const char *sql, const struct db_param *params,
		    size_t nparams)
{
	struct statement *st = xcalloc(1, sizeof(*st));
	uint64_t dropped = 0;

	st->sql = sql;
	st->nparams = nparams < WRITEBACK_PARAMS_MAX ? nparams : WRITEBACK_PARAMS_MAX;
	for (size_t i = 0; i < st->nparams; i++) {
		st->params[i] = params[i];
		if (params[i].type == DB_PARAM_STRING)
			st->params[i].str = st->copies[i] = xstrndup(params[i].str, params[i].len);
	}
	pthread_mutex_lock(&wb->lock);
	if (wb->queued >= WRITEBACK_QUEUE_MAX) {
		struct statement *oldest = wb->head;

		wb->head = oldest->next;
		wb->queued--;
		dropped = ++wb->dropped;
		statement_free(oldest);
	}
	if (wb->tail != NULL)
		wb->tail->next = st;
	else
		wb->head = st;
	wb->tail = st;
	wb->queued++;
	update_gauge(wb);
	pthread_mutex_unlock(&wb->lock);
	if (dropped > 0) {
		count(wb->m.dropped, 1);
		log_ratelimited(&wb->drop_log, LOG_LEVEL_ERROR,
				"%s: database write queue full (%d statements waiting): the oldest "
				"dropped, %" PRIu64 " so far (%s)", wb->name, WRITEBACK_QUEUE_MAX,
				dropped, wb->what);
	}
}

uint64_t writeback_dropped(struct writeback *wb)
{
	uint64_t n;

	pthread_mutex_lock(&wb->lock);
	n = wb->dropped;
	pthread_mutex_unlock(&wb->lock);
	return n;
}

/* --- the batch in flight ----------------------------------------------- */

/* Makes the next batch of up to WRITEBACK_BATCH_MAX statements; false when
 * nothing is queued. */
static bool take_batch(struct writeback *wb)
{
	struct statement *last = NULL;
	size_t n = 0;

	pthread_mutex_lock(&wb->lock);
	for (struct statement *st = wb->head; st != NULL && n < WRITEBACK_BATCH_MAX; st = st->next, n++)
		last = st;
	if (last != NULL) {
		wb->batch = (struct batch){ .head = wb->head, .count = n, .seq = wb->next_seq++ };
		wb->head = last->next;
		if (wb->head == NULL)
			wb->tail = NULL;
		last->next = NULL;
		wb->queued -= n;
		wb->in_flight = n;
	}
	pthread_mutex_unlock(&wb->lock);
	return last != NULL;
}

static void batch_done(struct writeback *wb)
{
	statements_free(wb->batch.head);
	wb->batch = (struct batch){ 0 };
	pthread_mutex_lock(&wb->lock);
	wb->in_flight = 0;
	update_gauge(wb);
	pthread_mutex_unlock(&wb->lock);
}

/* The statement for the log: its SQL and parameters, control characters
 * escaped and long values cut. */
static void describe(const struct statement *st, struct strbuf *out)
{
	strbuf_append_str(out, st->sql);
	strbuf_append_str(out, " with (");
	for (size_t i = 0; i < st->nparams; i++) {
		const struct db_param *p = &st->params[i];

		if (i > 0)
			strbuf_append_str(out, ", ");
		if (p->type == DB_PARAM_NULL) {
			strbuf_append_str(out, "NULL");
		} else if (p->type == DB_PARAM_INT) {
			strbuf_appendf(out, "%lld", p->num);
		} else {
			strbuf_append_char(out, '\'');
			for (size_t k = 0; k < p->len && k < PARAM_LOG_MAX; k++) {
				unsigned char c = (unsigned char)p->str[k];
				if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
					strbuf_appendf(out, "\\x%02x", c);
				else
					strbuf_append_char(out, (char)c);
			}
			strbuf_append_str(out, p->len > PARAM_LOG_MAX ? "'..." : "'");
		}
	}
	strbuf_append_char(out, ')');
}

static void give_up(struct writeback *wb, const struct statement *st, const char *why,
		    struct metric *counter)
{
	struct strbuf text = STRBUF_INIT;

	count(counter, 1);
	describe(st, &text);
	log_ratelimited(&wb->give_up_log, LOG_LEVEL_ERROR, "%s: database write given up (%s): %s",
			wb->name, why, strbuf_str(&text));
	strbuf_release(&text);
}

/* Gives up the statement at *link (refused for good) and unlinks it. */
static void give_up_one(struct writeback *wb, struct statement **link, const char *why)
{
	struct statement *st = *link;

	give_up(wb, st, why, wb->m.failed_refused);
	*link = st->next;
	statement_free(st);
	wb->batch.count--;
	pthread_mutex_lock(&wb->lock);
	wb->in_flight--;
	update_gauge(wb);
	pthread_mutex_unlock(&wb->lock);
}

/* --- one transaction ----------------------------------------------------- */

static const char marker_move_sql[] =
	"UPDATE writeback_writers SET seq = ?, written_at = UTC_TIMESTAMP() "
	"WHERE writer = ? AND seq < ?";
static const char marker_add_sql[] =
	"INSERT IGNORE INTO writeback_writers (writer, name, seq, written_at) "
	"VALUES (?, ?, ?, UTC_TIMESTAMP())";

/* Moves this writer's marker to the batch, in its transaction. DB_OK with
 * *done_r when an earlier attempt had committed the batch already. */
static int move_marker(struct writeback *wb, bool *done_r)
{
	const struct db_param id = DB_STR(wb->id);
	const struct db_param seq = DB_INT((long long)wb->batch.seq);
	uint64_t moved = 0;
	int rc;

	*done_r = false;
	if (wb->no_marker && clock_monotonic_ms() < wb->marker_retry_ms)
		return DB_OK;
	rc = db_exec(wb->db, marker_move_sql, (struct db_param[]){ seq, id, seq }, 3, &moved);
	if (rc == DB_OK && moved == 0)	/* no row yet, or this batch's number already */
		rc = db_exec(wb->db, marker_add_sql, (struct db_param[]){ id, DB_STR(wb->name), seq },
			     3, &moved);
	if (rc == DB_REFUSED) {
		/* An old schema: written without the marker, at least once. */
		if (!wb->no_marker)
			log_warning("%s: %s (run \"mailadm db migrate\"): a batch whose COMMIT is cut "
				    "off may be written twice", wb->name, db_error(wb->db));
		wb->no_marker = true;
		wb->marker_retry_ms = clock_monotonic_ms() + MARKER_RETRY_MS;
	}
	if (rc == DB_OK) {
		wb->no_marker = false;
		*done_r = moved == 0;
	}
	return rc;
}

/* The marker rows of writers gone for a week; errors do not matter. */
static void prune_markers(struct writeback *wb)
{
	int64_t now = clock_monotonic_ms();

	if (now < wb->prune_ms || wb->no_marker)
		return;
	wb->prune_ms = now + PRUNE_INTERVAL_MS;
	db_exec(wb->db, "DELETE FROM writeback_writers WHERE written_at < UTC_TIMESTAMP() - "
		"INTERVAL " TO_TEXT(WRITERS_KEEP_DAYS) " DAY", NULL, 0, NULL);
}

static enum outcome failed(struct writeback *wb, int rc, unsigned *code_r)
{
	*code_r = db_errno(wb->db);
	snprintf(wb->why, sizeof(wb->why), "%s", db_error(wb->db));	/* may be cut */
	db_rollback(wb->db);
	return rc == DB_UNAVAILABLE ? UNREACHABLE : ROLLED_BACK;
}

/* Runs the batch in one transaction. */
static enum outcome write_batch(struct writeback *wb, unsigned *code_r)
{
	bool done;
	int rc;

	*code_r = 0;
	if ((rc = db_begin(wb->db)) != DB_OK)
		return failed(wb, rc, code_r);
	if ((rc = move_marker(wb, &done)) == DB_REFUSED) {
		db_rollback(wb->db);
		return RUN_AGAIN;	/* without the marker */
	}
	if (rc != DB_OK)
		return failed(wb, rc, code_r);
	if (done) {
		db_rollback(wb->db);
		return WRITTEN_BEFORE;
	}
	for (struct statement **link = &wb->batch.head; *link != NULL; link = &(*link)->next) {
		rc = db_exec(wb->db, (*link)->sql, (*link)->params, (*link)->nparams, NULL);
		if (rc == DB_OK)
			continue;
		if (rc != DB_REFUSED)
			return failed(wb, rc, code_r);
		/* refused for good: without it, the others again */
		give_up_one(wb, link, db_error(wb->db));
		db_rollback(wb->db);
		return RUN_AGAIN;
	}
	if ((rc = db_commit(wb->db)) != DB_OK)
		return failed(wb, rc, code_r);
	return WRITTEN;
}

/* --- the thread ---------------------------------------------------------- */

static bool wait_for_work(struct writeback *wb, long long ms)
{
	struct timespec deadline;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&wb->lock);
	while (!wb->stop && pthread_cond_timedwait(&wb->wake, &wb->lock, &deadline) != ETIMEDOUT)
		;
	stop = wb->stop;
	pthread_mutex_unlock(&wb->lock);
	return stop;
}

static enum retry_reason reason_of(unsigned code)
{
	switch (code) {
	case DB_ER_LOCK_DEADLOCK:
		return RETRY_DEADLOCK;
	case DB_ER_LOCK_WAIT_TIMEOUT:
		return RETRY_LOCK_WAIT;
	default:
		return db_error_class(code) == DB_CLASS_RETRY ? RETRY_TRANSIENT : RETRY_CONNECTION;
	}
}

/* A rollback by the server (a deadlock): the batch again after a pause,
 * unless it was rolled back too often. The pause in ms. */
static long long rolled_back(struct writeback *wb, unsigned code)
{
	enum retry_reason why = reason_of(code);
	/* a read-only or unsynced server is an outage, not contention */
	bool bounded = code == DB_ER_LOCK_DEADLOCK || code == DB_ER_LOCK_WAIT_TIMEOUT ||
		       code == DB_ER_CHECKREAD;

	if (bounded && ++wb->batch.attempts >= WRITEBACK_ATTEMPTS_MAX) {
		for (struct statement *st = wb->batch.head; st != NULL; st = st->next)
			give_up(wb, st, "rolled back " TO_TEXT(WRITEBACK_ATTEMPTS_MAX) " times",
				wb->m.failed_retries);
		batch_done(wb);
		backoff_succeeded(&wb->retry);
		return 0;
	}
	count(wb->m.retries[why], 1);
	wb->batch.tries++;
	backoff_failed(&wb->retry, clock_monotonic_ms());
	log_ratelimited(&wb->retry_log[why], LOG_LEVEL_WARNING,
			"%s: batch of %zu database writes rolled back (%s: %s); attempt %u in "
			"%lld ms (%s)", wb->name, wb->batch.count, retry_reasons[why], wb->why,
			wb->batch.tries + 1,
			(long long)backoff_remaining(&wb->retry, clock_monotonic_ms()), wb->what);
	return backoff_remaining(&wb->retry, clock_monotonic_ms());
}

/* Writes what is queued. Returns 0 once everything is written, else how
 * long to wait before trying again. */
static long long flush(struct writeback *wb)
{
	for (;;) {
		enum outcome outcome;
		unsigned code;

		if (wb->batch.head == NULL && !take_batch(wb))
			return 0;
		prune_markers(wb);
		switch ((outcome = write_batch(wb, &code))) {
		case WRITTEN:
		case WRITTEN_BEFORE:
			if (outcome == WRITTEN_BEFORE)
				log_notice("%s: a batch of %zu database writes whose COMMIT was cut off "
					   "had been committed", wb->name, wb->batch.count);
			count(wb->m.written, wb->batch.count);
			batch_done(wb);
			backoff_succeeded(&wb->retry);
			break;
		case RUN_AGAIN:
			if (wb->batch.head == NULL)
				batch_done(wb);
			break;
		case ROLLED_BACK: {
			long long pause = rolled_back(wb, code);
			if (pause > 0)
				return pause;
			break;
		}
		case UNREACHABLE:
			count(wb->m.retries[RETRY_CONNECTION], 1);
			wb->batch.tries++;
			log_ratelimited(&wb->wait_log, LOG_LEVEL_ERROR,
					"%s: database writes waiting (%s): %s", wb->name, wb->what,
					wb->why);
			return UNAVAILABLE_WAIT_MS;
		}
	}
}

static void *writer_main(void *arg)
{
	struct writeback *wb = arg;
	long long wait_ms = FLUSH_INTERVAL_MS;

	while (!wait_for_work(wb, wait_ms))
		if ((wait_ms = flush(wb)) == 0)
			wait_ms = FLUSH_INTERVAL_MS;
	/* stopping: a last few tries, bounded by the connection timeouts */
	int64_t until = clock_monotonic_ms() + STOP_GRACE_MS;
	while (clock_monotonic_ms() < until && flush(wb) != 0) {
		struct timespec t = { 0, 100 * 1000000L };

		nanosleep(&t, NULL);
	}
	return NULL;
}

int writeback_start(struct writeback *wb)
{
	if (pthread_create(&wb->thread, NULL, writer_main, wb) != 0)
		return -1;
	wb->running = true;
	return 0;
}

void writeback_free(struct writeback **wbp)
{
	struct writeback *wb = *wbp;
	size_t lost;

	if (wb == NULL)
		return;
	if (wb->running) {
		pthread_mutex_lock(&wb->lock);
		wb->stop = true;
		pthread_cond_signal(&wb->wake);
		pthread_mutex_unlock(&wb->lock);
		pthread_join(wb->thread, NULL);
	}
	lost = wb->queued + wb->batch.count;
	statements_free(wb->batch.head);
	statements_free(wb->head);
	if (lost > 0) {
		count(wb->m.failed_shutdown, lost);
		log_error("%s: %zu database writes lost at shutdown (%s)", wb->name, lost, wb->what);
	}
	pthread_cond_destroy(&wb->wake);
	pthread_mutex_destroy(&wb->lock);
	db_free(&wb->db);
	free(wb);
	*wbp = NULL;
}
