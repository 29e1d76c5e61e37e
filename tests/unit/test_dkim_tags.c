/*
 * test_dkim_tags.c - the DKIM tag=value parser against a table of lists,
 * strict (DKIM, ARC) and lenient (DMARC records).
 */
#include "autoconfig.h"

#include <stdio.h>

#include "common/strbuf.h"
#include "mailauth/dkim_tags.h"
#include "unit.h"

/* want: the tags as "name=value|name=value", or NULL when the list is bad. */
static const struct {
	const char *in;
	const char *want;
	const char *why;
} cases[] = {
	{ "a=1", "a=1", "one tag" },
	{ "a=1; b=2", "a=1|b=2", "two tags" },
	{ "a=1;b=2;", "a=1|b=2", "trailing semicolon" },
	{ "a=1;b=2; \r\n ", "a=1|b=2", "trailing semicolon and FWS" },
	{ " a = 1 ; b\t=\t2 ", "a=1|b=2", "white space around = and ;" },
	{ "a=1;\r\n\tb=2", "a=1|b=2", "CRLF fold between tags" },
	{ "a=1;\n b=2", "a=1|b=2", "LF fold (as a milter may hand it over)" },
	{ "a=\r\n 1", "a=1", "fold after =" },
	{ "a=", "a=", "empty value" },
	{ "a=;b=", "a=|b=", "two empty values" },
	{ "a= ;b=x", "a=|b=x", "empty value with white space" },
	{ "b=abc\r\n def ghi", "b=abc\r\n def ghi", "inner FWS kept in the value" },
	{ "h=from : to", "h=from : to", "inner white space kept" },
	{ "x_1=v", "x_1=v", "digits and underscore in a name" },
	{ "a=b=c", "a=b=c", "'=' inside a value" },
	{ "k=\xc3\xa9t\xc3\xa9", "k=\xc3\xa9t\xc3\xa9", "UTF-8 in a value (RFC 8616)" },
	{ "A=1;a=2", "A=1|a=2", "names are case-sensitive, so no duplicate" },
	{ "", NULL, "empty list" },
	{ "  ", NULL, "only white space" },
	{ ";", NULL, "only a semicolon" },
	{ "a=1;;b=2", NULL, "empty tag-spec" },
	{ "a=1; ;b=2", NULL, "empty tag-spec with white space" },
	{ "a=1;a=2", NULL, "duplicate tag" },
	{ "a", NULL, "no =" },
	{ "a;b=1", NULL, "no = in the first tag" },
	{ "=1", NULL, "empty name" },
	{ "a=1; ==", NULL, "stray ==" },
	{ "1a=1", NULL, "name starting with a digit" },
	{ "_a=1", NULL, "name starting with an underscore" },
	{ "a-b=1", NULL, "hyphen in a name" },
	{ "a b=1", NULL, "white space inside a name" },
	{ "a=1\r\nb=2", NULL, "line break without following WSP" },
	{ "a=1\r\n", NULL, "line break at the end" },
	{ "a=x\x01y", NULL, "control character in a value" },
	{ "a=x\x7fy", NULL, "DEL in a value" },
	{ "v=DKIM1; k=rsa; omgwhatsgoingon", NULL, "tag without = (suite: public_key_invalid)" },
};

static void render(const struct dkim_tag_list *list, struct strbuf *out)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct dkim_tag *t = &list->tags[i];
		if (i > 0)
			strbuf_append_char(out, '|');
		strbuf_append(out, t->name, t->name_len);
		strbuf_append_char(out, '=');
		strbuf_append(out, t->value, t->value_len);
	}
}

static void test_parse_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct dkim_tag_list list;
		struct strbuf got = STRBUF_INIT;
		const char *why = NULL;
		int rc = dkim_tags_parse(cases[i].in, strlen(cases[i].in), &list, &why);

		if (cases[i].want == NULL) {
			if (rc != -1 || why == NULL)
				fail_msg("case %zu (%s): accepted", i, cases[i].why);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu (%s): refused: %s", i, cases[i].why, why);
		render(&list, &got);
		if (strcmp(strbuf_str(&got), cases[i].want) != 0)
			fail_msg("case %zu (%s): got \"%s\", want \"%s\"", i, cases[i].why,
				 strbuf_str(&got), cases[i].want);
		strbuf_release(&got);
	}
}

/* The lenient reading: what it keeps, and how many tag-specs it skipped. */
static const struct {
	const char *in;
	const char *want;
	size_t bad;
	const char *why;
} lenient[] = {
	{ "v=DMARC1; p=reject", "v=DMARC1|p=reject", 0, "a plain list" },
	{ "v=DMARC1;; p=reject;", "v=DMARC1|p=reject", 0, "empty tag-specs are skipped" },
	{ "v=DMARC1; p=reject; p=none", "v=DMARC1|p=reject|p=none", 0, "a tag twice is kept twice" },
	{ "v=DMARC1; junk; p=reject", "v=DMARC1|p=reject", 1, "a tag-spec without '='" },
	{ "v=DMARC1; 9x=1; p=reject", "v=DMARC1|p=reject", 1, "a bad name" },
	{ "v=DMARC1; p=rej\x01" "ect; sp=none", "v=DMARC1|sp=none", 1, "a control character" },
	{ "v=DMARC1; rua=mailto:a@b.example, mailto:c@d.example",
	  "v=DMARC1|rua=mailto:a@b.example, mailto:c@d.example", 0, "white space inside a value" },
	{ "p=", "p=", 0, "an empty value is read (its meaning is the caller's)" },
	{ "", "", 0, "nothing" },
	{ " ;; ", "", 0, "only separators" },
	{ "=x;=y", "", 2, "only bad tag-specs" },
	{ "a=1\r\nb=2; c=3", "c=3", 1, "a line break without WSP spoils its tag-spec" },
};

static void test_lenient_table(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(lenient); i++) {
		struct dkim_tag_list list;
		struct strbuf got = STRBUF_INIT;
		size_t bad = 99;

		dkim_tags_parse_lenient(lenient[i].in, strlen(lenient[i].in), &list, &bad);
		render(&list, &got);
		if (strcmp(strbuf_str(&got), lenient[i].want) != 0 || bad != lenient[i].bad)
			fail_msg("lenient case %zu (%s): got \"%s\" (%zu bad), want \"%s\" (%zu)", i,
				 lenient[i].why, strbuf_str(&got), bad, lenient[i].want, lenient[i].bad);
		strbuf_release(&got);
	}
}

static void test_lenient_full_list(void **state)
{
	struct strbuf in = STRBUF_INIT;
	struct dkim_tag_list list;
	size_t bad;

	for (int i = 0; i < DKIM_TAGS_MAX + 3; i++)
		strbuf_appendf(&in, "t%d=%d;", i, i);
	dkim_tags_parse_lenient(in.data, in.len, &list, &bad);
	assert_int_equal(list.count, DKIM_TAGS_MAX);
	assert_int_equal(bad, 3);
	assert_int_equal(dkim_tags_count(&list, "t0"), 1);
	assert_int_equal(dkim_tags_count(&list, "t99"), 0);
	strbuf_release(&in);
}

static void test_find_and_span(void **state)
{
	const char *in = "a=rsa-sha256; b=abc\r\n def ; bh=xyz; d=example.org";
	struct dkim_tag_list list;
	const char *why;

	assert_int_equal(dkim_tags_parse(in, strlen(in), &list, &why), 0);
	assert_int_equal(list.count, 4);
	const struct dkim_tag *b = dkim_tags_find(&list, "b");
	assert_non_null(b);
	assert_true(dkim_tags_value_is(b, "abc\r\n def"));
	/* the span runs from after '=' to the ';', surrounding FWS included */
	assert_int_equal(b->span_start, (size_t)(strchr(in, 'b') + 2 - in));
	assert_int_equal(in[b->span_end], ';');
	assert_int_equal(b->span_end - b->span_start, strlen("abc\r\n def "));
	assert_null(dkim_tags_find(&list, "B"));
	assert_null(dkim_tags_find(&list, "x"));
	assert_true(dkim_tags_value_is(dkim_tags_find(&list, "d"), "example.org"));
	/* the last tag's span ends at the end of the input */
	assert_int_equal(dkim_tags_find(&list, "d")->span_end, strlen(in));
}

static void test_too_many_tags(void **state)
{
	struct strbuf in = STRBUF_INIT;
	struct dkim_tag_list list;
	const char *why;

	for (int i = 0; i < DKIM_TAGS_MAX; i++)
		strbuf_appendf(&in, "t%d=%d;", i, i);
	assert_int_equal(dkim_tags_parse(in.data, in.len, &list, &why), 0);
	assert_int_equal(list.count, DKIM_TAGS_MAX);
	strbuf_append_str(&in, "one=more");
	assert_int_equal(dkim_tags_parse(in.data, in.len, &list, &why), -1);
	assert_string_equal(why, "too many tags");
	strbuf_release(&in);
}

static void test_colon_items(void **state)
{
	static const struct {
		const char *value;
		const char *want;	/* items joined with '|' */
	} items[] = {
		{ "h=from:to", "from|to" },
		{ "h=from : to\r\n\t: subject", "from|to|subject" },
		{ "h=from::to:", "from||to|" },
		{ "h=", "" },
		{ "h=single", "single" },
	};

	for (size_t i = 0; i < N_ELEMENTS(items); i++) {
		struct dkim_tag_list list;
		struct strbuf got = STRBUF_INIT;
		const char *why, *item;
		size_t pos = 0, len;

		assert_int_equal(dkim_tags_parse(items[i].value, strlen(items[i].value), &list, &why), 0);
		for (int n = 0; dkim_tags_next_item(&list.tags[0], &pos, &item, &len); n++) {
			if (n > 0)
				strbuf_append_char(&got, '|');
			strbuf_append(&got, item, len);
		}
		if (strcmp(strbuf_str(&got), items[i].want) != 0)
			fail_msg("items of \"%s\": got \"%s\"", items[i].value, strbuf_str(&got));
		strbuf_release(&got);
	}
}

static void test_not_terminated(void **state)
{
	/* the parser honours len, not a NUL */
	const char in[] = { 'a', '=', '1', ';', 'b', '=', '2' };
	struct dkim_tag_list list;
	const char *why;

	assert_int_equal(dkim_tags_parse(in, 5, &list, &why), -1);	/* "a=1;b" */
	assert_int_equal(dkim_tags_parse(in, sizeof(in), &list, &why), 0);
	assert_int_equal(list.count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_lenient_table),
		cmocka_unit_test(test_lenient_full_list),
		cmocka_unit_test(test_find_and_span),
		cmocka_unit_test(test_too_many_tags),
		cmocka_unit_test(test_colon_items),
		cmocka_unit_test(test_not_terminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
