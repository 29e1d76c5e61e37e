/*
 * metrics_http.h - serve a metrics registry at GET /metrics over HTTP.
 *
 * Runs in a thread of its own with its own event loop, so it works the
 * same in the threaded milter and in the libevent daemons, and a slow
 * scraper never delays mail. Meant for a loopback address.
 */
#ifndef LIMRISTEM_METRICS_HTTP_H
#define LIMRISTEM_METRICS_HTTP_H

#include <stddef.h>

#include "common/endpoint.h"
#include "common/metrics.h"

struct metrics_http;

/* Binds now (so a bad address fails at start-up) and serves from a new
 * thread. NULL with err on failure. */
struct metrics_http *metrics_http_start(const struct metrics *m, const struct endpoint *ep,
					char *err, size_t errlen);
void metrics_http_stop(struct metrics_http **server);

#endif
