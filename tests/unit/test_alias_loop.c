/*
 * test_alias_loop.c - the walk of Postfix's virtual alias expansion that
 * mailadm runs before it adds an alias (mailadm/alias_loop.c), over tables
 * given here instead of the database.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>

#include "mailadm/alias_loop.h"
#include "unit.h"

struct entry {
	const char *source, *destination;
};

/* The table as the database holds it: sources in lowercase. */
static int lookup(const char *key, struct alias_results *results, void *arg)
{
	for (struct entry *e = arg; e->source != NULL; e++)
		if (strcmp(e->source, key) == 0)
			alias_results_add(results, e->destination);
	return 0;
}

static int failing_lookup(const char *key, struct alias_results *results, void *arg)
{
	return -1;
}

#define TABLE_MAX 8

static void test_alias_walk_table(void **state)
{
	static struct {
		struct entry table[TABLE_MAX];
		const char *source, *destination;
		enum alias_walk_result want;
		const char *path;	/* on a loop */
		const char *why;
	} cases[] = {
		{ { { "ca@d.example", "cb@d.example" } }, "cb@d.example", "CA@D.EXAMPLE",
		  ALIAS_WALK_LOOP, "ca@d.example -> cb@d.example -> ca@d.example",
		  "the destination in capitals is the same address" },
		{ { { "ca@d.example", "cb@d.example" } }, "cb@d.example", "\"CA\"@D.example",
		  ALIAS_WALK_LOOP, "ca@d.example -> cb@d.example -> ca@d.example",
		  "a quoted local part is looked up unquoted" },
		{ { { "@d3.example", "x@d4.example" } }, "@d4.example", "x@d3.example",
		  ALIAS_WALK_LOOP, "x@d3.example -> @d3.example -> x@d4.example -> @d4.example -> x@d3.example",
		  "two catch-alls pointing at each other's domain" },
		{ { { "@d3.example", "X@D4.example" } }, "@d4.example", "x@D3.example",
		  ALIAS_WALK_LOOP, NULL, "the same in other cases" },
		{ { { NULL, NULL } }, "@d.example", "dave@d.example", ALIAS_WALK_NO_LOOP, NULL,
		  "a catch-all to an address of its own domain: that address resolves to itself" },
		{ { { "dave@d.example", "dave@d.example" } }, "@e.example", "x@d.example", ALIAS_WALK_NO_LOOP,
		  NULL, "an address without entries goes nowhere" },
		{ { { "@d.example", "x@e.example" }, { "x@e.example", "y@d.example" } }, "q@d.example",
		  "x@e.example", ALIAS_WALK_LOOP, "x@e.example -> y@d.example -> @d.example -> x@e.example",
		  "a circle already there, reached from the new entry" },
		{ { { "@d.example", "x@e.example" } }, "y@d.example", "z@f.example", ALIAS_WALK_NO_LOOP, NULL,
		  "an address of its own is not under the catch-all" },
		{ { { "@d.example", "y@d.example" } }, "y@d.example", "z@d.example", ALIAS_WALK_LOOP,
		  "z@d.example -> @d.example -> y@d.example -> z@d.example",
		  "the new entry takes y out of the catch-all, and z (under it) comes back" },
		{ { { "b@d.example", "b@d.example" }, { "b@d.example", "a@d.example" } }, "a@d.example",
		  "b@d.example", ALIAS_WALK_NO_LOOP, NULL,
		  "an address among its own results is delivered: no circle through it" },
		{ { { "r@d.example", "r@d.example" }, { "r@d.example", "away@x.example" } }, "away@x.example",
		  "r@d.example", ALIAS_WALK_NO_LOOP, NULL, "a redirect keeping a copy resolves to itself" },
		{ { { "a@d.example", "b@d.example" }, { "a@d.example", "c@d.example" },
		    { "b@d.example", "e@d.example" }, { "c@d.example", "e@d.example" } }, "e@d.example",
		  "f@d.example", ALIAS_WALK_NO_LOOP, NULL, "a diamond is no circle" },
		{ { { "a@d.example", "b@d.example" }, { "a@d.example", "c@d.example" },
		    { "b@d.example", "e@d.example" }, { "c@d.example", "e@d.example" } }, "e@d.example",
		  "a@d.example", ALIAS_WALK_LOOP, "a@d.example -> b@d.example -> e@d.example -> a@d.example",
		  "the diamond closed" },
		{ { { NULL, NULL } }, "self@d.example", "Self@D.example", ALIAS_WALK_LOOP,
		  "self@d.example -> self@d.example", "an alias to itself" },
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char path[256];
		enum alias_walk_result got = alias_walk(cases[i].source, cases[i].destination, lookup,
							cases[i].table, path, sizeof(path));

		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d (%s)", i, cases[i].why, got,
				 cases[i].want, path);
		if (cases[i].path != NULL && strcmp(path, cases[i].path) != 0)
			fail_msg("case %zu (%s): path \"%s\", want \"%s\"", i, cases[i].why, path,
				 cases[i].path);
	}
}

/* a0 -> a1 -> ... -> a(n-1): n - 1 entries over n names. */
struct chain {
	struct entry *entries;
	char (*names)[32];
};

static struct chain chain_new(size_t n)
{
	struct chain c = { calloc(n + 1, sizeof(struct entry)), calloc(n, 32) };

	for (size_t i = 0; i < n; i++)
		snprintf(c.names[i], 32, "a%zu@d.example", i);
	for (size_t i = 0; i + 1 < n; i++)
		c.entries[i] = (struct entry){ c.names[i], c.names[i + 1] };
	return c;
}

static void chain_free(struct chain *c)
{
	free(c->entries);
	free(c->names);
}

static void test_alias_walk_bounds(void **state)
{
	struct chain c = chain_new(900);
	char path[64];

	/* a899 -> a0 closes a circle of 900: found, the path cut to fit */
	assert_int_equal(alias_walk("a899@d.example", "a0@d.example", lookup, c.entries, path,
				    sizeof(path)), ALIAS_WALK_LOOP);
	assert_string_equal(path + strlen(path) - 3, "...");
	assert_int_equal(alias_walk("x@d.example", "a0@d.example", lookup, c.entries, path,
				    sizeof(path)), ALIAS_WALK_NO_LOOP);
	chain_free(&c);
	c = chain_new(ALIAS_WALK_MAX + 5);
	assert_int_equal(alias_walk("x@d.example", "a0@d.example", lookup, c.entries, path,
				    sizeof(path)), ALIAS_WALK_TOO_MANY);
	chain_free(&c);
	assert_int_equal(alias_walk("x@d.example", "y@d.example", failing_lookup, NULL, path,
				    sizeof(path)), ALIAS_WALK_FAILED);
}

static void test_alias_key(void **state)
{
	char key[ALIAS_KEY_MAX];

	assert_int_equal(alias_key("Partner@Elsewhere.EXAMPLE", key), 0);
	assert_string_equal(key, "partner@elsewhere.example");
	assert_int_equal(alias_key("\"A\\\"B\"@d.example", key), 0);
	assert_string_equal(key, "a\"b@d.example");
	assert_int_equal(alias_key("\"a@b\"@d.example", key), 0);
	assert_string_equal(key, "a@b@d.example");
	assert_int_equal(alias_key("nodomain", key), -1);
	assert_int_equal(alias_key("\"open@d.example", key), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alias_walk_table),
		cmocka_unit_test(test_alias_walk_bounds),
		cmocka_unit_test(test_alias_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
