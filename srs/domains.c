/*
 * domains.c - keep srsd's set of local domains fresh, off the event loop.
 *
 * Source: the domains table (active rows) when a database is configured,
 * else the domains file. A thread of its own does the blocking work: every
 * change_check it looks at change_counter (one indexed row; mailadm moves
 * it after every change) or at the file's modification time, reloads when
 * something changed or domains_refresh has passed, and hands the new set
 * to the event loop through a pipe. While the database is down the last
 * good set keeps serving.
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

#include "clock.h"
#include "db.h"
#include "domains.h"
#include "log.h"
#include "xalloc.h"

struct domain_source {
	struct event_base *base;
	struct db *db;			/* NULL: use the file */
	char *file;
	long long refresh_ms, check_ms;
	domain_update_fn *on_update;
	void *arg;

	int pipe[2];			/* thread -> loop: struct domain_set pointers */
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

static int first_value(const struct db_row *row, void *arg)
{
	unsigned long long *v = arg;

	*v = row->values[0] ? strtoull(row->values[0], NULL, 10) : 0;
	return 1;
}

static int add_name(const struct db_row *row, void *arg)
{
	const char *why;

	if (row->values[0] != NULL && domain_set_add(arg, row->values[0], &why) < 0)
		log_warning("srsd: domains table: \"%s\": %s", row->values[0], why);
	return 0;
}

static struct domain_set *load_from_db(struct domain_source *src, char *err, size_t errlen)
{
	struct domain_set *set = domain_set_new();

	if (db_query(src->db, "SELECT name FROM domains WHERE active = 1", NULL, 0, add_name, set)
	    != DB_OK) {
		snprintf(err, errlen, "reading the domains table: %s", db_error(src->db));
		domain_set_free(&set);
	}
	return set;
}

/* True when the database says something changed since the last load. */
static bool db_changed(struct domain_source *src)
{
	unsigned long long generation = 0;

	if (db_query(src->db, "SELECT generation FROM change_counter WHERE id = 1", NULL, 0,
		     first_value, &generation) != DB_OK)
		return false;	/* reported by the reload that follows the next refresh */
	if (src->have_generation && generation == src->generation)
		return false;
	src->generation = generation;
	src->have_generation = true;
	return true;
}

static bool file_changed(struct domain_source *src)
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

static struct domain_set *load(struct domain_source *src, char *err, size_t errlen)
{
	struct domain_set *set = NULL;

	if (src->db != NULL)
		return load_from_db(src, err, errlen);
	if (src->file != NULL && domain_set_read_file(src->file, &set, err, errlen) < 0)
		return NULL;
	return set != NULL ? set : domain_set_new();
}

/* Loads now; hands the set over (or logs why not). */
static void reload(struct domain_source *src)
{
	char err[512];
	struct domain_set *set = load(src, err, sizeof(err));

	src->last_load_ms = clock_monotonic_ms();
	if (set == NULL) {
		log_ratelimited(&src->fail_log, LOG_LEVEL_ERROR,
				"srsd: local domains not reloaded, keeping the last good list: %s", err);
		return;
	}
	if (write(src->pipe[1], &set, sizeof(set)) != (ssize_t)sizeof(set)) {
		log_error("srsd: cannot hand over the domain list: %s", strerror(errno));
		domain_set_free(&set);
	}
}

static void *source_main(void *arg)
{
	struct domain_source *src = arg;

	for (;;) {
		struct timespec deadline;
		bool force;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += src->check_ms / 1000;
		deadline.tv_nsec += (src->check_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&src->lock);
		while (!src->stop && !src->force &&
		       pthread_cond_timedwait(&src->wake, &src->lock, &deadline) != ETIMEDOUT)
			;
		force = src->force;
		src->force = false;
		if (src->stop) {
			pthread_mutex_unlock(&src->lock);
			break;
		}
		pthread_mutex_unlock(&src->lock);
		if (force || clock_monotonic_ms() - src->last_load_ms >= src->refresh_ms ||
		    (src->db != NULL ? db_changed(src) : src->file != NULL && file_changed(src)))
			reload(src);
	}
	return NULL;
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	struct domain_source *src = arg;
	struct domain_set *set;

	while (read(fd, &set, sizeof(set)) == (ssize_t)sizeof(set))
		src->on_update(set, src->arg);
}

struct domain_source *domain_source_new(struct event_base *base, const struct db_settings *db,
					const char *file, long long refresh_ms, long long check_ms,
					domain_update_fn *on_update, void *arg,
					char *err, size_t errlen)
{
	struct domain_source *src = xcalloc(1, sizeof(*src));
	pthread_condattr_t attr;

	if (db != NULL && db->address.kind != ENDPOINT_NONE) {
		src->db = db_new(db, err, errlen);
		if (src->db == NULL) {
			free(src);
			return NULL;
		}
	} else if (file != NULL && file[0] != '\0') {
		src->file = xstrdup(file);
	}
	if (pipe2(src->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		db_free(&src->db);
		free(src->file);
		free(src);
		return NULL;
	}
	src->base = base;
	src->refresh_ms = refresh_ms;
	src->check_ms = check_ms;
	src->on_update = on_update;
	src->arg = arg;
	src->fail_log = (struct log_ratelimit)LOG_RATELIMIT_INIT(60 * 1000);
	pthread_mutex_init(&src->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&src->wake, &attr);
	pthread_condattr_destroy(&attr);
	src->pipe_event = event_new(base, src->pipe[0], EV_READ | EV_PERSIST, on_pipe, src);
	event_add(src->pipe_event, NULL);
	return src;
}

int domain_source_start(struct domain_source *src)
{
	if (src->db != NULL)
		db_changed(src);	/* remember the generation we load */
	else if (src->file != NULL)
		file_changed(src);
	reload(src);
	on_pipe(src->pipe[0], EV_READ, src);	/* the first list, before serving */
	if (pthread_create(&src->thread, NULL, source_main, src) != 0)
		return -1;
	src->running = true;
	return 0;
}

bool domain_source_uses_db(const struct domain_source *src)
{
	return src->db != NULL;
}

void domain_source_reload(struct domain_source *src)
{
	pthread_mutex_lock(&src->lock);
	src->force = true;
	pthread_cond_signal(&src->wake);
	pthread_mutex_unlock(&src->lock);
}

void domain_source_free(struct domain_source **srcp)
{
	struct domain_source *src = *srcp;
	struct domain_set *set;

	if (src == NULL)
		return;
	if (src->running) {
		pthread_mutex_lock(&src->lock);
		src->stop = true;
		pthread_cond_signal(&src->wake);
		pthread_mutex_unlock(&src->lock);
		pthread_join(src->thread, NULL);
	}
	while (read(src->pipe[0], &set, sizeof(set)) == (ssize_t)sizeof(set))
		domain_set_free(&set);
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
