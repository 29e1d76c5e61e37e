/*
 * test_metrics.c - Prometheus text rendering of counters, gauges, histograms.
 */
#include "autoconfig.h"

#include "common/metrics.h"
#include "unit.h"

static void test_render(void **state)
{
	struct metrics *m = metrics_new();
	static const double bounds[] = { 0.01, 0.1 };
	struct metric *fwd = metrics_counter(m, "srsd_lookups_total", "map=\"forward\"", "SRS lookups");
	struct metric *rev = metrics_counter(m, "srsd_lookups_total", "map=\"reverse\"", "SRS lookups");
	struct metric *up = metrics_gauge(m, "redis_up", NULL, "1 when Redis answers\\now");
	struct metric *lat = metrics_histogram(m, "lookup_seconds", "map=\"forward\"", "latency", bounds, 2);
	struct strbuf out = STRBUF_INIT;

	metric_inc(fwd);
	metric_add(fwd, 2);
	metric_inc(rev);
	metric_set(up, 1);
	metric_observe(lat, 0.005);
	metric_observe(lat, 0.05);
	metric_observe(lat, 3);
	metrics_render(m, &out);
	assert_string_equal(strbuf_str(&out),
		"# HELP srsd_lookups_total SRS lookups\n"
		"# TYPE srsd_lookups_total counter\n"
		"srsd_lookups_total{map=\"forward\"} 3\n"
		"srsd_lookups_total{map=\"reverse\"} 1\n"
		"# HELP redis_up 1 when Redis answers\\\\now\n"
		"# TYPE redis_up gauge\n"
		"redis_up 1\n"
		"# HELP lookup_seconds latency\n"
		"# TYPE lookup_seconds histogram\n"
		"lookup_seconds_bucket{map=\"forward\",le=\"0.01\"} 1\n"
		"lookup_seconds_bucket{map=\"forward\",le=\"0.1\"} 2\n"
		"lookup_seconds_bucket{map=\"forward\",le=\"+Inf\"} 3\n"
		"lookup_seconds_sum{map=\"forward\"} 3.055\n"
		"lookup_seconds_count{map=\"forward\"} 3\n");
	strbuf_release(&out);
	metrics_free(&m);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
