/*
 * metrics.c - metric registry and Prometheus text rendering.
 */
#include "autoconfig.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/xalloc.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric {
	char *labels;			/* NULL or 'a="b"' */
	_Atomic uint64_t count;		/* counter value; histogram count */
	_Atomic uint64_t bits;		/* gauge value; histogram sum (a double) */
	_Atomic uint64_t *buckets;	/* histogram: one per bound, not cumulative */
	const double *bounds;		/* histogram bucket upper bounds */
	size_t bound_count;
	struct metric *next;
};

struct family {
	char *name;
	char *help;
	enum metric_type type;
	struct metric *series, *last;
	struct family *next;
};

struct metrics {
	struct family *families, *last;
};

const double metrics_latency_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};
const size_t metrics_latency_bucket_count =
	sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);

static uint64_t double_bits(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof(b));
	return b;
}

static double bits_double(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

struct metrics *metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics **mp)
{
	struct metrics *m = *mp;

	if (m == NULL)
		return;
	for (struct family *f = m->families, *fn; f != NULL; f = fn) {
		fn = f->next;
		for (struct metric *s = f->series, *sn; s != NULL; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s->buckets);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	free(m);
	*mp = NULL;
}

static void check_name(const char *name)
{
	for (const char *p = name; *p != '\0'; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			  *p == ':' || (p != name && *p >= '0' && *p <= '9');
		if (!ok)
			log_fatal("metrics: invalid metric name \"%s\"", name);
	}
}

static struct family *family_get(struct metrics *m, const char *name, const char *help,
				 enum metric_type type)
{
	struct family *f;

	for (f = m->families; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0) {
			if (f->type != type)
				log_fatal("metrics: %s registered with two types", name);
			return f;
		}
	}
	check_name(name);
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->type = type;
	if (m->last != NULL)
		m->last->next = f;
	else
		m->families = f;
	m->last = f;
	return f;
}

static struct metric *series_add(struct metrics *m, const char *name, const char *labels,
				 const char *help, enum metric_type type,
				 const double *bounds, size_t count)
{
	struct family *f = family_get(m, name, help, type);
	struct metric *s = xcalloc(1, sizeof(*s));

	s->labels = labels != NULL && labels[0] != '\0' ? xstrdup(labels) : NULL;
	if (type == METRIC_HISTOGRAM) {
		s->buckets = xcalloc(count, sizeof(_Atomic uint64_t));
		s->bounds = bounds;
		s->bound_count = count;
	}
	if (f->last != NULL)
		f->last->next = s;
	else
		f->series = s;
	f->last = s;
	return s;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *labels,
			       const char *help)
{
	return series_add(m, name, labels, help, METRIC_COUNTER, NULL, 0);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *labels,
			     const char *help)
{
	return series_add(m, name, labels, help, METRIC_GAUGE, NULL, 0);
}

struct metric *metrics_histogram(struct metrics *m, const char *name, const char *labels,
				 const char *help, const double *bounds, size_t count)
{
	return series_add(m, name, labels, help, METRIC_HISTOGRAM, bounds, count);
}

void metric_inc(struct metric *c)
{
	atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
}

void metric_add(struct metric *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
}

void metric_set(struct metric *g, double value)
{
	atomic_store_explicit(&g->bits, double_bits(value), memory_order_relaxed);
}

static void add_to_sum(struct metric *h, double value)
{
	uint64_t old = atomic_load_explicit(&h->bits, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(&h->bits, &old,
						      double_bits(bits_double(old) + value),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

void metric_observe(struct metric *h, double value)
{
	for (size_t i = 0; i < h->bound_count; i++) {
		if (value <= h->bounds[i]) {
			atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	add_to_sum(h, value);
}

void metric_observe_since(struct metric *h, int64_t start_ns)
{
	metric_observe(h, (double)(clock_monotonic_ns() - start_ns) / 1e9);
}

/* The shortest of %.15g and %.17g that reads back as the same double:
 * 0.005 rather than 0.0050000000000000001. */
static void format_double(double v, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, outlen, "%.17g", v);
}

static void render_double(struct strbuf *out, double v)
{
	char text[32];

	if (isnan(v)) {
		strbuf_append_str(out, "NaN");
	} else if (isinf(v)) {
		strbuf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	} else {
		format_double(v, text, sizeof(text));
		strbuf_append_str(out, text);
	}
}

/* name{labels[,extra]} */
static void render_series_name(struct strbuf *out, const char *name, const char *suffix,
			       const char *labels, const char *extra)
{
	strbuf_appendf(out, "%s%s", name, suffix);
	if (labels == NULL && extra == NULL)
		return;
	strbuf_appendf(out, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "",
		       extra ? extra : "");
}

static void render_histogram(struct strbuf *out, const struct family *f, const struct metric *s)
{
	uint64_t cumulative = 0, count = atomic_load_explicit(&s->count, memory_order_relaxed);
	char le[64], bound[32];

	for (size_t i = 0; i < s->bound_count; i++) {
		cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
		format_double(s->bounds[i], bound, sizeof(bound));
		snprintf(le, sizeof(le), "le=\"%s\"", bound);
		render_series_name(out, f->name, "_bucket", s->labels, le);
		strbuf_appendf(out, " %llu\n", (unsigned long long)cumulative);
	}
	if (count < cumulative)
		count = cumulative;	/* an observation landed between the reads */
	render_series_name(out, f->name, "_bucket", s->labels, "le=\"+Inf\"");
	strbuf_appendf(out, " %llu\n", (unsigned long long)count);
	render_series_name(out, f->name, "_sum", s->labels, NULL);
	strbuf_append_char(out, ' ');
	render_double(out, bits_double(atomic_load_explicit(&s->bits, memory_order_relaxed)));
	strbuf_append_char(out, '\n');
	render_series_name(out, f->name, "_count", s->labels, NULL);
	strbuf_appendf(out, " %llu\n", (unsigned long long)count);
}

void metrics_render(const struct metrics *m, struct strbuf *out)
{
	static const char *const type_names[] = { "counter", "gauge", "histogram" };

	for (const struct family *f = m->families; f != NULL; f = f->next) {
		strbuf_appendf(out, "# HELP %s ", f->name);
		for (const char *p = f->help; *p != '\0'; p++) {
			if (*p == '\\' || *p == '\n')
				strbuf_append_str(out, *p == '\\' ? "\\\\" : "\\n");
			else
				strbuf_append_char(out, *p);
		}
		strbuf_appendf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
		for (const struct metric *s = f->series; s != NULL; s = s->next) {
			if (f->type == METRIC_HISTOGRAM) {
				render_histogram(out, f, s);
				continue;
			}
			render_series_name(out, f->name, "", s->labels, NULL);
			strbuf_append_char(out, ' ');
			if (f->type == METRIC_COUNTER)
				strbuf_appendf(out, "%llu", (unsigned long long)
					       atomic_load_explicit(&s->count, memory_order_relaxed));
			else
				render_double(out, bits_double(atomic_load_explicit(&s->bits,
										  memory_order_relaxed)));
			strbuf_append_char(out, '\n');
		}
	}
}
