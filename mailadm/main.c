/*
 * main.c - mailadm, the operator's CLI over the Limristem tables.
 *
 *   mailadm [-c FILE] [--json] NOUN VERB [ARGUMENTS]
 *
 * Finds the command in the tables of the nouns, checks its arguments and
 * runs it. Exit codes are listed in cli.h and mailadm(8).
 */
#include "autoconfig.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mailadm/cli.h"
#include "mailadm/nouns.h"

static const struct cli_command *const command_tables[] = {
	db_commands, domain_commands, account_commands, alias_commands, redirect_commands,
	trap_commands, greylist_commands, reputation_commands, blocklist_commands,
	trusted_reply_commands, learn_commands, dkim_commands, dns_commands,
	dmarc_report_commands, config_commands,
};
#define TABLE_COUNT (sizeof(command_tables) / sizeof(command_tables[0]))

static void print_commands(FILE *out, const char *noun)
{
	for (size_t t = 0; t < TABLE_COUNT; t++)
		for (const struct cli_command *c = command_tables[t]; c->noun != NULL; c++)
			if (noun == NULL || strcmp(noun, c->noun) == 0)
				fprintf(out, "  mailadm %s%s%s %s\n      %s\n", c->noun, c->verb[0] ? " " : "",
					c->verb, c->usage, c->help);
}

static void print_nouns(FILE *out)
{
	const char *last = "";

	for (size_t t = 0; t < TABLE_COUNT; t++)
		for (const struct cli_command *c = command_tables[t]; c->noun != NULL; c++)
			if (strcmp(c->noun, last) != 0)
				fprintf(out, " %s", last = c->noun);
	fprintf(out, " (mailadm help explains them)\n");
}

static int usage(FILE *out, int code)
{
	fprintf(out, "usage: mailadm [-c FILE] [--json] NOUN VERB [ARGUMENTS]\n"
		"  -c FILE   configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"  --json    machine-readable output of list and show\n\n"
		"commands:\n");
	print_commands(out, NULL);
	fprintf(out, "\nexit codes: 0 ok, 1 failed check, 2 bad input, 3 not found, "
		"4 database unavailable, 5 conflict\n");
	return code;
}

/* A command with an empty verb ("mailadm dns DOMAIN") takes its
 * arguments right after the noun; *verbless_r says so. */
static const struct cli_command *find_command(const char *noun, const char *verb, bool *noun_known,
					      bool *verbless_r)
{
	const struct cli_command *verbless = NULL;

	*noun_known = *verbless_r = false;
	for (size_t t = 0; t < TABLE_COUNT; t++) {
		for (const struct cli_command *c = command_tables[t]; c->noun != NULL; c++) {
			if (strcmp(noun, c->noun) != 0)
				continue;
			*noun_known = true;
			if (c->verb[0] == '\0')
				verbless = c;
			else if (verb != NULL && strcmp(verb, c->verb) == 0)
				return c;
		}
	}
	*verbless_r = verbless != NULL;
	return verbless;
}

/* Takes -c FILE and --json from anywhere before "--"; returns the index of
 * the noun after moving the other words to the front. */
static int take_global_options(struct cli *cli, int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--json") == 0) {
			cli->json = true;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cli->config_path = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	return out;
}

int main(int argc, char **argv)
{
	struct cli cli = { .config_path = CONFIG_DEFAULT_PATH };
	const struct cli_command *cmd;
	struct cli_args args;
	char err[CONFIG_ERROR_MAX];
	bool noun_known, verbless;
	int rc, first_arg;

	setlocale(LC_CTYPE, "");
	argc = take_global_options(&cli, argc, argv);
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		return usage(argc < 2 ? stderr : stdout, argc < 2 ? EXIT_BAD_INPUT : EXIT_OK);
	cmd = find_command(argv[1], argc > 2 ? argv[2] : NULL, &noun_known, &verbless);
	if (cmd == NULL) {
		if (!noun_known) {
			/* not echoed: a password typed in the wrong place would end
			 * up in terminals and logs */
			fprintf(stderr, "mailadm: unknown command (not shown: it could be a secret); "
				"the commands are:");
			print_nouns(stderr);
			return EXIT_BAD_INPUT;
		}
		bool help = argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "help") == 0);
		if (!help)
			fprintf(stderr, "mailadm: %s: %s\n", argv[1],
				argc > 2 ? "unknown verb; these exist:" : "what to do? these exist:");
		print_commands(help ? stdout : stderr, argv[1]);
		return help ? EXIT_OK : EXIT_BAD_INPUT;
	}
	cli.command = cmd;
	first_arg = verbless ? 2 : 3;
	if (argc > first_arg && strcmp(argv[first_arg], "--help") == 0) {
		printf("usage: mailadm %s%s%s %s\n  %s\n", cmd->noun, cmd->verb[0] ? " " : "", cmd->verb,
		       cmd->usage, cmd->help);
		return EXIT_OK;
	}
	if ((rc = cli_parse(&cli, cmd, argc - first_arg, argv + first_arg, &args)) != 0)
		return rc;
	log_open("mailadm", LOG_TO_STDERR, 0);
	log_set_level(LOG_LEVEL_WARNING);
	if (config_load(cli.config_path, mailadm_config_sections, &cli.settings, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailadm: %s\n", err);
		config_free(mailadm_config_sections, &cli.settings);
		return EXIT_BAD_INPUT;
	}
	rc = cmd->run(&cli, &args);
	db_free(&cli.db);
	config_free(mailadm_config_sections, &cli.settings);
	return rc;
}
