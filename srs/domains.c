/*
 * domains.c - load srsd's set of local domains (senders in them are not
 * rewritten), from the domains table or from the domains file.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "common/domainset.h"
#include "common/log.h"
#include "srs/domains.h"

static int add_name(const struct db_row *row, void *arg)
{
	const char *why;

	if (row->values[0] != NULL && domain_set_add(arg, row->values[0], &why) < 0)
		log_warning("srsd: domains table: \"%s\": %s", row->values[0], why);
	return 0;
}

void *srsd_domains_load(struct db *db, const char *file, void *arg, char *err, size_t errlen)
{
	struct domain_set *set = NULL;

	if (db != NULL) {
		set = domain_set_new();
		if (db_query(db, "SELECT name FROM domains WHERE active = 1", NULL, 0, add_name, set)
		    != DB_OK) {
			snprintf(err, errlen, "reading the domains table: %s", db_error(db));
			domain_set_free(&set);
		}
		return set;
	}
	if (file != NULL && domain_set_read_file(file, &set, err, errlen) < 0)
		return NULL;
	return set != NULL ? set : domain_set_new();
}

void srsd_domains_free(void *set)
{
	struct domain_set *s = set;

	domain_set_free(&s);
}
