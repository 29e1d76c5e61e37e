/*
 * endpoint.h - where a service listens or a client connects.
 *
 * Text forms: "unix:/run/x.sock" or "/run/x.sock" for a unix socket;
 * "127.0.0.1:10003", "[::1]:10003" or "localhost:6379" for TCP. Pure parser.
 */
#ifndef LIMRISTEM_ENDPOINT_H
#define LIMRISTEM_ENDPOINT_H

#include <stdint.h>

#define ENDPOINT_PATH_MAX 108	/* sizeof(sun_path) on Linux */
#define ENDPOINT_HOST_MAX 254

enum endpoint_kind {
	ENDPOINT_NONE,		/* not configured (empty text) */
	ENDPOINT_UNIX,
	ENDPOINT_TCP,
};

struct endpoint {
	enum endpoint_kind kind;
	char path[ENDPOINT_PATH_MAX];	/* ENDPOINT_UNIX */
	char host[ENDPOINT_HOST_MAX];	/* ENDPOINT_TCP, without brackets */
	uint16_t port;			/* ENDPOINT_TCP */
};

/* Parses s; an empty string gives ENDPOINT_NONE. Returns 0 or -1 with a
 * reason in *why_r. */
int endpoint_parse(const char *s, struct endpoint *ep_r, const char **why_r);
/* Writes the canonical text form; returns -1 when outlen is too small. */
int endpoint_format(const struct endpoint *ep, char *out, unsigned long outlen);
/* True for unix sockets and for TCP on a loopback address or "localhost". */
int endpoint_is_local(const struct endpoint *ep);

#endif
