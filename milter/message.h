/*
 * message.h - what the milter knows about one SMTP connection and the
 * message in it: the client, the envelope, every header field as received,
 * and the checks' state while the message streams by.
 *
 * Owned by one libmilter thread at a time (libmilter runs a connection's
 * callbacks in order), so nothing here is locked.
 */
#ifndef LIMRISTEM_MILTER_MESSAGE_H
#define LIMRISTEM_MILTER_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "arc.h"
#include "arc_seal.h"
#include "cidr.h"
#include "dkim_sign.h"
#include "dkim_verify.h"
#include "from_header.h"
#include "tables.h"

#define MESSAGE_HEADERS_MAX 1000	/* beyond this the message is refused */

struct header_field {
	char *name;
	char *value;		/* as received: leading space and folds kept */
	unsigned index;		/* 1-based among fields of this name (smfi_chgheader) */
};

struct connection {
	char client_text[CIDR_TEXT_MAX];
	struct ip_addr client;
	bool have_client;
	char client_name[256];
	char helo[256];
	bool internal;			/* in internal_networks */
	struct message *message;	/* the transaction in progress, if any */
};

struct message {
	int64_t started_ns;
	char mail_from[ADDR_MAX + 1];	/* without brackets; "" for the null sender */
	char auth_user[ADDR_MAX + 1];	/* {auth_authen}; "" when not authenticated */
	char queue_id[32];
	size_t recipients;
	bool outbound;			/* authenticated or from an internal network */

	struct header_field *headers;
	size_t header_count, header_cap;
	bool too_many_headers;

	struct arc_verify *arc;
	bool arc_wants_body;
	struct dkim_verify *dkim;
	bool dkim_wants_body;

	struct milter_tables *tables;	/* referenced from MAIL FROM to the end */
	bool forwarded;			/* a recipient is forwarded outside */
	struct dkim_sign *signer;	/* outbound mail being signed */
	struct arc_seal *sealer;	/* forwarded inbound mail being sealed */
};

struct message *message_new(void);
/* Keeps a copy of the field; counts its index among fields of its name. */
void message_add_header(struct message *m, const char *name, const char *value);
/* The fields named name (case-insensitive), in order: count and the
 * n-th (0-based). */
size_t message_header_count(const struct message *m, const char *name);
const struct header_field *message_header(const struct message *m, const char *name, size_t n);
void message_free(struct message **m);

#endif
