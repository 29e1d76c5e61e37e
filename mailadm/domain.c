/*
 * domain.c - mailadm domain add|list|show|set|del.
 *
 * A domain is what Postfix accepts mail for. Deleting one that still has
 * accounts, aliases, redirects, spam traps or DKIM keys is refused unless
 * --force says to delete those too (in one transaction).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

#define DESCRIPTION_MAX 255

static const struct field domain_fields[] = {
	{ "name", FIELD_TEXT }, { "active", FIELD_BOOL }, { "accounts", FIELD_NUMBER },
	{ "aliases", FIELD_NUMBER }, { "redirects", FIELD_NUMBER }, { "description", FIELD_TEXT },
};

static const struct field domain_detail[] = {
	{ "name", FIELD_TEXT }, { "active", FIELD_BOOL }, { "description", FIELD_TEXT },
	{ "accounts", FIELD_NUMBER }, { "aliases", FIELD_NUMBER }, { "redirects", FIELD_NUMBER },
	{ "spam_traps", FIELD_NUMBER }, { "dkim_keys", FIELD_NUMBER },
	{ "created_at", FIELD_TEXT }, { "updated_at", FIELD_TEXT },
};

#define DOMAIN_COUNTS \
	"(SELECT COUNT(*) FROM accounts a WHERE a.domain = d.name), " \
	"(SELECT COUNT(*) FROM aliases l WHERE l.domain = d.name), " \
	"(SELECT COUNT(*) FROM redirects r WHERE r.domain = d.name)"

struct domain_change {
	char name[ADDR_DOMAIN_MAX + 1];
	const char *description;	/* NULL: unchanged */
	int active;			/* -1: unchanged */
	bool force;
};

static int insert_domain(struct cli *cli, void *arg)
{
	struct domain_change *c = arg;
	struct db_param p[] = { DB_STR(c->name), DB_STR(c->description ? c->description : ""),
				DB_INT(c->active != 0) };
	int ret = db_exec(cli->db, "INSERT INTO domains (name, description, active) VALUES (?, ?, ?)",
			  p, 3, NULL);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, c->name);
}

static int domain_add(struct cli *cli, const struct cli_args *args)
{
	struct domain_change c = { .active = !cli_flag(cli, args, "inactive") };
	int rc;

	c.description = cli_value(cli, args, "description");
	if ((rc = valid_domain(cli, args->positional[0], c.name)) != EXIT_OK ||
	    (c.description && (rc = valid_text(cli, "--description", c.description, DESCRIPTION_MAX))))
		return rc;
	if ((rc = cli_write(cli, insert_domain, &c)) == EXIT_OK)
		printf("added domain %s\n", c.name);
	return rc;
}

static int domain_list(struct cli *cli, const struct cli_args *args)
{
	return list_rows(cli, domain_fields, N_FIELDS(domain_fields),
			 "SELECT d.name, d.active, " DOMAIN_COUNTS ", d.description "
			 "FROM domains d ORDER BY d.name", NULL, 0, "listing domains");
}

static int domain_show(struct cli *cli, const struct cli_args *args)
{
	char name[ADDR_DOMAIN_MAX + 1];
	int rc;

	if ((rc = valid_domain(cli, args->positional[0], name)) != EXIT_OK)
		return rc;
	return show_row(cli, domain_detail, N_FIELDS(domain_detail),
			"SELECT d.name, d.active, d.description, " DOMAIN_COUNTS ", "
			"(SELECT COUNT(*) FROM spam_traps t WHERE t.domain = d.name), "
			"(SELECT COUNT(*) FROM dkim_keys k WHERE k.domain = d.name AND k.state <> 'retired'), "
			"d.created_at, d.updated_at FROM domains d WHERE d.name = ?",
			(struct db_param[]){ DB_STR(name) }, 1, name, "no such domain");
}

static int update_domain(struct cli *cli, void *arg)
{
	struct domain_change *c = arg;
	uint64_t affected = 0;
	int ret = DB_OK;

	if (!domain_exists(cli, c->name))
		return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such domain", c->name);
	if (c->description != NULL)
		ret = db_exec(cli->db, "UPDATE domains SET description = ? WHERE name = ?",
			      (struct db_param[]){ DB_STR(c->description), DB_STR(c->name) }, 2, &affected);
	if (ret == DB_OK && c->active >= 0)
		ret = db_exec(cli->db, "UPDATE domains SET active = ? WHERE name = ?",
			      (struct db_param[]){ DB_INT(c->active), DB_STR(c->name) }, 2, &affected);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, c->name);
}

static int domain_set(struct cli *cli, const struct cli_args *args)
{
	struct domain_change c = { .active = -1 };
	const char *active = cli_value(cli, args, "active");
	bool on;
	int rc;

	c.description = cli_value(cli, args, "description");
	if ((rc = valid_domain(cli, args->positional[0], c.name)) != EXIT_OK ||
	    (c.description && (rc = valid_text(cli, "--description", c.description, DESCRIPTION_MAX))) ||
	    (active && (rc = cli_yes_no(cli, "active", active, &on))))
		return rc;
	if (active != NULL)
		c.active = on;
	if (c.description == NULL && c.active < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "nothing to change (--description, --active)");
	if ((rc = cli_write(cli, update_domain, &c)) == EXIT_OK)
		printf("updated domain %s\n", c.name);
	return rc;
}

/* The tables that hang off a domain, in the order --force empties them. */
static const struct {
	const char *table, *what;
} dependants[] = {
	{ "accounts", "accounts" }, { "aliases", "aliases" }, { "redirects", "redirects" },
	{ "spam_traps", "spam traps" }, { "dkim_keys", "DKIM keys" },
};

static int delete_domain(struct cli *cli, void *arg)
{
	struct domain_change *c = arg;
	char sql[128], found[256] = "";
	size_t used = 0;
	int ret;

	if (!domain_exists(cli, c->name))
		return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such domain", c->name);
	for (size_t i = 0; i < sizeof(dependants) / sizeof(dependants[0]); i++) {
		long long n;
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE domain = ?", dependants[i].table);
		n = count_rows(cli, sql, c->name);
		if (n < 0)
			return cli_db_fail(cli, DB_UNAVAILABLE, c->name);
		if (n == 0)
			continue;
		if (c->force) {
			snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE domain = ?", dependants[i].table);
			ret = db_exec(cli->db, sql, (struct db_param[]){ DB_STR(c->name) }, 1, NULL);
			if (ret != DB_OK)
				return cli_db_fail(cli, ret, c->name);
			continue;
		}
		int n_written = snprintf(found + used, sizeof(found) - used, "%s%lld %s",
					 used ? ", " : "", n, dependants[i].what);
		if (n_written > 0 && (size_t)n_written < sizeof(found) - used)
			used += (size_t)n_written;
	}
	if (used > 0)
		return cli_fail(cli, EXIT_CONFLICT, "\"%s\" still has %s (--force deletes them with it)",
				c->name, found);
	ret = db_exec(cli->db, "DELETE FROM domains WHERE name = ?",
		      (struct db_param[]){ DB_STR(c->name) }, 1, NULL);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, c->name);
}

static int domain_del(struct cli *cli, const struct cli_args *args)
{
	struct domain_change c = { .force = cli_flag(cli, args, "force") };
	int rc;

	if ((rc = valid_domain(cli, args->positional[0], c.name)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_domain, &c)) == EXIT_OK)
		printf("deleted domain %s%s\n", c.name, c.force ? " and everything in it" : "");
	return rc;
}

static const struct cli_option add_options[] = {
	{ "description", "TEXT" }, { "inactive", NULL }, { NULL, NULL },
};
static const struct cli_option set_options[] = {
	{ "description", "TEXT" }, { "active", "yes|no" }, { NULL, NULL },
};
static const struct cli_option del_options[] = { { "force", NULL }, { NULL, NULL } };

const struct cli_command domain_commands[] = {
	{ "domain", "add", "NAME [--description TEXT] [--inactive]",
	  "add a domain to receive mail for", 1, 1, add_options, domain_add },
	{ "domain", "list", "", "list domains with their counts", 0, 0, NULL, domain_list },
	{ "domain", "show", "NAME", "show one domain", 1, 1, NULL, domain_show },
	{ "domain", "set", "NAME [--description TEXT] [--active yes|no]",
	  "change a domain", 1, 1, set_options, domain_set },
	{ "domain", "del", "NAME [--force]",
	  "delete a domain (--force: with its accounts, aliases, ...)", 1, 1, del_options, domain_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
