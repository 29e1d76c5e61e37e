/*
 * service.c - socketmap requests from Postfix, answered by lookup.c.
 *
 * Requests may be pipelined: everything complete in the input is answered
 * in order in one write. A request whose length prefix is over
 * max_request_size, or bytes that are not a netstring, get one PERM reply
 * and the connection is closed after it (that client is confused); a
 * netstring that is not "NAME KEY" gets PERM and the connection goes on.
 */
#include "autoconfig.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "srs/service.h"

/* What a broken or hostile client makes us say, at most once per interval
 * (with a count of the lines left out): such a client reconnects and
 * repeats faster than anyone reads a log. */
#define CLIENT_ERROR_LOG_MS (10 * 1000)
static struct log_ratelimit client_error_log = LOG_RATELIMIT_INIT(CLIENT_ERROR_LOG_MS);
static struct log_ratelimit bad_request_log = LOG_RATELIMIT_INIT(CLIENT_ERROR_LOG_MS);

void srsd_service_init(struct srsd_service *svc, struct metrics *m)
{
	char labels[96];

	for (int map = 0; map < SRSD_MAP_COUNT; map++) {
		for (int o = 0; o < SRSD_OUTCOME_COUNT; o++) {
			snprintf(labels, sizeof(labels), "map=\"%s\",result=\"%s\"",
				 srsd_map_name(map), srsd_outcome_name(o));
			svc->lookups[map][o] = metrics_counter(m, "srsd_lookups_total", labels,
							       "socketmap lookups by map and result");
		}
		snprintf(labels, sizeof(labels), "map=\"%s\"", srsd_map_name(map));
		svc->latency[map] = metrics_histogram(m, "srsd_lookup_seconds", labels,
						      "time to answer one lookup",
						      metrics_latency_buckets,
						      metrics_latency_bucket_count);
	}
	svc->bad_requests = metrics_counter(m, "srsd_bad_requests_total", NULL,
					    "requests that were not NAME KEY netstrings");
	svc->connections = metrics_gauge(m, "srsd_connections", NULL, "open client connections");
	for (int why = 0; why < SERVER_CLOSE_REASON_COUNT; why++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", server_close_reason_name(why));
		svc->closed[why] = metrics_counter(m, "srsd_connections_closed_total", labels,
						   "connections the server closed: idle, too slow, "
						   "too much input, or to make room at max_connections");
	}
	svc->local_domain_count = metrics_gauge(m, "srsd_local_domains", NULL,
						"domains whose senders are not rewritten");
}

void srsd_service_set_domains(struct srsd_service *svc, struct domain_set *set)
{
	if (svc->local_domains == NULL || domain_set_count(svc->local_domains) != domain_set_count(set))
		log_info("srsd: %zu local domains", domain_set_count(set));
	domain_set_free(&svc->local_domains);
	svc->local_domains = set;
	metric_set(svc->local_domain_count, (double)domain_set_count(set));
}

void srsd_service_set_keys(struct srsd_service *svc, struct srs_keys *keys, const char *domain)
{
	srs_keys_clear(&svc->keys);
	svc->keys = *keys;	/* srs.secrets points at the heap array: still valid */
	memset(keys, 0, sizeof(*keys));
	free(svc->srs_domain);
	svc->srs_domain = xstrdup(domain);
}

void srsd_service_clear(struct srsd_service *svc)
{
	srs_keys_clear(&svc->keys);
	free(svc->srs_domain);
	svc->srs_domain = NULL;
	domain_set_free(&svc->local_domains);
}

static void answer_request(struct srsd_service *svc, const struct socketmap_request *req,
			   struct strbuf *out)
{
	struct srsd_maps maps = { &svc->keys.srs, svc->srs_domain, svc->local_domains };
	struct srsd_answer a;
	int64_t started = clock_monotonic_ns();

	srsd_lookup(&maps, req, clock_wall_s(), out, &a);
	metric_inc(svc->lookups[a.map][a.outcome]);
	metric_observe_since(svc->latency[a.map], started);
	if (a.outcome == SRSD_REFUSED)
		log_info("srsd: %s <%.*s> refused: %s", srsd_map_name(a.map), (int)req->key_len,
			 req->key, a.why);
	else if (a.outcome == SRSD_ERROR)
		log_ratelimited(&client_error_log, LOG_LEVEL_WARNING, "srsd: %s lookup: %s", req->name,
				a.why);
}

static void refuse_and_close(struct srsd_service *svc, struct server_conn *conn,
			     struct strbuf *out, const char *why)
{
	metric_inc(svc->bad_requests);
	log_ratelimited(&bad_request_log, LOG_LEVEL_WARNING, "srsd: %s; closing the connection", why);
	socketmap_reply(out, SOCKETMAP_PERM, why);
	server_conn_write(conn, out->data, out->len);
	server_conn_close_after_write(conn);
}

static void on_input(struct server_conn *conn, struct evbuffer *in, void *arg)
{
	struct srsd_service *svc = arg;
	size_t len = evbuffer_get_length(in), off = 0;
	const char *data = (const char *)evbuffer_pullup(in, -1);
	struct strbuf out = STRBUF_INIT;

	metric_set(svc->connections, (double)server_connection_count(svc->server));
	for (int answered = 0; off < len; answered++) {
		struct socketmap_request req;
		size_t used;
		ssize_t n;

		if (answered == SERVER_REQUESTS_PER_TURN) {
			server_conn_yield(conn);	/* the others' turn */
			break;
		}
		n = socketmap_parse(data + off, len - off, svc->max_request, &req, &used);
		if (n == SOCKETMAP_INCOMPLETE)
			break;
		if (n == SOCKETMAP_TOO_LONG || n == SOCKETMAP_MALFORMED) {
			refuse_and_close(svc, conn, &out, n == SOCKETMAP_TOO_LONG
					 ? "request too long" : "malformed netstring");
			evbuffer_drain(in, len);
			strbuf_release(&out);
			return;
		}
		if (n == SOCKETMAP_BAD_REQUEST) {
			metric_inc(svc->bad_requests);
			socketmap_reply(&out, SOCKETMAP_PERM, "invalid request: expected NAME KEY");
		} else {
			answer_request(svc, &req, &out);
		}
		off += used;
	}
	evbuffer_drain(in, off);
	if (out.len > 0)
		server_conn_write(conn, out.data, out.len);
	strbuf_release(&out);
}

static void on_closed_for(enum server_close_reason why, void *arg)
{
	struct srsd_service *svc = arg;

	metric_inc(svc->closed[why]);
}

const struct server_handler srsd_handler = { .on_input = on_input, .on_closed_for = on_closed_for };
