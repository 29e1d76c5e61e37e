/*
 * cli.h - what every mailadm command gets: its arguments, the settings,
 * the database, output helpers and the way to fail.
 *
 * A command is declared once in a table (noun, verb, usage, options, the
 * function that runs it); main.c finds it, cli_parse() checks its
 * arguments, and the function returns one of the exit codes below.
 */
#ifndef LIMRISTEM_MAILADM_CLI_H
#define LIMRISTEM_MAILADM_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "common/db.h"
#include "mailadm/mailadm.h"

/* Exit codes, documented in mailadm(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_OTHER = 1,	/* a check failed (DKIM record not published yet, ...) */
	EXIT_BAD_INPUT = 2,	/* usage error or invalid argument: nothing was written */
	EXIT_NOT_FOUND = 3,	/* the object named does not exist */
	EXIT_UNAVAILABLE = 4,	/* database (or another required service) unreachable */
	EXIT_CONFLICT = 5,	/* already exists, or refused because of what depends on it */
	EXIT_UNTRUSTED = 6,	/* learn: a trace this site's milter did not sign; nothing learned */
};

#define CLI_OPTIONS_MAX 16
#define CLI_OPTION_NAME_MAX 32	/* longer "--words" are never echoed */
#define CLI_POSITIONALS_MAX 4

struct cli_option {
	const char *name;	/* without the leading "--" */
	const char *value;	/* NULL: a flag; else what the value is, for the usage line */
};

struct cli_args {
	const char *positional[CLI_POSITIONALS_MAX];
	size_t count;
	const char *values[CLI_OPTIONS_MAX];	/* indexed like the command's options */
	bool present[CLI_OPTIONS_MAX];
};

struct cli;

struct cli_command {
	const char *noun;
	const char *verb;
	const char *usage;		/* the arguments, e.g. "NAME [--description TEXT]" */
	const char *help;		/* one line */
	unsigned min_args, max_args;
	const struct cli_option *options;	/* ends with a NULL name; may be NULL */
	int (*run)(struct cli *cli, const struct cli_args *args);
};

struct cli {
	const char *config_path;
	struct mailadm_settings settings;
	bool json;
	const struct cli_command *command;
	struct db *db;
	bool write_retryable;		/* inside cli_write(), with attempts left */
	bool write_again;		/* the server rolled the write back: run it again */
};

/* Fills args from argv (the words after NOUN VERB). Returns 0, or prints
 * the problem with the usage and returns EXIT_BAD_INPUT. */
int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
	      struct cli_args *args_r);

/* The value of option name, or NULL when not given. */
const char *cli_value(const struct cli *cli, const struct cli_args *args, const char *name);
bool cli_flag(const struct cli *cli, const struct cli_args *args, const char *name);

/* Prints "mailadm: NOUN VERB: message" to stderr and returns code. */
int cli_fail(const struct cli *cli, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a database error: EXIT_UNAVAILABLE or the code for a
 * refused statement. */
int cli_db_fail(struct cli *cli, int result, const char *what);

/* The database, connected on first use; NULL after printing why. */
struct db *cli_db(struct cli *cli);

/* Runs the statements of a write inside one transaction that also moves
 * change_counter, then tells the daemons (Redis PUBLISH). fn returns an
 * exit code; anything but EXIT_OK rolls the transaction back. When the
 * server rolls it back (a deadlock, a lock wait timeout, Galera's
 * certification failure: DB_RETRY given to cli_db_fail()), the whole
 * transaction, fn included, is run again, a few times: fn must undo what
 * it did outside the database when it fails. */
int cli_write(struct cli *cli, int (*fn)(struct cli *cli, void *arg), void *arg);
/* Deletes <prefix>key from Redis (a daemon's live state the database
 * change alone does not clear); warns when Redis is unreachable. */
void cli_redis_forget(struct cli *cli, const char *key);

/* Parses "yes"/"no" (and true/false, on/off, 1/0) for option name. */
int cli_yes_no(struct cli *cli, const char *name, const char *value, bool *result_r);
/* Parses a whole number in [min, max] for option name: digits only (a
 * leading '-' where min is negative), no spaces, no '+', no hexadecimal. */
int cli_number(struct cli *cli, const char *name, const char *value, long long min,
	       long long max, long long *result_r);

#endif
