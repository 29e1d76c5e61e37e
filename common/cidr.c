/*
 * cidr.c - IP address and network parsing and matching.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int ip_parse(const char *s, struct ip_addr *ip_r)
{
	memset(ip_r, 0, sizeof(*ip_r));
	if (inet_pton(AF_INET, s, ip_r->bytes) == 1) {
		ip_r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip_r->bytes) == 1) {
		ip_r->family = AF_INET6;
		if (memcmp(ip_r->bytes, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
			memmove(ip_r->bytes, ip_r->bytes + 12, 4);
			memset(ip_r->bytes + 4, 0, 12);
			ip_r->family = AF_INET;
		}
		return 0;
	}
	return -1;
}

int ip_format(const struct ip_addr *ip, char *out, size_t outlen)
{
	return inet_ntop(ip->family, ip->bytes, out, (socklen_t)outlen) != NULL ? 0 : -1;
}

static size_t ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool ip_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, ip_len(a->family)) == 0;
}

bool ip_is_loopback(const struct ip_addr *ip)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (ip->family == AF_INET)
		return ip->bytes[0] == 127;
	return memcmp(ip->bytes, v6_loopback, 16) == 0;
}

static void apply_mask(uint8_t *bytes, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * i : 0);
		bytes[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int cidr_parse(const char *s, struct cidr *cidr_r, const char **why_r)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	uint8_t masked[16];

	if (alen == 0 || alen >= sizeof(addr)) {
		*why_r = "not an IP address or network";
		return -1;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (ip_parse(addr, &cidr_r->net) < 0) {
		*why_r = "not an IP address or network";
		return -1;
	}
	max = cidr_r->net.family == AF_INET ? 32 : 128;
	/* An IPv4-mapped network keeps its meaning: ::ffff:192.0.2.0/120 is /24. */
	bool mapped = cidr_r->net.family == AF_INET && strchr(addr, ':') != NULL;
	if (slash == NULL) {
		cidr_r->prefix = max;
		return 0;
	}
	char *end;
	const char *digits = slash + 1;
	if (*digits < '0' || *digits > '9') {
		*why_r = "the prefix length after '/' is not a number";
		return -1;
	}
	unsigned long p = strtoul(digits, &end, 10);
	if (*end != '\0' || p > (mapped ? 128u : max) || (mapped && p < 96)) {
		*why_r = cidr_r->net.family == AF_INET ? "an IPv4 prefix length is 0 to 32"
						       : "an IPv6 prefix length is 0 to 128";
		return -1;
	}
	cidr_r->prefix = mapped ? (unsigned)p - 96 : (unsigned)p;
	memcpy(masked, cidr_r->net.bytes, sizeof(masked));
	apply_mask(masked, ip_len(cidr_r->net.family), cidr_r->prefix);
	if (memcmp(masked, cidr_r->net.bytes, ip_len(cidr_r->net.family)) != 0) {
		*why_r = "the address has bits set beyond the prefix length";
		return -1;
	}
	return 0;
}

int cidr_format(const struct cidr *c, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (ip_format(&c->net, addr, sizeof(addr)) < 0)
		return -1;
	n = snprintf(out, outlen, "%s/%u", addr, c->prefix);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool cidr_contains(const struct cidr *net, const struct ip_addr *ip)
{
	uint8_t masked[16];

	if (net->net.family != ip->family)
		return false;
	memcpy(masked, ip->bytes, sizeof(masked));
	apply_mask(masked, ip_len(ip->family), net->prefix);
	return memcmp(masked, net->net.bytes, ip_len(ip->family)) == 0;
}

void cidr_of(const struct ip_addr *ip, unsigned prefix_v4, unsigned prefix_v6,
	     struct cidr *cidr_r)
{
	cidr_r->net = *ip;
	cidr_r->prefix = ip->family == AF_INET ? (prefix_v4 > 32 ? 32 : prefix_v4)
					       : (prefix_v6 > 128 ? 128 : prefix_v6);
	apply_mask(cidr_r->net.bytes, ip_len(ip->family), cidr_r->prefix);
}

bool cidr_list_contains(const struct cidr_list *list, const struct ip_addr *ip)
{
	for (size_t i = 0; i < list->count; i++)
		if (cidr_contains(&list->items[i], ip))
			return true;
	return false;
}

void cidr_list_free(struct cidr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
