/*
 * validate.c - argument checks with messages that name the value and rule.
 */
#include "autoconfig.h"

#include <idn2.h>
#include <string.h>

#include "mailadm/validate.h"

int valid_domain(struct cli *cli, const char *input, char out[ADDR_DOMAIN_MAX + 1])
{
	char *ascii = NULL;
	const char *why;
	int rc;

	if (domain_check(input, strlen(input), ADDR_ALLOW_UTF8, &why) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
	rc = idn2_to_ascii_8z(input, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": not a valid internationalized domain name: %s",
				input, idn2_strerror(rc));
	if (domain_check(ascii, strlen(ascii), ADDR_REQUIRE_DOT, &why) < 0 ||
	    domain_normalize(ascii, strlen(ascii), out, ADDR_DOMAIN_MAX + 1) < 0) {
		rc = cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
		idn2_free(ascii);
		return rc;
	}
	idn2_free(ascii);
	return EXIT_OK;
}

/* A word without an @ where an address belongs may well be a password
 * typed in the wrong place: said without repeating it. */
static int no_at(struct cli *cli)
{
	return cli_fail(cli, EXIT_BAD_INPUT, "an address needs @domain (the argument is not shown: "
			"without an @ it could be a secret)");
}

int valid_local_address(struct cli *cli, const char *input, int allow_catch_all,
			char local[ADDR_LOCAL_MAX + 1], char domain[ADDR_DOMAIN_MAX + 1])
{
	const char *at = strrchr(input, '@'), *why;
	size_t len;

	if (at == NULL)
		return no_at(cli);
	len = (size_t)(at - input);
	if (len == 0 && allow_catch_all) {
		local[0] = '\0';
	} else {
		if (input[0] == '"')
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": mailbox names here are plain "
					"(no quoted local parts)", input);
		if (addr_local_check(input, len, 0, &why) < 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
		for (size_t i = 0; i < len; i++)
			local[i] = (char)(input[i] >= 'A' && input[i] <= 'Z' ? input[i] + 32 : input[i]);
		local[len] = '\0';
	}
	if (valid_domain(cli, at + 1, domain) != EXIT_OK)
		return EXIT_BAD_INPUT;
	if (strlen(local) + 1 + strlen(domain) > ADDR_MAX)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the address is longer than 254 characters",
				input);
	return EXIT_OK;
}

int valid_address(struct cli *cli, const char *input, char out[ADDR_MAX + 1])
{
	struct addr_parts parts;
	char domain[ADDR_DOMAIN_MAX + 1];
	const char *why;

	if (strchr(input, '@') == NULL)
		return no_at(cli);
	if (addr_parse(input, strlen(input), 0, &parts, &why) < 0)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": %s", input, why);
	if (memchr(parts.local, ' ', parts.local_len) != NULL ||
	    memchr(parts.local, '@', parts.local_len) != NULL)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": a destination may not have spaces or a "
				"second @ in its local part", input);
	char domain_text[ADDR_DOMAIN_MAX + 1];
	memcpy(domain_text, parts.domain, parts.domain_len);
	domain_text[parts.domain_len] = '\0';
	int rc = valid_domain(cli, domain_text, domain);
	if (rc != EXIT_OK)
		return rc;
	if (parts.local_len + 1 + strlen(domain) > ADDR_MAX)
		return cli_fail(cli, EXIT_BAD_INPUT, "\"%s\": the address is longer than 254 characters",
				input);
	memcpy(out, parts.local, parts.local_len);
	out[parts.local_len] = '@';
	strcpy(out + parts.local_len + 1, domain);
	return EXIT_OK;
}

int address_join(const char *local, const char *domain, char out[ADDR_MAX + 1])
{
	int n = snprintf(out, ADDR_MAX + 1, "%s@%s", local, domain);

	return n > 0 && n <= ADDR_MAX ? 0 : -1;
}

int valid_text(struct cli *cli, const char *what, const char *input, size_t max)
{
	const unsigned char *s = (const unsigned char *)input;
	size_t chars = 0, len = strlen(input);

	for (size_t i = 0; i < len; chars++) {
		size_t n = utf8_sequence_length(s + i, len - i);
		if (n == 0)
			return cli_fail(cli, EXIT_BAD_INPUT, "%s: not valid UTF-8", what);
		if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))
			return cli_fail(cli, EXIT_BAD_INPUT, "%s: control characters (newlines, tabs) "
					"are not allowed", what);
		i += n;
	}
	if (chars > max)
		return cli_fail(cli, EXIT_BAD_INPUT, "%s: longer than %zu characters", what, max);
	return EXIT_OK;
}
