/*
 * endpoint.c - parse and format service endpoints.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/cidr.h"
#include "common/endpoint.h"

static int parse_unix(const char *path, struct endpoint *ep_r, const char **why_r)
{
	if (path[0] != '/') {
		*why_r = "a unix socket path must be absolute";
		return -1;
	}
	if (strlen(path) >= sizeof(ep_r->path)) {
		*why_r = "a unix socket path is at most 107 characters";
		return -1;
	}
	ep_r->kind = ENDPOINT_UNIX;
	strcpy(ep_r->path, path);
	return 0;
}

static int parse_port(const char *s, uint16_t *port_r, const char **why_r)
{
	char *end;
	unsigned long port;

	if (*s < '0' || *s > '9') {
		*why_r = "expected a port number after ':'";
		return -1;
	}
	port = strtoul(s, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535) {
		*why_r = "a port number is 1 to 65535";
		return -1;
	}
	*port_r = (uint16_t)port;
	return 0;
}

/* A bracketed host is an IPv6 address; otherwise an IPv4 address or a
 * host name. */
static int check_host(const char *host, bool bracketed, const char **why_r)
{
	struct ip_addr ip;

	if (bracketed) {
		if (strchr(host, ':') == NULL || ip_parse(host, &ip) < 0) {
			*why_r = "only an IPv6 address goes in brackets";
			return -1;
		}
		return 0;
	}
	if (ip_parse(host, &ip) == 0 || domain_check(host, strlen(host), ADDR_ALLOW_UNDERSCORE, why_r) == 0)
		return 0;
	*why_r = "the host is neither an IP address nor a host name";
	return -1;
}

int endpoint_parse(const char *s, struct endpoint *ep_r, const char **why_r)
{
	const char *host, *colon;
	size_t host_len;

	memset(ep_r, 0, sizeof(*ep_r));
	if (*s == '\0') {
		ep_r->kind = ENDPOINT_NONE;
		return 0;
	}
	if (strncmp(s, "unix:", 5) == 0)
		return parse_unix(s + 5, ep_r, why_r);
	if (s[0] == '/')
		return parse_unix(s, ep_r, why_r);
	if (strncmp(s, "inet:", 5) == 0)
		s += 5;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			*why_r = "expected [IPv6-address]:port";
			return -1;
		}
		host = s + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*why_r = "expected host:port, [IPv6-address]:port or unix:/path";
			return -1;
		}
		host = s;
		host_len = (size_t)(colon - s);
		if (memchr(host, ':', host_len) != NULL) {
			*why_r = "write an IPv6 address in brackets: [::1]:port";
			return -1;
		}
	}
	if (host_len == 0 || host_len >= sizeof(ep_r->host)) {
		*why_r = "the host name is empty or too long";
		return -1;
	}
	if (parse_port(colon + 1, &ep_r->port, why_r) < 0)
		return -1;
	memcpy(ep_r->host, host, host_len);
	ep_r->host[host_len] = '\0';
	if (check_host(ep_r->host, s[0] == '[', why_r) < 0)
		return -1;
	ep_r->kind = ENDPOINT_TCP;
	return 0;
}

int endpoint_format(const struct endpoint *ep, char *out, unsigned long outlen)
{
	int n;

	switch (ep->kind) {
	case ENDPOINT_NONE:
		n = snprintf(out, outlen, "%s", "");
		break;
	case ENDPOINT_UNIX:
		n = snprintf(out, outlen, "unix:%s", ep->path);
		break;
	default:
		/* Hosts called "unix" or "inet" need the inet: prefix to read
		 * back as themselves. */
		n = snprintf(out, outlen, strchr(ep->host, ':') ? "[%s]:%u"
			     : strcmp(ep->host, "unix") == 0 || strcmp(ep->host, "inet") == 0
			     ? "inet:%s:%u" : "%s:%u",
			     ep->host, (unsigned)ep->port);
		break;
	}
	return n < 0 || (unsigned long)n >= outlen ? -1 : 0;
}

int endpoint_is_local(const struct endpoint *ep)
{
	struct ip_addr ip;

	if (ep->kind == ENDPOINT_UNIX)
		return 1;
	if (ep->kind != ENDPOINT_TCP)
		return 0;
	if (strcmp(ep->host, "localhost") == 0)
		return 1;
	return ip_parse(ep->host, &ip) == 0 && ip_is_loopback(&ip);
}
