/*
 * table_source.c - the snapshot loader thread (see table_source.h).
 *
 * The thread owns its database connection and the change detection; the
 * event loop only ever sees finished snapshots, passed as pointers
 * through a non-blocking pipe.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/table_source.h"
#include "common/xalloc.h"

struct table_source {
	struct table_loader loader;
	struct table_source_timing timing;
	struct db *db;			/* NULL: use the file (or nothing) */
	char *file;

	int pipe[2];			/* thread -> loop: snapshot pointers */
	struct event *pipe_event;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, force;

	/* thread-private */
	unsigned long long generation;
	bool have_generation;
	struct stat file_stat;
	int64_t last_load_ms;
	struct log_ratelimit fail_log;
};

int table_source_first_value(const struct db_row *row, void *arg)
{
	unsigned long long *v = arg;

	*v = row->values[0] ? strtoull(row->values[0], NULL, 10) : 0;
	return 1;
}

/* True when the database says something changed since the last load. */
static bool db_changed(struct table_source *src)
{
	unsigned long long generation = 0;

	if (db_query(src->db, "SELECT generation FROM change_counter WHERE id = 1", NULL, 0,
		     table_source_first_value, &generation) != DB_OK)
		return false;	/* reported by the reload that follows the next refresh */
	if (src->have_generation && generation == src->generation)
		return false;
	src->generation = generation;
	src->have_generation = true;
	return true;
}

static bool file_changed(struct table_source *src)
{
	struct stat st;

	if (stat(src->file, &st) < 0)
		return false;
	if (st.st_ino == src->file_stat.st_ino && st.st_size == src->file_stat.st_size &&
	    st.st_mtim.tv_sec == src->file_stat.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == src->file_stat.st_mtim.tv_nsec)
		return false;
	src->file_stat = st;
	return true;
}

/* Loads now; hands the snapshot over (or logs why not). */
static void reload(struct table_source *src)
{
	char err[512];
	void *snapshot = src->loader.load(src->db, src->file, src->loader.arg, err, sizeof(err));

	src->last_load_ms = clock_monotonic_ms();
	if (snapshot == NULL) {
		log_ratelimited(&src->fail_log, LOG_LEVEL_ERROR,
				"%s not reloaded, keeping the last good copy: %s",
				src->loader.what, err);
		return;
	}
	if (src->pipe_event == NULL) {		/* a threaded daemon: update() locks */
		src->loader.update(snapshot, src->loader.arg);
		return;
	}
	if (write(src->pipe[1], &snapshot, sizeof(snapshot)) != (ssize_t)sizeof(snapshot)) {
		log_error("%s: cannot hand over the new copy: %s", src->loader.what, strerror(errno));
		src->loader.free(snapshot);
	}
}

static void wait_for_check(struct table_source *src, bool *force_r, bool *stop_r)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += src->timing.check_ms / 1000;
	deadline.tv_nsec += (src->timing.check_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&src->lock);
	while (!src->stop && !src->force &&
	       pthread_cond_timedwait(&src->wake, &src->lock, &deadline) != ETIMEDOUT)
		;
	*force_r = src->force;
	*stop_r = src->stop;
	src->force = false;
	pthread_mutex_unlock(&src->lock);
}

static void *source_main(void *arg)
{
	struct table_source *src = arg;
	bool force, stop;

	for (;;) {
		wait_for_check(src, &force, &stop);
		if (stop)
			break;
		if (force || clock_monotonic_ms() - src->last_load_ms >= src->timing.refresh_ms ||
		    (src->db != NULL ? db_changed(src) : src->file != NULL && file_changed(src)))
			reload(src);
	}
	return NULL;
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct table_source *src = arg;
	void *snapshot;

	while (read(fd, &snapshot, sizeof(snapshot)) == (ssize_t)sizeof(snapshot))
		src->loader.update(snapshot, src->loader.arg);
}

static int open_backend(struct table_source *src, const struct db_settings *db,
			const char *file, char *err, size_t errlen)
{
	if (db != NULL && db->address.kind != ENDPOINT_NONE)
		return (src->db = db_new(db, err, errlen)) != NULL ? 0 : -1;
	if (file != NULL && file[0] != '\0')
		src->file = xstrdup(file);
	return 0;
}

struct table_source *table_source_new(struct event_base *base, const struct db_settings *db,
				      const char *file, const struct table_source_timing *timing,
				      const struct table_loader *loader, char *err, size_t errlen)
{
	struct table_source *src = xcalloc(1, sizeof(*src));
	pthread_condattr_t attr;

	src->loader = *loader;
	src->timing = *timing;
	if (open_backend(src, db, file, err, errlen) < 0) {
		free(src);
		return NULL;
	}
	if (pipe2(src->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		db_free(&src->db);
		free(src->file);
		free(src);
		return NULL;
	}
	src->fail_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	pthread_mutex_init(&src->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&src->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (base != NULL) {
		src->pipe_event = event_new(base, src->pipe[0], EV_READ | EV_PERSIST, on_pipe, src);
		event_add(src->pipe_event, NULL);
	}
	return src;
}

int table_source_start(struct table_source *src)
{
	if (src->db != NULL)
		db_changed(src);	/* remember the generation we load */
	else if (src->file != NULL)
		file_changed(src);
	reload(src);
	on_pipe(src->pipe[0], EV_READ, src);	/* the first snapshot, before serving */
	if (pthread_create(&src->thread, NULL, source_main, src) != 0)
		return -1;
	src->running = true;
	return 0;
}

bool table_source_uses_db(const struct table_source *src)
{
	return src->db != NULL;
}

void table_source_reload(struct table_source *src)
{
	pthread_mutex_lock(&src->lock);
	src->force = true;
	pthread_cond_signal(&src->wake);
	pthread_mutex_unlock(&src->lock);
}

void table_source_free(struct table_source **srcp)
{
	struct table_source *src = *srcp;
	void *snapshot;

	if (src == NULL)
		return;
	if (src->running) {
		pthread_mutex_lock(&src->lock);
		src->stop = true;
		pthread_cond_signal(&src->wake);
		pthread_mutex_unlock(&src->lock);
		pthread_join(src->thread, NULL);
	}
	while (read(src->pipe[0], &snapshot, sizeof(snapshot)) == (ssize_t)sizeof(snapshot))
		src->loader.free(snapshot);
	if (src->pipe_event != NULL)
		event_free(src->pipe_event);
	close(src->pipe[0]);
	close(src->pipe[1]);
	pthread_cond_destroy(&src->wake);
	pthread_mutex_destroy(&src->lock);
	db_free(&src->db);
	free(src->file);
	free(src);
	*srcp = NULL;
}
