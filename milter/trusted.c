/*
 * trusted.c - recording trusted replies (see trusted.h).
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "milter/greylist_key.h"
#include "milter/milter.h"
#include "milter/rep_flush.h"
#include "milter/store.h"
#include "milter/trusted.h"

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void trusted_record(const struct milter_context *mc, const struct message *m)
{
	const struct milter_section *s = mc->settings;
	int64_t lifetime_s = s->trusted_reply_lifetime_ms / 1000;
	char local[ADDR_MAX + 1], key[GREYLIST_REPLY_KEY_MAX];

	if (mc->store == NULL || m->mail_from[0] == '\0' || strchr(m->mail_from, '@') == NULL)
		return;
	snprintf(local, sizeof(local), "%s", m->mail_from);	/* same size */
	lowercase(local);
	for (size_t i = 0; i < m->rcpt_count; i++) {
		char external[ADDR_MAX + 1];
		const char *at;

		snprintf(external, sizeof(external), "%s", m->rcpts[i]);	/* same size */
		lowercase(external);
		at = strrchr(external, '@');
		if (at == NULL || (m->tables != NULL && tables_is_local_domain(m->tables, at + 1)) ||
		    greylist_reply_key(store_prefix(mc->store), external, local, key, sizeof(key)) < 0)
			continue;
		if (store_set(mc->store, key, "1", lifetime_s) < 0) {
			store_unavailable(mc->store, "recording a trusted reply");
			return;
		}
		rep_flush_reply(mc->rep_flush, external, local, lifetime_s);
		metric_inc(mc->trusted_recorded);
	}
}
