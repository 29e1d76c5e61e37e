/*
 * trusted_reply.c - mailadm trusted-reply list|del.
 *
 * The milter records (external correspondent, local user) pairs when a
 * user writes out; replies along a pair skip greylisting. The operator
 * can look at them and remove one (for instance a correspondent whose
 * account was taken over).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/validate.h"
#include "milter/greylist_key.h"

static const struct field fields[] = {
	{ "external_address", FIELD_TEXT }, { "local_address", FIELD_TEXT },
	{ "created_at", FIELD_TEXT }, { "expires_at", FIELD_TEXT },
};

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static int parse_address(struct cli *cli, const char *input, char out[ADDR_MAX + 1])
{
	int rc = valid_address(cli, input, out);

	if (rc == EXIT_OK)
		lowercase(out);
	return rc;
}

static int trusted_list(struct cli *cli, const struct cli_args *args)
{
	const char *local_arg = cli_value(cli, args, "local"), *ext_arg = cli_value(cli, args, "external");
	char local[ADDR_MAX + 1] = "", external[ADDR_MAX + 1] = "";
	int rc;

	if ((local_arg && (rc = parse_address(cli, local_arg, local))) ||
	    (ext_arg && (rc = parse_address(cli, ext_arg, external))))
		return rc;
	return list_rows(cli, fields, N_FIELDS(fields),
			 "SELECT external_address, local_address, created_at, expires_at FROM "
			 "trusted_replies WHERE (? = '' OR local_address = ?) AND "
			 "(? = '' OR external_address = ?) AND expires_at > UTC_TIMESTAMP() "
			 "ORDER BY local_address, external_address",
			 (struct db_param[]){ DB_STR(local), DB_STR(local), DB_STR(external),
					      DB_STR(external) }, 4, "listing trusted replies");
}

struct pair {
	char external[ADDR_MAX + 1];
	char local[ADDR_MAX + 1];
};

static int delete_pair(struct cli *cli, void *arg)
{
	struct pair *p = arg;
	uint64_t deleted = 0;
	int ret = db_exec(cli->db, "DELETE FROM trusted_replies WHERE external_address = ? AND "
			  "local_address = ?", (struct db_param[]){ DB_STR(p->external), DB_STR(p->local) },
			  2, &deleted);

	if (ret != DB_OK)
		return cli_db_fail(cli, ret, p->external);
	return deleted ? EXIT_OK : cli_fail(cli, EXIT_NOT_FOUND, "%s -> %s: no such trusted reply",
					    p->external, p->local);
}

static int trusted_del(struct cli *cli, const struct cli_args *args)
{
	struct pair p;
	int rc;

	if ((rc = parse_address(cli, args->positional[0], p.external)) != EXIT_OK ||
	    (rc = parse_address(cli, args->positional[1], p.local)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_pair, &p)) == EXIT_OK) {
		char key[GREYLIST_REPLY_KEY_MAX];

		/* the milter's copy, which it reads at RCPT (the prefix is added by
		 * cli_redis_forget) */
		if (greylist_reply_key("", p.external, p.local, key, sizeof(key)) == 0)
			cli_redis_forget(cli, key);
		printf("replies from %s to %s are no longer trusted\n", p.external, p.local);
	}
	return rc;
}

static const struct cli_option list_options[] = {
	{ "local", "ADDRESS" }, { "external", "ADDRESS" }, { NULL, NULL },
};

const struct cli_command trusted_reply_commands[] = {
	{ "trusted-reply", "list", "[--local ADDRESS] [--external ADDRESS]",
	  "list correspondents whose replies skip greylisting", 0, 0, list_options, trusted_list },
	{ "trusted-reply", "del", "EXTERNAL LOCAL", "stop trusting replies from EXTERNAL to LOCAL",
	  2, 2, NULL, trusted_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
