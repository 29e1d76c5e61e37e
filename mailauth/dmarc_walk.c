/*
 * dmarc_walk.c - the DNS Tree Walk and the answers of one evaluation (see
 * dmarc_walk.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "mailauth/dmarc_walk.h"

size_t dmarc_labels(const char *domain)
{
	size_t n = domain[0] != '\0';

	for (const char *p = domain; *p != '\0'; p++)
		n += *p == '.';
	return n;
}

const char *dmarc_ancestor(const char *domain, size_t labels)
{
	size_t have = dmarc_labels(domain);

	while (have > labels && have > 1) {
		domain = strchr(domain, '.') + 1;
		have--;
	}
	return domain;
}

/* Exactly one DMARC Policy Record among the TXT records: RECORD; none or
 * several (all discarded, RFC 9989 4.10 step 2): NONE. */
static void read_answer(char **txt, size_t count, struct dmarc_asked *q)
{
	struct dmarc_record record;
	size_t records = 0;

	for (size_t i = 0; i < count; i++) {
		if (dmarc_record_parse(txt[i], strlen(txt[i]), &record) == 0)
			continue;
		if (records++ == 0)
			q->record = record;
	}
	q->answer = records == 1 ? DMARC_ANSWER_RECORD : DMARC_ANSWER_NONE;
	q->several = records > 1;
	if (records != 1)
		memset(&q->record, 0, sizeof(q->record));
}

void dmarc_answers_clear(struct dmarc_answers *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->asked[i]);
	a->count = 0;
}

const struct dmarc_asked *dmarc_ask(struct dmarc_answers *a, const char *domain)
{
	static const struct dmarc_asked too_long = { .answer = DMARC_ANSWER_NONE };
	char name[ADDR_DOMAIN_MAX + 16], **txt = NULL;
	size_t count = 0;
	enum dmarc_lookup_status st;

	if (strlen(domain) > ADDR_DOMAIN_MAX ||
	    snprintf(name, sizeof(name), "_dmarc.%s", domain) >= (int)sizeof(name))
		return &too_long;	/* no such name can exist */
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->asked[i]->name, domain) == 0)
			return a->asked[i];
	if (a->count == DMARC_QUERIES_MAX)
		return NULL;
	/* made one by one: an evaluation asks two or three names, and 500
	 * waiting at once should not hold room for 32 each */
	struct dmarc_asked *q = a->asked[a->count++] = xcalloc(1, sizeof(*q));
	memcpy(q->name, domain, strlen(domain) + 1);	/* fits: checked above */
	st = a->lookup(a->ctx, name, &txt, &count);
	if (st == DMARC_LOOKUP_TEMPFAIL)
		q->answer = DMARC_ANSWER_TEMPFAIL;
	else if (st == DMARC_LOOKUP_OK)
		read_answer(txt, count, q);
	else
		q->answer = DMARC_ANSWER_NONE;
	dmarc_txt_free(txt, count);
	return q;
}

/* The name after domain in a walk from a domain of start_labels labels:
 * the 7-label ancestor after a long start, else the parent; NULL after
 * the top-level domain. */
static const char *next_name(const char *domain, bool first, size_t start_labels)
{
	size_t labels = dmarc_labels(domain);

	if (labels <= 1)
		return NULL;
	if (first && start_labels > DMARC_WALK_JUMP_LABELS)
		return dmarc_ancestor(domain, DMARC_WALK_JUMP_LABELS);
	return strchr(domain, '.') + 1;
}

int dmarc_walk(struct dmarc_answers *a, const char *start, struct dmarc_walk *w)
{
	size_t start_labels = dmarc_labels(start);
	bool first = true;

	memset(w, 0, sizeof(*w));
	w->start = start;
	for (const char *name = start; name != NULL && w->names < DMARC_WALK_MAX;
	     name = next_name(name, first, start_labels), first = false) {
		const struct dmarc_asked *q = dmarc_ask(a, name);

		w->names++;
		if (q == NULL || q->answer == DMARC_ANSWER_TEMPFAIL)
			return -1;
		if (q->answer != DMARC_ANSWER_RECORD)
			continue;
		w->found[w->found_count++] = q;
		if (q->record.psd != DMARC_PSD_U)
			break;
	}
	return 0;
}

void dmarc_walk_org(const struct dmarc_walk *w, char *out, size_t outlen)
{
	const char *org = w->start;

	if (w->found_count > 0) {
		const struct dmarc_asked *last = w->found[w->found_count - 1];

		org = last->name;
		if (last->record.psd == DMARC_PSD_Y && strcmp(last->name, w->start) != 0)
			org = dmarc_ancestor(w->start, dmarc_labels(last->name) + 1);
	}
	snprintf(out, outlen, "%s", org);
}
