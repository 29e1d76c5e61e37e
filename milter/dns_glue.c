/*
 * dns_glue.c - the checks' lookups through common/dns, within the
 * message's DNS time budget (see dns_glue.h).
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/xalloc.h"
#include "milter/dns_glue.h"
#include "milter/wait.h"

static struct metric *exceeded_metric;

void dns_glue_metrics(struct metrics *m)
{
	exceeded_metric = metrics_counter(m, "milter_dns_budget_exceeded_total", NULL,
					  "DKIM, ARC and DMARC lookups refused or cut short: the "
					  "message's DNS time budget (milter.dns_budget) was spent");
}

void dns_budget_start(struct dns_budget *b, struct dns *dns, int64_t budget_ms)
{
	b->dns = dns;
	b->deadline_ms = budget_ms > 0 ? clock_monotonic_ms() + budget_ms : 0;
	b->exceeded = 0;
}

static void exceeded(struct dns_budget *b)
{
	b->exceeded++;
	if (exceeded_metric != NULL)
		metric_inc(exceeded_metric);
}

/* The lookup within the budget: a temporary failure once it is spent. */
static struct dns_answer *lookup(struct dns_budget *b, const char *name, enum dns_type type)
{
	struct dns_answer *a = wait_dns(b->dns, name, type, b->deadline_ms);

	if (a->status == DNS_TEMPFAIL && b->deadline_ms > 0 && clock_monotonic_ms() >= b->deadline_ms)
		exceeded(b);
	return a;
}

enum dkim_key_status dns_glue_key(void *budget, const char *selector, const char *domain,
				  char **txt_r)
{
	char name[DNS_NAME_TEXT_MAX];
	struct dns_answer *a;
	enum dkim_key_status st = DKIM_KEY_NOTFOUND;

	*txt_r = NULL;
	if (snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain) >= (int)sizeof(name))
		return DKIM_KEY_NOTFOUND;
	a = lookup(budget, name, DNS_TXT);
	if (a->status == DNS_TEMPFAIL)
		st = DKIM_KEY_TEMPFAIL;
	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (a->records[i].type == DNS_TXT) {
			*txt_r = xstrdup(a->records[i].data);
			st = DKIM_KEY_OK;
			break;
		}
	dns_answer_free(&a);
	return st;
}

enum dmarc_lookup_status dns_glue_dmarc(void *budget, const char *name, char ***txt_r,
					size_t *count_r)
{
	struct dns_answer *a = lookup(budget, name, DNS_TXT);
	enum dmarc_lookup_status st = a->status == DNS_TEMPFAIL ? DMARC_LOOKUP_TEMPFAIL
				      : a->status == DNS_NXDOMAIN ? DMARC_LOOKUP_NXDOMAIN
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

struct dns_answer *dns_glue_spf(void *dns, const char *name, enum dns_type type)
{
	return wait_dns(dns, name, type, 0);
}
