/*
 * table_source.h - keep a daemon's snapshot of database tables (or of a
 * file) fresh from a thread of its own, off the event loop.
 *
 * Every check interval the thread looks at change_counter (one indexed row
 * that mailadm moves after every change) or at the file's modification
 * time; it calls the loader when something changed, when the refresh
 * interval has passed, or on request (SIGHUP), and hands the new snapshot
 * to the event loop through a pipe. When loading fails the last good
 * snapshot keeps serving and the failure is logged (rate-limited).
 */
#ifndef LIMRISTEM_TABLE_SOURCE_H
#define LIMRISTEM_TABLE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/db.h"
#include "common/settings.h"

struct event_base;
struct table_source;

struct table_loader {
	const char *what;	/* for log lines: "srsd: local domains" */
	/* Runs in the thread, with db (NULL when no database is configured)
	 * and file (NULL when none). Returns the snapshot, or NULL with err. */
	void *(*load)(struct db *db, const char *file, void *arg, char *err, size_t errlen);
	/* Runs in the event loop (or, with no event base, in the source's
	 * own thread, so it must lock): the new snapshot, owned by the callee. */
	void (*update)(void *snapshot, void *arg);
	/* Frees a snapshot nobody took (at shutdown). */
	void (*free)(void *snapshot);
	void *arg;
};

struct table_source_timing {
	long long refresh_ms;	/* full reload at least this often */
	long long check_ms;	/* how often to look for changes */
};

/* base NULL: no event loop (a threaded daemon such as the milter);
 * update() then runs in the source's thread. Uses the database when db is
 * configured, else file (NULL or "": the
 * loader gets neither). Reads the database password now, before
 * privileges are dropped; loads nothing yet. NULL with err on failure. */
struct table_source *table_source_new(struct event_base *base, const struct db_settings *db,
				      const char *file, const struct table_source_timing *timing,
				      const struct table_loader *loader, char *err, size_t errlen);
/* Loads the first snapshot (update() runs before this returns, unless the
 * source is unreachable: then the thread keeps trying) and starts the
 * thread. 0 or -1. */
int table_source_start(struct table_source *src);
/* Reload now (SIGHUP). */
void table_source_reload(struct table_source *src);
bool table_source_uses_db(const struct table_source *src);
void table_source_free(struct table_source **src);

/* For loaders: the first column of the first row as an unsigned number. */
int table_source_first_value(const struct db_row *row, void *arg);

#endif
