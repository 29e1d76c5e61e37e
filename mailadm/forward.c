/*
 * forward.c - mailadm alias and redirect: add|list|set|del.
 *
 * Both send mail for a local address somewhere else and share one
 * implementation:
 *   alias     SOURCE (or @domain, a catch-all) -> any address. Refused when
 *             it would loop (a -> b -> a) or hide an account's mailbox
 *             (unless --force).
 *   redirect  a local address -> an external address, optionally keeping
 *             a copy; this is the mail the milter ARC-seals and srsd
 *             rewrites.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailadm/alias_loop.h"
#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"

struct forward {
	bool redirect;			/* else alias */
	const char *table;
	char local[ADDR_LOCAL_MAX + 1];
	char domain[ADDR_DOMAIN_MAX + 1];
	char source[ADDR_MAX + 1];
	char destination[ADDR_MAX + 1];	/* "": all of the source's */
	int active;			/* -1: unchanged */
	int keep_copy;			/* -1: unchanged */
	bool force;
	uint64_t deleted;
};

static const struct field alias_fields[] = {
	{ "source", FIELD_TEXT }, { "destination", FIELD_TEXT }, { "active", FIELD_BOOL },
	{ "created_at", FIELD_TEXT },
};
static const struct field redirect_fields[] = {
	{ "source", FIELD_TEXT }, { "destination", FIELD_TEXT }, { "keep_copy", FIELD_BOOL },
	{ "active", FIELD_BOOL }, { "created_at", FIELD_TEXT },
};

static int forward_init(struct cli *cli, const struct cli_args *args, struct forward *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->redirect = strcmp(cli->command->noun, "redirect") == 0;
	f->table = f->redirect ? "redirects" : "aliases";
	f->active = f->keep_copy = -1;
	f->force = cli_flag(cli, args, "force");
	if (args->count == 0)
		return EXIT_OK;
	rc = valid_local_address(cli, args->positional[0], !f->redirect, f->local, f->domain);
	if (rc != EXIT_OK)
		return rc;
	if (address_join(f->local, f->domain, f->source) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the address is too long", args->positional[0]);
	if (args->count > 1)
		return valid_address(cli, args->positional[1], f->destination);
	return EXIT_OK;
}

static int parse_flags(struct cli *cli, const struct cli_args *args, struct forward *f)
{
	const char *active = cli_value(cli, args, "active"), *keep = cli_value(cli, args, "keep-copy");
	bool on;
	int rc;

	if (active != NULL) {
		if ((rc = cli_yes_no(cli, "active", active, &on)) != EXIT_OK)
			return rc;
		f->active = on;
	}
	if (keep != NULL) {
		if ((rc = cli_yes_no(cli, "keep-copy", keep, &on)) != EXIT_OK)
			return rc;
		f->keep_copy = on;
	}
	return EXIT_OK;
}

static int add_result(const struct db_row *row, void *arg)
{
	if (row->values[0] != NULL)
		alias_results_add(arg, row->values[0]);
	return 0;
}

struct lookup_ctx {
	struct cli *cli;
	int result;		/* of the last query */
};

/* What Postfix's virtual_alias_maps query (sql/postfix/virtual_aliases.cf)
 * returns for key, whatever the domain's active flag says (a domain can be
 * switched back on). Sources are ASCII: a key that is not matches none. */
static int lookup_key(const char *key, struct alias_results *results, void *arg)
{
	struct lookup_ctx *ctx = arg;

	for (const char *p = key; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return 0;
	ctx->result = db_query(ctx->cli->db, "SELECT destination FROM aliases WHERE source = ? AND "
			       "active = 1 UNION ALL SELECT destination FROM redirects WHERE source = ? "
			       "AND active = 1 UNION ALL SELECT source FROM redirects WHERE source = ? "
			       "AND active = 1 AND keep_copy = 1",
			       (struct db_param[]){ DB_STR(key), DB_STR(key), DB_STR(key) }, 3,
			       add_result, results);
	return ctx->result == DB_OK ? 0 : -1;
}

/* Refuses source -> destination when Postfix's expansion would go round
 * (alias_loop.h), naming the circle. */
static int check_loop(struct cli *cli, const struct forward *f)
{
	struct lookup_ctx ctx = { cli, DB_OK };
	char path[512];

	switch (alias_walk(f->source, f->destination, lookup_key, &ctx, path, sizeof(path))) {
	case ALIAS_WALK_NO_LOOP:
		return EXIT_OK;
	case ALIAS_WALK_LOOP:
		return cli_fail(cli, EXIT_BAD_INPUT, "%s -> %s would make an alias loop: %s", f->source,
				f->destination, path);
	case ALIAS_WALK_TOO_MANY:
		return cli_fail(cli, EXIT_BAD_INPUT, "%s -> %s: more than %d addresses to follow to rule "
				"out an alias loop (Postfix gives up at 1000 too)", f->source,
				f->destination, ALIAS_WALK_MAX);
	default:
		return cli_db_fail(cli, ctx.result, "looking for an alias loop");
	}
}

static int check_new(struct cli *cli, const struct forward *f)
{
	const char *at = strrchr(f->destination, '@');
	int rc;

	if ((rc = require_domain(cli, f->domain)) != EXIT_OK)
		return rc;
	if (f->redirect) {
		if (domain_exists(cli, at + 1))
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\" is in one of our domains: a redirect "
					"goes outside; use \"mailadm alias add\"", f->destination);
		return EXIT_OK;
	}
	if ((rc = check_loop(cli, f)) != EXIT_OK)
		return rc;
	if (!f->force && f->local[0] != '\0' &&
	    count_rows(cli, "SELECT COUNT(*) FROM accounts WHERE email = ?", f->source) > 0)
		return cli_fail(cli, EXIT_CONFLICT, "\"%s\" is an account: with an alias its mail goes "
				"only to the alias destinations (--force if that is meant; add the "
				"address itself as a destination to keep it)", f->source);
	return EXIT_OK;
}

static int insert_forward(struct cli *cli, void *arg)
{
	struct forward *f = arg;
	int rc, ret;

	if ((rc = check_new(cli, f)) != EXIT_OK)
		return rc;
	if (f->redirect)
		ret = db_exec(cli->db, "INSERT INTO redirects (source_local, domain, destination, "
			      "keep_copy, active) VALUES (?, ?, ?, ?, ?)",
			      (struct db_param[]){ DB_STR(f->local), DB_STR(f->domain), DB_STR(f->destination),
						   DB_INT(f->keep_copy > 0), DB_INT(f->active != 0) },
			      5, NULL);
	else
		ret = db_exec(cli->db, "INSERT INTO aliases (source_local, domain, destination, active) "
			      "VALUES (?, ?, ?, ?)",
			      (struct db_param[]){ DB_STR(f->local), DB_STR(f->domain), DB_STR(f->destination),
						   DB_INT(f->active != 0) }, 4, NULL);
	if (ret != DB_OK) {
		char what[2 * ADDR_MAX + 8];
		snprintf(what, sizeof(what), "%s -> %s", f->source, f->destination);
		return cli_db_fail(cli, ret, what);
	}
	return EXIT_OK;
}

static int forward_add(struct cli *cli, const struct cli_args *args)
{
	struct forward f;
	int rc;

	if ((rc = forward_init(cli, args, &f)) != EXIT_OK)
		return rc;
	f.active = !cli_flag(cli, args, "inactive");
	f.keep_copy = cli_flag(cli, args, "keep-copy");
	if ((rc = cli_write(cli, insert_forward, &f)) == EXIT_OK)
		printf("added %s %s -> %s%s\n", cli->command->noun, f.source, f.destination,
		       f.keep_copy > 0 ? " (keeping a copy)" : "");
	return rc;
}

static int forward_list(struct cli *cli, const struct cli_args *args)
{
	const char *domain_arg = cli_value(cli, args, "domain");
	char domain[ADDR_DOMAIN_MAX + 1] = "", sql[512];
	struct forward f;
	int rc;

	if ((rc = forward_init(cli, args, &f)) != EXIT_OK ||
	    (domain_arg && (rc = valid_domain(cli, domain_arg, domain)) != EXIT_OK))
		return rc;
	snprintf(sql, sizeof(sql), "SELECT source, destination, %s active, created_at FROM %s "
		 "WHERE (? = '' OR domain = ?) AND (? = '' OR source = ?) ORDER BY domain, source, "
		 "destination", f.redirect ? "keep_copy," : "", f.table);
	return list_rows(cli, f.redirect ? redirect_fields : alias_fields,
			 f.redirect ? N_FIELDS(redirect_fields) : N_FIELDS(alias_fields), sql,
			 (struct db_param[]){ DB_STR(domain), DB_STR(domain), DB_STR(f.source),
					      DB_STR(f.source) }, 4, "listing");
}

static long long count_pair(struct cli *cli, const struct forward *f)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE source = ? AND destination = ?",
		 f->table);
	return count_where(cli, sql, (struct db_param[]){ DB_STR(f->source), DB_STR(f->destination) }, 2);
}

static int update_forward(struct cli *cli, void *arg)
{
	struct forward *f = arg;
	char sql[160];
	int ret = DB_OK, rc;

	if (count_pair(cli, f) <= 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "%s -> %s: no such %s", f->source, f->destination,
				cli->command->noun);
	if (f->active > 0 && !f->redirect && (rc = check_loop(cli, f)) != EXIT_OK)
		return rc;
	if (f->active >= 0) {
		snprintf(sql, sizeof(sql), "UPDATE %s SET active = ? WHERE source = ? AND destination = ?",
			 f->table);
		ret = db_exec(cli->db, sql, (struct db_param[]){ DB_INT(f->active), DB_STR(f->source),
			      DB_STR(f->destination) }, 3, NULL);
	}
	if (ret == DB_OK && f->keep_copy >= 0)
		ret = db_exec(cli->db, "UPDATE redirects SET keep_copy = ? WHERE source = ? AND "
			      "destination = ?", (struct db_param[]){ DB_INT(f->keep_copy),
			      DB_STR(f->source), DB_STR(f->destination) }, 3, NULL);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, f->source);
}

static int forward_set(struct cli *cli, const struct cli_args *args)
{
	struct forward f;
	int rc;

	if ((rc = forward_init(cli, args, &f)) != EXIT_OK || (rc = parse_flags(cli, args, &f)) != EXIT_OK)
		return rc;
	if (f.active < 0 && f.keep_copy < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "nothing to change (--active%s)",
				f.redirect ? ", --keep-copy" : "");
	if ((rc = cli_write(cli, update_forward, &f)) == EXIT_OK)
		printf("updated %s %s -> %s\n", cli->command->noun, f.source, f.destination);
	return rc;
}

static int delete_forward(struct cli *cli, void *arg)
{
	struct forward *f = arg;
	char sql[160];
	int ret;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE source = ? AND (? = '' OR destination = ?)",
		 f->table);
	ret = db_exec(cli->db, sql, (struct db_param[]){ DB_STR(f->source), DB_STR(f->destination),
			DB_STR(f->destination) }, 3, &f->deleted);
	if (ret != DB_OK)
		return cli_db_fail(cli, ret, f->source);
	if (f->deleted == 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "%s%s%s: no such %s", f->source,
				f->destination[0] ? " -> " : "", f->destination, cli->command->noun);
	return EXIT_OK;
}

static int forward_del(struct cli *cli, const struct cli_args *args)
{
	struct forward f;
	int rc;

	if ((rc = forward_init(cli, args, &f)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_forward, &f)) == EXIT_OK)
		printf("deleted %llu %s entr%s of %s\n", (unsigned long long)f.deleted,
		       cli->command->noun, f.deleted == 1 ? "y" : "ies", f.source);
	return rc;
}

static const struct cli_option alias_add_options[] = {
	{ "inactive", NULL }, { "force", NULL }, { NULL, NULL },
};
static const struct cli_option redirect_add_options[] = {
	{ "keep-copy", NULL }, { "inactive", NULL }, { NULL, NULL },
};
static const struct cli_option list_options[] = { { "domain", "DOMAIN" }, { NULL, NULL } };
static const struct cli_option alias_set_options[] = { { "active", "yes|no" }, { NULL, NULL } };
static const struct cli_option redirect_set_options[] = {
	{ "active", "yes|no" }, { "keep-copy", "yes|no" }, { NULL, NULL },
};

const struct cli_command alias_commands[] = {
	{ "alias", "add", "SOURCE DESTINATION [--inactive] [--force]",
	  "send mail for SOURCE (or @domain: everything else) to DESTINATION", 2, 2,
	  alias_add_options, forward_add },
	{ "alias", "list", "[SOURCE] [--domain DOMAIN]", "list aliases", 0, 1, list_options,
	  forward_list },
	{ "alias", "set", "SOURCE DESTINATION --active yes|no", "enable or disable one alias entry",
	  2, 2, alias_set_options, forward_set },
	{ "alias", "del", "SOURCE [DESTINATION]", "delete one destination, or all, of an alias",
	  1, 2, NULL, forward_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};

const struct cli_command redirect_commands[] = {
	{ "redirect", "add", "SOURCE DESTINATION [--keep-copy] [--inactive]",
	  "forward mail for a local address to an external one", 2, 2, redirect_add_options,
	  forward_add },
	{ "redirect", "list", "[SOURCE] [--domain DOMAIN]", "list redirects", 0, 1, list_options,
	  forward_list },
	{ "redirect", "set", "SOURCE DESTINATION [--active yes|no] [--keep-copy yes|no]",
	  "change one redirect", 2, 2, redirect_set_options, forward_set },
	{ "redirect", "del", "SOURCE [DESTINATION]", "delete a redirect", 1, 2, NULL, forward_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
