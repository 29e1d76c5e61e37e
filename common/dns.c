/*
 * dns.c - blocking and libevent-driven lookups over one libunbound context.
 *
 * libunbound does the resolving and the caching in a background thread
 * (ub_ctx_async) and reports results through a pipe. In blocking mode a
 * dispatcher thread of ours drains that pipe and wakes the waiting caller;
 * in event mode the libevent loop drains it. libunbound has no per-query
 * timeout, so each lookup carries its own deadline and is cancelled when it
 * passes.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/dns.h"
#include "common/dns_upstream.h"
#include "common/log.h"
#include "common/xalloc.h"


#define RCODE_NOERROR 0
#define RCODE_NXDOMAIN 3
#define RCODE_SERVFAIL 2
#define RCODE_REFUSED 5

struct dns {
	struct ub_ctx *ctx;
	long long timeout_ms;

	/* blocking mode */
	pthread_mutex_t start_lock;
	bool dispatcher_running;
	pthread_t dispatcher;
	int wake[2];

	/* event mode */
	struct event_base *base;
	struct event *ub_event;
	struct dns_query *pending;	/* every async query not yet finished */
};

struct dns_query {
	struct dns *dns;
	int async_id;
	bool submitted;
	enum dns_type type;
	struct event *timer;
	struct dns_answer *preset;	/* answer known before asking (bad name) */
	dns_callback *cb;
	void *arg;
	struct dns_query *prev, *next;
};

/* --- answers ------------------------------------------------------------ */

static struct dns_answer *answer_failed(enum dns_status status, const char *why)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->status = status;
	a->why = why;
	return a;
}

static void answer_add_records(struct dns_answer *a, const struct ub_result *r, enum dns_type type)
{
	size_t n = 0;

	while (r->data[n] != NULL)
		n++;
	a->records = xcalloc(n, sizeof(struct dns_record));
	for (size_t i = 0; i < n; i++) {
		if (dns_rdata_parse((uint16_t)type, (const unsigned char *)r->data[i],
				    (size_t)r->len[i], &a->records[a->count]) == 0)
			a->count++;
	}
}

/* Converts (and frees) libunbound's result. */
static struct dns_answer *answer_from_result(int err, struct ub_result *r, enum dns_type type)
{
	struct dns_answer *a;

	if (err != 0)
		return answer_failed(DNS_TEMPFAIL, ub_strerror(err));
	if (r->bogus) {
		ub_resolve_free(r);
		return answer_failed(DNS_TEMPFAIL, "DNSSEC validation failed");
	}
	a = xcalloc(1, sizeof(*a));
	a->rcode = r->rcode;
	a->ttl = r->ttl > 0 ? (uint32_t)r->ttl : 0;
	a->secure = r->secure != 0;
	if (r->rcode == RCODE_NXDOMAIN || r->nxdomain) {
		a->status = DNS_NXDOMAIN;
	} else if (r->rcode != RCODE_NOERROR) {
		a->status = DNS_TEMPFAIL;
		a->why = r->rcode == RCODE_SERVFAIL ? "SERVFAIL"
			: r->rcode == RCODE_REFUSED ? "REFUSED" : "error from the DNS server";
	} else if (!r->havedata) {
		a->status = DNS_NODATA;
	} else {
		answer_add_records(a, r, type);
		a->status = a->count > 0 ? DNS_OK : DNS_TEMPFAIL;
		a->why = a->count > 0 ? NULL : "malformed answer";
	}
	ub_resolve_free(r);
	return a;
}

struct dns_answer *dns_answer_copy(const struct dns_answer *src)
{
	struct dns_answer *a = xmalloc(sizeof(*a));

	*a = *src;
	a->records = src->count > 0 ? xcalloc(src->count, sizeof(*a->records)) : NULL;
	for (size_t i = 0; i < src->count; i++) {
		a->records[i] = src->records[i];
		a->records[i].data = xmalloc(src->records[i].len + 1);
		memcpy(a->records[i].data, src->records[i].data, src->records[i].len + 1);
	}
	return a;
}

struct dns_answer *dns_answer_failed(enum dns_status status, const char *why)
{
	return answer_failed(status, why);
}

void dns_answer_free(struct dns_answer **answer)
{
	struct dns_answer *a = *answer;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->count; i++)
		dns_record_clear(&a->records[i]);
	free(a->records);
	free(a);
	*answer = NULL;
}

const char *dns_status_name(enum dns_status status)
{
	static const char *const names[] = {
		[DNS_OK] = "ok", [DNS_NODATA] = "nodata", [DNS_NXDOMAIN] = "nxdomain",
		[DNS_TEMPFAIL] = "tempfail", [DNS_PERMFAIL] = "permfail",
	};
	return names[status];
}

/* Length of the \DDD or \X escape at s, or 0 when it is malformed. */
static size_t escape_length(const char *s)
{
	if (s[1] >= '0' && s[1] <= '9') {
		if (s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9' ||
		    (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') > 255)
			return 0;
		return 4;
	}
	return s[1] != '\0' ? 2 : 0;
}

/* Whether name can be asked: a DNS name (RFC 2181 11), not only a host
 * name, so that SPF macros ("foo:bar/%{l}.example") resolve as RFC 7208
 * wants. Labels of 1 to 63 octets, 255 octets on the wire, \DDD and \X
 * escapes as in zone files, one trailing dot; no control characters. */
static bool name_is_valid(const char *name)
{
	size_t label = 0, wire = 1;

	if (name[0] == '\0' || strcmp(name, ".") == 0)
		return false;
	for (const char *p = name; *p != '\0'; ) {
		unsigned char c = (unsigned char)*p;
		size_t step = 1;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '.') {
			if (label == 0)
				return false;
			wire += label + 1;
			label = 0;
			p++;
			continue;
		}
		if (c == '\\' && (step = escape_length(p)) == 0)
			return false;
		if (++label > ADDR_LABEL_MAX)
			return false;
		p += step;
	}
	if (label > 0)
		wire += label + 1;
	return wire <= 255;
}

/* --- setup ---------------------------------------------------------------- */

static int set_option(struct ub_ctx *ctx, const char *opt, const char *value,
		      char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, opt, value);

	if (rc != 0)
		snprintf(err, errlen, "dns: cannot set %s %s: %s", opt, value, ub_strerror(rc));
	return rc == 0 ? 0 : -1;
}

static int configure_upstream(struct ub_ctx *ctx, const struct dns_settings *s,
			      char *err, size_t errlen)
{
	char fwd[128];
	int rc;

	if (s->recursive)
		return 0;
	if (s->upstream.count == 0) {
		rc = ub_ctx_resolvconf(ctx, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "dns: cannot read /etc/resolv.conf: %s", ub_strerror(rc));
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < s->upstream.count; i++) {
		if (dns_upstream_to_unbound(s->upstream.items[i], fwd, sizeof(fwd)) < 0 ||
		    (rc = ub_ctx_set_fwd(ctx, fwd)) != 0) {
			snprintf(err, errlen, "dns: bad upstream \"%s\"", s->upstream.items[i]);
			return -1;
		}
	}
	return 0;
}

static int configure(struct ub_ctx *ctx, const struct dns_settings *s, char *err, size_t errlen)
{
	char number[32];
	int rc;

	/* Local resolvers (127.0.0.1, test servers) are normal upstreams here. */
	if (set_option(ctx, "do-not-query-localhost:", "no", err, errlen) < 0)
		return -1;
	snprintf(number, sizeof(number), "%lld", s->cache_size);
	if (set_option(ctx, "msg-cache-size:", number, err, errlen) < 0 ||
	    set_option(ctx, "rrset-cache-size:", number, err, errlen) < 0)
		return -1;
	snprintf(number, sizeof(number), "%lld", s->cache_max_ttl_ms / 1000);
	if (set_option(ctx, "cache-max-ttl:", number, err, errlen) < 0)
		return -1;
	/* Keep probing an upstream that timed out, so it is used again as
	 * soon as it answers. */
	if (set_option(ctx, "infra-keep-probing:", "yes", err, errlen) < 0)
		return -1;
	/* A busy daemon asks for room for every question at once: with
	 * libunbound's small defaults, 100 questions to an upstream answering
	 * in 200 ms took 1.4 s and 400 timed out (milter_concurrency.py).
	 * One UDP port per question in flight: libunbound prepares every
	 * port of outgoing-range up front (about 350 bytes each), so twice as
	 * many cost 3 MB of the milter's loops and bought nothing. */
	if (s->in_flight > 0) {
		snprintf(number, sizeof(number), "%lld", s->in_flight);
		if (set_option(ctx, "num-queries-per-thread:", number, err, errlen) < 0)
			return -1;
		snprintf(number, sizeof(number), "%lld", s->in_flight);	/* sockets */
		if (set_option(ctx, "outgoing-range:", number, err, errlen) < 0)
			return -1;
	}
	if (s->trust_anchor_file[0] != '\0') {
		rc = ub_ctx_add_ta_file(ctx, s->trust_anchor_file);
		if (rc != 0) {
			snprintf(err, errlen, "dns: trust anchor %s: %s", s->trust_anchor_file,
				 ub_strerror(rc));
			return -1;
		}
	} else if (set_option(ctx, "module-config:", "iterator", err, errlen) < 0) {
		return -1;
	}
	if (configure_upstream(ctx, s, err, errlen) < 0)
		return -1;
	rc = ub_ctx_async(ctx, 1);	/* a thread, not a forked process */
	if (rc != 0) {
		snprintf(err, errlen, "dns: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

struct dns *dns_new(const struct dns_settings *settings, char *err, size_t errlen)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));

	dns->ctx = ub_ctx_create();
	if (dns->ctx == NULL) {
		snprintf(err, errlen, "dns: cannot create a resolver context");
		free(dns);
		return NULL;
	}
	if (configure(dns->ctx, settings, err, errlen) < 0) {
		ub_ctx_delete(dns->ctx);
		free(dns);
		return NULL;
	}
	dns->timeout_ms = settings->timeout_ms;
	dns->wake[0] = dns->wake[1] = -1;
	pthread_mutex_init(&dns->start_lock, NULL);
	return dns;
}

/* --- local data ------------------------------------------------------------ */

/* Zones through the configuration, not ub_ctx_zone_add(): in libunbound
 * 1.17 a zone added that way inside another loses track of its parent, and
 * questions the enclosing static zone should answer go out to the network.
 * The configuration takes effect at the first ub_ctx_data_add() or lookup,
 * and is not checked before, so the name is checked here. */
int dns_add_local_zone(struct dns *dns, const char *zone, enum dns_local_zone type,
		       char *err, size_t errlen)
{
	char value[DNS_NAME_TEXT_MAX + 16];
	int n, rc;

	if (strcmp(zone, ".") != 0 && !name_is_valid(zone)) {
		snprintf(err, errlen, "dns: local zone \"%s\": not a domain name", zone);
		return -1;
	}
	n = snprintf(value, sizeof(value), "%s %s", zone,
		     type == DNS_LOCAL_REFUSE ? "refuse" : "static");
	if (n < 0 || (size_t)n >= sizeof(value)) {
		snprintf(err, errlen, "dns: local zone \"%s\": name too long", zone);
		return -1;
	}
	rc = ub_ctx_set_option(dns->ctx, "local-zone:", value);
	if (rc == UB_AFTERFINAL) {
		snprintf(err, errlen, "dns: local zone \"%s\": zones go before any data or lookup", zone);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "dns: local zone \"%s\": %s", zone, ub_strerror(rc));
		return -1;
	}
	return 0;
}

int dns_add_local_data(struct dns *dns, const char *rr, char *err, size_t errlen)
{
	int rc = ub_ctx_data_add(dns->ctx, rr);

	if (rc == 0)
		return 0;
	/* libunbound says "out of memory" for a record it cannot parse. */
	snprintf(err, errlen, "dns: local data \"%s\": %s", rr,
		 rc == UB_NOMEM ? "not a record in zone-file form" : ub_strerror(rc));
	return -1;
}

/* --- blocking mode -------------------------------------------------------- */

struct blocking {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int refs;		/* the waiting caller and libunbound's callback */
	enum dns_type type;
	struct dns_answer *answer;
};

static void blocking_release(struct blocking *b)
{
	bool last;

	pthread_mutex_lock(&b->lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	dns_answer_free(&b->answer);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void blocking_done(void *arg, int err, struct ub_result *result)
{
	struct blocking *b = arg;
	struct dns_answer *a = answer_from_result(err, result, b->type);

	pthread_mutex_lock(&b->lock);
	b->answer = a;
	b->done = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	blocking_release(b);
}

static void *dispatcher_main(void *arg)
{
	struct dns *dns = arg;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = ub_fd(dns->ctx), .events = POLLIN },
			{ .fd = dns->wake[0], .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("dns: poll: %s", strerror(errno));
			break;
		}
		if (fds[1].revents != 0)
			break;
		if (fds[0].revents != 0)
			ub_process(dns->ctx);
	}
	return NULL;
}

static int start_dispatcher(struct dns *dns)
{
	int ret = 0;

	pthread_mutex_lock(&dns->start_lock);
	if (!dns->dispatcher_running) {
		if (dns->base != NULL || pipe2(dns->wake, O_CLOEXEC) < 0 ||
		    pthread_create(&dns->dispatcher, NULL, dispatcher_main, dns) != 0)
			ret = -1;
		else
			dns->dispatcher_running = true;
	}
	pthread_mutex_unlock(&dns->start_lock);
	return ret;
}

static void deadline_after(long long ms, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

struct dns_answer *dns_lookup(struct dns *dns, const char *name, enum dns_type type)
{
	return dns_lookup_until(dns, name, type, INT64_MAX);
}

struct dns_answer *dns_lookup_until(struct dns *dns, const char *name, enum dns_type type,
				    int64_t deadline_ms)
{
	int64_t wait_ms = dns->timeout_ms, left_ms = deadline_ms - clock_monotonic_ms();
	struct blocking *b;
	pthread_condattr_t attr;
	struct timespec deadline;
	struct dns_answer *a;
	int id;

	if (!name_is_valid(name))
		return answer_failed(DNS_PERMFAIL, "invalid domain name");
	if (start_dispatcher(dns) < 0)
		return answer_failed(DNS_TEMPFAIL, "resolver not usable from this thread");
	b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &attr);
	pthread_condattr_destroy(&attr);
	b->refs = 2;
	b->type = type;
	if (ub_resolve_async(dns->ctx, name, (int)type, 1, b, blocking_done, &id) != 0) {
		b->refs = 1;
		blocking_release(b);
		return answer_failed(DNS_TEMPFAIL, "cannot start the lookup");
	}
	if (left_ms < wait_ms)
		wait_ms = left_ms > 0 ? left_ms : 0;
	deadline_after(wait_ms, &deadline);
	pthread_mutex_lock(&b->lock);
	while (!b->done && pthread_cond_timedwait(&b->cond, &b->lock, &deadline) != ETIMEDOUT)
		;
	a = b->answer;
	b->answer = NULL;
	pthread_mutex_unlock(&b->lock);
	if (a == NULL) {
		/* Timed out. If the cancel wins, the callback never runs and its
		 * reference is ours to drop; otherwise it drops it itself. */
		if (ub_cancel(dns->ctx, id) == 0)
			blocking_release(b);
		a = answer_failed(DNS_TEMPFAIL, "timeout");
	}
	blocking_release(b);
	return a;
}

/* --- event mode ------------------------------------------------------------ */

static void on_ub_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;

	ub_process(dns->ctx);
}

int dns_attach(struct dns *dns, struct event_base *base)
{
	pthread_mutex_lock(&dns->start_lock);
	if (dns->dispatcher_running || dns->base != NULL) {
		pthread_mutex_unlock(&dns->start_lock);
		return -1;
	}
	dns->base = base;
	pthread_mutex_unlock(&dns->start_lock);
	dns->ub_event = event_new(base, ub_fd(dns->ctx), EV_READ | EV_PERSIST, on_ub_readable, dns);
	if (dns->ub_event == NULL || event_add(dns->ub_event, NULL) < 0)
		return -1;
	return 0;
}

static void query_unlink(struct dns_query *q)
{
	struct dns *dns = q->dns;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		dns->pending = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
}

static void query_finish(struct dns_query *q, struct dns_answer *a)
{
	query_unlink(q);
	event_free(q->timer);
	q->cb(a, q->arg);
	dns_answer_free(&a);
	dns_answer_free(&q->preset);
	free(q);
}

static void async_done(void *arg, int err, struct ub_result *result)
{
	struct dns_query *q = arg;

	query_finish(q, answer_from_result(err, result, q->type));
}

static void async_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	struct dns_answer *a = q->preset;

	q->preset = NULL;
	if (q->submitted)
		ub_cancel(q->dns->ctx, q->async_id);
	query_finish(q, a != NULL ? a : answer_failed(DNS_TEMPFAIL, "timeout"));
}

struct dns_query *dns_lookup_async(struct dns *dns, const char *name, enum dns_type type,
				   dns_callback *cb, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	struct timeval tv = { dns->timeout_ms / 1000, (dns->timeout_ms % 1000) * 1000 };

	q->dns = dns;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->timer = evtimer_new(dns->base, async_timer, q);
	q->next = dns->pending;
	if (dns->pending != NULL)
		dns->pending->prev = q;
	dns->pending = q;
	if (!name_is_valid(name)) {
		q->preset = answer_failed(DNS_PERMFAIL, "invalid domain name");
	} else if (ub_resolve_async(dns->ctx, name, (int)type, 1, q, async_done, &q->async_id) != 0) {
		q->preset = answer_failed(DNS_TEMPFAIL, "cannot start the lookup");
	} else {
		q->submitted = true;
	}
	if (q->preset != NULL)
		tv.tv_sec = tv.tv_usec = 0;	/* deliver from the loop, not from here */
	evtimer_add(q->timer, &tv);
	return q;
}

void dns_cancel(struct dns_query **query)
{
	struct dns_query *q = *query;

	if (q == NULL)
		return;
	if (q->submitted)
		ub_cancel(q->dns->ctx, q->async_id);
	query_unlink(q);
	event_free(q->timer);
	dns_answer_free(&q->preset);
	free(q);
	*query = NULL;
}

void dns_free(struct dns **dnsp)
{
	struct dns *dns = *dnsp;

	if (dns == NULL)
		return;
	if (dns->dispatcher_running) {
		ssize_t ignored = write(dns->wake[1], "x", 1);
		(void)ignored;
		pthread_join(dns->dispatcher, NULL);
		close(dns->wake[0]);
		close(dns->wake[1]);
	}
	while (dns->pending != NULL) {
		struct dns_query *q = dns->pending;
		dns_cancel(&q);
	}
	if (dns->ub_event != NULL)
		event_free(dns->ub_event);
	ub_ctx_delete(dns->ctx);
	pthread_mutex_destroy(&dns->start_lock);
	free(dns);
	*dnsp = NULL;
}

/* --- names ---------------------------------------------------------------- */

int dns_reverse_name(const struct ip_addr *ip, const char *suffix, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int n;

	if (ip->family == AF_INET) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", ip->bytes[3], ip->bytes[2],
			     ip->bytes[1], ip->bytes[0], suffix ? suffix : "in-addr.arpa");
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (outlen < 64 + 1)
		return -1;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[ip->bytes[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[ip->bytes[i] >> 4];
		out[o++] = '.';
	}
	n = snprintf(out + o, outlen - o, "%s", suffix ? suffix : "ip6.arpa");
	return n < 0 || (size_t)n >= outlen - o ? -1 : 0;
}
