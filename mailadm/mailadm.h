/*
 * mailadm.h - mailadm's settings: the shared sections plus "mailadm".
 */
#ifndef LIMRISTEM_MAILADM_H
#define LIMRISTEM_MAILADM_H

#include "common/config.h"
#include "common/settings.h"

enum password_scheme { SCHEME_BLF_CRYPT, SCHEME_SHA512_CRYPT, SCHEME_YESCRYPT };
enum dmarc_policy { DMARC_NONE, DMARC_QUARANTINE, DMARC_REJECT };

struct mailadm_section {
	int password_scheme;		/* enum password_scheme */
	long long bcrypt_cost;
	long long sha512_rounds;
	long long password_min_length;
	long long password_min_classes;	/* of lower, upper, digit, other */
	long long generated_length;
	char *dkim_key_dir;
	char *dkim_key_group;
	long long dkim_rsa_bits;
	char *db_user;			/* "" : database.user */
	char *db_password_file;		/* "" : database.password_file */
	char *mx_host;			/* "" : this host's name */
	char *spf_record;
	int dmarc_policy;		/* enum dmarc_policy */
	char *report_address;		/* "" : postmaster@DOMAIN */
};

struct mailadm_settings {
	struct common_settings common;
	struct learning_settings learning;
	struct mailadm_section mailadm;
};

extern const struct config_section mailadm_config_sections[];
extern const char *const password_scheme_names[];	/* "BLF-CRYPT", ... */
extern const char *const dmarc_policy_names[];

#endif
