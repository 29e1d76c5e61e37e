/*
 * rep_trace.h - the X-Limristem-Reputation header field: which validated
 * entities an inbound message came from, so that `mailadm learn` can
 * credit or blame them when a user moves the message in or out of Junk.
 *
 *   X-Limristem-Reputation: id=9f2c...; judged=good; ip=192.0.2.7;
 *           network=192.0.2.0/24; spf=example.org; dkim=example.org
 *
 * The milter removes any such field arriving from outside before it adds
 * its own, so what learning reads is what we recorded. id (32 hex digits,
 * random) makes a message learned twice count once. Parsing is a pure
 * function over the field's value.
 */
#ifndef LIMRISTEM_REP_TRACE_H
#define LIMRISTEM_REP_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "cidr.h"

#define REP_TRACE_FIELD "X-Limristem-Reputation"
#define REP_TRACE_ID_LEN 32
#define REP_TRACE_DKIM_MAX 4

struct rep_trace {
	char id[REP_TRACE_ID_LEN + 1];
	bool judged_bad;			/* the milter scored it as spam */
	char ip[CIDR_TEXT_MAX];			/* "" when absent */
	char network[CIDR_TEXT_MAX];
	char spf[ADDR_DOMAIN_MAX + 1];		/* SPF-validated domain, "" when none */
	size_t dkim_count;
	char dkim[REP_TRACE_DKIM_MAX][ADDR_DOMAIN_MAX + 1];
};

/* The field's value (without the name), one line; -1 when out is small. */
int rep_trace_format(const struct rep_trace *t, char *out, size_t outlen);
/* 0, or -1 with *why_r (a static text). Unknown tags are ignored; a
 * known one given twice is refused. */
int rep_trace_parse(const char *value, size_t len, struct rep_trace *t, const char **why_r);

#endif
