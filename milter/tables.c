/*
 * tables.c - the milter's snapshot of signing keys and forwarded
 * addresses: loading it (database or configuration), sharing it between
 * threads, freeing it when nobody reads it any more.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "milter.h"
#include "strset.h"
#include "table_source.h"
#include "tables.h"
#include "xalloc.h"

struct milter_tables {
	unsigned refs;			/* under lock */
	struct strset *signing;		/* domain -> struct signing_domain */
	struct signing_domain **domains;	/* the same, to free them */
	size_t domain_count, domain_cap;
	struct strset *forwarded;	/* "user@domain", "@domain" */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_tables *current;
static struct table_source *source;

/* --- building a snapshot --------------------------------------------------------- */

static struct milter_tables *tables_new(void)
{
	struct milter_tables *t = xcalloc(1, sizeof(*t));

	t->signing = strset_new();
	t->forwarded = strset_new();
	return t;
}

static void tables_free(void *snapshot)
{
	struct milter_tables *t = snapshot;

	for (size_t i = 0; i < t->domain_count; i++) {
		struct signing_domain *d = t->domains[i];

		for (size_t k = 0; k < d->count; k++) {
			sign_key_free(&d->keys[k].key);
			free(d->keys[k].selector);
			free(d->keys[k].path);
			free(d->keys[k].problem);
		}
		free(d->domain);
		free(d);
	}
	free(t->domains);
	strset_free(&t->signing);
	strset_free(&t->forwarded);
	free(t);
}

static char *lowercase_copy(const char *s)
{
	char *copy = xstrdup(s);

	for (char *p = copy; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static struct signing_domain *domain_entry(struct milter_tables *t, const char *name)
{
	char *domain = lowercase_copy(name);
	struct signing_domain *d = strset_get(t->signing, domain, strlen(domain));

	if (d != NULL) {
		free(domain);
		return d;
	}
	d = xcalloc(1, sizeof(*d));
	d->domain = domain;
	strset_put(t->signing, domain, strlen(domain), d);
	t->domains = xgrow(t->domains, &t->domain_cap, t->domain_count + 1, sizeof(*t->domains));
	t->domains[t->domain_count++] = d;
	return d;
}

/* Loads the key now; a key that cannot be loaded is kept with the reason. */
static void add_key(struct milter_tables *t, const char *domain, const char *selector,
		    const char *path)
{
	struct signing_domain *d = domain_entry(t, domain);
	struct signing_key *k;
	char err[512];

	if (d->count == TABLES_KEYS_PER_DOMAIN_MAX) {
		log_warning("milter: %s: more than %d signing keys, %s ignored", d->domain,
			    TABLES_KEYS_PER_DOMAIN_MAX, selector);
		return;
	}
	k = &d->keys[d->count++];
	k->selector = xstrdup(selector);
	k->path = xstrdup(path);
	if (sign_key_load(path, 0, &k->key, err, sizeof(err)) < 0) {
		k->problem = xstrdup(err);
		log_error("milter: DKIM key %s for %s: %s (its mail gets key_error_action)",
			  selector, d->domain, err);
	}
}

static void add_forwarded(struct milter_tables *t, const char *address)
{
	char *a = lowercase_copy(address);

	strset_add(t->forwarded, a, strlen(a));
	free(a);
}

/* --- from the database ---------------------------------------------------------- */

static int key_row(const struct db_row *row, void *arg)
{
	if (row->values[0] != NULL && row->values[1] != NULL && row->values[2] != NULL)
		add_key(arg, row->values[0], row->values[1], row->values[2]);
	return 0;
}

static int forwarded_row(const struct db_row *row, void *arg)
{
	if (row->values[0] != NULL)
		add_forwarded(arg, row->values[0]);
	return 0;
}

/* Only active keys sign: pending ones are not published yet, retiring
 * ones stay published for mail in flight but sign nothing. */
static const char keys_sql[] =
	"SELECT domain, selector, key_path FROM dkim_keys WHERE state = 'active' "
	"ORDER BY domain, algorithm";

/* A destination is external when its domain is none of ours. Alias
 * chains (an alias to an alias that forwards) are not followed. */
static const char forwarded_sql[] =
	"SELECT source FROM redirects r WHERE r.active = 1 AND NOT EXISTS "
	"(SELECT 1 FROM domains d WHERE d.name = LOWER(SUBSTRING_INDEX(r.destination, '@', -1))) "
	"UNION SELECT source FROM aliases a WHERE a.active = 1 AND NOT EXISTS "
	"(SELECT 1 FROM domains d WHERE d.name = LOWER(SUBSTRING_INDEX(a.destination, '@', -1)))";

static struct milter_tables *load_from_db(struct db *db, char *err, size_t errlen)
{
	struct milter_tables *t = tables_new();

	if (db_query(db, keys_sql, NULL, 0, key_row, t) != DB_OK ||
	    db_query(db, forwarded_sql, NULL, 0, forwarded_row, t) != DB_OK) {
		snprintf(err, errlen, "reading dkim_keys, redirects and aliases: %s", db_error(db));
		tables_free(t);
		return NULL;
	}
	return t;
}

/* --- from the configuration ------------------------------------------------------ */

/* "DOMAIN SELECTOR PATH": 0, or -1 with err. */
static int parse_key_entry(const char *entry, char *domain, char *selector, char *path,
			   size_t size, char *err, size_t errlen)
{
	char extra[2];

	if (sscanf(entry, "%255s %255s %4095s %1s", domain, selector, path, extra) != 3 ||
	    strlen(domain) >= size || strlen(selector) >= size) {
		snprintf(err, errlen, "milter.signing_keys: \"%s\": want \"DOMAIN SELECTOR KEYFILE\"",
			 entry);
		return -1;
	}
	return 0;
}

static struct milter_tables *load_from_config(const struct milter_section *s, char *err,
					      size_t errlen)
{
	struct milter_tables *t = tables_new();
	char domain[256], selector[256], path[4096];

	for (size_t i = 0; i < s->signing_keys.count; i++) {
		if (parse_key_entry(s->signing_keys.items[i], domain, selector, path, sizeof(domain),
				    err, errlen) < 0) {
			tables_free(t);
			return NULL;
		}
		add_key(t, domain, selector, path);
	}
	for (size_t i = 0; i < s->forwarded_recipients.count; i++)
		add_forwarded(t, s->forwarded_recipients.items[i]);
	return t;
}

static void *load(struct db *db, const char *file, void *arg, char *err, size_t errlen)
{
	(void)file;
	return db != NULL ? load_from_db(db, err, errlen) : load_from_config(arg, err, errlen);
}

/* --- sharing ---------------------------------------------------------------------- */

static void release_locked(struct milter_tables *t)
{
	if (t != NULL && --t->refs == 0)
		tables_free(t);
}

static void update(void *snapshot, void *arg)
{
	struct milter_tables *t = snapshot;
	size_t domains, forwarded;

	(void)arg;
	t->refs = 1;		/* the reference of "current" */
	pthread_mutex_lock(&lock);
	release_locked(current);
	current = t;
	pthread_mutex_unlock(&lock);
	tables_counts(t, &domains, &forwarded);
	log_info("milter: tables loaded: %zu signing domains, %zu forwarded addresses",
		 domains, forwarded);
}

int tables_open(const struct milter_settings *settings, char *err, size_t errlen)
{
	const struct milter_section *s = &settings->milter;
	const struct table_loader loader = {
		.what = "milter: signing keys and forwarded addresses",
		.load = load, .update = update, .free = tables_free, .arg = (void *)(uintptr_t)s,
	};
	const struct table_source_timing timing = { s->tables_refresh_ms, s->change_check_ms };
	char domain[256], selector[256], path[4096];

	for (size_t i = 0; i < s->signing_keys.count; i++)
		if (parse_key_entry(s->signing_keys.items[i], domain, selector, path, sizeof(domain),
				    err, errlen) < 0)
			return -1;
	source = table_source_new(NULL, &settings->common.database, NULL, &timing, &loader, err,
				  errlen);
	return source != NULL ? 0 : -1;
}

int tables_start(char *err, size_t errlen)
{
	if (table_source_start(source) < 0) {
		snprintf(err, errlen, "cannot start the table loader thread");
		return -1;
	}
	pthread_mutex_lock(&lock);
	if (current == NULL) {		/* the database is not there yet */
		current = tables_new();
		current->refs = 1;
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

void tables_stop(void)
{
	table_source_free(&source);
	pthread_mutex_lock(&lock);
	release_locked(current);
	current = NULL;
	pthread_mutex_unlock(&lock);
}

void tables_reload(void)
{
	if (source != NULL)
		table_source_reload(source);
}

struct milter_tables *tables_get(void)
{
	struct milter_tables *t;

	pthread_mutex_lock(&lock);
	t = current;
	if (t != NULL)
		t->refs++;
	pthread_mutex_unlock(&lock);
	return t;
}

void tables_put(struct milter_tables **tables)
{
	if (*tables == NULL)
		return;
	pthread_mutex_lock(&lock);
	release_locked(*tables);
	pthread_mutex_unlock(&lock);
	*tables = NULL;
}

/* --- lookups ---------------------------------------------------------------------- */

const struct signing_domain *tables_signing_domain(const struct milter_tables *tables,
						   const char *domain)
{
	return strset_get(tables->signing, domain, strlen(domain));
}

bool tables_is_forwarded(const struct milter_tables *tables, const char *rcpt)
{
	char *a = lowercase_copy(rcpt);
	const char *at = strrchr(a, '@');
	bool found = strset_contains(tables->forwarded, a, strlen(a)) ||
		     (at != NULL && strset_contains(tables->forwarded, at, strlen(at)));

	free(a);
	return found;
}

void tables_counts(const struct milter_tables *tables, size_t *domains_r, size_t *forwarded_r)
{
	*domains_r = tables->domain_count;
	*forwarded_r = strset_count(tables->forwarded);
}
