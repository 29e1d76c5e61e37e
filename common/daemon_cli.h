/*
 * daemon_cli.h - the command line every daemon shares (-c FILE, -f, -p,
 * -n, -t, -V) and loading the configuration it names.
 */
#ifndef LIMRISTEM_DAEMON_CLI_H
#define LIMRISTEM_DAEMON_CLI_H

#include <stdbool.h>

#include "common/config.h"

struct daemon_cli {
	const char *program;
	const char *config_path;
	bool foreground;		/* -f */
	bool check;			/* -t: the caller checks what else it needs, then exits */
};

/* Parses argv (a bad option prints the usage and exits 2; -V prints the
 * version and exits 0), logs to stderr, and loads the configuration into
 * settings. Handles -p and -n itself. Returns true when the caller goes on
 * (to run, or with cli_r->check to finish the check); false with
 * *exit_status_r when it is done (settings are then freed): 0 after
 * printing, 1 for a configuration error (logged, naming file and line).
 * check_what completes "-t  check ..." in the usage text. */
bool daemon_cli_start(const char *program, const char *check_what, int argc, char **argv,
		      const struct config_section *sections, void *settings,
		      struct daemon_cli *cli_r, int *exit_status_r);

#endif
