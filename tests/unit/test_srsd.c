/*
 * test_srsd.c - srsd's protocol and maps: the socketmap parser, what each
 * map answers, and the local-domain set.
 */
#include "autoconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/domainset.h"
#include "srs/lookup.h"
#include "srs/socketmap.h"
#include "unit.h"

#define T 1577836860

static const struct {
	const char *in;
	ssize_t want;
	size_t used;
	const char *name, *key;
} parse_cases[] = {
	{ "28:forward test@otherdomain.com,", 32, 32, "forward", "test@otherdomain.com" },
	{ "8:reverse ,", 11, 11, "reverse", "" },
	{ "7:a b c d,", 10, 10, "a", "b c d" },
	{ "28:forward test@otherdomain.com,8:reverse ,", 32, 32, "forward", "test@otherdomain.com" },
	{ "28:forward test@other", SOCKETMAP_INCOMPLETE, 0, NULL, NULL },
	{ "", SOCKETMAP_INCOMPLETE, 0, NULL, NULL },
	{ "7:forward,", SOCKETMAP_BAD_REQUEST, 10, NULL, NULL },
	{ "2: x,", SOCKETMAP_BAD_REQUEST, 5, NULL, NULL },
	{ "9999:forward", SOCKETMAP_TOO_LONG, 0, NULL, NULL },
	{ "forward x", SOCKETMAP_MALFORMED, 0, NULL, NULL },
	{ "3:a b;", SOCKETMAP_MALFORMED, 0, NULL, NULL },
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < N_ELEMENTS(parse_cases); i++) {
		struct socketmap_request req;
		size_t used = 99;
		ssize_t got = socketmap_parse(parse_cases[i].in, strlen(parse_cases[i].in), 4096,
					      &req, &used);

		if (got != parse_cases[i].want || used != parse_cases[i].used)
			fail_msg("case %zu (%s): got %zd used %zu", i, parse_cases[i].in, got, used);
		if (got > 0) {
			assert_string_equal(req.name, parse_cases[i].name);
			assert_int_equal(req.key_len, strlen(parse_cases[i].key));
			assert_memory_equal(req.key, parse_cases[i].key, req.key_len);
		}
	}
	/* a NUL inside the request */
	struct socketmap_request req;
	size_t used;
	assert_int_equal(socketmap_parse("5:a b\0c,", 8, 4096, &req, &used), SOCKETMAP_BAD_REQUEST);
}

static void test_reply(void **state)
{
	struct strbuf out = STRBUF_INIT;

	socketmap_reply(&out, SOCKETMAP_OK, "x@y");
	socketmap_reply(&out, SOCKETMAP_NOTFOUND, "");
	socketmap_reply(&out, SOCKETMAP_PERM, "bad");
	assert_string_equal(strbuf_str(&out), "6:OK x@y,9:NOTFOUND ,8:PERM bad,");
	strbuf_release(&out);
}

static const struct {
	const char *map, *key;
	enum srsd_outcome outcome;
	const char *reply;
} lookup_cases[] = {
	{ "forward", "test@otherdomain.com", SRSD_REWRITTEN,
	  "52:OK SRS0=vmyz=2W=otherdomain.com=test@srs.example.com," },
	{ "forward", "", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "forward", "postmaster", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "forward", "alice@Local.Example", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "forward", "alice@mail.sub.example", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "forward", "alice@sub.example", SRSD_REWRITTEN, NULL },
	{ "forward", "x@SRS.example.com", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "reverse", "SRS0=vmyz=2W=otherdomain.com=test@srs.example.com", SRSD_REWRITTEN,
	  "23:OK test@otherdomain.com," },
	{ "reverse", "SRS0=vmyz=2W=otherdomain.com=test@other.example", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "reverse", "SRS0=xxxx=2W=otherdomain.com=test@srs.example.com", SRSD_REFUSED, "9:NOTFOUND ," },
	{ "reverse", "bob@srs.example.com", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "reverse", "", SRSD_UNCHANGED, "9:NOTFOUND ," },
	{ "sideways", "x@y", SRSD_ERROR, "44:PERM unknown map (forward and reverse exist)," },
};

static void test_lookup(void **state)
{
	static const char *const secrets[] = { "tops3cr3t" };
	struct srs srs = { secrets, 1, 4, 4, '=', false, 21 };
	struct domain_set *local = domain_set_new();
	const char *why;

	assert_int_equal(domain_set_add(local, "local.example", &why), 0);
	assert_int_equal(domain_set_add(local, ".sub.example", &why), 0);
	struct srsd_maps maps = { &srs, "srs.example.com", local };
	for (size_t i = 0; i < N_ELEMENTS(lookup_cases); i++) {
		struct socketmap_request req;
		struct srsd_answer a;
		struct strbuf out = STRBUF_INIT;

		snprintf(req.name, sizeof(req.name), "%s", lookup_cases[i].map);
		req.key = lookup_cases[i].key;
		req.key_len = strlen(lookup_cases[i].key);
		srsd_lookup(&maps, &req, T, &out, &a);
		if (a.outcome != lookup_cases[i].outcome)
			fail_msg("case %zu (%s %s): outcome %s", i, lookup_cases[i].map, lookup_cases[i].key,
				 srsd_outcome_name(a.outcome));
		if (lookup_cases[i].reply != NULL)
			assert_string_equal(strbuf_str(&out), lookup_cases[i].reply);
		strbuf_release(&out);
	}
	domain_set_free(&local);
}

static void test_domain_set(void **state)
{
	struct domain_set *set = domain_set_new();
	const char *why;
	char path[] = "/tmp/lr-domains.XXXXXX", err[256];
	int fd;

	assert_int_equal(domain_set_add(set, "Example.ORG.", &why), 0);
	assert_int_equal(domain_set_add(set, "bad domain", &why), -1);
	assert_true(domain_set_contains(set, "example.org", 11));
	assert_true(domain_set_contains(set, "EXAMPLE.org.", 12));
	assert_false(domain_set_contains(set, "mail.example.org", 16));
	assert_false(domain_set_contains(NULL, "example.org", 11));
	domain_set_free(&set);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "# local domains\none.example two.example\n.three.example\n", 55), 55);
	close(fd);
	assert_int_equal(domain_set_read_file(path, &set, err, sizeof(err)), 0);
	assert_int_equal(domain_set_count(set), 3);
	assert_true(domain_set_contains(set, "a.b.three.example", 17));
	assert_false(domain_set_contains(set, "three.example", 13));
	domain_set_free(&set);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "x..example\n", 11), 11);
	close(fd);
	assert_int_equal(domain_set_read_file(path, &set, err, sizeof(err)), -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:4: \"x..example\": the domain has an empty label", path);
	assert_string_equal(err, want);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_domain_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
