/*
 * fuzz_dkim_tags.c - libFuzzer target for the tag=value parsers:
 * dkim_tags_parse(), arc_sig_parse() (both kinds), arc_aar_instance() and
 * dkim_pubkey_parse().
 *
 * Invariants: every tag lies inside the input with its value inside its
 * span; names are well-formed and unique; a parsed signature has an
 * instance in 1..50, a domain and a selector, and its b= span inside the
 * input; "b= emptied" is never longer than the input.
 */
#include "autoconfig.h"

#include <assert.h>
#include <string.h>

#include "common/strbuf.h"
#include "mailauth/arc_sig.h"
#include "mailauth/dkim_pubkey.h"
#include "mailauth/dkim_tags.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_tags(const char *buf, size_t size)
{
	struct dkim_tag_list list;
	const char *why = NULL;

	if (dkim_tags_parse(buf, size, &list, &why) < 0) {
		assert(why != NULL);
		return;
	}
	assert(list.count >= 1 && list.count <= DKIM_TAGS_MAX);
	for (size_t i = 0; i < list.count; i++) {
		const struct dkim_tag *t = &list.tags[i];
		assert(t->name >= buf && t->name_len >= 1 && t->name + t->name_len <= buf + size);
		assert(t->span_start <= t->span_end && t->span_end <= size);
		assert(t->value >= buf + t->span_start && t->value + t->value_len <= buf + t->span_end);
		assert(dkim_tags_find(&list, "") == NULL);
		for (size_t j = 0; j < i; j++)
			assert(!(list.tags[j].name_len == t->name_len &&
				 memcmp(list.tags[j].name, t->name, t->name_len) == 0));
	}
}

static void check_sig(enum arc_sig_kind kind, const char *buf, size_t size)
{
	static struct arc_sig sig;	/* large: keep it off the stack */
	const char *why = NULL;

	if (arc_sig_parse(kind, buf, size, &sig, &why) < 0) {
		assert(why != NULL);
		return;
	}
	assert(sig.instance >= 1 && sig.instance <= ARC_INSTANCE_MAX);
	assert(sig.domain[0] != '\0' && sig.selector[0] != '\0');
	assert(sig.b_len >= 1 && sig.b_span_start <= sig.b_span_end && sig.b_span_end <= size);
	assert(kind == ARC_SIG_SEAL || (sig.bh_len >= 1 && sig.h_count <= ARC_SIG_MAX_HEADERS));
	struct strbuf without_b = STRBUF_INIT;
	arc_sig_value_without_b(&sig, buf, size, &without_b);
	assert(without_b.len < size);
	strbuf_release(&without_b);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *buf = (const char *)data, *why;
	struct dkim_pubkey *key = NULL;
	unsigned instance;

	check_tags(buf, size);
	check_sig(ARC_SIG_MESSAGE, buf, size);
	check_sig(ARC_SIG_SEAL, buf, size);
	if (arc_aar_instance(buf, size, &instance, &why) == 0)
		assert(instance >= 1 && instance <= ARC_INSTANCE_MAX);
	if (dkim_pubkey_parse(buf, size, &key, &why) == 0)
		assert(key != NULL && key->pkey != NULL);
	dkim_pubkey_free(&key);
	assert(key == NULL);
	return 0;
}
