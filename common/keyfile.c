/*
 * keyfile.c - the permission rule for private key files (see keyfile.h).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stddef.h>

#include "common/keyfile.h"

const char *keyfile_stat_problem(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_mode & S_IROTH)
		return "readable by others";
	if (st->st_mode & S_IWOTH)
		return "writable by others";
	return NULL;
}

const char *keyfile_problem(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? "missing" : "unreadable";
	return keyfile_stat_problem(&st);
}
