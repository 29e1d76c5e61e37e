/*
 * secret.h - read a password from a file, never from argv or the config.
 *
 * The first line of the file is the secret (trailing CR/LF removed). A file
 * that others may read is refused: a secret in it is no secret.
 */
#ifndef LIMRISTEM_SECRET_H
#define LIMRISTEM_SECRET_H

#include <stddef.h>

#define SECRET_FILE_MAX 4096

/* Opens a file that holds secrets: a regular file others cannot read.
 * Returns the descriptor, or -1 with err filled. */
int secret_open(const char *path, char *err, size_t errlen);

/* Returns 0 and a malloc'ed string in *secret_r, or -1 with err filled. */
int secret_read_file(const char *path, char **secret_r, char *err, size_t errlen);
/* Overwrites and frees the secret; *secret is NULL afterwards. */
void secret_free(char **secret);

#endif
