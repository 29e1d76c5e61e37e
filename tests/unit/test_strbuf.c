/*
 * test_strbuf.c - growable buffer: appends, growth, consume, detach.
 */
#include "autoconfig.h"

#include <stdlib.h>

#include "common/strbuf.h"
#include "unit.h"

static void test_append_and_grow(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	assert_string_equal(strbuf_str(&sb), "");
	for (int i = 0; i < 1000; i++)
		strbuf_appendf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	assert_int_equal(sb.data[sb.len], '\0');
	assert_memory_equal(sb.data, "0,1,2,", 6);
	strbuf_release(&sb);
	assert_null(sb.data);
}

static void test_binary_and_long_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[5000];

	strbuf_append(&sb, "a\0b", 3);
	assert_int_equal(sb.len, 3);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_appendf(&sb, "[%s]", big);	/* longer than the first guess */
	assert_int_equal(sb.len, 3 + 2 + sizeof(big) - 1);
	assert_int_equal(sb.data[sb.len - 1], ']');
	strbuf_release(&sb);
}

static void test_consume_truncate_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	strbuf_append_str(&sb, "hello world");
	strbuf_consume(&sb, 6);
	assert_string_equal(sb.data, "world");
	strbuf_truncate(&sb, 3);
	assert_string_equal(sb.data, "wor");
	strbuf_consume(&sb, 99);
	assert_int_equal(sb.len, 0);
	strbuf_append_char(&sb, 'z');
	s = strbuf_detach(&sb);
	assert_string_equal(s, "z");
	assert_null(sb.data);
	free(s);
	s = strbuf_detach(&sb);	/* never appended: still a string */
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_grow),
		cmocka_unit_test(test_binary_and_long_format),
		cmocka_unit_test(test_consume_truncate_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
