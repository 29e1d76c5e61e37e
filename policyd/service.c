/*
 * service.c - policy requests from Postfix smtpd, answered by the checks.
 *
 * One request at a time per connection (Postfix waits for each answer);
 * input that arrives meanwhile waits in the buffer. The snapshot checks
 * run at once; when none of them refuses, the Redis and DNS checks start
 * together and the answer goes out when the last one is in, or at
 * request_timeout with whatever came back by then.
 */
#include "autoconfig.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "policyd/pending.h"

/* What a broken or hostile client makes us say, at most once per interval
 * (with a count of the lines left out): such a client reconnects and
 * repeats faster than anyone reads a log. */
#define CLIENT_ERROR_LOG_MS (10 * 1000)
static struct log_ratelimit client_error_log = LOG_RATELIMIT_INIT(CLIENT_ERROR_LOG_MS);
static struct log_ratelimit bad_request_log = LOG_RATELIMIT_INIT(CLIENT_ERROR_LOG_MS);

static const char *const check_names[CHECK_COUNT] = {
	"blocked", "sender_ownership", "spam_trap", "quota", "send_limit", "blocklist",
};

const char *policyd_check_name(enum policyd_check check)
{
	return check < CHECK_COUNT ? check_names[check] : "?";
}

void policyd_service_init(struct policyd_service *svc, struct metrics *m)
{
	char labels[96];

	for (int c = 0; c < CHECK_COUNT; c++)
		for (int k = 0; k <= VERDICT_REJECT; k++) {
			snprintf(labels, sizeof(labels), "check=\"%s\",result=\"%s\"",
				 check_names[c], verdict_kind_name(k));
			svc->decisions[c][k] = metrics_counter(m, "policyd_check_results_total", labels,
							       "decisions by check and result");
		}
	for (int k = 0; k <= VERDICT_REJECT; k++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"", verdict_kind_name(k));
		svc->actions[k] = metrics_counter(m, "policyd_requests_total", labels,
						  "requests answered, by the action given");
	}
	svc->latency = metrics_histogram(m, "policyd_request_seconds", NULL,
					 "time from a complete request to its answer",
					 metrics_latency_buckets, metrics_latency_bucket_count);
	svc->bad_requests = metrics_counter(m, "policyd_bad_requests_total", NULL,
					    "connections dropped for oversized or malformed requests");
	svc->timeouts = metrics_counter(m, "policyd_request_timeouts_total", NULL,
					"answers given at request_timeout without every check");
	svc->redis_unavailable = metrics_counter(m, "policyd_redis_unavailable_total", NULL,
						 "checks skipped because Redis was down");
	svc->connections = metrics_gauge(m, "policyd_connections", NULL, "open client connections");
	for (int why = 0; why < SERVER_CLOSE_REASON_COUNT; why++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", server_close_reason_name(why));
		svc->closed[why] = metrics_counter(m, "policyd_connections_closed_total", labels,
						   "connections the server closed: idle, too slow, "
						   "too much input, or to make room at max_connections");
	}
	svc->snapshot_accounts = metrics_gauge(m, "policyd_snapshot_accounts", NULL,
					       "accounts in the snapshot of the tables");
}

void policyd_service_set_snapshot(struct policyd_service *svc, struct snapshot *snap)
{
	if (svc->snapshot == NULL || snapshot_account_count(svc->snapshot) != snapshot_account_count(snap) ||
	    snapshot_trap_count(svc->snapshot) != snapshot_trap_count(snap))
		log_info("policyd: tables loaded: %zu accounts, %zu aliases, %zu spam traps",
			 snapshot_account_count(snap), snapshot_alias_count(snap),
			 snapshot_trap_count(snap));
	snapshot_free(&svc->snapshot);
	svc->snapshot = snap;
	metric_set(svc->snapshot_accounts, (double)snapshot_account_count(snap));
}

static void pending_free(struct pending *p)
{
	struct policyd_service *svc = p->svc;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		svc->pendings = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	if (p->timer != NULL)
		event_free(p->timer);
	policy_request_clear(&p->req);
	free(p);
}

void policyd_service_clear(struct policyd_service *svc)
{
	while (svc->pendings != NULL)
		pending_free(svc->pendings);
	snapshot_free(&svc->snapshot);
	free(svc->local_blocks);
	svc->local_blocks = NULL;
}

void pending_add_verdict(struct pending *p, enum policyd_check check, const struct verdict *v)
{
	metric_inc(p->svc->decisions[check][v->kind]);
	verdict_merge(&p->verdict, v);
}

static void log_decision(const struct pending *p, int64_t elapsed_us, bool timed_out)
{
	const struct verdict *v = &p->verdict;

	log_msg(v->kind == VERDICT_DUNNO ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE,
		"policyd: %s client=%s[%s] sender=<%s> recipient=<%s>%s%s: %s%s%s: %s (%lld.%03lld ms%s)",
		p->state, p->req.value[POLICY_CLIENT_NAME], p->client, p->sender, p->recipient,
		p->login[0] ? " login=" : "", p->login, verdict_kind_name(v->kind),
		v->check ? " by " : "", v->check ? v->check : "", v->action,
		(long long)(elapsed_us / 1000), (long long)(elapsed_us % 1000),
		timed_out ? ", some checks timed out" : "");
}

/* Writes the answer (once) and lets the connection read on. */
static void answer(struct pending *p, bool timed_out)
{
	struct policy_conn *pc = p->pc;
	char line[VERDICT_TEXT_MAX + 16];
	int n;

	if (p->answered)
		return;
	p->answered = true;
	blocklist_conclude(p);
	if (timed_out)
		metric_inc(p->svc->timeouts);
	metric_inc(p->svc->actions[p->verdict.kind]);
	metric_observe_since(p->svc->latency, p->started_ns);
	log_decision(p, (clock_monotonic_ns() - p->started_ns) / 1000, timed_out);
	if (pc == NULL)
		return;
	n = snprintf(line, sizeof(line), "action=%s\n\n", p->verdict.action);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = snprintf(line, sizeof(line), "action=DUNNO\n\n");
	pc->busy = NULL;
	server_conn_write(pc->conn, line, (size_t)n);
	server_conn_resume_input(pc->conn);	/* the next request, if one is waiting */
	server_conn_release(pc->conn);		/* may free the connection and pc */
}

void pending_callback_done(struct pending *p)
{
	if (--p->outstanding > 0)
		return;
	answer(p, false);
	pending_free(p);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	answer(arg, true);	/* freed when the last callback comes back */
}

static void lowercase_copy(const char *s, char *out, size_t outlen)
{
	size_t i = 0;

	for (; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
	out[i] = '\0';
}

static void normalize(struct pending *p)
{
	const struct policyd_section *s = p->svc->settings;
	const char *const *v = (const char *const *)p->req.value;

	p->state = v[POLICY_PROTOCOL_STATE][0] ? v[POLICY_PROTOCOL_STATE] : "?";
	snprintf(p->client, sizeof(p->client), "%s", v[POLICY_CLIENT_ADDRESS]);
	p->have_ip = ip_parse(p->client, &p->ip) == 0;
	if (p->have_ip) {
		struct cidr net;

		cidr_of(&p->ip, (unsigned)s->network_prefix_v4, (unsigned)s->network_prefix_v6, &net);
		cidr_format(&net, p->network, sizeof(p->network));
	}
	lowercase_copy(v[POLICY_SASL_USERNAME], p->login, sizeof(p->login));
	lowercase_copy(v[POLICY_SENDER], p->sender, sizeof(p->sender));
	lowercase_copy(v[POLICY_RECIPIENT], p->recipient, sizeof(p->recipient));
}

static bool state_is(const struct pending *p, const char *state)
{
	return strcasecmp(p->state, state) == 0;
}

/* The snapshot checks, in order; true when one refused. */
static bool run_snapshot_checks(struct pending *p, bool exempt_client)
{
	const struct policyd_section *s = p->svc->settings;
	const struct snapshot *snap = p->svc->snapshot;
	bool rcpt = state_is(p, "RCPT"), eom = state_is(p, "END-OF-MESSAGE");
	struct verdict v;

	if (s->sender_ownership && p->login[0] && p->svc->have_database &&
	    (rcpt || state_is(p, "MAIL"))) {
		ownership_decide(snap, p->login, p->sender, &v);
		pending_add_verdict(p, CHECK_SENDER_OWNERSHIP, &v);
	}
	if (s->spam_traps && rcpt && !exempt_client && !p->login[0] &&
	    snapshot_is_trap(snap, p->recipient)) {
		trap_verdict(p->recipient, &v);
		pending_add_verdict(p, CHECK_SPAM_TRAP, &v);
		record_trap_hit(p);
	}
	if (s->quota && p->recipient[0] && (rcpt || (eom && p->req.recipient_count == 1))) {
		quota_decide(snap, p->recipient, p->req.size, s->quota_action, &v);
		pending_add_verdict(p, CHECK_QUOTA, &v);
	}
	return p->verdict.kind == VERDICT_REJECT;
}

static void start_async_checks(struct pending *p, bool exempt_client)
{
	const struct policyd_section *s = p->svc->settings;
	bool late = state_is(p, "DATA") || state_is(p, "END-OF-MESSAGE");

	if (!exempt_client && !p->login[0] && p->have_ip && !late) {
		if (s->spam_traps && s->trap_block_ms > 0)
			lookup_block(p);
		if (s->blocklists)
			lookup_blocklists(p);
	}
	if (s->send_limits && p->login[0] && state_is(p, "RCPT"))
		lookup_send_limit(p);
}

static void start_request(struct policy_conn *pc, struct policy_request *req)
{
	struct policyd_service *svc = pc->svc;
	struct pending *p = xcalloc(1, sizeof(*p));
	bool exempt_client;

	p->svc = svc;
	p->pc = pc;
	p->req = *req;
	p->started_ns = clock_monotonic_ns();
	p->next = svc->pendings;
	if (svc->pendings != NULL)
		svc->pendings->prev = p;
	svc->pendings = p;
	verdict_dunno(&p->verdict);
	normalize(p);
	if (strcmp(req->value[POLICY_INSTANCE], pc->instance) != 0) {
		p->new_message = true;
		snprintf(pc->instance, sizeof(pc->instance), "%s", req->value[POLICY_INSTANCE]);
	}
	pc->busy = p;
	server_conn_hold(pc->conn);
	p->outstanding = 1;	/* this function's own reference */
	if (strcmp(req->value[POLICY_REQUEST], "smtpd_access_policy") != 0) {
		log_ratelimited(&client_error_log, LOG_LEVEL_WARNING,
				"policyd: request=\"%s\" is not smtpd_access_policy: answered DUNNO",
				req->value[POLICY_REQUEST]);
	} else {
		exempt_client = p->have_ip &&
			cidr_list_contains(&svc->settings->trusted_networks, &p->ip);
		if (!run_snapshot_checks(p, exempt_client))
			start_async_checks(p, exempt_client);
	}
	if (p->outstanding > 1) {
		struct timeval tv = { svc->settings->request_timeout_ms / 1000,
				      (svc->settings->request_timeout_ms % 1000) * 1000 };

		p->timer = evtimer_new(svc->base, on_timeout, p);
		evtimer_add(p->timer, &tv);
	}
	pending_callback_done(p);
}

static void drop_connection(struct policy_conn *pc, ssize_t status)
{
	metric_inc(pc->svc->bad_requests);
	log_ratelimited(&bad_request_log, LOG_LEVEL_WARNING, "policyd: %s: dropping the connection",
			policy_parse_status_name(status));
	server_conn_close_after_write(pc->conn);
}

static void on_input(struct server_conn *conn, struct evbuffer *in, void *arg)
{
	struct policyd_service *svc = arg;
	struct policy_conn *pc = server_conn_data(conn);

	if (pc == NULL) {
		pc = xcalloc(1, sizeof(*pc));
		pc->svc = svc;
		pc->conn = conn;
		server_conn_set_data(conn, pc);
		metric_set(svc->connections, (double)server_connection_count(svc->server));
	}
	for (int answered = 0; pc->busy == NULL && evbuffer_get_length(in) > 0; answered++) {
		size_t len = evbuffer_get_length(in);
		size_t want = len < (size_t)svc->limits.max_request + 2 ? len
			      : (size_t)svc->limits.max_request + 2;
		const char *data;
		struct policy_request req;
		ssize_t n;

		if (answered == SERVER_REQUESTS_PER_TURN) {
			server_conn_yield(conn);	/* the others' turn */
			return;
		}
		data = (const char *)evbuffer_pullup(in, (ssize_t)want);
		n = policy_request_parse(data, want, &svc->limits, &req);

		if (n == POLICY_PARSE_INCOMPLETE)
			return;
		if (n < 0) {
			evbuffer_drain(in, len);
			drop_connection(pc, n);
			return;
		}
		evbuffer_drain(in, (size_t)n);
		start_request(pc, &req);	/* may answer at once */
	}
}

static void on_close(struct server_conn *conn, void *arg)
{
	struct policyd_service *svc = arg;
	struct policy_conn *pc = server_conn_data(conn);

	if (pc == NULL)
		return;
	if (pc->busy != NULL)
		pc->busy->pc = NULL;	/* its answer has nowhere to go */
	free(pc);
	metric_set(svc->connections, (double)server_connection_count(svc->server) - 1);
}

static void on_closed_for(enum server_close_reason why, void *arg)
{
	struct policyd_service *svc = arg;

	metric_inc(svc->closed[why]);
}

const struct server_handler policyd_handler = {
	.on_input = on_input, .on_close = on_close, .on_closed_for = on_closed_for,
};
