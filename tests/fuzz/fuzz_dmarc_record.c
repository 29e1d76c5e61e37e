/*
 * fuzz_dmarc_record.c - libFuzzer target for dmarc_record_parse(), the
 * DMARC Policy Record reader, and the lenient tag-list reading under it
 * (dkim_tags_parse_lenient()).
 *
 * Invariants: every tag the lenient reading keeps lies inside the input,
 * its value inside its span, never more than DKIM_TAGS_MAX of them; a text
 * is a record only when it starts with "v"; the record's fields hold values
 * of their enums, pct is -1 or 0..100, and a request flagged not valid has
 * no value; a text that is not a record leaves the result zeroed.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "mailauth/dkim_tags.h"
#include "mailauth/dmarc_record.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_lenient(const char *buf, size_t size)
{
	struct dkim_tag_list list;
	size_t bad = 0;

	dkim_tags_parse_lenient(buf, size, &list, &bad);
	assert(list.count <= DKIM_TAGS_MAX && bad <= size);
	for (size_t i = 0; i < list.count; i++) {
		const struct dkim_tag *t = &list.tags[i];
		assert(t->name >= buf && t->name_len >= 1 && t->name + t->name_len <= buf + size);
		assert(t->span_start <= t->span_end && t->span_end <= size);
		assert(t->value >= buf + t->span_start && t->value + t->value_len <= buf + t->span_end);
		assert(memchr(t->value, ';', t->value_len) == NULL);
	}
}

static void check_request(enum dmarc_policy p, bool invalid)
{
	assert(p <= DMARC_P_REJECT);
	assert(!invalid || p == DMARC_POLICY_NONE_SET);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *buf = (const char *)data;
	struct dmarc_record r, zero;

	check_lenient(buf, size);
	memset(&zero, 0, sizeof(zero));
	if (dmarc_record_parse(buf, size, &r) == 0) {
		assert(memcmp(&r, &zero, sizeof(r)) == 0);
		return 0;
	}
	assert(size >= 8 && buf[0] == 'v');
	check_request(r.p, r.p_invalid);
	check_request(r.sp, r.sp_invalid);
	check_request(r.np, r.np_invalid);
	assert(r.pct >= -1 && r.pct <= 100);
	assert(r.psd <= DMARC_PSD_N);
	assert(!r.testing || r.testing_given);
	assert(r.ignored <= size);
	return 0;
}
