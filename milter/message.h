/*
 * message.h - what the milter knows about one SMTP connection and the
 * message in it: the client, the envelope, every header field as received,
 * and the checks' state while the message streams by.
 *
 * Owned by the event loop of its connection (and, while a check runs, by
 * that check's fiber on the same thread), so nothing here is locked.
 */
#ifndef LIMRISTEM_MILTER_MESSAGE_H
#define LIMRISTEM_MILTER_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/cidr.h"
#include "mailauth/arc_seal.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_sign.h"
#include "mailauth/dkim_verify.h"
#include "mailauth/from_header.h"
#include "mailauth/spf.h"
#include "milter/dns_glue.h"
#include "milter/greylist_key.h"
#include "milter/header_edit.h"
#include "milter/score.h"
#include "milter/tables.h"

#define MESSAGE_HEADERS_MAX 1000	/* beyond this the message is refused */
#define MESSAGE_RCPTS_MAX 1000		/* outbound recipients kept for trusted replies */

struct header_field {
	char *name;
	char *value;		/* as received: leading space and folds kept */
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
	bool too_many_headers;		/* some were not recorded: the message is refused */
	bool edits_planned;
	struct header_plan edits;	/* fields to delete (header_edit.h), per headers[] */

	struct dns_budget budget;	/* the DKIM, ARC and DMARC lookups' */
	struct arc_verify *arc;
	bool arc_wants_body;
	struct dkim_verify *dkim;
	bool dkim_wants_body;

	struct milter_tables *tables;	/* referenced from MAIL FROM to the end */
	bool forwarded;			/* a recipient is forwarded outside */
	struct dkim_sign *signer;	/* outbound mail being signed */
	struct arc_seal *sealer;	/* forwarded inbound mail being sealed */

	/* inbound: SPF (at the first recipient when greylisting needs it) */
	bool spf_done;
	struct spf_result spf_helo, spf_mailfrom;

	/* inbound: greylisting and reputation (greylist.c, judge.c) */
	bool prepared;			/* judge_prepare() ran */
	bool state_down;		/* the store did not answer */
	enum rep_override override;	/* the operator's, on IP, network or SPF domain */
	size_t entity_count;		/* ip, network, spf_domain (when SPF passes) */
	struct score_entity entities[3];
	char entity_names[3][ADDR_DOMAIN_MAX + 1];
	double prescore;		/* before the message: reputation and SPF */
	char origin[GREYLIST_ORIGIN_MAX];	/* greylisting's "net:..." or "spf:..." */
	char sender_key[ADDR_MAX + 1];	/* normalized envelope sender */
	char first_rcpt[ADDR_MAX + 1];
	unsigned delayed_rcpts;		/* recipients that passed by retrying */
	bool reply_pair;		/* a recipient wrote to the sender before */
	bool reply_spf;			/* ... and SPF validated the sender's domain */
	char **pending;			/* triplets of such recipients, to greylist at
					 * the end unless DKIM validates the sender */
	size_t pending_count, pending_cap;

	/* outbound: recipients, for trusted replies */
	char **rcpts;
	size_t rcpt_count, rcpt_cap;
};

struct message *message_new(void);
/* Keeps a copy of the field (up to MESSAGE_HEADERS_MAX, then only notes
 * too_many_headers). */
void message_add_header(struct message *m, const char *name, const char *value);
/* Plans which recorded fields go (header_edit_plan() against our_id),
 * once; the plan is m->edits. */
void message_plan_edits(struct message *m, const char *our_id);
/* Whether headers[i] is to be deleted (false before the plan). */
bool message_header_deleted(const struct message *m, size_t i);
/* The fields named name (case-insensitive), in order: count and the
 * n-th (0-based). */
size_t message_header_count(const struct message *m, const char *name);
const struct header_field *message_header(const struct message *m, const char *name, size_t n);
/* Appends a copy of s to a list of strings (pending, rcpts). */
void message_list_add(char ***list, size_t *count, size_t *cap, const char *s);
void message_free(struct message **m);

#endif
