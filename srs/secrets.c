/*
 * secrets.c - the SRS secrets file: one secret per line, first one signs.
 *
 * The same format as postsrsd's (blank lines skipped, CR/LF stripped), so
 * an existing /etc/postsrsd.secret can be used as it is. Refused when
 * others can read it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "srsd.h"
#include "xalloc.h"

#define SECRET_LINE_MAX 1024

void srs_keys_clear(struct srs_keys *keys)
{
	for (size_t i = 0; i < keys->count; i++) {
		explicit_bzero(keys->secrets[i], strlen(keys->secrets[i]));
		free(keys->secrets[i]);
	}
	free(keys->secrets);
	memset(keys, 0, sizeof(*keys));
}

static int read_secrets(const char *path, struct srs_keys *keys, char *err, size_t errlen)
{
	int fd = secret_open(path, err, errlen);
	char line[SECRET_LINE_MAX];
	FILE *fp;

	if (fd < 0)
		return -1;
	fp = fdopen(fd, "r");
	keys->secrets = xcalloc(SRS_SECRETS_MAX, sizeof(char *));
	while (fgets(line, sizeof(line), fp) != NULL && keys->count < SRS_SECRETS_MAX) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0')
			keys->secrets[keys->count++] = xstrdup(line);
	}
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	if (keys->count == 0) {
		snprintf(err, errlen, "%s: no secret in it (one per line; the first signs)", path);
		return -1;
	}
	return 0;
}

int srs_keys_load(const struct srsd_section *s, struct srs_keys *keys, char *err, size_t errlen)
{
	memset(keys, 0, sizeof(*keys));
	if (read_secrets(s->secrets_file, keys, err, errlen) < 0) {
		srs_keys_clear(keys);
		return -1;
	}
	keys->srs = (struct srs){
		.secrets = (const char *const *)keys->secrets,
		.secret_count = keys->count,
		.hash_length = (unsigned)s->hash_length,
		.hash_min = (unsigned)s->hash_minimum,
		.separator = s->separator[0],
		.classic_base64 = s->hash_alphabet == 1,
		.max_age_days = (unsigned)(s->max_age_ms / (86400 * 1000LL)),
	};
	return 0;
}
