/*
 * metrics.h - counters, gauges and latency histograms in Prometheus format.
 *
 * Series are registered at start-up (single-threaded) and updated from any
 * thread without locks (C11 atomics). metrics_render() writes the text
 * exposition format 0.0.4; metrics_http.h serves it.
 *
 *     struct metric *found = metrics_counter(m, "srsd_lookups_total",
 *             "map=\"forward\",result=\"found\"", "SRS lookups by map and result");
 *     metric_inc(found);
 */
#ifndef LIMRISTEM_METRICS_H
#define LIMRISTEM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

struct metrics;
struct metric;

/* Latency buckets in seconds, suited to lookups of 0.1 ms to a few s. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_bucket_count;

struct metrics *metrics_new(void);
void metrics_free(struct metrics **m);

/* labels: NULL or 'name="value",...' (values already escaped). Aborts on a
 * programming error (bad name, a name reused with another type). */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *labels,
			       const char *help);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *labels,
			     const char *help);
struct metric *metrics_histogram(struct metrics *m, const char *name, const char *labels,
				 const char *help, const double *bounds, size_t count);

void metric_inc(struct metric *c);
void metric_add(struct metric *c, uint64_t n);
void metric_set(struct metric *g, double value);
void metric_observe(struct metric *h, double value);
/* Observes the seconds since start_ns (a clock_monotonic_ns() value). */
void metric_observe_since(struct metric *h, int64_t start_ns);

void metrics_render(const struct metrics *m, struct strbuf *out);

#endif
