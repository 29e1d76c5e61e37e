/*
 * fuzz_from_header.c - libFuzzer target for from_header_domain().
 *
 * Invariants: never reads outside the input (ASan); on failure the domain
 * is empty; on success the domain is a non-empty lowercase string that
 * fits, the same domain written as "Name <local@domain>" gives it back,
 * and the field is exactly one mailbox: with a second address after it,
 * with or without a comma, or a word after it, it is refused.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailauth/from_header.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* value (one mailbox) followed by each tail is not one mailbox. */
static void check_nothing_more(const char *value, size_t size)
{
	static const char *const tails[] = { " x@y.example", ", x@y.example", " word",
					     " <x@y.example>", "@y.example" };
	char domain[FROM_DOMAIN_SIZE], *field = malloc(size + 32);
	const char *why;

	assert(field != NULL);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t n = strlen(tails[i]);

		memcpy(field, value, size);
		memcpy(field + size, tails[i], n);
		assert(from_header_domain(field, size + n, domain, &why) != FROM_OK);
	}
	free(field);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char domain[FROM_DOMAIN_SIZE], again[FROM_DOMAIN_SIZE], field[FROM_DOMAIN_SIZE + 32];
	const char *why;

	if (from_header_domain((const char *)data, size, domain, &why) != FROM_OK) {
		assert(domain[0] == '\0' && why != NULL);
		return 0;
	}
	assert(domain[0] != '\0' && strlen(domain) < FROM_DOMAIN_SIZE);
	for (const char *p = domain; *p; p++)
		assert(!(*p >= 'A' && *p <= 'Z'));
	snprintf(field, sizeof(field), "Name <x@%s>", domain);
	assert(from_header_domain(field, strlen(field), again, &why) == FROM_OK);
	assert(strcmp(domain, again) == 0);
	check_nothing_more((const char *)data, size);
	return 0;
}
