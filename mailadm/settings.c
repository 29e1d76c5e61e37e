/*
 * settings.c - the mailadm section of limristem.conf, declared once.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/addr.h"
#include "mailadm/mailadm.h"

static const char *check_address(const char *value)
{
	struct addr_parts parts;
	const char *why;

	return addr_parse(value, strlen(value), 0, &parts, &why) == 0 ? NULL : why;
}

const char *const password_scheme_names[] = { "BLF-CRYPT", "SHA512-CRYPT", "CRYPT", NULL };
const char *const dmarc_policy_names[] = { "none", "quarantine", "reject", NULL };

#define M(f) offsetof(struct mailadm_section, f)
static const struct config_option mailadm_options[] = {
	{ .name = "password_scheme", .type = CONFIG_ENUM, .offset = M(password_scheme),
	  .default_value = "\"BLF-CRYPT\"", .choices = password_scheme_names,
	  .help = "hash for new passwords: BLF-CRYPT (bcrypt), SHA512-CRYPT, CRYPT (yescrypt); "
		  "Dovecot verifies all three" },
	{ .name = "bcrypt_cost", .type = CONFIG_INT, .offset = M(bcrypt_cost), .default_value = "12",
	  .min = 10, .max = 16, .help = "bcrypt work factor (each step doubles the time)" },
	{ .name = "sha512_rounds", .type = CONFIG_INT, .offset = M(sha512_rounds),
	  .default_value = "500000", .min = 5000, .max = 9999999, .help = "SHA512-CRYPT rounds" },
	{ .name = "password_min_length", .type = CONFIG_INT, .offset = M(password_min_length),
	  .default_value = "12", .min = 8, .max = 1024, .help = "shortest password accepted" },
	{ .name = "password_min_classes", .type = CONFIG_INT, .offset = M(password_min_classes),
	  .default_value = "0", .min = 0, .max = 4,
	  .help = "how many of lowercase, uppercase, digits and other characters a password needs" },
	{ .name = "generated_length", .type = CONFIG_INT, .offset = M(generated_length),
	  .default_value = "20", .min = 12, .max = 128, .help = "length of --generate passwords" },
	{ .name = "dkim_key_dir", .type = CONFIG_STRING, .offset = M(dkim_key_dir),
	  .default_value = "\"" SYSCONFDIR_LIMRISTEM "/dkim\"", .max = 4000, .flags = CONFIG_REQUIRED,
	  .help = "where DKIM private keys are written (mode 0640, root and dkim_key_group)" },
	{ .name = "dkim_key_group", .type = CONFIG_STRING, .offset = M(dkim_key_group),
	  .default_value = "\"mailkeys\"", .max = 32, .flags = CONFIG_REQUIRED,
	  .help = "group that may read DKIM private keys (the milter's user is in it)" },
	{ .name = "dkim_rsa_bits", .type = CONFIG_INT, .offset = M(dkim_rsa_bits),
	  .default_value = "2048", .min = 1024, .max = 4096, .help = "default RSA key size" },
	{ .name = "db_user", .type = CONFIG_STRING, .offset = M(db_user), .default_value = "\"\"",
	  .max = 80, .help = "database user for mailadm (writes); empty: database.user" },
	{ .name = "db_password_file", .type = CONFIG_STRING, .offset = M(db_password_file),
	  .default_value = "\"\"", .max = 4095, .help = "its password file; empty: database.password_file" },
	{ .name = "mx_host", .type = CONFIG_STRING, .offset = M(mx_host), .default_value = "\"\"",
	  .max = 253, .help = "host name published as MX by \"mailadm dns\"; empty: this host's name" },
	{ .name = "spf_record", .type = CONFIG_STRING, .offset = M(spf_record),
	  .default_value = "\"v=spf1 mx -all\"", .max = 450, .help = "SPF record \"mailadm dns\" suggests" },
	{ .name = "dmarc_policy", .type = CONFIG_ENUM, .offset = M(dmarc_policy),
	  .default_value = "\"quarantine\"", .choices = dmarc_policy_names,
	  .help = "p= of the DMARC record \"mailadm dns\" suggests" },
	{ .name = "report_address", .type = CONFIG_STRING, .offset = M(report_address),
	  .default_value = "\"\"", .max = 254, .check = check_address,
	  .help = "where DMARC and TLS-RPT reports go; empty: postmaster@DOMAIN" },
	{ .name = NULL },
};

const struct config_section mailadm_config_sections[] = {
	CONFIG_COMMON_SECTIONS(struct mailadm_settings, common),
	CONFIG_LEARNING_SECTION(struct mailadm_settings, learning),
	{ "mailadm", mailadm_options, offsetof(struct mailadm_settings, mailadm), NULL },
	{ NULL, NULL, 0, NULL },
};
