/*
 * forward.c - sealing forwarded mail (see forward.h).
 */
#include "autoconfig.h"

#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "milter/forward.h"
#include "milter/milter.h"

void forward_begin(const struct milter_context *mc, struct message *m)
{
	if (m->forwarded && mc->seal_key != NULL && m->arc != NULL)
		m->sealer = arc_seal_new();
}

void forward_body(struct message *m, const void *data, size_t len)
{
	if (m->sealer != NULL)
		arc_seal_body(m->sealer, data, len);
}

int forward_seal(const struct milter_context *mc, struct message *m, const struct verify_outcome *o,
		 const char *results, struct arc_seal_fields *fields_r)
{
	const struct milter_section *s = mc->settings;
	const char *id_end = strchr(results, ';');
	const struct dkim_canon_header *headers;
	size_t count = 0;
	const char *why = "";
	int rc;

	memset(fields_r, 0, sizeof(*fields_r));
	if (m->sealer == NULL || !o->checked)
		return 1;
	headers = arc_verify_headers(m->arc, &count);
	if (headers == NULL) {
		log_warning("milter: %s: not sealed: the header block is too large to sign",
			    m->queue_id[0] ? m->queue_id : "-");
		return -1;
	}
	const struct arc_seal_request request = {
		.chain = o->arc.status,
		.authserv_id = mc->authserv_id,
		.results = id_end != NULL ? id_end + 1 : "",
		.domain = s->arc_seal_domain,
		.selector = s->arc_seal_selector,
		.key = mc->seal_key->pkey,
		.alg = mc->seal_key->alg,
		.timestamp = clock_wall_s(),
	};
	rc = arc_seal_make(m->sealer, headers, count, &request, fields_r, &why);
	if (rc == ARC_SEAL_OK)
		return 0;
	if (rc == ARC_SEAL_SKIPPED) {
		log_info("milter: %s: not sealed: %s", m->queue_id[0] ? m->queue_id : "-", why);
		return 1;
	}
	log_error("milter: %s: sealing failed: %s", m->queue_id[0] ? m->queue_id : "-", why);
	return -1;
}
