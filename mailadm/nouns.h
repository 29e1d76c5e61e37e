/*
 * nouns.h - every mailadm command table, and the small queries several
 * nouns share.
 */
#ifndef LIMRISTEM_MAILADM_NOUNS_H
#define LIMRISTEM_MAILADM_NOUNS_H

#include <stdbool.h>

#include "mailadm/cli.h"

#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

extern const struct cli_command db_commands[];
extern const struct cli_command domain_commands[];
extern const struct cli_command account_commands[];
extern const struct cli_command alias_commands[];
extern const struct cli_command redirect_commands[];
extern const struct cli_command trap_commands[];
extern const struct cli_command greylist_commands[];
extern const struct cli_command reputation_commands[];
extern const struct cli_command blocklist_commands[];
extern const struct cli_command trusted_reply_commands[];
extern const struct cli_command learn_commands[];
extern const struct cli_command dkim_commands[];
extern const struct cli_command dns_commands[];
extern const struct cli_command dmarc_report_commands[];
extern const struct cli_command config_commands[];

/* Calls fn for each published (pending, active, retiring) DKIM key of a
 * domain (dkim.c); returns how many, or -1 on a database error. */
typedef void dkim_published_fn(const char *selector, bool ed25519, const char *state,
			       const char *public_key, void *arg);
int dkim_for_each_published(struct cli *cli, const char *domain, dkim_published_fn *fn, void *arg);

/* The first column of the first row as a number; -1 on a database error. */
long long count_where(struct cli *cli, const char *sql, const struct db_param *params, size_t n);
#define count_rows(cli, sql, param) count_where((cli), (sql), (struct db_param[]){ DB_STR(param) }, 1)
bool domain_exists(struct cli *cli, const char *name);

struct field;
/* Runs a query and prints its rows (columns in field order) as a table or
 * a JSON array. what names the listing in an error. */
int list_rows(struct cli *cli, const struct field *fields, size_t field_count, const char *sql,
	      const struct db_param *params, size_t n, const char *what);
/* The same for one record; EXIT_NOT_FOUND with "NAME: not_found" when the
 * query returns nothing. */
int show_row(struct cli *cli, const struct field *fields, size_t field_count, const char *sql,
	     const struct db_param *params, size_t n, const char *name, const char *not_found);
/* Fails with EXIT_NOT_FOUND (and a hint) unless the domain exists. */
int require_domain(struct cli *cli, const char *name);

#endif
