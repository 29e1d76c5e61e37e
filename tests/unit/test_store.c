/*
 * test_store.c - the milter's in-memory state (milter/store.c): values and
 * expiry, eviction in expiry order, the table's growth, a full table
 * refusing new keys (and counting them), and insertions into a full table
 * staying cheap.
 */
#include "autoconfig.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/metrics.h"
#include "milter/store.h"

static char *get(struct store *s, const char *key)
{
	const char *keys[1] = { key };
	char *values[1];

	assert_int_equal(store_get(s, 1, keys, values), 0);
	return values[0];
}

static void assert_value(struct store *s, const char *key, const char *want)
{
	char *v = get(s, key);

	if (want == NULL)
		assert_null(v);
	else
		assert_string_equal(v, want);
	free(v);
}

static uint64_t full_count(const struct metrics *m)
{
	struct strbuf text = STRBUF_INIT;
	const char *at;
	uint64_t n = 0;

	metrics_render(m, &text);
	if ((at = strstr(strbuf_str(&text), "\nmilter_state_full_total ")) != NULL)
		n = strtoull(at + strlen("\nmilter_state_full_total "), NULL, 10);
	strbuf_release(&text);
	return n;
}

static void test_values_expire(void **state)
{
	struct store *s = store_new(NULL, 1000, NULL);

	clock_set_wall_offset(0);
	assert_int_equal(store_set(s, "a", "1", 10), 0);
	assert_int_equal(store_set(s, "b", "2", 100), 0);
	assert_value(s, "a", "1");
	assert_int_equal(store_set(s, "a", "3", 200), 0);	/* a later expiry moves it */
	clock_set_wall_offset(150);
	assert_value(s, "a", "3");
	assert_value(s, "b", NULL);
	clock_set_wall_offset(250);
	assert_value(s, "a", NULL);
	assert_int_equal(store_count(s), 0);
	clock_set_wall_offset(0);
	store_free(&s);
	assert_null(s);
}

static void test_full_table_refuses_and_counts(void **state)
{
	struct metrics *m = metrics_new();
	struct store *s = store_new(NULL, 3, m);

	clock_set_wall_offset(0);
	assert_int_equal(store_set(s, "k1", "v", 50), 0);
	assert_int_equal(store_set(s, "k2", "v", 10), 0);
	assert_int_equal(store_set(s, "k3", "v", 30), 0);
	assert_int_equal(store_set(s, "k4", "v", 100), -1);	/* all live: refused */
	assert_int_equal(full_count(m), 1);
	assert_int_equal(store_set(s, "k1", "w", 100), 0);	/* a present key still updates */
	clock_set_wall_offset(20);				/* k2 expired: room for one */
	assert_int_equal(store_set(s, "k4", "v", 100), 0);
	assert_value(s, "k3", "v");
	assert_int_equal(store_set(s, "k5", "v", 100), -1);
	assert_int_equal(full_count(m), 2);
	clock_set_wall_offset(40);				/* k3 expired */
	assert_int_equal(store_set(s, "k5", "v", 100), 0);
	assert_value(s, "k1", "w");
	assert_value(s, "k4", "v");
	assert_value(s, "k5", "v");
	clock_set_wall_offset(0);
	store_free(&s);
	metrics_free(&m);
}

static void test_reputation_counts(void **state)
{
	struct store *s = store_new(NULL, 1000, NULL);
	const char *keys[2] = { "rep:ip:192.0.2.1", "rep:ip:192.0.2.2" };
	struct rep_delta d = { .good = 1 };
	struct rep_counters c[2];

	clock_set_wall_offset(0);
	assert_int_equal(store_rep_add(s, 1, keys, &d, clock_wall_s(), 86400, 1000), 0);
	assert_int_equal(store_rep_add(s, 1, keys, &d, clock_wall_s(), 86400, 1000), 0);
	assert_int_equal(store_rep_read(s, 2, keys, clock_wall_s(), 86400, c), 0);
	assert_true(c[0].known);
	assert_true(c[0].good > 1.99 && c[0].good <= 2.0);
	assert_false(c[1].known);
	clock_set_wall_offset(2000);
	assert_int_equal(store_rep_read(s, 2, keys, clock_wall_s(), 86400, c), 0);
	assert_false(c[0].known);
	clock_set_wall_offset(0);
	store_free(&s);
}

/* Expiries in scrambled order: every key comes out at its time, none early. */
static void test_eviction_follows_expiry(void **state)
{
	enum { N = 2000 };
	struct store *s = store_new(NULL, N, NULL);
	char key[32];

	clock_set_wall_offset(0);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		assert_int_equal(store_set(s, key, "v", 1 + (i * 7919) % N), 0);
	}
	for (int t = 0; t <= N; t += 250) {
		clock_set_wall_offset(t);
		for (int i = 0; i < N; i += 97) {
			char *v;
			snprintf(key, sizeof(key), "key%d", i);
			v = get(s, key);
			assert_true((v != NULL) == (1 + (i * 7919) % N > t));
			free(v);
		}
	}
	/* a few expired keys go with every insertion */
	clock_set_wall_offset(N + 1);
	size_t before = store_count(s);
	assert_int_equal(store_set(s, "new", "v", 10), 0);
	assert_true(store_count(s) < before);
	clock_set_wall_offset(0);
	store_free(&s);

	/* a full table with expired keys has room */
	s = store_new(NULL, N, NULL);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		assert_int_equal(store_set(s, key, "v", 1 + (i * 7919) % N), 0);
	}
	clock_set_wall_offset(N + 1);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "new%d", i);
		assert_int_equal(store_set(s, key, "v", 10), 0);
	}
	assert_int_equal(store_count(s), N);
	clock_set_wall_offset(0);
	store_free(&s);
}

/* The table starts small and doubles as keys come: every key is found
 * after each doubling, and expiry still takes entries out of their
 * buckets. */
static void test_table_grows(void **state)
{
	enum { N = 50000 };
	struct store *s = store_new(NULL, 1000000, NULL);
	char key[32], want[32];

	clock_set_wall_offset(0);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		assert_int_equal(store_set(s, key, want, i % 2 ? 100 : 10), 0);
		if (i == 1500 || i == 20000) {	/* after the first doublings */
			assert_value(s, "k0", "v0");
			assert_value(s, "k1023", "v1023");
		}
	}
	assert_int_equal(store_count(s), N);
	for (int i = 0; i < N; i += 7) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		assert_value(s, key, want);
	}
	clock_set_wall_offset(50);	/* the even ones expired */
	for (int i = 0; i < N; i += 1) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		assert_value(s, key, i % 2 ? want : NULL);
	}
	assert_int_equal(store_count(s), N / 2);
	clock_set_wall_offset(0);
	store_free(&s);
}

/* The case: a full table, then 200 new keys. Before, each one
 * swept the whole table under the lock (23 s for 200 at 1 000 000 keys). */
static void test_full_table_stays_cheap(void **state)
{
	enum { N = 100000, NEW = 200 };
	struct store *s = store_new(NULL, N, NULL);
	char key[32];
	int64_t began;

	clock_set_wall_offset(0);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "grey:198.51.100.0/24/s%d/r", i);
		assert_int_equal(store_set(s, key, "v", 1000 + i % 500), 0);
	}
	began = clock_monotonic_ns();
	for (int i = 0; i < NEW; i++) {
		snprintf(key, sizeof(key), "grey:203.0.113.0/24/n%d/r", i);
		assert_int_equal(store_set(s, key, "v", 10), -1);	/* all live: refused */
	}
	clock_set_wall_offset(1100);			/* a fifth of them expired */
	for (int i = 0; i < NEW; i++) {
		snprintf(key, sizeof(key), "grey:203.0.113.0/24/m%d/r", i);
		assert_int_equal(store_set(s, key, "v", 10), 0);
	}
	/* a generous bound: a sweep per key took about 1 ms each at this size */
	assert_true(clock_monotonic_ns() - began < 200 * 1000000LL);
	clock_set_wall_offset(0);
	store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_expire),
		cmocka_unit_test(test_full_table_refuses_and_counts),
		cmocka_unit_test(test_reputation_counts),
		cmocka_unit_test(test_eviction_follows_expiry),
		cmocka_unit_test(test_table_grows),
		cmocka_unit_test(test_full_table_stays_cheap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
