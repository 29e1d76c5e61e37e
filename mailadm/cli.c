/*
 * cli.c - argument parsing, failures, the database and writes for mailadm.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/number.h"
#include "common/redis.h"
#include "mailadm/cli.h"

#define CLI_WRITE_ATTEMPTS 5		/* of a transaction the server rolls back */
#define CLI_WRITE_PAUSE_US 25000	/* doubled before each attempt */

static void print_usage(const struct cli_command *cmd)
{
	fprintf(stderr, "usage: mailadm %s%s%s %s\n", cmd->noun, cmd->verb[0] ? " " : "", cmd->verb,
		cmd->usage);
}

int cli_fail(const struct cli *cli, int code, const char *fmt, ...)
{
	va_list ap;

	if (cli->command != NULL)
		fprintf(stderr, "mailadm: %s %s: ", cli->command->noun, cli->command->verb);
	else
		fprintf(stderr, "mailadm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int option_index(const struct cli_command *cmd, const char *name, size_t len)
{
	for (int i = 0; cmd->options != NULL && cmd->options[i].name != NULL; i++)
		if (strlen(cmd->options[i].name) == len && strncmp(cmd->options[i].name, name, len) == 0)
			return i;
	return -1;
}

/* "mailadm: NOUN VERB: WHAT WORD" and the usage line. */
static int bad_usage(const struct cli_command *cmd, const char *what, const char *word)
{
	fprintf(stderr, "mailadm: %s %s: %s%s\n", cmd->noun, cmd->verb, what, word);
	print_usage(cmd);
	return EXIT_BAD_INPUT;
}

/* Whether name[0..len) looks like an option's name (lowercase letters,
 * digits and hyphens): only then is an unknown one shown. Anything else
 * may be a password typed in the wrong place, and an error message ends
 * up in terminals, logs and scrollback. */
static bool option_like(const char *name, size_t len)
{
	if (len == 0 || len > CLI_OPTION_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

static int unknown_option(const struct cli_command *cmd, const char *name, size_t len)
{
	char shown[CLI_OPTION_NAME_MAX + 3];

	if (!option_like(name, len))
		return bad_usage(cmd, "unknown option ", "(not shown: it could be a secret)");
	snprintf(shown, sizeof(shown), "--%.*s", (int)len, name);
	return bad_usage(cmd, "unknown option ", shown);
}

/* Never the word itself: an argument too many is often a password given
 * on the command line, where mailadm never takes one. */
static int stray_argument(const struct cli_command *cmd, size_t position)
{
	char what[160];

	snprintf(what, sizeof(what), "unexpected argument %zu (not shown: it could be a secret; "
		 "mailadm reads passwords from standard input or the terminal)", position);
	return bad_usage(cmd, what, "");
}

int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
	      struct cli_args *args_r)
{
	bool options_done = false;

	memset(args_r, 0, sizeof(*args_r));
	for (int i = 0; i < argc; i++) {
		const char *word = argv[i];
		if (!options_done && strcmp(word, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && strncmp(word, "--", 2) == 0) {
			const char *name = word + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			int idx = option_index(cmd, name, len);
			if (idx < 0)
				return unknown_option(cmd, name, len);
			if (cmd->options[idx].value == NULL) {
				if (eq != NULL)
					return bad_usage(cmd, "no value allowed after --",
							 cmd->options[idx].name);
			} else if (eq != NULL) {
				args_r->values[idx] = eq + 1;
			} else if (i + 1 < argc) {
				args_r->values[idx] = argv[++i];
			} else {
				return bad_usage(cmd, "a value is needed after --", cmd->options[idx].name);
			}
			args_r->present[idx] = true;
			continue;
		}
		if (args_r->count >= cmd->max_args)
			return stray_argument(cmd, args_r->count + 1);
		args_r->positional[args_r->count++] = word;
	}
	if (args_r->count < cmd->min_args)
		return bad_usage(cmd, "missing arguments", "");
	return 0;
}

const char *cli_value(const struct cli *cli, const struct cli_args *args, const char *name)
{
	int idx = option_index(cli->command, name, strlen(name));

	return idx >= 0 && args->present[idx] ? args->values[idx] : NULL;
}

bool cli_flag(const struct cli *cli, const struct cli_args *args, const char *name)
{
	int idx = option_index(cli->command, name, strlen(name));

	return idx >= 0 && args->present[idx];
}

int cli_yes_no(struct cli *cli, const char *name, const char *value, bool *result_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*result_r = true;
			return EXIT_OK;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*result_r = false;
			return EXIT_OK;
		}
	}
	return cli_fail(cli, EXIT_BAD_INPUT, "--%s: \"%s\" is not yes or no", name, value);
}

int cli_number(struct cli *cli, const char *name, const char *value, long long min,
	       long long max, long long *result_r)
{
	switch (number_parse_str(value, min, max, result_r)) {
	case NUMBER_OK:
		return EXIT_OK;
	case NUMBER_OUT_OF_RANGE:
		return cli_fail(cli, EXIT_BAD_INPUT, "--%s: %s is out of range (%lld to %lld)", name,
				value, min, max);
	default:
		return cli_fail(cli, EXIT_BAD_INPUT, "--%s: \"%s\" is not a whole number (digits only)",
				name, value);
	}
}

struct db *cli_db(struct cli *cli)
{
	struct db_settings s = cli->settings.common.database;
	char err[512];

	if (cli->db != NULL)
		return cli->db;
	if (s.address.kind == ENDPOINT_NONE) {
		cli_fail(cli, EXIT_UNAVAILABLE, "no database configured (database.address in %s)",
			 cli->config_path);
		return NULL;
	}
	if (cli->settings.mailadm.db_user[0] != '\0')
		s.user = cli->settings.mailadm.db_user;
	if (cli->settings.mailadm.db_password_file[0] != '\0')
		s.password_file = cli->settings.mailadm.db_password_file;
	cli->db = db_new(&s, err, sizeof(err));
	if (cli->db == NULL) {
		cli_fail(cli, EXIT_UNAVAILABLE, "%s", err);
		return NULL;
	}
	if (db_connect(cli->db) != DB_OK) {
		cli_fail(cli, EXIT_UNAVAILABLE, "database unavailable: %s", db_error(cli->db));
		db_free(&cli->db);
		return NULL;
	}
	return cli->db;
}

int cli_db_fail(struct cli *cli, int result, const char *what)
{
	unsigned code = db_errno(cli->db);

	if (result == DB_RETRY && cli->write_retryable) {
		cli->write_again = true;	/* cli_write() runs it again */
		fprintf(stderr, "mailadm: %s: rolled back by the database (%s); trying again\n",
			what, db_error(cli->db));
		return EXIT_FAILURE_OTHER;
	}
	if (result == DB_UNAVAILABLE)
		return cli_fail(cli, EXIT_UNAVAILABLE, "%s: database unavailable: %s", what,
				db_error(cli->db));
	if (code == DB_ER_DUP_ENTRY)
		return cli_fail(cli, EXIT_CONFLICT, "%s: already exists", what);
	if (code == DB_ER_ROW_IS_REFERENCED)
		return cli_fail(cli, EXIT_CONFLICT, "%s: still in use (%s)", what, db_error(cli->db));
	if (code == DB_ER_CHECK_CONSTRAINT || code == DB_ER_NO_REFERENCED_ROW ||
	    code == DB_ER_DATA_TOO_LONG || code == DB_ER_OUT_OF_RANGE)
		return cli_fail(cli, EXIT_BAD_INPUT, "%s: refused by the database: %s", what,
				db_error(cli->db));
	if (code == DB_ER_NO_SUCH_TABLE)
		return cli_fail(cli, EXIT_FAILURE_OTHER, "%s: %s (run \"mailadm db migrate\")", what,
				db_error(cli->db));
	return cli_fail(cli, EXIT_FAILURE_OTHER, "%s: %s", what, db_error(cli->db));
}

static int read_generation(const struct db_row *row, void *arg)
{
	long long v = 0;

	if (row->values[0] != NULL)
		number_parse_str(row->values[0], 0, INT64_MAX, &v);	/* saturates */
	*(unsigned long long *)arg = (unsigned long long)v;
	return 1;
}

/* Tells running daemons at once; without Redis they notice the counter
 * within their change_check interval anyway. */
static void publish_change(struct cli *cli, unsigned long long generation)
{
	char err[512];
	struct redis *r;
	redisReply *reply;

	if (cli->settings.common.redis.address.kind == ENDPOINT_NONE)
		return;
	r = redis_new(&cli->settings.common.redis, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "mailadm: warning: %s; daemons pick the change up from the database\n", err);
		return;
	}
	reply = redis_command(r, "PUBLISH %schanges %llu", redis_key_prefix(r), generation);
	if (reply == NULL)
		fprintf(stderr, "mailadm: warning: Redis unreachable; daemons pick the change up "
			"from the database\n");
	redis_reply_free(&reply);
	redis_free(&r);
}

void cli_redis_forget(struct cli *cli, const char *key)
{
	char err[512];
	struct redis *r;
	redisReply *reply;

	if (cli->settings.common.redis.address.kind == ENDPOINT_NONE)
		return;
	if ((r = redis_new(&cli->settings.common.redis, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mailadm: warning: %s: Redis still has %s until it expires\n", err, key);
		return;
	}
	reply = redis_command(r, "DEL %s%s", redis_key_prefix(r), key);
	if (reply == NULL)
		fprintf(stderr, "mailadm: warning: Redis unreachable: it still has %s until it "
			"expires\n", key);
	redis_reply_free(&reply);
	redis_free(&r);
}

/* One attempt of cli_write()'s transaction. */
static int write_once(struct cli *cli, struct db *db, int (*fn)(struct cli *cli, void *arg),
		      void *arg, unsigned long long *generation_r)
{
	int ret, code;

	if ((ret = db_begin(db)) != DB_OK)
		return cli_db_fail(cli, ret, "starting a transaction");
	code = fn(cli, arg);
	if (code == EXIT_OK) {
		ret = db_exec(db, "UPDATE change_counter SET generation = generation + 1, "
			      "changed_at = CURRENT_TIMESTAMP WHERE id = 1", NULL, 0, NULL);
		if (ret == DB_OK)
			ret = db_query(db, "SELECT generation FROM change_counter WHERE id = 1", NULL, 0,
				       read_generation, generation_r);
		if (ret == DB_OK)
			ret = db_commit(db);
		if (ret != DB_OK)
			code = cli_db_fail(cli, ret, "saving the change");
	}
	if (code != EXIT_OK)
		db_rollback(db);
	return code;
}

int cli_write(struct cli *cli, int (*fn)(struct cli *cli, void *arg), void *arg)
{
	struct db *db = cli_db(cli);
	unsigned long long generation = 0;
	int code;

	if (db == NULL)
		return EXIT_UNAVAILABLE;
	for (unsigned attempt = 1;; attempt++) {
		cli->write_retryable = attempt < CLI_WRITE_ATTEMPTS;
		cli->write_again = false;
		code = write_once(cli, db, fn, arg, &generation);
		if (code == EXIT_OK || !cli->write_again)
			break;
		usleep(CLI_WRITE_PAUSE_US << attempt);
	}
	cli->write_retryable = false;
	if (code != EXIT_OK)
		return code;
	publish_change(cli, generation);
	return EXIT_OK;
}
