/*
 * domains.h - where srsd's local domains come from: the active rows of the
 * domains table, or the domains file when no database is configured. A
 * table_source (common/table_source.h) calls these from its thread.
 */
#ifndef LIMRISTEM_SRS_DOMAINS_H
#define LIMRISTEM_SRS_DOMAINS_H

#include <stddef.h>

#include "common/db.h"

/* table_loader.load: a struct domain_set, or NULL with err. */
void *srsd_domains_load(struct db *db, const char *file, void *arg, char *err, size_t errlen);
/* table_loader.free */
void srsd_domains_free(void *set);

#endif
