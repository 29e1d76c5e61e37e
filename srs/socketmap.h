/*
 * socketmap.h - Postfix socketmap protocol (socketmap_table(5)).
 *
 * A request is a netstring "NAME KEY"; a reply is a netstring "OK value",
 * "NOTFOUND ", "TEMP reason", "TIMEOUT reason" or "PERM reason". Pure
 * functions; the server feeds them bytes and sends what they produce.
 */
#ifndef LIMRISTEM_SOCKETMAP_H
#define LIMRISTEM_SOCKETMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "common/strbuf.h"

#define SOCKETMAP_NAME_MAX 64
/* Bytes a netstring adds to its payload: the length's digits (at most 20),
 * ':' and ','. */
#define SOCKETMAP_FRAMING_MAX 22

struct socketmap_request {
	char name[SOCKETMAP_NAME_MAX + 1];
	const char *key;	/* points into the payload; not NUL-terminated */
	size_t key_len;
};

enum socketmap_status {
	SOCKETMAP_OK,
	SOCKETMAP_NOTFOUND,
	SOCKETMAP_TEMP,
	SOCKETMAP_TIMEOUT,
	SOCKETMAP_PERM,
};

enum {
	SOCKETMAP_INCOMPLETE = 0,	/* wait for more bytes */
	SOCKETMAP_MALFORMED = -1,	/* not a netstring: the connection is unusable */
	SOCKETMAP_TOO_LONG = -2,	/* announced longer than max_request */
	SOCKETMAP_BAD_REQUEST = -3,	/* a netstring, but not "NAME KEY" */
};

/* Parses the first request in buf[0..len). Returns the bytes it used (> 0)
 * with req_r filled, or one of the codes above. For BAD_REQUEST the bytes
 * used are in *used_r so the caller can answer PERM and carry on. */
ssize_t socketmap_parse(const char *buf, size_t len, size_t max_request,
			struct socketmap_request *req_r, size_t *used_r);

/* Appends the reply netstring "STATUS text". */
void socketmap_reply(struct strbuf *out, enum socketmap_status status, const char *text);

#endif
