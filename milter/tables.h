/*
 * tables.h - what the milter reads from the database (or, with none
 * configured, from its own configuration section): the DKIM keys that
 * sign each domain's outbound mail, and the local addresses whose mail is
 * forwarded to an external address (that mail gets an ARC seal); our
 * own domains; who is exempt from greylisting (the greylist table and
 * the greylist_exempt_* settings); and the operator's reputation
 * overrides (mailadm reputation set), which take effect at the next
 * change check.
 *
 * A snapshot is built whole by a loader thread (common/table_source.h:
 * every change_check it looks at mailadm's change counter, reloads on a
 * change, at least every tables_refresh, and on SIGHUP-free demand), then
 * swapped in under a lock. Message threads take a reference with
 * tables_get() and drop it with tables_put(); a snapshot is freed when
 * the last reference goes. Keys are parsed once per load, never per
 * message. A key that cannot be loaded stays in the snapshot with the
 * reason, so mail of its domain gets key_error_action, never silently
 * no signature.
 */
#ifndef LIMRISTEM_MILTER_TABLES_H
#define LIMRISTEM_MILTER_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cidr.h"
#include "common/reputation.h"
#include "mailauth/dkim_signkey.h"

struct milter_settings;

#define TABLES_KEYS_PER_DOMAIN_MAX 4	/* one active key per algorithm, with room */

struct signing_key {
	char *selector;
	char *path;
	struct dkim_signkey *key;		/* NULL when it could not be loaded */
	char *problem;			/* then: why, naming the file */
};

struct signing_domain {
	char *domain;			/* lowercase, the d= tag */
	size_t count;
	struct signing_key keys[TABLES_KEYS_PER_DOMAIN_MAX];
};

struct milter_tables;

/* Before privileges are dropped: checks the configuration's entries and
 * reads the database password. 0, or -1 with err (a bad signing_keys
 * entry, say). */
int tables_open(const struct milter_settings *settings, char *err, size_t errlen);
/* As the service user (who must be able to read the keys): loads the
 * first snapshot (a database that cannot be reached leaves an empty one,
 * and the loader keeps trying) and starts the loader thread. */
int tables_start(char *err, size_t errlen);
void tables_stop(void);
/* Reload now, from any thread. */
void tables_reload(void);

/* The current snapshot, referenced; never NULL after tables_start(). */
struct milter_tables *tables_get(void);
void tables_put(struct milter_tables **tables);

/* The keys of domain (lowercase), or NULL when it has none. */
const struct signing_domain *tables_signing_domain(const struct milter_tables *tables,
						   const char *domain);
/* Whether mail to rcpt ("user@domain", any case) is forwarded outside:
 * a redirect or alias of that address, or a catch-all alias of its domain,
 * with an external destination. */
bool tables_is_forwarded(const struct milter_tables *tables, const char *rcpt);
/* True when domain (lowercase) is one of ours: the domains table, or
 * without a database the domains with signing keys. */
bool tables_is_local_domain(const struct milter_tables *tables, const char *domain);

enum greylist_exemption { EXEMPT_NONE, EXEMPT_NETWORK, EXEMPT_SENDER_DOMAIN, EXEMPT_RECIPIENT };
/* Exemptions from the database and the configuration. */
bool tables_exempt_network(const struct milter_tables *tables, const struct ip_addr *client);
/* spf_domain: the SPF-validated sender domain; it or a parent is listed. */
bool tables_exempt_sender_domain(const struct milter_tables *tables, const char *spf_domain);
bool tables_exempt_recipient(const struct milter_tables *tables, const char *rcpt);

/* Ordered: where several apply, a block wins over an allow. */
enum rep_override { OVERRIDE_NONE, OVERRIDE_ALLOW, OVERRIDE_BLOCK };

static inline enum rep_override override_stronger(enum rep_override a, enum rep_override b)
{
	return a > b ? a : b;
}
/* The operator's decision on an entity still in force at now_s. For
 * REP_NETWORK entity is the client IP, matched against every network
 * with an override (a block wins over an allow). */
enum rep_override tables_override(const struct milter_tables *tables, enum rep_type type,
				  const char *entity, int64_t now_s);

/* Adds the operator's decision on an entity to a snapshot, as a row of
 * the reputations table does: type "ip", "network" (entity a CIDR),
 * "spf_domain" or "dkim_domain"; expires_s 0 for never. Only while the
 * snapshot is being loaded, or in a unit test (which has no database)
 * before any check reads it. */
void tables_add_override(struct milter_tables *tables, const char *type, const char *entity,
			 enum rep_override decision, int64_t expires_s);

/* How many domains have keys, how many addresses forward: for the log. */
void tables_counts(const struct milter_tables *tables, size_t *domains_r, size_t *forwarded_r);

#endif
