/*
 * password.h - account passwords: where they come from, the policy they
 * must meet, and the hash Dovecot verifies.
 *
 * Never from argv: from the terminal without echo (typed twice), from
 * standard input (one line), or generated and printed once.
 */
#ifndef LIMRISTEM_MAILADM_PASSWORD_H
#define LIMRISTEM_MAILADM_PASSWORD_H

#include <stddef.h>

#include "mailadm/cli.h"

#define PASSWORD_MAX 1024
#define PASSWORD_HASH_MAX 256

enum password_source { PASSWORD_PROMPT, PASSWORD_STDIN, PASSWORD_GENERATE };

/* Gets a password from source into buf (PASSWORD_MAX + 1 bytes); a
 * generated one is printed to stdout. EXIT_OK or an exit code. */
int password_obtain(struct cli *cli, enum password_source source, char *buf);

/* NULL when the password meets the configured policy, else why not. */
const char *password_policy_check(const struct mailadm_section *s, const char *password);

/* Writes "{SCHEME}hash" for the configured scheme to out
 * (PASSWORD_HASH_MAX bytes). 0, or -1 when hashing failed. */
int password_hash(const struct mailadm_section *s, const char *password, char *out);

#endif
