/*
 * request.c - the policy delegation request parser (see request.h).
 *
 * Two passes over the bytes of one request: the first finds its end and
 * enforces the limits without copying anything (so an oversized request is
 * refused before it is stored), the second copies the known attributes.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "common/xalloc.h"
#include "policyd/request.h"

static const char *const attr_names[POLICY_ATTR_COUNT] = {
	[POLICY_REQUEST] = "request",
	[POLICY_PROTOCOL_STATE] = "protocol_state",
	[POLICY_PROTOCOL_NAME] = "protocol_name",
	[POLICY_CLIENT_ADDRESS] = "client_address",
	[POLICY_CLIENT_NAME] = "client_name",
	[POLICY_HELO_NAME] = "helo_name",
	[POLICY_SENDER] = "sender",
	[POLICY_RECIPIENT] = "recipient",
	[POLICY_RECIPIENT_COUNT] = "recipient_count",
	[POLICY_QUEUE_ID] = "queue_id",
	[POLICY_INSTANCE] = "instance",
	[POLICY_SIZE] = "size",
	[POLICY_SASL_METHOD] = "sasl_method",
	[POLICY_SASL_USERNAME] = "sasl_username",
	[POLICY_CCERT_FINGERPRINT] = "ccert_fingerprint",
};

const char *policy_attr_name(enum policy_attr attr)
{
	return attr < POLICY_ATTR_COUNT ? attr_names[attr] : "?";
}

const char *policy_parse_status_name(ssize_t status)
{
	switch (status) {
	case POLICY_PARSE_INCOMPLETE: return "incomplete request";
	case POLICY_PARSE_LINE_TOO_LONG: return "attribute line too long";
	case POLICY_PARSE_TOO_LONG: return "request too long";
	case POLICY_PARSE_MALFORMED: return "malformed request (a line without \"=\" or a NUL byte)";
	case POLICY_PARSE_BAD_NUMBER: return "size or recipient_count is not a number";
	default: return "request";
	}
}

/* Length of the line content (without "\r\n" or "\n"). */
static size_t content_length(const char *line, size_t with_newline)
{
	size_t n = with_newline - 1;

	return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
}

/* First pass: the length of the request including its empty line, or a
 * status <= 0. */
static ssize_t find_end(const char *buf, size_t len, const struct policy_limits *limits)
{
	size_t off = 0;

	for (;;) {
		size_t avail = len - off, scan = avail;
		const char *nl;

		if (scan > limits->max_line + 2)
			scan = limits->max_line + 2;	/* content, "\r", "\n" */
		nl = memchr(buf + off, '\n', scan);
		if (nl == NULL) {
			/* a partial line: its content is at least this long */
			size_t least = avail > 0 && buf[len - 1] == '\r' ? avail - 1 : avail;

			if (scan < avail || least > limits->max_line)
				return POLICY_PARSE_LINE_TOO_LONG;
			return off + avail > limits->max_request ? POLICY_PARSE_TOO_LONG
								 : POLICY_PARSE_INCOMPLETE;
		}
		size_t line_len = (size_t)(nl - (buf + off)) + 1;
		size_t content = content_length(buf + off, line_len);

		if (content > limits->max_line)
			return POLICY_PARSE_LINE_TOO_LONG;
		if (memchr(buf + off, '\0', line_len) != NULL)
			return POLICY_PARSE_MALFORMED;
		off += line_len;
		if (off > limits->max_request)
			return POLICY_PARSE_TOO_LONG;
		if (content == 0)
			return (ssize_t)off;
		if (memchr(buf + off - line_len, '=', content) == NULL)
			return POLICY_PARSE_MALFORMED;
	}
}

static int attr_lookup(const char *name, size_t len)
{
	for (int a = 0; a < POLICY_ATTR_COUNT; a++)
		if (strlen(attr_names[a]) == len && memcmp(attr_names[a], name, len) == 0)
			return a;
	return -1;
}

/* A numeric attribute: "" (absent) is 0; digits beyond POLICY_NUMBER_MAX
 * saturate; anything else is refused. 0 or -1. */
static int numeric_value(const char *text, long long *value_r)
{
	if (text[0] == '\0') {
		*value_r = 0;
		return 0;
	}
	switch (number_parse_str(text, 0, POLICY_NUMBER_MAX, value_r)) {
	case NUMBER_OK:
		return 0;
	case NUMBER_OUT_OF_RANGE:	/* negative: refused; too large: saturated */
		return text[0] == '-' ? -1 : 0;
	default:
		return -1;
	}
}

ssize_t policy_request_parse(const char *buf, size_t len, const struct policy_limits *limits,
			     struct policy_request *req)
{
	ssize_t end = find_end(buf, len, limits);
	char *copy, *line;

	memset(req, 0, sizeof(*req));
	if (end <= 0)
		return end;
	/* One copy of the request; values become NUL-terminated in place.
	 * An absent attribute points at the final "" of the copy. */
	copy = req->storage = xmalloc((size_t)end + 1);
	memcpy(copy, buf, (size_t)end);
	copy[end] = '\0';
	for (int a = 0; a < POLICY_ATTR_COUNT; a++)
		req->value[a] = copy + end;
	for (line = copy; line < copy + end;) {
		char *nl = memchr(line, '\n', (size_t)(copy + end - line));
		size_t content = content_length(line, (size_t)(nl - line) + 1);
		char *eq = memchr(line, '=', content);
		int a;

		line[content] = '\0';
		if (eq != NULL && (a = attr_lookup(line, (size_t)(eq - line))) >= 0)
			req->value[a] = eq + 1;
		line = nl + 1;
	}
	if (numeric_value(req->value[POLICY_SIZE], &req->size) < 0 ||
	    numeric_value(req->value[POLICY_RECIPIENT_COUNT], &req->recipient_count) < 0) {
		policy_request_clear(req);
		return POLICY_PARSE_BAD_NUMBER;
	}
	return end;
}

void policy_request_clear(struct policy_request *req)
{
	free(req->storage);
	memset(req, 0, sizeof(*req));
}
