/*
 * secret.h - read a password from a file, never from argv or the config.
 *
 * The first line of the file is the secret (trailing CR/LF removed); or,
 * for keys that rotate, every non-blank line is one (secret_list_read). A
 * file that others may read is refused: a secret in it is no secret.
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

/* A file of several secrets, one per line (blank lines skipped, CR/LF
 * stripped, lines up to SECRET_LINE_MAX): the first one signs, every one
 * verifies, so keys rotate by adding a line on top. */
#define SECRET_LINE_MAX 1024

struct secret_list {
	char **items;
	size_t count;
};

/* Reads at most max secrets, each at least min_length bytes long, from a
 * file others cannot read (secret_open). 0, or -1 with err filled and the
 * list empty (a file without any secret is an error). */
int secret_list_read(const char *path, size_t max, size_t min_length, struct secret_list *list_r,
		     char *err, size_t errlen);
/* Overwrites and frees every secret; the list is empty afterwards. */
void secret_list_clear(struct secret_list *list);

#endif
