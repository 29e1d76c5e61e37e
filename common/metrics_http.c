/*
 * metrics_http.c - a minimal evhttp server thread for /metrics.
 */
#include "autoconfig.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/metrics_http.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#define METRICS_HTTP_TIMEOUT_S 10

struct metrics_http {
	const struct metrics *metrics;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
	bool running;
};

static void on_request(struct evhttp_request *req, void *arg)
{
	struct metrics_http *server = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct strbuf text = STRBUF_INIT;
	struct evbuffer *body;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is served here");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	metrics_render(server->metrics, &text);
	body = evbuffer_new();
	evbuffer_add(body, strbuf_str(&text), text.len);
	strbuf_release(&text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

static void *serve(void *arg)
{
	struct metrics_http *server = arg;

	event_base_dispatch(server->base);
	return NULL;
}

struct metrics_http *metrics_http_start(const struct metrics *m, const struct endpoint *ep,
					char *err, size_t errlen)
{
	struct metrics_http *server;
	int fd;

	if (ep->kind != ENDPOINT_TCP) {
		snprintf(err, errlen, "metrics: a host:port address is needed");
		return NULL;
	}
	evthread_use_pthreads();
	fd = daemon_listen(ep, 0, "", "", err, errlen);
	if (fd < 0)
		return NULL;
	server = xcalloc(1, sizeof(*server));
	server->metrics = m;
	server->base = event_base_new();
	server->http = server->base ? evhttp_new(server->base) : NULL;
	if (server->http == NULL || evhttp_accept_socket(server->http, fd) < 0) {
		snprintf(err, errlen, "metrics: cannot start the HTTP server");
		close(fd);
		metrics_http_stop(&server);
		return NULL;
	}
	evhttp_set_timeout(server->http, METRICS_HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(server->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(server->http, on_request, server);
	if (pthread_create(&server->thread, NULL, serve, server) != 0) {
		snprintf(err, errlen, "metrics: cannot start a thread: %s", strerror(errno));
		metrics_http_stop(&server);
		return NULL;
	}
	server->running = true;
	return server;
}

void metrics_http_stop(struct metrics_http **serverp)
{
	struct metrics_http *server = *serverp;

	if (server == NULL)
		return;
	if (server->running) {
		event_base_loopbreak(server->base);
		pthread_join(server->thread, NULL);
	}
	if (server->http != NULL)
		evhttp_free(server->http);
	if (server->base != NULL)
		event_base_free(server->base);
	free(server);
	*serverp = NULL;
}

