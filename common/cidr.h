/*
 * cidr.h - IPv4 and IPv6 addresses and networks, and matching between them.
 *
 * Pure functions. An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is treated
 * as the IPv4 address it carries, so "192.0.2.0/24" matches it: Postfix
 * reports such addresses for IPv4 clients on dual-stack sockets.
 */
#ifndef LIMRISTEM_CIDR_H
#define LIMRISTEM_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text form of a network: an IPv6 address, '/', three digits. */
#define CIDR_TEXT_MAX 50

struct ip_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t bytes[16];	/* 4 used for AF_INET */
};

struct cidr {
	struct ip_addr net;	/* host bits are zero */
	unsigned prefix;	/* 0..32 or 0..128 */
};

struct cidr_list {
	struct cidr *items;
	size_t count;
};

/* Parses "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (becomes IPv4). */
int ip_parse(const char *s, struct ip_addr *ip_r);
/* Writes the text form; returns -1 when outlen is too small. */
int ip_format(const struct ip_addr *ip, char *out, size_t outlen);
bool ip_equal(const struct ip_addr *a, const struct ip_addr *b);
bool ip_is_loopback(const struct ip_addr *ip);

/* Parses "192.0.2.0/24", "2001:db8::/32" or a single address (a host
 * network). Host bits that are set are an error, since they usually mean a
 * typo; *why_r says so. */
int cidr_parse(const char *s, struct cidr *cidr_r, const char **why_r);
int cidr_format(const struct cidr *c, char *out, size_t outlen);
bool cidr_contains(const struct cidr *net, const struct ip_addr *ip);
/* The network of the given prefix length that contains ip (for keys such as
 * "the client's /24"); the prefix is chosen by family. */
void cidr_of(const struct ip_addr *ip, unsigned prefix_v4, unsigned prefix_v6,
	     struct cidr *cidr_r);

bool cidr_list_contains(const struct cidr_list *list, const struct ip_addr *ip);
void cidr_list_free(struct cidr_list *list);

#endif
