/*
 * milter_fixture.h - a real struct milter_context for unit tests of the
 * milter's decision code (milter/inbound.c, verify.c, judge.c, greylist.c,
 * outbound.c, forward.c, trusted.c, finish.c), with nothing running.
 *
 * The context is built the way milter/main.c builds it, from a
 * configuration text read by the daemons' loader (so every default is the
 * real one): a resolver that answers from local data only (the root is a
 * local static zone, so what a test did not publish does not exist, and
 * names under FIXTURE_TEMPFAIL_ZONE fail as when no server answers), the
 * DKIM, SPF and DMARC checkers over it, the in-memory store, the tables
 * from the configuration (signing_keys, forwarded_recipients,
 * greylist_exempt_*), the ARC seal key and the trace keys. Keys are made
 * in a temporary directory and published in the local DNS. The resolver
 * and the keys are made once per process (a resolver's first question
 * costs tens of milliseconds): the records a test file's fixtures publish
 * accumulate, so they must agree (the same key name is the same key).
 *
 * A transaction is fed to the decision code the way milter/filter.c feeds
 * it: MAIL, each RCPT, each header field as received (value with its
 * leading space), the end of the header block, the body in chunks, the end
 * of the message. Outside a fiber every DNS question is answered by the
 * blocking resolver (milter/wait.h), so each step has run to its end when
 * the call returns. The answer is then applied as the MTA applies it
 * (deletions by name and index, insertions on top): the header block the
 * next hop sees, which mailauth's verifiers can check.
 *
 * Failures end the test (cmocka's fail_msg); the wall clock is moved with
 * clock_set_wall_offset(), which fixture_free() sets back to 0.
 */
#ifndef LIMRISTEM_TESTS_MILTER_FIXTURE_H
#define LIMRISTEM_TESTS_MILTER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/metrics.h"
#include "mailauth/arc_verify.h"
#include "mailauth/dkim_verify.h"
#include "milter/finish.h"
#include "milter/inbound.h"
#include "milter/message.h"
#include "milter/milter.h"
#include "milter/verify.h"

/* Names under this zone answer a temporary failure. */
#define FIXTURE_TEMPFAIL_ZONE "tempfail.example"
/* The queue id of every message (Postfix's {i}). */
#define FIXTURE_QUEUE_ID "4FIXTURE"
/* The learning secret the fixture writes unless the configuration names
 * a learning section of its own: the first trace key. */
#define FIXTURE_TRACE_SECRET "fixture-trace-secret-0123456789"
/* The in-memory store holds at most this many keys (memory_state_max, at
 * most): it allocates its table for them up front, and the default of a
 * million costs a test more than everything else. */
#define FIXTURE_STATE_MAX 10000
/* Test keys are small, to be made fast; min_rsa_bits allows them. */
#define FIXTURE_RSA_BITS 1024

enum fixture_key_type { FIXTURE_RSA, FIXTURE_ED25519 };

struct fixture {
	char dir[64];			/* temporary, removed by fixture_free() */
	struct dns *dns;		/* local data only; the process's, shared */
	struct metrics *metrics;
	struct milter_settings settings;
	struct milter_context mc;	/* after fixture_start() */
	struct dns_budget lookups;	/* the verifiers' of fixture_dkim_verify() ... */
	bool started;
};

/* Where a transaction ended. */
enum fixture_stage { FIXTURE_AT_MAIL, FIXTURE_AT_RCPT, FIXTURE_AT_END };

/* A header field of the delivered message. */
struct fixture_field {
	char *name;
	char *value;			/* leading space included */
};

struct fixture_envelope {
	const char *mail_from;		/* bare; "" for the null sender */
	const char *auth;		/* {auth_authen}, NULL when not authenticated */
	const char *rcpts[8];		/* bare, up to the first NULL */
};

struct fixture_result {
	enum fixture_stage stage;
	/* The last refusal at MAIL or RCPT, or the answer at the end ("250"
	 * when accepted or quarantined). */
	char code[4], dsn[8], text[256];
	size_t rcpts_accepted;
	struct message *m;		/* the message (FIXTURE_AT_RCPT and _END) */
	struct verify_outcome o;	/* FIXTURE_AT_END */
	struct answer answer;		/* FIXTURE_AT_END */
	struct fixture_field *fields;	/* the header block delivered (FIXTURE_AT_END) */
	size_t field_count;
	char *body;			/* the body as sent */
};

/* A temporary directory and a resolver with nothing but local zones. */
struct fixture *fixture_new(void);
/* One record in zone-file form, any time ("example.org. TXT \"v=spf1 -all\"");
 * a TXT string over 255 characters is split. */
void fixture_dns(struct fixture *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* DIR/name, for configuration texts and chmod(). */
const char *fixture_path(struct fixture *fx, const char *name);
void fixture_file(struct fixture *fx, const char *name, const char *text, mode_t mode);
/* Makes a key in DIR/name (mode 0600) and, when domain is not NULL,
 * publishes it at selector._domainkey.domain. */
void fixture_key(struct fixture *fx, const char *name, enum fixture_key_type type,
		 const char *selector, const char *domain);
/* Loads config (every "@DIR@" replaced by the directory) with the daemons'
 * loader and builds the context as main.c does. milter.authserv_id must be
 * set (main.c falls back to the host name). */
void fixture_start(struct fixture *fx, const char *config);
void fixture_free(struct fixture **fx);

/* A counter's value, by its name and labels as rendered
 * ("milter_greylist_total{result=\"deferred\"}"); 0 when absent. */
uint64_t fixture_metric(const struct fixture *fx, const char *series);

/* --- transactions, as filter.c drives the decision code ----------------------------- */

/* CONNECT and HELO: ip NULL for a client without an address. */
void fixture_connect(const struct fixture *fx, struct connection *c, const char *ip,
		     const char *helo);
/* MAIL FROM: the message, or NULL when refused (reply filled). */
struct message *fixture_mail(struct fixture *fx, struct connection *c, const char *mail_from,
			     const char *auth, struct inbound_reply *reply);
/* RCPT TO: 1 accepted, 0 deferred, -1 refused (reply filled for both). */
int fixture_rcpt(struct fixture *fx, struct connection *c, struct message *m, const char *rcpt,
		 struct inbound_reply *reply);
/* The header fields and body of text (CRLF or LF lines), as DATA feeds
 * them; returns a copy of the body. */
char *fixture_data(struct fixture *fx, struct message *m, const char *text);
/* The end of the message: the decision and the answer. */
void fixture_end(struct fixture *fx, struct connection *c, struct message *m,
		 struct verify_outcome *o, struct answer *a);

/* The whole transaction: stops where the MTA would (a refused MAIL, no
 * recipient accepted), else delivers text and applies the answer. */
void fixture_send(struct fixture *fx, struct connection *c, const struct fixture_envelope *env,
		  const char *text, struct fixture_result *r);
void fixture_result_release(struct fixture_result *r);

/* The n-th (0-based) delivered field named name, or NULL; how many. */
const char *fixture_field(const struct fixture_result *r, const char *name, size_t n);
size_t fixture_field_count(const struct fixture_result *r, const char *name);

/* --- mailauth's own checks of what we made ------------------------------------------ */

/* text with a DKIM-Signature of d=domain s=selector made with the key in
 * DIR/key (mailauth's signer) on top; free it. */
char *fixture_dkim_sign(struct fixture *fx, const char *text, const char *domain,
			const char *selector, const char *key);
/* text with the next ARC set on top, as an upstream forwarder with
 * authserv-id mx.domain seals it (mailauth's sealer, cv= from mailauth's
 * verifier), d=domain s=selector and the key in DIR/key; free it. */
char *fixture_arc_seal(struct fixture *fx, const char *text, const char *domain,
		       const char *selector, const char *key);
/* The delivered message through mailauth's DKIM and ARC verifiers, keys
 * from the local DNS; free the verifier. */
struct dkim_verify *fixture_dkim_verify(struct fixture *fx, const struct fixture_result *r);
struct arc_verify *fixture_arc_verify(struct fixture *fx, const struct fixture_result *r);

#endif
