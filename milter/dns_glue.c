/*
 * dns_glue.c - key and policy lookups through common/dns.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#include "dns.h"
#include "dns_glue.h"
#include "xalloc.h"

enum arc_key_status dns_glue_key(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	char name[DNS_NAME_TEXT_MAX];
	struct dns_answer *a;
	enum arc_key_status st = ARC_KEY_NOTFOUND;

	*txt_r = NULL;
	if (snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain) >= (int)sizeof(name))
		return ARC_KEY_NOTFOUND;
	a = dns_lookup(ctx, name, DNS_TXT);
	if (a->status == DNS_TEMPFAIL)
		st = ARC_KEY_TEMPFAIL;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (a->records[i].type == DNS_TXT) {
			*txt_r = xstrdup(a->records[i].data);
			st = ARC_KEY_OK;
			break;
		}
	dns_answer_free(&a);
	return st;
}

enum dmarc_lookup_status dns_glue_dmarc(void *ctx, const char *name, char ***txt_r, size_t *count_r)
{
	struct dns_answer *a = dns_lookup(ctx, name, DNS_TXT);
	enum dmarc_lookup_status st = a->status == DNS_TEMPFAIL ? DMARC_LOOKUP_TEMPFAIL
				      : DMARC_LOOKUP_NONE;

	*txt_r = NULL;
	*count_r = 0;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		if (a->records[i].type != DNS_TXT)
			continue;
		*txt_r = xrealloc(*txt_r, (*count_r + 1) * sizeof(char *));
		(*txt_r)[(*count_r)++] = xstrdup(a->records[i].data);
		st = DMARC_LOOKUP_OK;
	}
	dns_answer_free(&a);
	return st;
}
