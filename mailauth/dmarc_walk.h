/*
 * dmarc_walk.h - the DNS Tree Walk of RFC 9989 section 4.10, for dmarc.c.
 *
 * A walk from a domain asks for the DMARC Policy Record at _dmarc.DOMAIN,
 * then at its ancestors: the parent, or for a domain of 8 labels or more
 * its ancestor of 7 labels (the jump), then one label fewer each time, up
 * to and including the top-level domain (where a Public Suffix Operator
 * may publish psd=y). That is at most DMARC_WALK_MAX names whatever the
 * length of the domain. A walk stops at a record saying psd=y or psd=n.
 *
 * The answers of one evaluation are kept in its struct dmarc_answers, so
 * that walks from several domains (the From domain, each identifier) ask
 * every name once; after DMARC_QUERIES_MAX names a question is not asked
 * and counts as a temporary failure. Names are compared and asked in
 * lowercase, without a final dot.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_WALK_H
#define LIMRISTEM_MAILAUTH_DMARC_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "mailauth/dmarc.h"

/* Names one walk asks at most (RFC 9989 4.10), and the label count its
 * jump leaves a long domain with. */
#define DMARC_WALK_MAX 8
#define DMARC_WALK_JUMP_LABELS 7
/* Names one evaluation asks at most: a walk from the From domain, one
 * from each identifier below its Organizational Domain. */
#define DMARC_QUERIES_MAX 32

enum dmarc_answer {
	DMARC_ANSWER_NONE,	/* no record (or several: all discarded) */
	DMARC_ANSWER_RECORD,
	DMARC_ANSWER_TEMPFAIL,
};

struct dmarc_asked {
	char name[ADDR_DOMAIN_MAX + 1];	/* the domain, without "_dmarc." */
	enum dmarc_answer answer;
	bool several;			/* NONE because several records were there */
	struct dmarc_record record;	/* for RECORD */
};

struct dmarc_answers {
	dmarc_lookup_fn *lookup;
	void *ctx;
	size_t count;
	struct dmarc_asked *asked[DMARC_QUERIES_MAX];	/* each made when first asked */
};

/* Frees what a's questions hold (a itself is the caller's). */
void dmarc_answers_clear(struct dmarc_answers *a);

struct dmarc_walk {
	const char *start;
	/* the names asked that had a record, longest first */
	const struct dmarc_asked *found[DMARC_WALK_MAX];
	size_t found_count;
	size_t names;		/* names the walk went through (asked now or before) */
};

/* The answer about _dmarc.domain, asked once per evaluation; NULL when
 * DMARC_QUERIES_MAX names were asked already. */
const struct dmarc_asked *dmarc_ask(struct dmarc_answers *answers, const char *domain);

/* Walks up from start. 0, or -1 when a question failed (or was not asked
 * for the limit): then the walk says nothing. */
int dmarc_walk(struct dmarc_answers *answers, const char *start, struct dmarc_walk *walk_r);

/* The Organizational Domain a complete walk found (4.10.2): the name of a
 * psd=n record; the name one label under a psd=y record that is not the
 * start's; else the record's name with the fewest labels; with no record,
 * the start. */
void dmarc_walk_org(const struct dmarc_walk *walk, char *out, size_t outlen);

/* Labels of a domain ("a.b.example": 3), and its ancestor with that many
 * labels (the domain itself when it has no more). */
size_t dmarc_labels(const char *domain);
const char *dmarc_ancestor(const char *domain, size_t labels);

#endif
