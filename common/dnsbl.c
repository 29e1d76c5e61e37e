/*
 * dnsbl.c - parse blocklist zone specifications and match answers.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/dnsbl.h"

static void allow(struct dnsbl_zone *z, int octet, unsigned v)
{
	z->octet_ok[octet][v / 8] |= (uint8_t)(1u << (v % 8));
}

static bool allowed(const struct dnsbl_zone *z, int octet, unsigned v)
{
	return (z->octet_ok[octet][v / 8] >> (v % 8)) & 1;
}

static const char *parse_number(const char **p, unsigned *v_r)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return "expected a number from 0 to 255";
	v = strtoul(*p, &end, 10);
	if (v > 255 || end - *p > 3)
		return "an address octet is 0 to 255";
	*p = end;
	*v_r = (unsigned)v;
	return NULL;
}

/* One octet: "2", "[2..11]" or "[1;2;9..12]". */
static const char *parse_octet(const char **p, struct dnsbl_zone *z, int octet)
{
	const char *why;
	unsigned lo, hi;

	if (**p != '[') {
		if ((why = parse_number(p, &lo)) != NULL)
			return why;
		allow(z, octet, lo);
		return NULL;
	}
	(*p)++;
	for (;;) {
		if ((why = parse_number(p, &lo)) != NULL)
			return why;
		hi = lo;
		if (strncmp(*p, "..", 2) == 0) {
			*p += 2;
			if ((why = parse_number(p, &hi)) != NULL)
				return why;
			if (hi < lo)
				return "a range must go upwards, as in [2..11]";
		}
		for (unsigned v = lo; v <= hi; v++)
			allow(z, octet, v);
		if (**p == ']') {
			(*p)++;
			return NULL;
		}
		if (**p != ';')
			return "separate values in brackets with ';', as in [2;4..7]";
		(*p)++;
	}
}

int dnsbl_zone_parse(const char *spec, struct dnsbl_zone *zone_r, const char **why_r)
{
	const char *eq = strchr(spec, '='), *p;
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);

	memset(zone_r, 0, sizeof(*zone_r));
	if (len == 0 || len > ADDR_DOMAIN_MAX) {
		*why_r = "expected zone or zone=127.0.0.2 (ranges: 127.0.0.[2..11])";
		return -1;
	}
	if (domain_check(spec, len, ADDR_ALLOW_UNDERSCORE | ADDR_REQUIRE_DOT, why_r) < 0)
		return -1;
	if (domain_normalize(spec, len, zone_r->name, sizeof(zone_r->name)) < 0) {
		*why_r = "the zone is too long";
		return -1;
	}
	if (eq == NULL) {
		zone_r->any = true;
		return 0;
	}
	p = eq + 1;
	for (int octet = 0; octet < 4; octet++) {
		if (octet > 0 && *p++ != '.') {
			*why_r = "the answer pattern needs four octets, as in 127.0.0.2";
			return -1;
		}
		if ((*why_r = parse_octet(&p, zone_r, octet)) != NULL)
			return -1;
	}
	if (*p != '\0') {
		*why_r = "unexpected text after the answer pattern";
		return -1;
	}
	return 0;
}

const char *dnsbl_zone_check(const char *spec)
{
	struct dnsbl_zone z;
	const char *why;

	return dnsbl_zone_parse(spec, &z, &why) == 0 ? NULL : why;
}

bool dnsbl_zone_matches(const struct dnsbl_zone *zone, const uint8_t answer[4])
{
	if (answer[0] != 127)
		return false;
	if (zone->any)
		return true;
	for (int i = 0; i < 4; i++)
		if (!allowed(zone, i, answer[i]))
			return false;
	return true;
}
