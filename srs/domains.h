/*
 * domains.h - where srsd's local domains come from, kept fresh by a thread.
 */
#ifndef LIMRISTEM_SRS_DOMAINS_H
#define LIMRISTEM_SRS_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>

#include "domainset.h"
#include "settings.h"

struct event_base;
struct domain_source;

/* Receives a new set in the event loop's thread; the callee owns it. */
typedef void domain_update_fn(struct domain_set *set, void *arg);

/* Uses the database when db is configured, else file (NULL or "": no
 * local domains). Reads the database password now (before privileges are
 * dropped); loads nothing yet. NULL with err on failure. */
struct domain_source *domain_source_new(struct event_base *base, const struct db_settings *db,
					const char *file, long long refresh_ms, long long check_ms,
					domain_update_fn *on_update, void *arg,
					char *err, size_t errlen);
/* Loads the first list (on_update is called before this returns, unless
 * the source is unreachable) and starts the refresh thread. 0 or -1. */
int domain_source_start(struct domain_source *src);
/* Reload now (SIGHUP). */
void domain_source_reload(struct domain_source *src);
bool domain_source_uses_db(const struct domain_source *src);
void domain_source_free(struct domain_source **src);

#endif
