/*
 * settings.c - the milter section of limristem.conf, declared once.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/addr.h"
#include "milter/milter.h"

static const char *const error_actions[] = { "tempfail", "accept", NULL };
static const char *const dmarc_actions[] = { "reject", "quarantine", "none", NULL };
/* in the order of enum dmarc_org_method and enum dmarc_pct0 (mailauth/dmarc.h) */
static const char *const dmarc_org_methods[] = { "tree-walk", "psl", NULL };
static const char *const dmarc_pct0_modes[] = { "testing", "ignore", NULL };
static const char *const fail_actions[] = { "none", "reject", NULL };
static const char *const unauthorized_actions[] = { "reject", "unsigned", NULL };
static const char *const key_error_actions[] = { "tempfail", "unsigned", NULL };

#define DAY (86400 * 1000LL)

#define S(f) offsetof(struct milter_section, f)
static const struct config_option milter_options[] = {
	DAEMON_CONFIG_OPTIONS(struct milter_section, daemon,
			      "[ \"unix:/var/spool/postfix/limristem/milter.sock\" ]", "\"\""),
	{ .name = "authserv_id", .type = CONFIG_STRING, .offset = S(authserv_id),
	  .default_value = "\"\"", .max = 253,
	  .help = "the authserv-id of our Authentication-Results; empty for the host name" },
	{ .name = "internal_networks", .type = CONFIG_CIDR_LIST, .offset = S(internal_networks),
	  .default_value = "[ \"127.0.0.0/8\", \"::1/128\" ]",
	  .help = "clients whose mail is outbound (signed, not verified), like authenticated ones" },
	{ .name = "trusted_arc_sealers", .type = CONFIG_STRING_LIST, .offset = S(trusted_arc_sealers),
	  .default_value = "[]",
	  .help = "domains (ARC-Seal d=) whose passing chains may turn a DMARC failure into an accept" },
	{ .name = "dmarc_reject_action", .type = CONFIG_ENUM, .offset = S(dmarc_reject_action),
	  .default_value = "\"reject\"", .choices = dmarc_actions,
	  .help = "a DMARC failure under p=reject: reject (550 5.7.1), quarantine (hold queue) or none" },
	{ .name = "dmarc_quarantine_action", .type = CONFIG_ENUM, .offset = S(dmarc_quarantine_action),
	  .default_value = "\"quarantine\"", .choices = dmarc_actions,
	  .help = "a DMARC failure under p=quarantine: quarantine (hold queue), reject or none" },
	{ .name = "dmarc_org_domain", .type = CONFIG_ENUM, .offset = S(dmarc_org_domain),
	  .default_value = "\"tree-walk\"", .choices = dmarc_org_methods,
	  .help = "how DMARC finds organizational domains: tree-walk (RFC 9989's DNS tree walk) "
		  "or psl (RFC 7489's public suffix list, for compatibility)" },
	{ .name = "dmarc_pct0", .type = CONFIG_ENUM, .offset = S(dmarc_pct0),
	  .default_value = "\"testing\"", .choices = dmarc_pct0_modes,
	  .help = "a DMARC record with the historic pct=0 and no t=: testing (as t=y: the policy "
		  "one level lower, as RFC 7489 applied it) or ignore (RFC 9989: the policy as is)" },
	{ .name = "spf_fail_action", .type = CONFIG_ENUM, .offset = S(spf_fail_action),
	  .default_value = "\"none\"", .choices = fail_actions,
	  .help = "SPF fail for MAIL FROM: none (DMARC decides) or reject (550 5.7.23)" },
	{ .name = "dns_error_action", .type = CONFIG_ENUM, .offset = S(dns_error_action),
	  .default_value = "\"accept\"", .choices = error_actions,
	  .help = "SPF or DMARC could not be decided for a DNS failure: accept (with temperror) or tempfail" },
	{ .name = "refuse_bad_from", .type = CONFIG_BOOL, .offset = S(refuse_bad_from),
	  .default_value = "true",
	  .help = "refuse mail without exactly one From mailbox (a DMARC bypass) with 550 5.7.1" },
	{ .name = "internal_error_action", .type = CONFIG_ENUM, .offset = S(internal_error_action),
	  .default_value = "\"tempfail\"", .choices = error_actions,
	  .help = "what a message gets when the filter itself fails" },
	{ .name = "min_rsa_bits", .type = CONFIG_INT, .offset = S(min_rsa_bits),
	  .default_value = "1024", .min = 512, .max = 8192,
	  .help = "smaller RSA keys never verify (RFC 8301)" },
	{ .name = "dns_budget", .type = CONFIG_DURATION, .offset = S(dns_budget_ms),
	  .default_value = "\"10s\"", .min = 100, .max = 10 * 60 * 1000LL,
	  .help = "time a message's DKIM, ARC and DMARC lookups may take together; later "
		  "lookups answer a temporary error (DKIM and DMARC temperror)" },
	{ .name = "timeout", .type = CONFIG_DURATION, .offset = S(timeout_ms),
	  .default_value = "\"7200s\"", .min = 1000, .max = 86400 * 1000LL,
	  .help = "how long to wait for Postfix between milter commands" },
	{ .name = "event_loops", .type = CONFIG_INT, .offset = S(event_loops),
	  .default_value = "0", .min = 0, .max = 256,
	  .help = "event loops (threads) serving Postfix's connections; 0 for one per CPU" },
	{ .name = "max_connections", .type = CONFIG_INT, .offset = S(max_connections),
	  .default_value = "1000", .min = 1, .max = 100000,
	  .help = "Postfix connections served at once (each smtpd process holds one); more are "
		  "closed, and Postfix applies milter_default_action" },
	{ .name = "memory_max", .type = CONFIG_SIZE, .offset = S(memory_max),
	  .default_value = "\"256M\"", .min = 1 << 20, .max = 1LL << 40,
	  .help = "bytes of messages' header fields and input held at once; past it new "
		  "messages get 451 4.3.2 until memory is freed" },
	{ .name = "signing_keys", .type = CONFIG_STRING_LIST, .offset = S(signing_keys),
	  .default_value = "[]",
	  .help = "without a database: \"DOMAIN SELECTOR KEYFILE\" for every key that signs "
		  "(with a database: mailadm dkim)" },
	{ .name = "signed_headers", .type = CONFIG_STRING_LIST, .offset = S(signed_headers),
	  .default_value = "[]",
	  .help = "header fields DKIM signatures cover; empty for RFC 6376's list, with From, "
		  "To, Subject, Date and the others a replay would abuse signed once more" },
	{ .name = "signature_expiry", .type = CONFIG_DURATION, .offset = S(signature_expiry_ms),
	  .default_value = "0", .min = 0, .max = 365 * DAY,
	  .help = "signatures expire (x=) this long after signing; 0 for never" },
	{ .name = "unauthorized_sender_action", .type = CONFIG_ENUM,
	  .offset = S(unauthorized_sender_action), .default_value = "\"reject\"",
	  .choices = unauthorized_actions,
	  .help = "an authenticated user sending as a domain that is not theirs: reject "
		  "(550 5.7.1) or send unsigned" },
	{ .name = "key_error_action", .type = CONFIG_ENUM, .offset = S(key_error_action),
	  .default_value = "\"tempfail\"", .choices = key_error_actions,
	  .help = "a domain's key cannot be used (missing, readable by others, broken): "
		  "tempfail (451 4.3.0) or send unsigned" },
	{ .name = "forwarded_recipients", .type = CONFIG_STRING_LIST, .offset = S(forwarded_recipients),
	  .default_value = "[]",
	  .help = "without a database: local addresses (\"@domain\" for all of one) whose "
		  "mail is forwarded outside and gets an ARC seal" },
	{ .name = "arc_seal_domain", .type = CONFIG_STRING, .offset = S(arc_seal_domain),
	  .default_value = "\"\"", .max = 253,
	  .help = "d= of our ARC seals; empty: forwarded mail is not sealed" },
	{ .name = "arc_seal_selector", .type = CONFIG_STRING, .offset = S(arc_seal_selector),
	  .default_value = "\"\"", .max = 63, .help = "s= of our ARC seals" },
	{ .name = "arc_seal_key", .type = CONFIG_STRING, .offset = S(arc_seal_key),
	  .default_value = "\"\"", .max = 4095,
	  .help = "private key (PEM) of the sealing selector; not readable by others" },
	{ .name = "greylisting", .type = CONFIG_BOOL, .offset = S(greylisting),
	  .default_value = "true",
	  .help = "defer the first message of an unknown (network or SPF domain, sender, recipient) "
		  "triplet with 451 4.7.1 until it is retried" },
	{ .name = "greylist_delay", .type = CONFIG_DURATION, .offset = S(greylist_delay_ms),
	  .default_value = "\"300s\"", .min = 1000, .max = DAY,
	  .help = "a retry sooner than this after the first attempt is deferred again (postgrey: 300s)" },
	{ .name = "greylist_retry_window", .type = CONFIG_DURATION, .offset = S(greylist_retry_window_ms),
	  .default_value = "\"2d\"", .min = 60 * 1000, .max = 30 * DAY,
	  .help = "a retry later than delay + this starts over (postgrey: 2 days)" },
	{ .name = "greylist_pass_lifetime", .type = CONFIG_DURATION, .offset = S(greylist_pass_lifetime_ms),
	  .default_value = "\"35d\"", .min = 3600 * 1000, .max = 365 * DAY,
	  .help = "a triplet that passed, and an origin's delivery count, are kept this long after "
		  "their last use (postgrey: 35 days)" },
	{ .name = "greylist_whitelist_after", .type = CONFIG_INT, .offset = S(greylist_whitelist_after),
	  .default_value = "5", .min = 0, .max = 1000,
	  .help = "deliveries after which an origin skips greylisting for every recipient; 0: never" },
	{ .name = "greylist_whitelist_interval", .type = CONFIG_DURATION,
	  .offset = S(greylist_whitelist_interval_ms), .default_value = "\"1h\"", .min = 0, .max = DAY,
	  .help = "deliveries from one origin closer together than this count once" },
	{ .name = "greylist_prefix_v4", .type = CONFIG_INT, .offset = S(greylist_prefix_v4),
	  .default_value = "24", .min = 8, .max = 32,
	  .help = "IPv4 clients are greylisted by this network (a provider retrying from its pool passes)" },
	{ .name = "greylist_prefix_v6", .type = CONFIG_INT, .offset = S(greylist_prefix_v6),
	  .default_value = "64", .min = 16, .max = 128,
	  .help = "IPv6 clients are greylisted by this network" },
	{ .name = "greylist_exempt_networks", .type = CONFIG_CIDR_LIST,
	  .offset = S(greylist_exempt_networks), .default_value = "[]",
	  .help = "clients never greylisted (with a database, also mailadm greylist add client-network)" },
	{ .name = "greylist_exempt_senders", .type = CONFIG_STRING_LIST,
	  .offset = S(greylist_exempt_senders), .default_value = "[]",
	  .help = "sender domains (and their subdomains) never greylisted when SPF validates them "
		  "(also mailadm greylist add sender-domain)" },
	{ .name = "greylist_exempt_recipients", .type = CONFIG_STRING_LIST,
	  .offset = S(greylist_exempt_recipients), .default_value = "[]",
	  .help = "recipients who opted out of greylisting (also mailadm greylist add recipient)" },
	{ .name = "reputation", .type = CONFIG_BOOL, .offset = S(reputation), .default_value = "true",
	  .help = "score inbound mail by the reputation of where it comes from and its authentication, "
		  "and learn from what happens to it" },
	{ .name = "reputation_halflife", .type = CONFIG_DURATION, .offset = S(reputation_halflife_ms),
	  .default_value = "\"14d\"", .min = 3600 * 1000, .max = 365 * DAY,
	  .help = "a message counted this long ago weighs half in an entity's reputation" },
	{ .name = "reputation_lifetime", .type = CONFIG_DURATION, .offset = S(reputation_lifetime_ms),
	  .default_value = "\"90d\"", .min = DAY, .max = 3 * 365 * DAY,
	  .help = "an entity not seen for this long is forgotten in Redis (the database keeps its history)" },
	{ .name = "reputation_flush", .type = CONFIG_DURATION, .offset = S(reputation_flush_ms),
	  .default_value = "\"30s\"", .min = 100, .max = 3600 * 1000,
	  .help = "counters and trusted replies are written to the database in batches this often" },
	{ .name = "spam_header_score", .type = CONFIG_INT, .offset = S(spam_header_score),
	  .default_value = "5", .min = 0, .max = 1000,
	  .help = "from this score on, X-Spam-Score and X-Spam-Status: Yes are added; 0: never" },
	{ .name = "greylist_score", .type = CONFIG_INT, .offset = S(greylist_score),
	  .default_value = "8", .min = 0, .max = 1000,
	  .help = "from this score on, a message not delayed by greylisting yet is deferred like a "
		  "new triplet; 0: never" },
	{ .name = "reject_score", .type = CONFIG_INT, .offset = S(reject_score),
	  .default_value = "12", .min = 0, .max = 1000,
	  .help = "from this score on, the message is refused with 550 5.7.1; 0: never" },
	{ .name = "good_reputation_score", .type = CONFIG_INT, .offset = S(good_reputation_score),
	  .default_value = "-3", .min = -1000, .max = 0,
	  .help = "a client whose score before the message (IP, network, SPF domain) is at or below "
		  "this is not greylisted" },
	{ .name = "trusted_reply_lifetime", .type = CONFIG_DURATION,
	  .offset = S(trusted_reply_lifetime_ms), .default_value = "\"60d\"", .min = DAY,
	  .max = 3 * 365 * DAY,
	  .help = "replies from an address our user wrote to skip greylisting for this long after "
		  "the last message to it" },
	{ .name = "memory_state_max", .type = CONFIG_INT, .offset = S(memory_state_max),
	  .default_value = "1000000", .min = 1000, .max = 100000000,
	  .help = "without Redis: greylisting and reputation entries kept in memory (one node only)" },
	{ .name = "tables_refresh", .type = CONFIG_DURATION, .offset = S(tables_refresh_ms),
	  .default_value = "\"10m\"", .min = 10 * 1000, .max = DAY,
	  .help = "reload signing keys and forwarded addresses at least this often" },
	{ .name = "change_check", .type = CONFIG_DURATION, .offset = S(change_check_ms),
	  .default_value = "\"5s\"", .min = 100, .max = 3600 * 1000,
	  .help = "how often to look for changes made by mailadm" },
	{ .name = NULL },
};

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static const char *check_section(const void *settings)
{
	const struct milter_section *s = settings;

	if (s->arc_seal_domain[0] != '\0' && (s->arc_seal_selector[0] == '\0' || s->arc_seal_key[0] == '\0'))
		return "arc_seal_domain: needs arc_seal_selector and arc_seal_key";
	for (size_t i = 0; i < s->greylist_exempt_senders.count; i++) {
		const char *d = s->greylist_exempt_senders.items[i], *why;

		if (domain_check(d, strlen(d), ADDR_ALLOW_UNDERSCORE, &why) < 0 || has_upper(d))
			return "greylist_exempt_senders: every entry is a domain, in lowercase";
	}
	for (size_t i = 0; i < s->greylist_exempt_recipients.count; i++)
		if (strchr(s->greylist_exempt_recipients.items[i], '@') == NULL)
			return "greylist_exempt_recipients: every entry is an address (user@domain)";
	if (s->reject_score != 0 && s->spam_header_score >= s->reject_score)
		return "reject_score: must be above spam_header_score (or 0 for no rejection)";
	if (s->greylist_score != 0 && s->reject_score != 0 && s->greylist_score >= s->reject_score)
		return "greylist_score: must be below reject_score (or 0 for no greylisting by score)";
	return NULL;
}

const struct config_section milter_config_sections[] = {
	CONFIG_COMMON_SECTIONS(struct milter_settings, common),
	CONFIG_LEARNING_SECTION(struct milter_settings, learning),
	{ "milter", milter_options, offsetof(struct milter_settings, milter), check_section },
	{ NULL, NULL, 0, NULL },
};
