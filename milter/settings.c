/*
 * settings.c - the milter section of limristem.conf, declared once.
 */
#include "autoconfig.h"

#include "milter.h"

static const char *const error_actions[] = { "tempfail", "accept", NULL };
static const char *const dmarc_actions[] = { "reject", "quarantine", "none", NULL };
static const char *const fail_actions[] = { "none", "reject", NULL };

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
	{ .name = "timeout", .type = CONFIG_DURATION, .offset = S(timeout_ms),
	  .default_value = "\"7200s\"", .min = 1000, .max = 86400 * 1000LL,
	  .help = "how long to wait for Postfix between milter commands" },
	{ .name = NULL },
};

static const char *check_section(const void *settings)
{
	const struct milter_section *s = settings;

	if (s->daemon.listen.count != 1)
		return "listen: libmilter serves exactly one socket";
	return NULL;
}

const struct config_section milter_config_sections[] = {
	CONFIG_COMMON_SECTIONS(struct milter_settings, common),
	{ "milter", milter_options, offsetof(struct milter_settings, milter), check_section },
	{ NULL, NULL, 0, NULL },
};
