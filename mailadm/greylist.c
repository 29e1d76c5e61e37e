/*
 * greylist.c - mailadm greylist add|list|del: who is never greylisted.
 *
 * Kinds: client-network (192.0.2.0/24, 2001:db8::/48, or one address),
 * sender-domain (example.org: mail from it and its subdomains) and
 * recipient (a local user who opts out). Values are stored canonically,
 * so "192.0.2.7" and "192.0.2.7/32" are the same exemption.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/cidr.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

#define COMMENT_MAX 255

static const struct field fields[] = {
	{ "kind", FIELD_TEXT }, { "value", FIELD_TEXT }, { "comment", FIELD_TEXT },
	{ "created_at", FIELD_TEXT },
};

static const struct {
	const char *cli, *db;
} kinds[] = {
	{ "client-network", "client_network" }, { "sender-domain", "sender_domain" },
	{ "recipient", "recipient" },
};

struct exemption {
	const char *kind;		/* as the database spells it */
	char value[ADDR_MAX + 1];
	const char *comment;
};

static int parse_kind(struct cli *cli, const char *input, const char **kind_r)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(input, kinds[i].cli) == 0 || strcmp(input, kinds[i].db) == 0) {
			*kind_r = kinds[i].db;
			return EXIT_OK;
		}
	}
	return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the kind is client-network, sender-domain or "
			"recipient", input);
}

static int parse_value(struct cli *cli, struct exemption *e, const char *input)
{
	struct cidr net;
	const char *why;

	if (strcmp(e->kind, "client_network") == 0) {
		if (cidr_parse(input, &net, &why) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
		cidr_format(&net, e->value, sizeof(e->value));
		return EXIT_OK;
	}
	if (strcmp(e->kind, "sender_domain") == 0)
		return valid_domain(cli, input, e->value);
	if (valid_address(cli, input, e->value) != EXIT_OK)
		return EXIT_BAD_INPUT;
	for (char *p = e->value; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return EXIT_OK;
}

static int parse_exemption(struct cli *cli, const struct cli_args *args, struct exemption *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	e->comment = cli_value(cli, args, "comment");
	if ((rc = parse_kind(cli, args->positional[0], &e->kind)) != EXIT_OK ||
	    (rc = parse_value(cli, e, args->positional[1])) != EXIT_OK ||
	    (e->comment && (rc = valid_text(cli, "--comment", e->comment, COMMENT_MAX))))
		return rc;
	return EXIT_OK;
}

static int insert_exemption(struct cli *cli, void *arg)
{
	struct exemption *e = arg;
	int ret = db_exec(cli->db, "INSERT INTO greylist (kind, value, comment) VALUES (?, ?, ?)",
			  (struct db_param[]){ DB_STR(e->kind), DB_STR(e->value),
					       DB_STR(e->comment ? e->comment : "") }, 3, NULL);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, e->value);
}

static int greylist_add(struct cli *cli, const struct cli_args *args)
{
	struct exemption e;
	int rc;

	if ((rc = parse_exemption(cli, args, &e)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, insert_exemption, &e)) == EXIT_OK)
		printf("%s %s is no longer greylisted\n", args->positional[0], e.value);
	return rc;
}

static int greylist_list(struct cli *cli, const struct cli_args *args)
{
	const char *kind = "";
	int rc;

	if (args->count > 0 && (rc = parse_kind(cli, args->positional[0], &kind)) != EXIT_OK)
		return rc;
	return list_rows(cli, fields, N_FIELDS(fields), "SELECT REPLACE(kind, '_', '-'), value, "
			 "comment, created_at FROM greylist WHERE ? = '' OR kind = ? ORDER BY kind, value",
			 (struct db_param[]){ DB_STR(kind), DB_STR(kind) }, 2, "listing exemptions");
}

static int delete_exemption(struct cli *cli, void *arg)
{
	struct exemption *e = arg;
	uint64_t deleted = 0;
	int ret = db_exec(cli->db, "DELETE FROM greylist WHERE kind = ? AND value = ?",
			  (struct db_param[]){ DB_STR(e->kind), DB_STR(e->value) }, 2, &deleted);

	if (ret != DB_OK)
		return cli_db_fail(cli, ret, e->value);
	return deleted ? EXIT_OK : cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such exemption", e->value);
}

static int greylist_del(struct cli *cli, const struct cli_args *args)
{
	struct exemption e;
	int rc;

	if ((rc = parse_exemption(cli, args, &e)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_exemption, &e)) == EXIT_OK)
		printf("deleted the exemption of %s %s\n", args->positional[0], e.value);
	return rc;
}

static const struct cli_option add_options[] = { { "comment", "TEXT" }, { NULL, NULL } };

const struct cli_command greylist_commands[] = {
	{ "greylist", "add", "client-network|sender-domain|recipient VALUE [--comment TEXT]",
	  "never greylist this network, sender domain or recipient", 2, 2, add_options, greylist_add },
	{ "greylist", "list", "[KIND]", "list greylisting exemptions", 0, 1, NULL, greylist_list },
	{ "greylist", "del", "KIND VALUE", "delete an exemption", 2, 2, NULL, greylist_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
