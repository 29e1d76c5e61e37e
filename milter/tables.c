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
#include <strings.h>

#include "common/clock.h"
#include "common/domainset.h"
#include "common/log.h"
#include "common/number.h"
#include "common/strset.h"
#include "common/table_source.h"
#include "common/xalloc.h"
#include "milter/milter.h"
#include "milter/tables.h"

#define OVERRIDE_LEFT_MAX_S (100LL * 366 * 86400)

struct milter_tables {
	unsigned refs;			/* under lock */
	struct strset *signing;		/* domain -> struct signing_domain */
	struct signing_domain **domains;	/* the same, to free them */
	size_t domain_count, domain_cap;
	struct strset *forwarded;	/* "user@domain", "@domain" */
	struct strset *local_domains;
	struct cidr_list exempt_networks;	/* the greylist table's */
	size_t exempt_network_cap;
	struct domain_set *exempt_senders;	/* ".example.org" matches subdomains too */
	struct strset *exempt_recipients;
	struct strset *overrides;	/* "ip:192.0.2.1", "spf_domain:x" -> struct override */
	struct override **override_list;	/* the same, to free them */
	size_t override_count, override_cap;
	struct network_override *network_overrides;
	size_t network_override_count, network_override_cap;
};

struct override {
	enum rep_override decision;
	int64_t expires_s;		/* 0: never */
};

struct network_override {
	struct cidr net;
	struct override o;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_tables *current;
static struct table_source *source;
static const struct milter_section *section;	/* the greylist_exempt_* settings */

/* --- building a snapshot --------------------------------------------------------- */

static struct milter_tables *tables_new(void)
{
	struct milter_tables *t = xcalloc(1, sizeof(*t));

	t->signing = strset_new();
	t->forwarded = strset_new();
	t->local_domains = strset_new();
	t->exempt_senders = domain_set_new();
	t->exempt_recipients = strset_new();
	t->overrides = strset_new();
	return t;
}

static void tables_free(void *snapshot)
{
	struct milter_tables *t = snapshot;

	for (size_t i = 0; i < t->domain_count; i++) {
		struct signing_domain *d = t->domains[i];

		for (size_t k = 0; k < d->count; k++) {
			dkim_signkey_free(&d->keys[k].key);
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
	strset_free(&t->local_domains);
	free(t->exempt_networks.items);
	domain_set_free(&t->exempt_senders);
	strset_free(&t->exempt_recipients);
	for (size_t i = 0; i < t->override_count; i++)
		free(t->override_list[i]);
	free(t->override_list);
	strset_free(&t->overrides);
	free(t->network_overrides);
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
	if (dkim_signkey_load(path, 0, &k->key, err, sizeof(err)) < 0) {
		k->problem = xstrdup(err);
		log_error("milter: DKIM key %s for %s: %s (its mail gets key_error_action)",
			  selector, d->domain, err);
	}
}

static void add_lowercase(struct strset *set, const char *s)
{
	char *copy = lowercase_copy(s);

	strset_add(set, copy, strlen(copy));
	free(copy);
}

static void add_forwarded(struct milter_tables *t, const char *address)
{
	add_lowercase(t->forwarded, address);
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

static int domain_row(const struct db_row *row, void *arg)
{
	struct milter_tables *t = arg;

	if (row->values[0] != NULL)
		add_lowercase(t->local_domains, row->values[0]);
	return 0;
}

static void add_exempt_network(struct milter_tables *t, const char *text)
{
	struct cidr net;
	const char *why;

	if (cidr_parse(text, &net, &why) < 0) {
		log_warning("milter: greylist exemption %s: %s; ignored", text, why);
		return;
	}
	t->exempt_networks.items = xgrow(t->exempt_networks.items, &t->exempt_network_cap,
					 t->exempt_networks.count + 1, sizeof(net));
	t->exempt_networks.items[t->exempt_networks.count++] = net;
}

/* example.org exempts its subdomains as well. */
static void add_exempt_sender(struct milter_tables *t, const char *domain)
{
	char sub[ADDR_DOMAIN_MAX + 2];
	const char *why;

	if (domain_set_add(t->exempt_senders, domain, &why) < 0 ||
	    snprintf(sub, sizeof(sub), ".%s", domain) >= (int)sizeof(sub) ||
	    domain_set_add(t->exempt_senders, sub, &why) < 0)
		log_warning("milter: greylist exemption %s: not a domain; ignored", domain);
}

static int exemption_row(const struct db_row *row, void *arg)
{
	struct milter_tables *t = arg;
	const char *kind = row->values[0], *value = row->values[1];

	if (kind == NULL || value == NULL)
		return 0;
	if (strcmp(kind, "client_network") == 0)
		add_exempt_network(t, value);
	else if (strcmp(kind, "sender_domain") == 0)
		add_exempt_sender(t, value);
	else if (strcmp(kind, "recipient") == 0)
		add_lowercase(t->exempt_recipients, value);
	return 0;
}

void tables_add_override(struct milter_tables *t, const char *type, const char *entity,
			 enum rep_override decision, int64_t expires_s)
{
	struct override o = { decision, expires_s };
	char key[32 + ADDR_DOMAIN_MAX];
	struct cidr net;
	const char *why;

	if (strcmp(type, "network") == 0) {
		if (cidr_parse(entity, &net, &why) < 0)
			return;
		t->network_overrides = xgrow(t->network_overrides, &t->network_override_cap,
					     t->network_override_count + 1,
					     sizeof(*t->network_overrides));
		t->network_overrides[t->network_override_count++] = (struct network_override){ net, o };
		return;
	}
	if (snprintf(key, sizeof(key), "%s:%s", type, entity) >= (int)sizeof(key))
		return;
	t->override_list = xgrow(t->override_list, &t->override_cap, t->override_count + 1,
				 sizeof(*t->override_list));
	t->override_list[t->override_count] = xcalloc(1, sizeof(o));
	*t->override_list[t->override_count] = o;
	strset_put(t->overrides, key, strlen(key), t->override_list[t->override_count++]);
}

static int override_row(const struct db_row *row, void *arg)
{
	const char *type = row->values[0], *entity = row->values[1], *decision = row->values[2];
	const char *left = row->values[3];
	long long seconds = 0;

	if (type == NULL || entity == NULL || decision == NULL)
		return 0;
	/* seconds to the expiry (below 0: past), bounded so the sum cannot overflow */
	if (left != NULL && number_parse_str(left, -OVERRIDE_LEFT_MAX_S, OVERRIDE_LEFT_MAX_S,
					     &seconds) == NUMBER_INVALID)
		return 0;
	tables_add_override(arg, type, entity, strcmp(decision, "block") == 0 ? OVERRIDE_BLOCK
			    : OVERRIDE_ALLOW, left != NULL ? clock_wall_s() + seconds : 0);
	return 0;
}

static const char domains_sql[] = "SELECT name FROM domains";
static const char exemptions_sql[] = "SELECT kind, value FROM greylist";
/* Seconds left rather than a time: the database's clock decides expiry. */
static const char overrides_sql[] =
	"SELECT entity_type, entity, override, "
	"TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), override_expires_at) FROM reputations "
	"WHERE override <> 'none' AND (override_expires_at IS NULL OR "
	"override_expires_at > UTC_TIMESTAMP())";

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
	    db_query(db, forwarded_sql, NULL, 0, forwarded_row, t) != DB_OK ||
	    db_query(db, domains_sql, NULL, 0, domain_row, t) != DB_OK ||
	    db_query(db, exemptions_sql, NULL, 0, exemption_row, t) != DB_OK ||
	    db_query(db, overrides_sql, NULL, 0, override_row, t) != DB_OK) {
		snprintf(err, errlen, "reading dkim_keys, redirects, aliases, domains, greylist and "
			 "reputations: %s", db_error(db));
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
		add_lowercase(t->local_domains, domain);
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
	log_info("milter: tables loaded: %zu signing domains, %zu forwarded addresses, "
		 "%zu greylisting exemptions, %zu reputation overrides", domains, forwarded,
		 t->exempt_networks.count + domain_set_count(t->exempt_senders) / 2 +
		 strset_count(t->exempt_recipients), t->override_count + t->network_override_count);
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

	section = s;
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

bool tables_is_local_domain(const struct milter_tables *tables, const char *domain)
{
	return strset_contains(tables->local_domains, domain, strlen(domain));
}

bool tables_exempt_network(const struct milter_tables *tables, const struct ip_addr *client)
{
	return cidr_list_contains(&section->greylist_exempt_networks, client) ||
	       cidr_list_contains(&tables->exempt_networks, client);
}

bool tables_exempt_sender_domain(const struct milter_tables *tables, const char *spf_domain)
{
	const struct config_strings *listed = &section->greylist_exempt_senders;

	for (size_t i = 0; i < listed->count; i++)
		if (domain_is_within(spf_domain, listed->items[i]))
			return true;
	return domain_set_contains(tables->exempt_senders, spf_domain, strlen(spf_domain));
}

bool tables_exempt_recipient(const struct milter_tables *tables, const char *rcpt)
{
	const struct config_strings *listed = &section->greylist_exempt_recipients;
	char *r = lowercase_copy(rcpt);
	bool found = strset_contains(tables->exempt_recipients, r, strlen(r));

	for (size_t i = 0; i < listed->count && !found; i++)
		found = strcasecmp(listed->items[i], r) == 0;
	free(r);
	return found;
}

static bool in_force(const struct override *o, int64_t now_s)
{
	return o->decision != OVERRIDE_NONE && (o->expires_s == 0 || o->expires_s > now_s);
}

enum rep_override tables_override(const struct milter_tables *tables, enum rep_type type,
				  const char *entity, int64_t now_s)
{
	enum rep_override found = OVERRIDE_NONE;
	char key[32 + ADDR_DOMAIN_MAX];
	const struct override *o;
	struct ip_addr ip;

	if (type == REP_NETWORK) {
		if (ip_parse(entity, &ip) < 0)
			return OVERRIDE_NONE;
		for (size_t i = 0; i < tables->network_override_count; i++) {
			const struct network_override *n = &tables->network_overrides[i];

			if (in_force(&n->o, now_s) && cidr_contains(&n->net, &ip))
				found = override_stronger(found, n->o.decision);
		}
		return found;
	}
	if (snprintf(key, sizeof(key), "%s:%s", rep_type_name(type), entity) >= (int)sizeof(key))
		return OVERRIDE_NONE;
	o = strset_get(tables->overrides, key, strlen(key));
	return o != NULL && in_force(o, now_s) ? o->decision : OVERRIDE_NONE;
}
