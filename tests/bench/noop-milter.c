/*
 * noop-milter.c - a libmilter filter that does nothing: every callback
 * continues, the end of the message accepts. make bench runs it next to
 * limristem-milter as the floor any libmilter-based filter stands on (its
 * worker threads, its reads and writes per command), so that our
 * engine's share of the time can be told from the checks'.
 *
 *   noop-milter unix:/path/to.sock
 */
#include "autoconfig.h"

#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
	return SMFIS_ACCEPT;
}

static char name[] = "noop-milter";

static struct smfiDesc description = {
	.xxfi_name = name,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_header = on_header,
	.xxfi_eom = on_eom,
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: noop-milter unix:/path/to.sock\n");
		return 2;
	}
	umask(0);
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(description) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "noop-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
