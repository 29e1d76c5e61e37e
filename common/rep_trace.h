/*
 * rep_trace.h - the X-Limristem-Reputation header field: which validated
 * entities an inbound message came from, so that `mailadm learn` can
 * credit or blame them when a user moves the message in or out of Junk.
 *
 *   X-Limristem-Reputation: id=9f2c...; judged=good; ip=192.0.2.7;
 *           network=192.0.2.0/24; spf=example.org; dkim=example.org;
 *           mac=5d1e...
 *
 * The milter removes any such field arriving from outside before it adds
 * its own, and signs its own: mac is the first REP_TRACE_MAC_LEN / 2
 * bytes, in hex, of HMAC-SHA256 under a secret of the learning.secrets_file
 * over "limristem-trace-v1\n" and the canonical trace (every other tag,
 * as rep_trace_format() writes what rep_trace_parse() read). So learning
 * believes only a trace this site's milter wrote, as it wrote it: no
 * entity, verdict or id can be changed. id (32 hex digits, random) makes
 * a message learned twice count once; a trace copied onto another message
 * is the same trace, learned once. Parsing and the MAC are pure functions
 * over the field's value.
 */
#ifndef LIMRISTEM_REP_TRACE_H
#define LIMRISTEM_REP_TRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/addr.h"
#include "common/cidr.h"

#define REP_TRACE_FIELD "X-Limristem-Reputation"
#define REP_TRACE_ID_LEN 32
#define REP_TRACE_DKIM_MAX 4
#define REP_TRACE_MAC_LEN 32		/* hex digits: 128 bits of HMAC-SHA256 */
#define REP_TRACE_SECRETS_MAX 16	/* lines of learning.secrets_file read */
#define REP_TRACE_SECRET_MIN 16		/* shortest secret accepted, in bytes */
/* Longest value rep_trace_format() writes: the tags, four DKIM domains of
 * the longest length, the mac. */
#define REP_TRACE_TEXT_MAX (128 + 2 * CIDR_TEXT_MAX + (REP_TRACE_DKIM_MAX + 1) * (ADDR_DOMAIN_MAX + 2) + \
			    REP_TRACE_MAC_LEN)

struct rep_trace {
	char id[REP_TRACE_ID_LEN + 1];
	bool judged_bad;			/* the milter scored it as spam, or quarantined it */
	char ip[CIDR_TEXT_MAX];			/* "" when absent */
	char network[CIDR_TEXT_MAX];
	char spf[ADDR_DOMAIN_MAX + 1];		/* SPF-validated domain, "" when none */
	size_t dkim_count;
	char dkim[REP_TRACE_DKIM_MAX][ADDR_DOMAIN_MAX + 1];
	char mac[REP_TRACE_MAC_LEN + 1];	/* "" when absent */
};

/* The field's value (without the name), one line, mac last when set; -1
 * when out is small. */
int rep_trace_format(const struct rep_trace *t, char *out, size_t outlen);
/* What the MAC covers: the trace formatted without its mac. */
int rep_trace_canonical(const struct rep_trace *t, char *out, size_t outlen);
/* The value with a mac by key: t is formatted, read back and its
 * canonical form signed, so the MAC covers exactly what rep_trace_parse()
 * gives back to mailadm learn. -1 when out is small or t is not valid. */
int rep_trace_format_signed(const struct rep_trace *t, const char *key, char *out, size_t outlen);
/* 0 when t has a mac made with one of keys[0..count) over its canonical
 * form (compared in constant time), -1 otherwise. */
int rep_trace_verify(const struct rep_trace *t, const char *const *keys, size_t count);
/* 0, or -1 with *why_r (a static text). Unknown tags are ignored; a
 * known one given twice is refused. */
int rep_trace_parse(const char *value, size_t len, struct rep_trace *t, const char **why_r);

#endif
