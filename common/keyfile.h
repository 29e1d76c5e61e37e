/*
 * keyfile.h - whether a private key file is kept the way the suite demands.
 *
 * DKIM (and ARC) private keys must be regular files that no one but their
 * owner and group can read or write: mailadm creates them 0640
 * root:mailkeys, lists their state, and the milter refuses to load a key
 * that fails this check. One rule, one place.
 */
#ifndef LIMRISTEM_KEYFILE_H
#define LIMRISTEM_KEYFILE_H

#include <sys/stat.h>

/* NULL when st describes an acceptable key file, else the problem as
 * static text: "not a regular file", "readable by others",
 * "writable by others". */
const char *keyfile_stat_problem(const struct stat *st);

/* The same for the file at path (symbolic links followed); also
 * "missing" and "unreadable" when it cannot be examined. */
const char *keyfile_problem(const char *path);

#endif
