/*
 * dns_glue.c - key and policy lookups through common/dns, within the
 * message's DNS time budget (see dns_glue.h).
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/dns.h"
#include "common/metrics.h"
#include "common/xalloc.h"
#include "milter/dns_glue.h"

/* The budget of the message this thread is verifying. */
static _Thread_local int64_t budget_deadline_ms;	/* 0: no budget */
static _Thread_local unsigned budget_exceeded;
static struct metric *exceeded_metric;

void dns_glue_metrics(struct metrics *m)
{
	exceeded_metric = metrics_counter(m, "milter_dns_budget_exceeded_total", NULL,
					  "DKIM, ARC and DMARC lookups refused or cut short: the "
					  "message's DNS time budget (milter.dns_budget) was spent");
}

void dns_glue_budget_begin(int64_t budget_ms)
{
	budget_deadline_ms = budget_ms > 0 ? clock_monotonic_ms() + budget_ms : 0;
	budget_exceeded = 0;
}

unsigned dns_glue_budget_end(void)
{
	unsigned n = budget_exceeded;

	budget_deadline_ms = 0;
	budget_exceeded = 0;
	return n;
}

static void exceeded(void)
{
	budget_exceeded++;
	if (exceeded_metric != NULL)
		metric_inc(exceeded_metric);
}

/* The lookup within the budget; NULL when the budget is spent. */
static struct dns_answer *lookup(struct dns *dns, const char *name, enum dns_type type)
{
	struct dns_answer *a;

	if (budget_deadline_ms == 0)
		return dns_lookup(dns, name, type);
	if (clock_monotonic_ms() >= budget_deadline_ms) {
		exceeded();
		return NULL;
	}
	a = dns_lookup_until(dns, name, type, budget_deadline_ms);
	if (a->status == DNS_TEMPFAIL && clock_monotonic_ms() >= budget_deadline_ms)
		exceeded();
	return a;
}

enum dkim_key_status dns_glue_key(void *ctx, const char *selector, const char *domain, char **txt_r)
{
	char name[DNS_NAME_TEXT_MAX];
	struct dns_answer *a;
	enum dkim_key_status st = DKIM_KEY_NOTFOUND;

	*txt_r = NULL;
	if (snprintf(name, sizeof(name), "%s._domainkey.%s", selector, domain) >= (int)sizeof(name))
		return DKIM_KEY_NOTFOUND;
	if ((a = lookup(ctx, name, DNS_TXT)) == NULL)
		return DKIM_KEY_TEMPFAIL;
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

enum dmarc_lookup_status dns_glue_dmarc(void *ctx, const char *name, char ***txt_r, size_t *count_r)
{
	struct dns_answer *a = lookup(ctx, name, DNS_TXT);
	enum dmarc_lookup_status st;

	*txt_r = NULL;
	*count_r = 0;
	if (a == NULL)
		return DMARC_LOOKUP_TEMPFAIL;
	st = a->status == DNS_TEMPFAIL ? DMARC_LOOKUP_TEMPFAIL : DMARC_LOOKUP_NONE;
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
