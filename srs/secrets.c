/*
 * secrets.c - the SRS secrets file: one secret per line, first one signs.
 *
 * The same format as postsrsd's (blank lines skipped, CR/LF stripped), so
 * an existing /etc/postsrsd.secret can be used as it is; read by
 * secret_list_read() (common/secret.c), like the milter's learning
 * secrets. Refused when others can read it.
 */
#include "autoconfig.h"

#include <string.h>

#include "common/secret.h"
#include "srs/srsd.h"

void srs_keys_clear(struct srs_keys *keys)
{
	struct secret_list list = { keys->secrets, keys->count };

	secret_list_clear(&list);
	memset(keys, 0, sizeof(*keys));
}

static int read_secrets(const char *path, struct srs_keys *keys, char *err, size_t errlen)
{
	struct secret_list list;

	if (secret_list_read(path, SRS_SECRETS_MAX, 1, &list, err, errlen) < 0)
		return -1;
	keys->secrets = list.items;
	keys->count = list.count;
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
