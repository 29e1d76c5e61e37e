/*
 * writeback.c - the database writer thread (see writeback.h).
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "writeback.h"
#include "xalloc.h"

#define FLUSH_INTERVAL_MS 500
#define BATCH_MAX 200
#define STOP_GRACE_MS 3000

struct statement {
	struct statement *next;
	const char *sql;
	size_t nparams;
	struct db_param params[WRITEBACK_PARAMS_MAX];
	char *copies[WRITEBACK_PARAMS_MAX];	/* the strings params point at */
};

struct writeback {
	char name[32], what[96];	/* for the log */
	struct db *db;
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct statement *head, *tail;
	size_t queued;
	uint64_t dropped;
	struct log_ratelimit fail_log;
};

static void statement_free(struct statement *st)
{
	for (size_t i = 0; i < st->nparams; i++)
		free(st->copies[i]);
	free(st);
}

struct writeback *writeback_new(const char *name, const char *what, const struct db_settings *settings,
				char *err, size_t errlen)
{
	struct writeback *wb = xcalloc(1, sizeof(*wb));

	snprintf(wb->name, sizeof(wb->name), "%s", name);	/* a long name is cut */
	snprintf(wb->what, sizeof(wb->what), "%s", what);

	if ((wb->db = db_new(settings, err, errlen)) == NULL) {
		free(wb);
		return NULL;
	}
	pthread_mutex_init(&wb->lock, NULL);
	pthread_cond_init(&wb->wake, NULL);
	wb->fail_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	return wb;
}

void writeback_push(struct writeback *wb, const char *sql, const struct db_param *params,
		    size_t nparams)
{
	struct statement *st = xcalloc(1, sizeof(*st));

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
		wb->dropped++;
		statement_free(oldest);
	}
	if (wb->tail != NULL)
		wb->tail->next = st;
	else
		wb->head = st;
	wb->tail = st;
	wb->queued++;
	pthread_mutex_unlock(&wb->lock);
}

uint64_t writeback_dropped(struct writeback *wb)
{
	uint64_t n;

	pthread_mutex_lock(&wb->lock);
	n = wb->dropped;
	pthread_mutex_unlock(&wb->lock);
	return n;
}

/* Takes up to BATCH_MAX statements off the queue. */
static struct statement *take_batch(struct writeback *wb)
{
	struct statement *batch = wb->head, *last = NULL;
	size_t n = 0;

	for (struct statement *st = wb->head; st != NULL && n < BATCH_MAX; st = st->next, n++)
		last = st;
	if (last == NULL)
		return NULL;
	wb->head = last->next;
	if (wb->head == NULL)
		wb->tail = NULL;
	last->next = NULL;
	wb->queued -= n;
	return batch;
}

/* Puts a batch that could not be written back at the front. */
static void requeue(struct writeback *wb, struct statement *batch)
{
	struct statement *last = batch;
	size_t n = 1;

	while (last->next != NULL) {
		last = last->next;
		n++;
	}
	last->next = wb->head;
	wb->head = batch;
	if (wb->tail == NULL)
		wb->tail = last;
	wb->queued += n;
}

/* One transaction. 0, or -1 when the database is unreachable (retry). A
 * statement the database refuses (a constraint) is logged and dropped. */
static int write_batch(struct writeback *wb, struct statement *batch)
{
	if (db_begin(wb->db) != DB_OK)
		return -1;
	for (struct statement *st = batch; st != NULL; st = st->next) {
		int rc = db_exec(wb->db, st->sql, st->params, st->nparams, NULL);

		if (rc == DB_UNAVAILABLE) {
			db_rollback(wb->db);
			return -1;
		}
		if (rc != DB_OK)
			log_warning("%s: database write dropped: %s", wb->name, db_error(wb->db));
	}
	return db_commit(wb->db) == DB_OK ? 0 : -1;
}

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

/* Writes everything queued; false when the database failed. */
static bool flush(struct writeback *wb)
{
	for (;;) {
		struct statement *batch;

		pthread_mutex_lock(&wb->lock);
		batch = take_batch(wb);
		pthread_mutex_unlock(&wb->lock);
		if (batch == NULL)
			return true;
		if (write_batch(wb, batch) < 0) {
			log_ratelimited(&wb->fail_log, LOG_LEVEL_ERROR,
					"%s: database writes waiting (%s): %s", wb->name,
					wb->what, db_error(wb->db));
			pthread_mutex_lock(&wb->lock);
			requeue(wb, batch);
			pthread_mutex_unlock(&wb->lock);
			return false;
		}
		while (batch != NULL) {
			struct statement *next = batch->next;

			statement_free(batch);
			batch = next;
		}
	}
}

static void *writer_main(void *arg)
{
	struct writeback *wb = arg;
	long long wait_ms = FLUSH_INTERVAL_MS;

	while (!wait_for_work(wb, wait_ms))
		wait_ms = flush(wb) ? FLUSH_INTERVAL_MS : 2000;
	/* stopping: one last try, bounded by the connection timeouts */
	int64_t until = clock_monotonic_ms() + STOP_GRACE_MS;
	while (clock_monotonic_ms() < until && !flush(wb))
		;
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

	if (wb == NULL)
		return;
	if (wb->running) {
		pthread_mutex_lock(&wb->lock);
		wb->stop = true;
		pthread_cond_signal(&wb->wake);
		pthread_mutex_unlock(&wb->lock);
		pthread_join(wb->thread, NULL);
	}
	while (wb->head != NULL) {
		struct statement *next = wb->head->next;

		statement_free(wb->head);
		wb->head = next;
	}
	if (wb->queued > 0)
		log_warning("%s: %zu database writes lost at shutdown (%s)", wb->name, wb->queued,
			    wb->what);
	pthread_cond_destroy(&wb->wake);
	pthread_mutex_destroy(&wb->lock);
	db_free(&wb->db);
	free(wb);
	*wbp = NULL;
}
