/*
 * trusted.c - recording trusted replies (see trusted.h).
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "milter/greylist.h"
#include "milter/judge.h"
#include "milter/milter.h"
#include "milter/rep_flush.h"
#include "milter/store.h"
#include "milter/trusted.h"

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

void trusted_record(const struct message *m)
{
	const struct milter_section *s = milter.settings;
	int64_t lifetime_s = s->trusted_reply_lifetime_ms / 1000;
	char local[ADDR_MAX + 1], key[2 * ADDR_MAX + 80];

	if (milter.store == NULL || m->mail_from[0] == '\0' || strchr(m->mail_from, '@') == NULL)
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
		    greylist_reply_key(store_prefix(milter.store), external, local, key, sizeof(key)) < 0)
			continue;
		if (store_set(milter.store, key, "1", lifetime_s) < 0) {
			judge_state_down("recording a trusted reply");
			return;
		}
		rep_flush_reply(milter.rep_flush, external, local, lifetime_s);
		metric_inc(milter.trusted_recorded);
	}
}
