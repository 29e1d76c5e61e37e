/*
 * daemon_cli.c - the daemons' shared command line (see daemon_cli.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/daemon_cli.h"
#include "common/log.h"

static void usage(const char *program, const char *check_what)
{
	fprintf(stderr,
		"usage: %s [-c FILE] [-f] [-p | -n | -t]\n"
		"  -c FILE  configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -f       stay in the foreground and log to stderr as well\n"
		"  -p       print the effective configuration and exit\n"
		"  -n       print only the settings that differ from the defaults and exit\n"
		"  -t       check %s, then exit\n"
		"  -V       print the version and exit\n", program, check_what);
	exit(2);
}

bool daemon_cli_start(const char *program, const char *check_what, int argc, char **argv,
		      const struct config_section *sections, void *settings,
		      struct daemon_cli *cli_r, int *exit_status_r)
{
	bool print = false, changed_only = false;
	char err[CONFIG_ERROR_MAX];
	int opt;

	*cli_r = (struct daemon_cli){ .program = program, .config_path = CONFIG_DEFAULT_PATH };
	while ((opt = getopt(argc, argv, "c:fpntV")) != -1) {
		switch (opt) {
		case 'c': cli_r->config_path = optarg; break;
		case 'f': cli_r->foreground = true; break;
		case 'p': print = true; break;
		case 'n': print = changed_only = true; break;
		case 't': cli_r->check = true; break;
		case 'V': printf("%s %s\n", program, PACKAGE_VERSION); exit(0);
		default: usage(program, check_what);
		}
	}
	if (optind != argc)
		usage(program, check_what);
	log_open(program, LOG_TO_STDERR, 0);
	if (config_load(cli_r->config_path, sections, settings, err, sizeof(err)) < 0) {
		log_error("%s", err);
		config_free(sections, settings);
		*exit_status_r = 1;
		return false;
	}
	if (print) {
		config_print(stdout, sections, settings, changed_only);
		config_free(sections, settings);
		*exit_status_r = 0;
		return false;
	}
	return true;
}
