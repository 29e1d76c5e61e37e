/*
 * account.c - mailadm account add|list|show|set|passwd|del.
 *
 * Accounts are mailboxes: a login (the address), a password hash Dovecot
 * verifies, a quota, sending limits for policyd. The password never comes
 * from the command line: see password.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailadm/nouns.h"
#include "mailadm/output.h"
#include "mailadm/password.h"
#include "mailadm/validate.h"

#define NAME_MAX_CHARS 255
#define QUOTA_MB_MAX 16777216LL
#define SEND_MESSAGES_MAX 1000000LL
#define SEND_RECIPIENTS_MAX 10000000LL

static const struct field list_fields[] = {
	{ "address", FIELD_TEXT }, { "active", FIELD_BOOL }, { "quota_mb", FIELD_NUMBER },
	{ "used_mb", FIELD_NUMBER }, { "held", FIELD_BOOL }, { "name", FIELD_TEXT },
};

static const struct field show_fields[] = {
	{ "address", FIELD_TEXT }, { "name", FIELD_TEXT }, { "active", FIELD_BOOL },
	{ "quota_mb", FIELD_NUMBER }, { "used_bytes", FIELD_NUMBER }, { "messages", FIELD_NUMBER },
	{ "send_limit_messages", FIELD_NUMBER }, { "send_limit_recipients", FIELD_NUMBER },
	{ "sending_held_at", FIELD_TEXT }, { "sending_hold_reason", FIELD_TEXT },
	{ "password_scheme", FIELD_TEXT }, { "password_changed_at", FIELD_TEXT },
	{ "created_at", FIELD_TEXT }, { "updated_at", FIELD_TEXT },
};

struct account {
	char local[ADDR_LOCAL_MAX + 1];
	char domain[ADDR_DOMAIN_MAX + 1];
	char address[ADDR_MAX + 1];
	const char *name;		/* NULL: unchanged */
	long long quota_mb;		/* -1: unchanged */
	int active;			/* -1: unchanged */
	long long limit_messages;	/* -1: unchanged, -2: the default (NULL) */
	long long limit_recipients;
	bool release_hold;
	bool force;
	char hash[PASSWORD_HASH_MAX];	/* "": unchanged */
};

static void account_init(struct account *a)
{
	memset(a, 0, sizeof(*a));
	a->quota_mb = a->limit_messages = a->limit_recipients = -1;
	a->active = -1;
}

static int parse_address(struct cli *cli, const char *input, struct account *a)
{
	int rc = valid_local_address(cli, input, 0, a->local, a->domain);

	if (rc == EXIT_OK && address_join(a->local, a->domain, a->address) < 0)
		rc = cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the address is too long", input);
	return rc;
}

/* --send-limit-messages N | default */
static int parse_limit(struct cli *cli, const struct cli_args *args, const char *name,
		       long long max, long long *out)
{
	const char *v = cli_value(cli, args, name);

	if (v == NULL)
		return EXIT_OK;
	if (strcmp(v, "default") == 0) {
		*out = -2;
		return EXIT_OK;
	}
	return cli_number(cli, name, v, 0, max, out);
}

/* Options shared by add and set. */
static int parse_settings(struct cli *cli, const struct cli_args *args, struct account *a)
{
	const char *quota = cli_value(cli, args, "quota"), *active = cli_value(cli, args, "active");
	bool on;
	int rc;

	a->name = cli_value(cli, args, "name");
	if ((a->name && (rc = valid_text(cli, "--name", a->name, NAME_MAX_CHARS))) ||
	    (quota && (rc = cli_number(cli, "quota", quota, 0, QUOTA_MB_MAX, &a->quota_mb))) ||
	    (active && (rc = cli_yes_no(cli, "active", active, &on))) ||
	    (rc = parse_limit(cli, args, "send-limit-messages", SEND_MESSAGES_MAX, &a->limit_messages)) ||
	    (rc = parse_limit(cli, args, "send-limit-recipients", SEND_RECIPIENTS_MAX,
			      &a->limit_recipients)))
		return rc;
	if (active != NULL)
		a->active = on;
	return EXIT_OK;
}

/* Where the password comes from: --password-stdin, --generate, or the
 * terminal. Reads, checks the policy and hashes it into a->hash. */
static int obtain_password(struct cli *cli, const struct cli_args *args, struct account *a)
{
	char password[PASSWORD_MAX + 1];
	bool from_stdin = cli_flag(cli, args, "password-stdin"), gen = cli_flag(cli, args, "generate");
	const char *why;
	int rc;

	if (from_stdin && gen)
		return cli_fail(cli, EXIT_BAD_INPUT, "--password-stdin and --generate exclude each other");
	rc = password_obtain(cli, gen ? PASSWORD_GENERATE : from_stdin ? PASSWORD_STDIN
			     : PASSWORD_PROMPT, password);
	if (rc == EXIT_OK && !gen && (why = password_policy_check(&cli->settings.mailadm, password)))
		rc = cli_fail(cli, EXIT_BAD_INPUT, "%s", why);
	if (rc == EXIT_OK && password_hash(&cli->settings.mailadm, password, a->hash) < 0)
		rc = cli_fail(cli, EXIT_FAILURE_OTHER, "hashing the password failed");
	if (rc == EXIT_OK && gen)
		printf("generated password for %s (shown once): %s\n", a->address, password);
	explicit_bzero(password, sizeof(password));
	return rc;
}

/* -1 (not given) and -2 ("default") both store NULL: the configured default. */
static struct db_param limit_param(long long v)
{
	return v < 0 ? DB_NULL : DB_INT(v);
}

static int insert_account(struct cli *cli, void *arg)
{
	struct account *a = arg;
	int rc, ret;

	if ((rc = require_domain(cli, a->domain)) != EXIT_OK)
		return rc;
	if (count_rows(cli, "SELECT COUNT(*) FROM aliases WHERE source = ?", a->address) > 0)
		return cli_fail(cli, EXIT_CONFLICT, "\"%s\" is an alias: mail to it would never reach a "
				"mailbox (delete the alias first)", a->address);
	const char *password = a->hash[0] ? a->hash : "!";
	struct db_param p[] = {
		DB_STR(a->local), DB_STR(a->domain), DB_STR(password), DB_STR(a->name ? a->name : ""),
		DB_INT(a->quota_mb < 0 ? 0 : a->quota_mb), DB_INT(a->active != 0),
		limit_param(a->limit_messages), limit_param(a->limit_recipients), DB_STR(password),
	};
	ret = db_exec(cli->db, "INSERT INTO accounts (local_part, domain, password, display_name, "
		      "quota_mb, active, send_limit_messages, send_limit_recipients, password_changed_at) "
		      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, IF(? = '!', NULL, UTC_TIMESTAMP()))",
		      p, 9, NULL);
	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, a->address);
}

static int account_add(struct cli *cli, const struct cli_args *args)
{
	struct account a;
	int rc;

	account_init(&a);
	a.active = !cli_flag(cli, args, "inactive");
	if ((rc = parse_address(cli, args->positional[0], &a)) != EXIT_OK ||
	    (rc = parse_settings(cli, args, &a)) != EXIT_OK)
		return rc;
	if (!cli_flag(cli, args, "no-password") && (rc = obtain_password(cli, args, &a)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, insert_account, &a)) == EXIT_OK)
		printf("added account %s%s\n", a.address, a.hash[0] ? "" : " (no password: cannot log in)");
	explicit_bzero(a.hash, sizeof(a.hash));
	return rc;
}

static int account_list(struct cli *cli, const struct cli_args *args)
{
	const char *domain_arg = cli_value(cli, args, "domain");
	char domain[ADDR_DOMAIN_MAX + 1] = "";
	int rc;

	if (domain_arg && (rc = valid_domain(cli, domain_arg, domain)) != EXIT_OK)
		return rc;
	return list_rows(cli, list_fields, N_FIELDS(list_fields),
			 "SELECT a.email, a.active, a.quota_mb, COALESCE(q.bytes, 0) DIV 1048576, "
			 "a.sending_held_at IS NOT NULL, a.display_name FROM accounts a LEFT JOIN "
			 "quota_usage q ON q.username = a.email WHERE ? = '' OR a.domain = ? "
			 "ORDER BY a.domain, a.local_part",
			 (struct db_param[]){ DB_STR(domain), DB_STR(domain) }, 2, "listing accounts");
}

static int account_show(struct cli *cli, const struct cli_args *args)
{
	struct account a;
	int rc;

	account_init(&a);
	if ((rc = parse_address(cli, args->positional[0], &a)) != EXIT_OK)
		return rc;
	return show_row(cli, show_fields, N_FIELDS(show_fields),
			"SELECT a.email, a.display_name, a.active, a.quota_mb, COALESCE(q.bytes, 0), "
			"COALESCE(q.messages, 0), a.send_limit_messages, a.send_limit_recipients, "
			"a.sending_held_at, a.sending_hold_reason, "
			"IF(a.password = '!', NULL, SUBSTRING_INDEX(SUBSTRING(a.password, 2), '}', 1)), "
			"a.password_changed_at, a.created_at, a.updated_at "
			"FROM accounts a LEFT JOIN quota_usage q ON q.username = a.email WHERE a.email = ?",
			(struct db_param[]){ DB_STR(a.address) }, 1, a.address, "no such account");
}

/* One UPDATE per changed column keeps every statement simple and typed.
 * The statement ends with "WHERE email = ?"; value (if any) comes first. */
static int update_column(struct cli *cli, const char *sql, const struct db_param *value,
			 const char *address)
{
	struct db_param p[] = { value ? *value : DB_STR(address), DB_STR(address) };
	int ret = db_exec(cli->db, sql, p, value ? 2 : 1, NULL);

	return ret == DB_OK ? EXIT_OK : cli_db_fail(cli, ret, address);
}

static int update_account(struct cli *cli, void *arg)
{
	struct account *a = arg;
	int rc = EXIT_OK;

	if (count_rows(cli, "SELECT COUNT(*) FROM accounts WHERE email = ?", a->address) <= 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such account", a->address);
	if (a->name)
		rc = update_column(cli, "UPDATE accounts SET display_name = ? WHERE email = ?",
				   &DB_STR(a->name), a->address);
	if (rc == EXIT_OK && a->quota_mb >= 0)
		rc = update_column(cli, "UPDATE accounts SET quota_mb = ? WHERE email = ?",
				   &DB_INT(a->quota_mb), a->address);
	if (rc == EXIT_OK && a->active >= 0)
		rc = update_column(cli, "UPDATE accounts SET active = ? WHERE email = ?",
				   &DB_INT(a->active), a->address);
	struct db_param messages = limit_param(a->limit_messages);
	struct db_param recipients = limit_param(a->limit_recipients);
	if (rc == EXIT_OK && a->limit_messages != -1)
		rc = update_column(cli, "UPDATE accounts SET send_limit_messages = ? WHERE email = ?",
				   &messages, a->address);
	if (rc == EXIT_OK && a->limit_recipients != -1)
		rc = update_column(cli, "UPDATE accounts SET send_limit_recipients = ? WHERE email = ?",
				   &recipients, a->address);
	if (rc == EXIT_OK && a->release_hold)
		rc = update_column(cli, "UPDATE accounts SET sending_held_at = NULL, "
				   "sending_hold_reason = NULL WHERE email = ?", NULL, a->address);
	if (rc == EXIT_OK && a->hash[0])
		rc = update_column(cli, "UPDATE accounts SET password = ?, "
				   "password_changed_at = UTC_TIMESTAMP() WHERE email = ?",
				   &DB_STR(a->hash), a->address);
	return rc;
}

static int account_set(struct cli *cli, const struct cli_args *args)
{
	struct account a;
	int rc;

	account_init(&a);
	a.release_hold = cli_flag(cli, args, "release-hold");
	if ((rc = parse_address(cli, args->positional[0], &a)) != EXIT_OK ||
	    (rc = parse_settings(cli, args, &a)) != EXIT_OK)
		return rc;
	if (!a.name && a.quota_mb < 0 && a.active < 0 && a.limit_messages == -1 &&
	    a.limit_recipients == -1 && !a.release_hold)
		return cli_fail(cli, EXIT_BAD_INPUT, "nothing to change (see mailadm account set --help)");
	if ((rc = cli_write(cli, update_account, &a)) != EXIT_OK)
		return rc;
	if (a.release_hold) {	/* policyd's shared hold mark */
		char key[sizeof(a.address) + 8];

		snprintf(key, sizeof(key), "held:%s", a.address);
		cli_redis_forget(cli, key);
	}
	printf("updated account %s\n", a.address);
	return rc;
}

static int account_passwd(struct cli *cli, const struct cli_args *args)
{
	struct account a;
	int rc;

	account_init(&a);
	if ((rc = parse_address(cli, args->positional[0], &a)) != EXIT_OK)
		return rc;
	/* Check the account exists before asking for a password. */
	if (cli_db(cli) == NULL)
		return EXIT_UNAVAILABLE;
	if (count_rows(cli, "SELECT COUNT(*) FROM accounts WHERE email = ?", a.address) <= 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such account", a.address);
	if ((rc = obtain_password(cli, args, &a)) == EXIT_OK &&
	    (rc = cli_write(cli, update_account, &a)) == EXIT_OK)
		printf("password of %s changed\n", a.address);
	explicit_bzero(a.hash, sizeof(a.hash));
	return rc;
}

static int delete_account(struct cli *cli, void *arg)
{
	struct account *a = arg;
	long long pointing;
	int ret;

	if (count_rows(cli, "SELECT COUNT(*) FROM accounts WHERE email = ?", a->address) <= 0)
		return cli_fail(cli, EXIT_NOT_FOUND, "\"%s\": no such account", a->address);
	pointing = count_rows(cli, "SELECT COUNT(*) FROM aliases WHERE destination = ?", a->address);
	if (pointing > 0 && !a->force)
		return cli_fail(cli, EXIT_CONFLICT, "%lld aliases deliver to \"%s\" (--force deletes "
				"those alias entries too)", pointing, a->address);
	struct db_param p[] = { DB_STR(a->address) };
	if ((ret = db_exec(cli->db, "DELETE FROM aliases WHERE destination = ?", p, 1, NULL)) != DB_OK ||
	    (ret = db_exec(cli->db, "DELETE FROM redirects WHERE source = ?", p, 1, NULL)) != DB_OK ||
	    (ret = db_exec(cli->db, "DELETE FROM quota_usage WHERE username = ?", p, 1, NULL)) != DB_OK ||
	    (ret = db_exec(cli->db, "DELETE FROM accounts WHERE email = ?", p, 1, NULL)) != DB_OK)
		return cli_db_fail(cli, ret, a->address);
	return EXIT_OK;
}

static int account_del(struct cli *cli, const struct cli_args *args)
{
	struct account a;
	int rc;

	account_init(&a);
	a.force = cli_flag(cli, args, "force");
	if ((rc = parse_address(cli, args->positional[0], &a)) != EXIT_OK)
		return rc;
	if ((rc = cli_write(cli, delete_account, &a)) == EXIT_OK)
		printf("deleted account %s (the mailbox files stay on disk)\n", a.address);
	return rc;
}

static const struct cli_option add_options[] = {
	{ "name", "TEXT" }, { "quota", "MB" }, { "inactive", NULL },
	{ "send-limit-messages", "N|default" }, { "send-limit-recipients", "N|default" },
	{ "password-stdin", NULL }, { "generate", NULL }, { "no-password", NULL }, { NULL, NULL },
};
static const struct cli_option set_options[] = {
	{ "name", "TEXT" }, { "quota", "MB" }, { "active", "yes|no" },
	{ "send-limit-messages", "N|default" }, { "send-limit-recipients", "N|default" },
	{ "release-hold", NULL }, { NULL, NULL },
};
static const struct cli_option list_options[] = { { "domain", "DOMAIN" }, { NULL, NULL } };
static const struct cli_option passwd_options[] = {
	{ "password-stdin", NULL }, { "generate", NULL }, { NULL, NULL },
};
static const struct cli_option del_options[] = { { "force", NULL }, { NULL, NULL } };

const struct cli_command account_commands[] = {
	{ "account", "add", "ADDRESS [--name TEXT] [--quota MB] [--inactive] [--send-limit-messages N] "
	  "[--send-limit-recipients N] [--password-stdin | --generate | --no-password]",
	  "add a mailbox (the password is asked for, read from stdin or generated)",
	  1, 1, add_options, account_add },
	{ "account", "list", "[--domain DOMAIN]", "list mailboxes with quota and use", 0, 0,
	  list_options, account_list },
	{ "account", "show", "ADDRESS", "show one mailbox", 1, 1, NULL, account_show },
	{ "account", "set", "ADDRESS [--name TEXT] [--quota MB] [--active yes|no] "
	  "[--send-limit-messages N|default] [--send-limit-recipients N|default] [--release-hold]",
	  "change a mailbox (quota 0: no limit; limits: default from the configuration)",
	  1, 1, set_options, account_set },
	{ "account", "passwd", "ADDRESS [--password-stdin | --generate]",
	  "set a mailbox's password", 1, 1, passwd_options, account_passwd },
	{ "account", "del", "ADDRESS [--force]", "delete a mailbox's account (not its files)",
	  1, 1, del_options, account_del },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
