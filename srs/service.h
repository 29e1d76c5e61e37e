/*
 * service.h - srsd's socketmap service: requests in, lookups, replies out,
 * with a log line for every refused reverse and metrics for everything.
 */
#ifndef LIMRISTEM_SRS_SERVICE_H
#define LIMRISTEM_SRS_SERVICE_H

#include <stddef.h>

#include "common/domainset.h"
#include "common/metrics.h"
#include "common/server.h"
#include "srs/lookup.h"
#include "srs/srsd.h"

struct srsd_service {
	struct srs_keys keys;
	char *srs_domain;
	struct domain_set *local_domains;
	size_t max_request;
	struct server *server;		/* for the connection gauge */

	struct metric *lookups[SRSD_MAP_COUNT][SRSD_OUTCOME_COUNT];
	struct metric *latency[SRSD_MAP_COUNT];
	struct metric *bad_requests;
	struct metric *connections;
	struct metric *closed[SERVER_CLOSE_REASON_COUNT];	/* closed by the server, by reason */
	struct metric *local_domain_count;
};

extern const struct server_handler srsd_handler;

void srsd_service_init(struct srsd_service *svc, struct metrics *m);
/* Takes ownership of set and frees the previous one. */
void srsd_service_set_domains(struct srsd_service *svc, struct domain_set *set);
/* Takes over keys and domain (the previous ones are freed). */
void srsd_service_set_keys(struct srsd_service *svc, struct srs_keys *keys, const char *domain);
void srsd_service_clear(struct srsd_service *svc);

#endif
