/*
 * request.h - one Postfix policy delegation request (SMTPD_POLICY_README):
 * "name=value" lines ending with an empty line.
 *
 * The parser is a pure function over a buffer. It keeps the attributes the
 * checks read and ignores the others, as the protocol asks. Values are
 * taken as sent (Postfix does not encode them); a repeated attribute keeps
 * its last value. The numeric ones the checks use (size, recipient_count)
 * must be plain digits: anything else ("-1", " 5", "1e9", "0x10") makes
 * the request malformed, and a number too large for any counter is
 * saturated at POLICY_NUMBER_MAX, never wrapped.
 */
#ifndef LIMRISTEM_POLICY_REQUEST_H
#define LIMRISTEM_POLICY_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum policy_attr {
	POLICY_REQUEST,			/* "smtpd_access_policy" */
	POLICY_PROTOCOL_STATE,		/* CONNECT, EHLO, MAIL, RCPT, DATA, END-OF-MESSAGE, ... */
	POLICY_PROTOCOL_NAME,		/* SMTP, ESMTP */
	POLICY_CLIENT_ADDRESS,
	POLICY_CLIENT_NAME,
	POLICY_HELO_NAME,
	POLICY_SENDER,
	POLICY_RECIPIENT,
	POLICY_RECIPIENT_COUNT,
	POLICY_QUEUE_ID,
	POLICY_INSTANCE,		/* one value per message transaction */
	POLICY_SIZE,
	POLICY_SASL_METHOD,
	POLICY_SASL_USERNAME,
	POLICY_CCERT_FINGERPRINT,
	POLICY_ATTR_COUNT
};

/* Default limits; the daemon's settings may change them. */
#define POLICY_LINE_MAX_DEFAULT 2048
#define POLICY_REQUEST_MAX_DEFAULT 16384

struct policy_limits {
	size_t max_line;	/* one "name=value" line, without the newline */
	size_t max_request;	/* the whole request, empty line included */
};

/* A number beyond this (size=99999999999999999999) is taken as this: larger
 * than any quota, so an absurd size is over every quota rather than a
 * wrapped-around small one. */
#define POLICY_NUMBER_MAX INT64_MAX

struct policy_request {
	/* NUL-terminated copies; "" when the attribute was absent. */
	char *value[POLICY_ATTR_COUNT];
	/* The numeric attributes, checked by the parser: 0 when absent or
	 * empty, at most POLICY_NUMBER_MAX. */
	long long size;			/* bytes; 0 when not announced */
	long long recipient_count;
	char *storage;		/* owns the values */
};

enum policy_parse_status {
	POLICY_PARSE_INCOMPLETE = 0,	/* no empty line yet: read more */
	POLICY_PARSE_LINE_TOO_LONG = -1,
	POLICY_PARSE_TOO_LONG = -2,	/* the request is over max_request */
	POLICY_PARSE_MALFORMED = -3,	/* a line without "=", or a NUL byte */
	POLICY_PARSE_BAD_NUMBER = -4,	/* size= or recipient_count= not digits */
};

/* Parses the request at the start of buf[0..len). Returns the bytes it
 * used (> 0) and fills req (free with policy_request_clear()), 0 when more
 * input is needed, or a negative enum policy_parse_status when the input
 * can never become a valid request. Lines may end in "\n" or "\r\n". */
ssize_t policy_request_parse(const char *buf, size_t len, const struct policy_limits *limits,
			     struct policy_request *req);
void policy_request_clear(struct policy_request *req);

const char *policy_attr_name(enum policy_attr attr);
const char *policy_parse_status_name(ssize_t status);

#endif
