/*
 * spf_dns.h - libspf2's DNS layer for one SPF evaluation, and its budget.
 *
 * libspf2 asks its DNS layer (an SPF_dns_server_t) for records; ours
 * answers through an spf_lookup_fn and, since it sees every question,
 * keeps the RFC 7208 4.6.4 budget of the evaluation that libspf2 keeps
 * badly or not at all:
 *   - at most 10 terms that query DNS (a, mx, ptr, exists, include,
 *     redirect) in the whole evaluation; libspf2 restarts its count in
 *     every include;
 *   - at most 2 void lookups (NXDOMAIN or no records) among them, which
 *     libspf2 does not count;
 *   - more than 10 MX names is a permerror before any is looked up;
 *   - PTR names past the 10th are ignored (libspf2 makes a permerror);
 *   - a DNS error while validating a ptr name skips that name (5.5);
 *   - the time limit of the evaluation.
 * When a limit is exceeded the layer records why (spf_eval.stop) and
 * answers every later question with TRY_AGAIN, which makes libspf2 stop
 * at once; the caller then turns its verdict into permerror (or
 * temperror for the time limit).
 *
 * It also picks the SPF record itself (get_spf hook, spf_record.h) and
 * hands libspf2 an explanation only when exactly one printable TXT string
 * answers (6.2).
 *
 * How questions are told apart: libspf2 asks PTR for the ptr mechanism
 * with should_cache set and for the %{p} macro without; the names of MX
 * answers and of ptr-mechanism PTR answers are handed back to libspf2
 * with a prefix ("\001m." / "\001p.") that our lookup recognises and
 * strips, so the address lookups of those names are never mistaken for
 * a or exists terms (the prefix keeps libspf2's suffix match of ptr names
 * intact, and cannot occur in a record, which must be printable).
 * An a or mx term with a /0 length arrives with the tag spf_syntax.c put
 * on its domain; when the /0 is for the client's family, an address
 * answer of that term (or of its MX hosts, tagged "\001M.") that has any
 * address is handed to libspf2 as the client's own address, so its exact
 * comparison matches as /0 would.
 * No name can carry such a tag unless we put it there: records and
 * explanations must be printable (spf_record.c, spf_syntax.c), spf.c
 * refuses a sender local part with a control character and gives %{h}
 * "unknown" for such a HELO name (domains are checked as domains), and
 * MX and PTR names with one are dropped before libspf2 sees them.
 */
#ifndef LIMRISTEM_SPF_DNS_H
#define LIMRISTEM_SPF_DNS_H

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <spf2/spf.h>

#include <stdint.h>

#include "common/cidr.h"
#include "mailauth/spf.h"

#define SPF_DNS_TERMS_MAX 10	/* RFC 7208 4.6.4 */
#define SPF_VOID_LOOKUPS_MAX 2
#define SPF_MX_NAMES_MAX 10
#define SPF_PTR_NAMES_MAX 10

enum spf_eval_stop {
	SPF_EVAL_RUNNING,
	SPF_EVAL_OVER_LIMIT,	/* permerror */
	SPF_EVAL_OUT_OF_TIME,	/* temperror */
};

struct spf_eval {
	spf_lookup_fn *lookup;
	void *lookup_ctx;
	struct ip_addr client;
	int64_t deadline_ms;		/* clock_monotonic_ms() */

	unsigned records;		/* SPF records asked for; the first is not a term */
	unsigned terms;
	unsigned voids;
	enum spf_eval_stop stop;
	char stop_why[160];

	/* The names of the last %{p} PTR answer, while libspf2 validates them. */
	char *p_names[SPF_PTR_NAMES_MAX];
	size_t p_count, p_next;
};

/* eval must outlive the layer. Never NULL (aborts without memory). */
SPF_dns_server_t *spf_dns_layer_new(struct spf_eval *eval);
void spf_dns_layer_free(SPF_dns_server_t **layer);
/* Binds a layer to another evaluation (NULL: none), so that a libspf2
 * server made once serves many. */
void spf_dns_layer_bind(SPF_dns_server_t *layer, struct spf_eval *eval);

#endif
