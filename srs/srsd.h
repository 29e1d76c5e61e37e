/*
 * srsd.h - limristem-srsd's settings and the pieces main.c wires together.
 */
#ifndef LIMRISTEM_SRSD_H
#define LIMRISTEM_SRSD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/daemon.h"
#include "common/settings.h"
#include "srs/srs.h"

struct srsd_section {
	struct daemon_settings daemon;
	char *domain;			/* the SRS domain */
	char *secrets_file;
	long long hash_length;
	long long hash_minimum;
	char *separator;
	int hash_alphabet;		/* index into srsd_hash_alphabets */
	long long max_age_ms;
	char *domains_file;		/* local domains when no database is configured */
	long long domains_refresh_ms;	/* full reload of the local domains */
	long long change_check_ms;	/* how often to look for changes by mailadm */
	long long idle_timeout_ms;	/* no complete request for this long: closed */
	long long read_timeout_ms;	/* a request whole within this long of its first byte */
	long long write_timeout_ms;	/* answers taken within this long */
	long long max_connections;
	long long max_request_size;
};

struct srsd_settings {
	struct common_settings common;
	struct srsd_section srsd;
};

extern const struct config_section srsd_config_sections[];
extern const char *const srsd_hash_alphabets[];	/* "base64url", "base64" */

/* The secrets file: one secret per line, the first signs. */
struct srs_keys {
	char **secrets;
	size_t count;
	struct srs srs;
};

/* Reads the secrets and fills keys->srs from the settings. 0, or -1 with err. */
int srs_keys_load(const struct srsd_section *s, struct srs_keys *keys, char *err, size_t errlen);
void srs_keys_clear(struct srs_keys *keys);

#endif
