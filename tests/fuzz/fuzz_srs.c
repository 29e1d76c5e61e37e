/*
 * fuzz_srs.c - libFuzzer target for srs_forward() and srs_reverse().
 *
 * Invariants: outputs are terminated strings inside their buffer; an
 * address forwarded into SRS0 (or an SRS0 address forwarded into SRS1)
 * reverses to the input (the SRS0 tag in upper case).
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

#include "srs/srs.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const secrets[] = { "fuzz-secret", "older" };
	struct srs srs = { secrets, 2, 6, 4, '+', false, 21 };
	char in[SRS_ADDRESS_MAX], fwd[SRS_ADDRESS_MAX], back[SRS_ADDRESS_MAX];
	const long long now = 1577836860;

	if (size >= sizeof(in) || memchr(data, '\0', size) != NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	(void)srs_reverse(&srs, in, now, back, sizeof(back));
	assert(strlen(back) < sizeof(back));
	if (srs_forward(&srs, in, "srs.example", now, fwd, sizeof(fwd)) != SRS_OK)
		return 0;
	assert(strlen(fwd) < sizeof(fwd));
	const char *host = strrchr(in, '@') + 1;
	bool srs1_input = strncasecmp(in, "SRS1", 4) == 0 && strchr("=+-", in[4]) && in[4] != '\0';
	if (strchr(host, '=') != NULL || srs1_input)
		return 0;	/* a host with '=' cannot round-trip; SRS1 reverses to its origin */
	int r = srs_reverse(&srs, fwd, now, back, sizeof(back));
	if (r == SRS_E_TOO_LONG)
		return 0;
	assert(r == SRS_OK);
	/* the SRS0 tag of an input that went through SRS1 comes back as
	 * "SRS0": tags are case-insensitive */
	assert(strlen(back) == size);
	assert(size < 4 ? strcmp(back, in) == 0
			: strncasecmp(back, in, 4) == 0 && strcmp(back + 4, in + 4) == 0);
	return 0;
}
