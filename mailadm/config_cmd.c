/*
 * config_cmd.c - mailadm config show: the effective configuration.
 */
#include "autoconfig.h"

#include <stdio.h>

#include "mailadm/nouns.h"

static int config_show(struct cli *cli, const struct cli_args *args)
{
	config_print(stdout, mailadm_config_sections, &cli->settings, cli_flag(cli, args, "changed"));
	return EXIT_OK;
}

static const struct cli_option show_options[] = { { "changed", NULL }, { NULL, NULL } };

const struct cli_command config_commands[] = {
	{ "config", "show", "[--changed]", "print the effective configuration (shared sections and "
	  "mailadm)", 0, 0, show_options, config_show },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, NULL },
};
