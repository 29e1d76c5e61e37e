/*
 * rep_flush.c - summing reputation counts and trusted replies between
 * database writes (see rep_flush.h). A thread of its own hands the sums
 * to the writeback queue once per interval.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/strset.h"
#include "common/writeback.h"
#include "common/xalloc.h"
#include "milter/rep_flush.h"

struct pending_write {
	bool reply;			/* a trusted reply, else a counter */
	enum rep_type type;
	char a[ADDR_MAX + 1];		/* entity, or external address */
	char b[ADDR_MAX + 1];		/* local address */
	struct rep_delta delta;
	int64_t lifetime_s;
};

struct rep_flush {
	struct writeback *wb;
	int64_t interval_ms;
	pthread_t thread;
	bool started, stop;
	pthread_cond_t wake;
	pthread_mutex_t lock;
	struct strset *index;		/* key -> position + 1 in items */
	struct pending_write *items;
	size_t count, cap;
};

struct rep_flush *rep_flush_new(struct writeback *wb, int64_t interval_ms)
{
	struct rep_flush *f = xcalloc(1, sizeof(*f));

	f->wb = wb;
	f->interval_ms = interval_ms;
	f->index = strset_new();
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	return f;
}

static const char counter_sql[] =
	"INSERT INTO reputations (entity_type, entity, good, bad, rejected) VALUES (?, ?, ?, ?, ?) "
	"ON DUPLICATE KEY UPDATE good = good + VALUES(good), bad = bad + VALUES(bad), "
	"rejected = rejected + VALUES(rejected), last_seen_at = CURRENT_TIMESTAMP";
static const char reply_sql[] =
	"INSERT INTO trusted_replies (external_address, local_address, expires_at) "
	"VALUES (?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND) "
	"ON DUPLICATE KEY UPDATE expires_at = VALUES(expires_at)";

/* Under lock: everything summed goes to the writeback queue. */
static void hand_over(struct rep_flush *f)
{
	for (size_t i = 0; i < f->count; i++) {
		const struct pending_write *w = &f->items[i];

		if (w->reply)
			writeback_push(f->wb, reply_sql, (struct db_param[]){
				DB_STR(w->a), DB_STR(w->b), DB_INT(w->lifetime_s) }, 3);
		else
			writeback_push(f->wb, counter_sql, (struct db_param[]){
				DB_STR(rep_type_name(w->type)), DB_STR(w->a),
				DB_INT((long long)w->delta.good), DB_INT((long long)w->delta.bad),
				DB_INT((long long)w->delta.rejected) }, 5);
	}
	f->count = 0;
	strset_free(&f->index);
	f->index = strset_new();
}

static void *run(void *arg)
{
	struct rep_flush *f = arg;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += f->interval_ms / 1000;
		deadline.tv_nsec += (f->interval_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&f->wake, &f->lock, &deadline) == ETIMEDOUT)
			hand_over(f);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int rep_flush_start(struct rep_flush *f)
{
	f->started = pthread_create(&f->thread, NULL, run, f) == 0;
	return f->started ? 0 : -1;
}

void rep_flush_free(struct rep_flush **fp)
{
	struct rep_flush *f = *fp;

	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->lock);
		f->stop = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->thread, NULL);
	}
	hand_over(f);
	strset_free(&f->index);
	free(f->items);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
	*fp = NULL;
}

/* Under lock: the pending write of key, added when new. */
static struct pending_write *slot(struct rep_flush *f, const char *key)
{
	uintptr_t at = (uintptr_t)strset_get(f->index, key, strlen(key));

	if (at != 0)
		return &f->items[at - 1];
	f->items = xgrow(f->items, &f->cap, f->count + 1, sizeof(*f->items));
	memset(&f->items[f->count], 0, sizeof(*f->items));
	strset_put(f->index, key, strlen(key), (void *)(uintptr_t)(f->count + 1));
	return &f->items[f->count++];
}

void rep_flush_count(struct rep_flush *f, enum rep_type type, const char *entity,
		     const struct rep_delta *delta)
{
	char key[16 + ADDR_MAX];
	struct pending_write *w;

	if (f == NULL || snprintf(key, sizeof(key), "%d:%s", (int)type, entity) >= (int)sizeof(key))
		return;
	pthread_mutex_lock(&f->lock);
	w = slot(f, key);
	w->type = type;
	snprintf(w->a, sizeof(w->a), "%s", entity);	/* fits: the key did */
	w->delta.good += delta->good;
	w->delta.bad += delta->bad;
	w->delta.rejected += delta->rejected;
	pthread_mutex_unlock(&f->lock);
}

void rep_flush_reply(struct rep_flush *f, const char *external, const char *local,
		     int64_t lifetime_s)
{
	char key[32 + 2 * (ADDR_MAX + 1)];
	struct pending_write *w;

	/* the length first: an address may hold a '/', and "a/b" + "c" must
	 * not be the pair "a" + "b/c" */
	if (f == NULL || snprintf(key, sizeof(key), "r:%zu:%s/%s", strlen(external), external,
				  local) >= (int)sizeof(key))
		return;
	pthread_mutex_lock(&f->lock);
	w = slot(f, key);
	w->reply = true;
	snprintf(w->a, sizeof(w->a), "%s", external);
	snprintf(w->b, sizeof(w->b), "%s", local);
	w->lifetime_s = lifetime_s;
	pthread_mutex_unlock(&f->lock);
}
