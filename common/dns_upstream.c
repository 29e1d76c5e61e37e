/*
 * dns_upstream.c - convert a configured DNS upstream to libunbound's syntax.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "common/cidr.h"
#include "common/dns_upstream.h"
#include "common/endpoint.h"

int dns_upstream_to_unbound(const char *value, char *out, size_t outlen)
{
	struct endpoint ep;
	struct ip_addr ip;
	const char *why;
	int n;

	if (ip_parse(value, &ip) == 0) {	/* a bare address: port 53 */
		n = snprintf(out, outlen, "%s", value);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (endpoint_parse(value, &ep, &why) < 0 || ep.kind != ENDPOINT_TCP ||
	    ip_parse(ep.host, &ip) < 0)
		return -1;
	n = snprintf(out, outlen, "%s@%u", ep.host, (unsigned)ep.port);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *dns_upstream_check(const char *value)
{
	char buf[128];

	if (dns_upstream_to_unbound(value, buf, sizeof(buf)) < 0)
		return "not an IP address, IP:port or [IPv6]:port";
	return NULL;
}
