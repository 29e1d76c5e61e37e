/*
 * fuzz_from_header.c - libFuzzer target for from_header_domain().
 *
 * Invariants: never reads outside the input (ASan); on success the domain
 * is a non-empty lowercase string that fits, and the same field written
 * as "Name <local@domain>" gives the same domain back.
 */
#include "autoconfig.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "from_header.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char domain[FROM_DOMAIN_SIZE], again[FROM_DOMAIN_SIZE], field[FROM_DOMAIN_SIZE + 32];
	const char *why;

	if (from_header_domain((const char *)data, size, domain, &why) != FROM_OK)
		return 0;
	assert(domain[0] != '\0' && strlen(domain) < FROM_DOMAIN_SIZE);
	for (const char *p = domain; *p; p++)
		assert(!(*p >= 'A' && *p <= 'Z'));
	snprintf(field, sizeof(field), "Name <x@%s>", domain);
	assert(from_header_domain(field, strlen(field), again, &why) == FROM_OK);
	assert(strcmp(domain, again) == 0);
	return 0;
}
