/*
 * rep_trace.c - writing and reading X-Limristem-Reputation (see rep_trace.h).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "rep_trace.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int rep_trace_format(const struct rep_trace *t, char *out, size_t outlen)
{
	size_t used = 0;
	int n = snprintf(out, outlen, "id=%s; judged=%s", t->id, t->judged_bad ? "bad" : "good");

#define APPEND(...) do { \
		if (n < 0 || (size_t)n >= outlen - used) \
			return -1; \
		used += (size_t)n; \
		n = snprintf(out + used, outlen - used, __VA_ARGS__); \
	} while (0)
	if (t->ip[0])
		APPEND("; ip=%s", t->ip);
	if (t->network[0])
		APPEND("; network=%s", t->network);
	if (t->spf[0])
		APPEND("; spf=%s", t->spf);
	for (size_t i = 0; i < t->dkim_count; i++)
		APPEND("%s%s", i == 0 ? "; dkim=" : ",", t->dkim[i]);
	APPEND("%s", "");
#undef APPEND
	return 0;
}

static int copy_domain(const char *s, size_t len, char *out, const char **why_r)
{
	if (domain_check(s, len, ADDR_ALLOW_UNDERSCORE, why_r) < 0 ||
	    domain_normalize(s, len, out, ADDR_DOMAIN_MAX + 1) < 0) {
		*why_r = "a domain is not valid";
		return -1;
	}
	return 0;
}

static int parse_dkim(const char *v, size_t len, struct rep_trace *t, const char **why_r)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma ? (size_t)(comma - v) : len;

		if (t->dkim_count == REP_TRACE_DKIM_MAX) {
			*why_r = "too many dkim domains";
			return -1;
		}
		if (copy_domain(v, n, t->dkim[t->dkim_count++], why_r) < 0)
			return -1;
		v += n + (comma != NULL);
		len -= n + (comma != NULL);
	}
	return 0;
}

static int parse_address(const char *v, size_t len, bool network, char *out, const char **why_r)
{
	char text[CIDR_TEXT_MAX];
	struct ip_addr ip;
	struct cidr net;

	if (len == 0 || len >= sizeof(text)) {
		*why_r = network ? "network: not a network" : "ip: not an address";
		return -1;
	}
	memcpy(text, v, len);
	text[len] = '\0';
	if (network ? cidr_parse(text, &net, why_r) < 0 : ip_parse(text, &ip) < 0) {
		*why_r = network ? "network: not a network" : "ip: not an address";
		return -1;
	}
	return network ? cidr_format(&net, out, CIDR_TEXT_MAX) : ip_format(&ip, out, CIDR_TEXT_MAX);
}

static int parse_id(const char *v, size_t len, struct rep_trace *t, const char **why_r)
{
	bool hex = len == REP_TRACE_ID_LEN;

	for (size_t i = 0; hex && i < len; i++)	/* v is not NUL-terminated */
		hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
	if (!hex) {
		*why_r = "id: not 32 lowercase hex digits";
		return -1;
	}
	memcpy(t->id, v, len);
	t->id[len] = '\0';
	return 0;
}

/* Each tag at most once: seen_r has a bit per known tag. */
static int parse_tag(const char *tag, size_t tlen, const char *v, size_t vlen,
		     struct rep_trace *t, unsigned *seen_r, const char **why_r)
{
	static const char *const known[] = { "id", "judged", "ip", "network", "spf", "dkim" };

	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (tlen != strlen(known[i]) || memcmp(tag, known[i], tlen) != 0)
			continue;
		if (*seen_r & (1u << i)) {
			*why_r = "a tag appears twice";
			return -1;
		}
		*seen_r |= 1u << i;
	}
#define IS(name) (tlen == sizeof(name) - 1 && memcmp(tag, name, tlen) == 0)
	if (IS("id"))
		return parse_id(v, vlen, t, why_r);
	if (IS("judged")) {
		if ((vlen != 3 || memcmp(v, "bad", 3) != 0) && (vlen != 4 || memcmp(v, "good", 4) != 0)) {
			*why_r = "judged: not good or bad";
			return -1;
		}
		t->judged_bad = vlen == 3;
		return 0;
	}
	if (IS("ip"))
		return parse_address(v, vlen, false, t->ip, why_r);
	if (IS("network"))
		return parse_address(v, vlen, true, t->network, why_r);
	if (IS("spf"))
		return copy_domain(v, vlen, t->spf, why_r);
	if (IS("dkim"))
		return parse_dkim(v, vlen, t, why_r);
#undef IS
	return 0;
}

int rep_trace_parse(const char *value, size_t len, struct rep_trace *t, const char **why_r)
{
	const char *end = value + len;
	unsigned seen = 0;

	memset(t, 0, sizeof(*t));
	while (value < end) {
		const char *semi = memchr(value, ';', (size_t)(end - value));
		const char *stop = semi ? semi : end, *eq;
		const char *tag = value, *v;

		while (tag < stop && is_space(*tag))
			tag++;
		eq = memchr(tag, '=', (size_t)(stop - tag));
		if (eq == NULL) {
			if (tag != stop) {
				*why_r = "a tag without '='";
				return -1;
			}
		} else {
			const char *tend = eq, *vend = stop;

			while (tend > tag && is_space(tend[-1]))
				tend--;
			for (v = eq + 1; v < vend && is_space(*v); v++)
				;
			while (vend > v && is_space(vend[-1]))
				vend--;
			if (parse_tag(tag, (size_t)(tend - tag), v, (size_t)(vend - v), t, &seen,
				      why_r) < 0)
				return -1;
		}
		value = semi ? semi + 1 : end;
	}
	if (t->id[0] == '\0') {
		*why_r = "no id";
		return -1;
	}
	return 0;
}
