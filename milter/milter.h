/*
 * milter.h - limristem-milter's settings, and the context every check of
 * the daemon is given (struct milter_context): the settings, the shared
 * checkers, the state store and the metrics, built once by main.c and
 * read-only afterwards, so that the decision code reads no global and a
 * unit test can give it a context of its own.
 */
#ifndef LIMRISTEM_MILTER_MILTER_H
#define LIMRISTEM_MILTER_MILTER_H

#include <stdbool.h>

#include "common/cidr.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/dns.h"
#include "common/metrics.h"
#include "common/secret.h"
#include "common/settings.h"
#include "mailauth/dkim_signkey.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/dmarc.h"
#include "mailauth/spf.h"

enum milter_error_action { MILTER_ERROR_TEMPFAIL, MILTER_ERROR_ACCEPT };
enum milter_dmarc_action { MILTER_DMARC_REJECT, MILTER_DMARC_QUARANTINE, MILTER_DMARC_NONE };
enum milter_fail_action { MILTER_FAIL_NONE, MILTER_FAIL_REJECT };
enum milter_unauthorized_action { MILTER_UNAUTHORIZED_REJECT, MILTER_UNAUTHORIZED_UNSIGNED };
enum milter_key_error_action { MILTER_KEY_ERROR_TEMPFAIL, MILTER_KEY_ERROR_UNSIGNED };

struct milter_section {
	struct daemon_settings daemon;
	char *authserv_id;		/* "" for the host name */
	struct cidr_list internal_networks;
	struct config_strings trusted_arc_sealers;	/* their chains may override DMARC */
	int dmarc_reject_action;	/* enum milter_dmarc_action, for p=reject */
	int dmarc_quarantine_action;	/* enum milter_dmarc_action, for p=quarantine */
	int dmarc_org_domain;		/* enum dmarc_org_method: tree walk or PSL */
	int dmarc_pct0;			/* enum dmarc_pct0: pct=0 records as t=y, or not */
	int spf_fail_action;		/* enum milter_fail_action */
	int dns_error_action;		/* enum milter_error_action */
	bool refuse_bad_from;		/* no From, several From, several mailboxes */
	int internal_error_action;	/* enum milter_error_action */
	long long min_rsa_bits;
	long long timeout_ms;		/* the MTA's silence before a connection is closed */
	long long event_loops;		/* 0: one per CPU */
	long long max_connections;	/* MTA connections over all loops */
	long long memory_max;		/* bytes buffered over all connections */
	long long dns_budget_ms;	/* a message's DKIM, ARC and DMARC lookups, together */

	/* outbound: DKIM signing */
	struct config_strings signing_keys;	/* "DOMAIN SELECTOR KEYFILE", without a database */
	struct config_strings signed_headers;	/* empty: dkim_sign's default */
	long long signature_expiry_ms;	/* x= after t=; 0: none */
	int unauthorized_sender_action;	/* enum milter_unauthorized_action */
	int key_error_action;		/* enum milter_key_error_action */

	/* inbound mail forwarded outside: ARC sealing */
	struct config_strings forwarded_recipients;	/* without a database */
	char *arc_seal_domain;		/* "": no sealing */
	char *arc_seal_selector;
	char *arc_seal_key;

	/* inbound: greylisting at RCPT */
	bool greylisting;
	long long greylist_delay_ms;
	long long greylist_retry_window_ms;
	long long greylist_pass_lifetime_ms;
	long long greylist_whitelist_after;	/* deliveries; 0: no automatic whitelist */
	long long greylist_whitelist_interval_ms;
	long long greylist_prefix_v4, greylist_prefix_v6;
	struct cidr_list greylist_exempt_networks;	/* with the database's greylist table */
	struct config_strings greylist_exempt_senders;	/* domains, SPF-validated */
	struct config_strings greylist_exempt_recipients;

	/* inbound: reputation and score */
	bool reputation;
	long long reputation_halflife_ms;
	long long reputation_lifetime_ms;
	long long reputation_flush_ms;	/* counters written to the database this often */
	long long spam_header_score;	/* whole points; 0 turns an action off */
	long long greylist_score;
	long long reject_score;
	long long good_reputation_score;	/* at or below: never greylisted */
	long long trusted_reply_lifetime_ms;
	long long memory_state_max;	/* keys kept in memory when there is no Redis */

	long long tables_refresh_ms;	/* keys and forwarded addresses reloaded this often */
	long long change_check_ms;	/* mailadm's changes looked for this often */
};

struct milter_settings {
	struct common_settings common;
	struct learning_settings learning;
	struct milter_section milter;
};

extern const struct config_section milter_config_sections[];

/* What greylisting did with a recipient (metrics and logs). */
enum greylist_result {
	GREYLIST_RESULT_DEFERRED, GREYLIST_RESULT_DEFERRED_EARLY, GREYLIST_RESULT_PASSED_RETRY,
	GREYLIST_RESULT_PASSED, GREYLIST_RESULT_WHITELISTED, GREYLIST_RESULT_EXEMPT,
	GREYLIST_RESULT_TRUSTED_REPLY, GREYLIST_RESULT_UNAVAILABLE,
};
#define GREYLIST_RESULTS (GREYLIST_RESULT_UNAVAILABLE + 1)

/* What every check is given; read-only once mail flows. */
struct milter_context {
	const struct milter_section *settings;
	char authserv_id[256];
	struct dns *dns;		/* blocking; each event loop has its own asynchronous one */
	struct dkim_verify_lib *dkim_lib;
	struct spf_checker *spf;
	struct dmarc_checker *dmarc;
	struct dkim_signkey *seal_key;	/* NULL: forwarded mail is not sealed */
	struct metric *messages[4];	/* by outcome: accepted, rejected, tempfailed, quarantined */
	struct metric *arc_results[3];	/* none, pass, fail */
	struct metric *dkim_results[DKIM_RESULT_PERMERROR + 1];	/* per signature */
	struct metric *spf_results[SPF_PERMERROR + 1];	/* MAIL FROM identity */
	struct metric *dmarc_results[DMARC_RESULT_PERMERROR + 1];
	struct metric *bad_from;
	struct metric *removed_fields[3];	/* forged A-R, forged AAR, foreign verdicts */
	struct metric *signed_messages, *unsigned_messages, *sealed_messages, *unsealed_messages;
	struct metric *latency;
	struct metric *internal_errors;

	/* greylisting and reputation */
	struct redis *redis;		/* NULL: state in memory */
	struct store *store;		/* NULL when both are off */
	struct writeback *writeback;	/* NULL without a database */
	struct rep_flush *rep_flush;
	struct metric *greylist[GREYLIST_RESULTS];	/* by enum greylist_result */
	struct metric *score_actions[4];	/* by enum score_action */
	struct metric *trusted_recorded;
	struct secret_list trace_keys;	/* learning.secrets_file; the first signs traces */
};

/* Registers the context's metrics in m (context.c). */
void milter_context_metrics(struct milter_context *mc, struct metrics *m);
/* The DMARC checker of milter.dmarc_org_domain and milter.dmarc_pct0 (context.c). */
struct dmarc_checker *milter_dmarc_checker_new(const struct milter_section *s, char *err,
					       size_t errlen);

#endif
