/*
 * trap.c - mailadm trap add|list|show|del: spam-trap addresses.
 *
 * Mail to a trap is refused by policyd and costs the sending network its
 * reputation, so a trap may not be an address anybody legitimately uses:
 * an account or an alias is refused.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

#define COMMENT_MAX 255

static const struct field trap_fields[] = {
	{ "address", FIELD_TEXT }, { "hits", FIELD_NUMBER }, { "last_hit_at", FIELD_TEXT },
	{ "comment", FIELD_TEXT }, { "created_at", FIELD_TEXT },
};

struct trap {
	char local[ADDR_LOCAL_MAX + 1];
	char domain[ADDR_DOMAIN_MAX + 1];
	char address[ADDR_MAX + 1];
	const char *comment;
};

static int parse_trap(struct cli *cli, const struct cli_args *args, struct trap *t)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->comment = cli_value(cli, args, "comment");
	if ((rc = valid_local_address(cli, args->positional[0], 0, t->local, t->domain)) != EXIT_OK ||
	    (t->comment && (rc = valid_text(cli, "--comment", t->comment, COMMENT_MAX))))
		return rc;
	if (address_join(t->local, t->domain, t->address) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the address is too long", args->positional[0]);
	return EXIT_OK;
}

static int insert_trap(struct cli *cli, void *arg)
{
	struct trap *t = arg;
	int rc, ret;

	if ((rc = require_domain(cli, t->domain)) != EXIT_OK)
		return rc;
	if (count_rows(cli, "SELECT COUNT(*) FROM accounts WHERE email = ?", t->address) > 0 ||
	    count_rows(cli, "SELECT COUNT(*) FROM aliases WHERE source = ?", t->address) > 0)
		return cli_fail(cli, EXIT_CONFLICT, "\"%s\" is an account or an alias: a trap must be an "
				"address nobody uses", t->address);
	ret = db_exec(cli->db, "INSERT INTO spam_traps (local_part, domain, comment) VALUES (?, ?, ?)",
		      (struct db_param[]){ DB_STR(t->local), DB_STR(t->domain),
					   DB_STR(t->comment ? t->comment : "") }, 3, NULL);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, t->address);
}

static int trap_add(struct cli *cli, const struct cli_args *args)
{
	struct trap t;
	int rc;

	if ((rc = parse_trap(cli, args, &t)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, insert_trap, &t)) == EXIT_OK)
		printf("added spam trap %s\n", t.address);
	return rc;
}

#define TRAP_QUERY "SELECT address, hits, last_hit_at, comment, created_at FROM spam_traps "

static int trap_list(struct cli *cli, const struct cli_args *args)
{
	return list_rows(cli, trap_fields, N_FIELDS(trap_fields),
			 TRAP_QUERY "ORDER BY domain, local_part", NULL, 0, "listing spam traps");
}

static int trap_show(struct cli *cli, const struct cli_args *args)
{
	struct trap t;
	int rc = parse_trap(cli, args, &t);

	if (rc != EXIT_OK)
		return rc;
	return show_row(cli, trap_fields, N_FIELDS(trap_fields), TRAP_QUERY "WHERE address = ?",
			(struct db_param[]){ DB_STR(t.address) }, 1, t.address, "no such trap");
}

static int delete_trap(struct cli *cli, void *arg)
{
	struct trap *t = arg;
	uint64_t deleted = 0;
	int ret = db_exec(cli->db, "DELETE FROM spam_traps WHERE address = ?",
			  (struct db_param[]){ DB_STR(t->address) }, 1, &deleted);

	if (ret != DB_OK)
		return cli_db_fail(cli, ret, t->address);
	return deleted ? EXIT_OK : cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such trap", t->address);
}

static int trap_del(struct cli *cli, const struct cli_args *args)
{
	struct trap t;
	int rc;

	if ((rc = parse_trap(cli, args, &t)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_trap, &t)) == EXIT_OK)
		printf("deleted spam trap %s\n", t.address);
	return rc;
}

static const struct cli_option add_options[] = { { "comment", "TEXT" }, { NULL, NULL } };

const struct cli_command trap_commands[] = {
	{ "trap", "add", "ADDRESS [--comment TEXT]", "make an unused address a spam trap", 1, 1,
	  add_options, trap_add },
	{ "trap", "list", "", "list spam traps and their hits", 0, 0, NULL, trap_list },
	{ "trap", "show", "ADDRESS", "show one spam trap", 1, 1, NULL, trap_show },
	{ "trap", "del", "ADDRESS", "delete a spam trap", 1, 1, NULL, trap_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
