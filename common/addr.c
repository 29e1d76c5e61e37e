/*
 * addr.c - address and domain syntax per RFC 5321, 1035, 1123 and 6531.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "common/addr.h"

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

size_t utf8_sequence_length(const unsigned char *s, size_t len)
{
	size_t need;
	unsigned cp;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, out of range or a surrogate */
	return need;
}

static int check_quoted_local(const unsigned char *s, size_t len, unsigned flags,
			      const char **why_r)
{
	if (len < 2 || s[len - 1] != '"') {
		*why_r = "a quoted local part must end with '\"'";
		return -1;
	}
	for (size_t i = 1; i < len - 1; i++) {
		unsigned char c = s[i];
		if (c == '\\') {
			if (i + 1 >= len - 1 || s[i + 1] < 32 || s[i + 1] > 126) {
				*why_r = "a backslash in a quoted local part must escape a printable character";
				return -1;
			}
			i++;
		} else if (c >= 0x80 && (flags & ADDR_ALLOW_UTF8)) {
			size_t n = utf8_sequence_length(s + i, len - 1 - i);
			if (n == 0) {
				*why_r = "the local part is not valid UTF-8";
				return -1;
			}
			i += n - 1;
		} else if (c < 32 || c > 126 || c == '"') {
			*why_r = "a quoted local part may contain only printable characters";
			return -1;
		}
	}
	return 0;
}

int addr_local_check(const char *str, size_t len, unsigned flags, const char **why_r)
{
	const unsigned char *s = (const unsigned char *)str;
	bool label_start = true;

	if (len == 0) {
		*why_r = "the local part is empty";
		return -1;
	}
	if (len > ADDR_LOCAL_MAX) {
		*why_r = "the local part is longer than 64 octets";
		return -1;
	}
	if (s[0] == '"')
		return check_quoted_local(s, len, flags, why_r);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c == '.') {
			if (label_start) {
				*why_r = "the local part has an empty dot-separated part";
				return -1;
			}
			label_start = true;
			continue;
		}
		if (c >= 0x80 && (flags & ADDR_ALLOW_UTF8)) {
			size_t n = utf8_sequence_length(s + i, len - i);
			if (n == 0) {
				*why_r = "the local part is not valid UTF-8";
				return -1;
			}
			i += n - 1;
		} else if (!is_atext(c)) {
			*why_r = c >= 0x80 ? "the local part has a non-ASCII character"
					   : "the local part has a character that must be quoted";
			return -1;
		}
		label_start = false;
	}
	if (label_start) {
		*why_r = "the local part ends with a dot";
		return -1;
	}
	return 0;
}

static int check_literal(const char *s, size_t len, const char **why_r)
{
	char buf[64];
	struct in6_addr a6;
	struct in_addr a4;

	if (len < 3 || s[len - 1] != ']' || len - 2 >= sizeof(buf)) {
		*why_r = "an address literal must look like [192.0.2.1] or [IPv6:2001:db8::1]";
		return -1;
	}
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, buf + 5, &a6) == 1)
			return 0;
	} else if (inet_pton(AF_INET, buf, &a4) == 1) {
		return 0;
	}
	*why_r = "the address literal is not a valid IP address";
	return -1;
}

static bool label_is_numeric(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int domain_check(const char *str, size_t len, unsigned flags, const char **why_r)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t label_len = 0, labels = 0, last_label = 0;
	bool utf8 = false;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0) {
		*why_r = "the domain is empty";
		return -1;
	}
	if (len > ADDR_DOMAIN_MAX) {
		*why_r = "the domain is longer than 253 characters";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label_len == 0) {
				*why_r = "the domain has an empty label";
				return -1;
			}
			if (label_len > ADDR_LABEL_MAX) {
				*why_r = "a domain label is longer than 63 octets";
				return -1;
			}
			if (s[i - 1] == '-' || s[i - label_len] == '-') {
				*why_r = "a domain label may not begin or end with a hyphen";
				return -1;
			}
			last_label = i - label_len;
			labels++;
			label_len = 0;
			continue;
		}
		unsigned char c = s[i];
		if (c >= 0x80) {
			size_t n = (flags & ADDR_ALLOW_UTF8) ? utf8_sequence_length(s + i, len - i) : 0;
			if (n == 0) {
				*why_r = (flags & ADDR_ALLOW_UTF8) ? "the domain is not valid UTF-8"
					: "the domain has a non-ASCII character (write it as an xn-- A-label)";
				return -1;
			}
			utf8 = true;
			i += n - 1;
			label_len += n;
			continue;
		}
		if (c == ' ') {
			*why_r = "a domain label may not contain a space";
			return -1;
		}
		if (c == '_' && !(flags & ADDR_ALLOW_UNDERSCORE)) {
			*why_r = "a domain label may not contain an underscore";
			return -1;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			*why_r = "a domain label may contain only letters, digits and hyphens";
			return -1;
		}
		label_len++;
	}
	if (flags & ADDR_REQUIRE_DOT) {
		if (labels < 2) {
			*why_r = "the domain needs at least two labels (example.org)";
			return -1;
		}
		if (!utf8 && label_is_numeric(str + last_label, len - last_label)) {
			*why_r = "the last label of a domain may not be all digits";
			return -1;
		}
	}
	return 0;
}

/* Finds the '@' that separates local part and domain: the last one outside
 * a quoted string. */
static const char *find_at(const char *s, size_t len)
{
	const char *at = NULL;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len) {
			i++;
		} else if (s[i] == '"') {
			quoted = !quoted;
		} else if (s[i] == '@' && !quoted) {
			at = s + i;
		}
	}
	return at;
}

int addr_parse(const char *s, size_t len, unsigned flags,
	       struct addr_parts *parts_r, const char **why_r)
{
	const char *at;

	if (len == 0) {
		*why_r = "the address is empty";
		return -1;
	}
	if (len > ADDR_MAX) {
		*why_r = "the address is longer than 254 characters";
		return -1;
	}
	if (memchr(s, '\0', len) != NULL) {
		*why_r = "the address contains a NUL byte";
		return -1;
	}
	at = find_at(s, len);
	if (at == NULL) {
		*why_r = "the address has no '@domain' part";
		return -1;
	}
	parts_r->local = s;
	parts_r->local_len = (size_t)(at - s);
	parts_r->domain = at + 1;
	parts_r->domain_len = len - parts_r->local_len - 1;
	parts_r->domain_is_literal = parts_r->domain_len > 0 && parts_r->domain[0] == '[';
	if (addr_local_check(parts_r->local, parts_r->local_len, flags, why_r) < 0)
		return -1;
	if (parts_r->domain_is_literal) {
		if (!(flags & ADDR_ALLOW_LITERAL)) {
			*why_r = "an address literal is not allowed as the domain here";
			return -1;
		}
		return check_literal(parts_r->domain, parts_r->domain_len, why_r);
	}
	if (domain_check(parts_r->domain, parts_r->domain_len, flags, why_r) < 0)
		return -1;
	if (parts_r->domain[parts_r->domain_len - 1] == '.')
		parts_r->domain_len--;
	return 0;
}

int domain_normalize(const char *s, size_t len, char *out, size_t outlen)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len + 1 > outlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return (int)len;
}

int addr_normalize(const struct addr_parts *parts, char *out, size_t outlen)
{
	size_t need = parts->local_len + 1 + parts->domain_len + 1;

	if (need > outlen)
		return -1;
	memcpy(out, parts->local, parts->local_len);
	out[parts->local_len] = '@';
	return (int)parts->local_len + 1 +
	       domain_normalize(parts->domain, parts->domain_len,
				out + parts->local_len + 1, outlen - parts->local_len - 1);
}

bool domain_is_within(const char *name, const char *parent)
{
	size_t n = strlen(name), p = strlen(parent);

	if (n < p)
		return false;
	if (strcmp(name + n - p, parent) != 0)
		return false;
	return n == p || name[n - p - 1] == '.';
}
