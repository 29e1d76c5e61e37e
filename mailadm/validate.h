/*
 * validate.h - mailadm's checks on what the operator typed, before any
 * write. Each prints "mailadm: NOUN VERB: "VALUE": rule" and returns
 * EXIT_BAD_INPUT, or EXIT_OK with the normalized form in the output.
 */
#ifndef LIMRISTEM_MAILADM_VALIDATE_H
#define LIMRISTEM_MAILADM_VALIDATE_H

#include <stddef.h>

#include "common/addr.h"
#include "mailadm/cli.h"

/* A domain we host or publish records for: IDN converted to A-labels,
 * lowercase, at least two labels. */
int valid_domain(struct cli *cli, const char *input, char out[ADDR_DOMAIN_MAX + 1]);

/* An address in one of our domains: lowercase dot-atom local part (what
 * Postfix and Dovecot look up), domain as above. allow_catch_all accepts
 * "@domain" (empty local part). */
int valid_local_address(struct cli *cli, const char *input, int allow_catch_all,
			char local[ADDR_LOCAL_MAX + 1], char domain[ADDR_DOMAIN_MAX + 1]);

/* Any deliverable address (a destination): RFC 5321 syntax and limits,
 * the domain normalized, the local part kept as typed. */
int valid_address(struct cli *cli, const char *input, char out[ADDR_MAX + 1]);

/* Writes local@domain into out; the pieces were validated, so this only
 * fails (-1) on a length the validation should have refused. */
int address_join(const char *local, const char *domain, char out[ADDR_MAX + 1]);

/* Free text for a description or a comment: UTF-8, no control
 * characters, at most max characters. */
int valid_text(struct cli *cli, const char *what, const char *input, size_t max);

#endif
