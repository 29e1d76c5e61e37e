/*
 * spf_dns.c - libspf2's DNS layer for one evaluation (see spf_dns.h).
 *
 * libspf2 reads answers as SPF_dns_rr_t: a herrno (NETDB_SUCCESS,
 * HOST_NOT_FOUND, NO_DATA, TRY_AGAIN) and records as C strings or
 * addresses. TRY_AGAIN ends the evaluation in temperror wherever libspf2
 * looks at it (explanations and %{p} ignore it); HOST_NOT_FOUND and
 * NO_DATA are "no match".
 */
#include "autoconfig.h"

#include "mailauth/spf_dns.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/spf_record.h"
#include "mailauth/spf_syntax.h"

/* Tags in front of names (see spf_dns.h); all SPF_TAG_LEN long, and
 * those of a/0 and mx/0 terms come from spf_syntax.h. */
#define TAG_START '\001'
#define TAG_MX_HOST "\001m."
#define TAG_MX_HOST_ANY "\001M."	/* of an mx term with /0 for the client's family */
#define TAG_PTR_NAME "\001p."
#define TAG_LEN SPF_TAG_LEN

#define SPF_NAME_MAX 253

/* --- the budget ------------------------------------------------------------ */

static void stop(struct spf_eval *ev, enum spf_eval_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void stop(struct spf_eval *ev, enum spf_eval_stop why, const char *fmt, ...)
{
	va_list ap;

	if (ev->stop != SPF_EVAL_RUNNING)
		return;
	ev->stop = why;
	va_start(ap, fmt);
	log_format_line(ev->stop_why, sizeof(ev->stop_why), fmt, ap);
	va_end(ap);
}

/* A term that queries DNS begins; false when it is one too many. */
static bool term_begins(struct spf_eval *ev, const char *name)
{
	if (ev->stop != SPF_EVAL_RUNNING)
		return false;
	if (++ev->terms > SPF_DNS_TERMS_MAX) {
		stop(ev, SPF_EVAL_OVER_LIMIT, "more than %d DNS-querying terms (at %s)",
		     SPF_DNS_TERMS_MAX, name);
		return false;
	}
	return true;
}

/* The term's lookup found nothing; false when that is one too many. */
static bool void_lookup(struct spf_eval *ev, const char *name)
{
	if (++ev->voids > SPF_VOID_LOOKUPS_MAX) {
		stop(ev, SPF_EVAL_OVER_LIMIT, "more than %d void lookups (at %s)",
		     SPF_VOID_LOOKUPS_MAX, name);
		return false;
	}
	return true;
}

static bool is_void(const struct dns_answer *a)
{
	return a->status == DNS_NXDOMAIN || a->status == DNS_NODATA || a->status == DNS_PERMFAIL;
}

static struct dns_answer *answer_of(enum dns_status status, const char *why)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->status = status;
	a->why = why;
	return a;
}

/* RFC 7208 7.3: a name from macro expansion over 253 characters loses
 * labels on the left until it fits (libspf2 does not do it). */
static const char *truncated_name(const char *name)
{
	const char *dot;

	while (strlen(name) > SPF_NAME_MAX && (dot = strchr(name, '.')) != NULL)
		name = dot + 1;
	return name;
}

/* Asks, unless the evaluation has stopped or is out of time. */
static struct dns_answer *ask(struct spf_eval *ev, const char *name, enum dns_type type)
{
	if (ev->stop == SPF_EVAL_RUNNING && clock_monotonic_ms() > ev->deadline_ms)
		stop(ev, SPF_EVAL_OUT_OF_TIME, "evaluation took longer than its time limit");
	if (ev->stop != SPF_EVAL_RUNNING)
		return answer_of(DNS_TEMPFAIL, "evaluation stopped");
	return ev->lookup(ev->lookup_ctx, truncated_name(name), type);
}

/* --- answers for libspf2 ------------------------------------------------- */

static void *check_alloc(void *p)
{
	if (p == NULL)
		log_fatal("spf: out of memory");
	return p;
}

static int herrno_of(const struct dns_answer *a)
{
	switch (a->status) {
	case DNS_OK:
		return NETDB_SUCCESS;
	case DNS_NODATA:
		return NO_DATA;
	case DNS_TEMPFAIL:
		return TRY_AGAIN;
	case DNS_NXDOMAIN:
	case DNS_PERMFAIL:	/* a name that cannot be asked cannot exist */
	default:
		return HOST_NOT_FOUND;
	}
}

static SPF_dns_rr_t *rr_failed(SPF_dns_server_t *layer, const char *name, ns_type type,
			       int herrno)
{
	return check_alloc(SPF_dns_rr_new_init(layer, name, type, 0, herrno));
}

static void rr_put(SPF_dns_rr_t *rr, int i, const void *data, size_t len)
{
	if (SPF_dns_rr_buf_realloc(rr, i, len) != SPF_E_SUCCESS)
		log_fatal("spf: out of memory");
	memcpy(rr->rr[i], data, len);
}

/* The first max records of a (DNS_OK) as libspf2 wants them; names get
 * the tag in front. */
static SPF_dns_rr_t *rr_from_answer(SPF_dns_server_t *layer, const char *name, ns_type type,
				    const struct dns_answer *a, const char *tag, size_t max)
{
	SPF_dns_rr_t *rr = check_alloc(SPF_dns_rr_new_init(layer, name, type, (int)a->ttl,
							   herrno_of(a)));
	size_t n = a->count < max ? a->count : max;

	for (size_t i = 0; i < n; i++) {
		const struct dns_record *rec = &a->records[i];
		if (type == ns_t_a || type == ns_t_aaaa) {
			rr_put(rr, (int)i, rec->data, rec->len);
		} else if (tag != NULL) {
			char *tagged = xmalloc(TAG_LEN + rec->len + 1);
			memcpy(tagged, tag, TAG_LEN);
			memcpy(tagged + TAG_LEN, rec->data, rec->len + 1);
			rr_put(rr, (int)i, tagged, TAG_LEN + rec->len + 1);
			free(tagged);
		} else {
			rr_put(rr, (int)i, rec->data, rec->len + 1);
		}
	}
	rr->num_rr = (int)n;
	return rr;
}

/* Hands answer a (consumed) to libspf2. */
static SPF_dns_rr_t *rr_give(SPF_dns_server_t *layer, const char *name, ns_type type,
			     struct dns_answer *a, const char *tag, size_t max)
{
	SPF_dns_rr_t *rr = a->status == DNS_OK
		? rr_from_answer(layer, name, type, a, tag, max)
		: rr_failed(layer, name, type, herrno_of(a));

	dns_answer_free(&a);
	return rr;
}

/* --- the questions --------------------------------------------------------- */

/* Drops the names (MX, PTR) with a control character from a: libspf2
 * copies them into later questions (the hosts of an mx term, %{p}),
 * where one could pass for our tags. The suite's resolver escapes such
 * bytes (\DDD) already; this holds for any lookup function. */
static void drop_unsafe_names(struct dns_answer *a)
{
	size_t kept = 0;

	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++) {
		bool unsafe = false;

		for (size_t k = 0; k < a->records[i].len && !unsafe; k++)
			unsafe = (unsigned char)a->records[i].data[k] < 0x20 ||
				 a->records[i].data[k] == 0x7f;
		if (unsafe)
			dns_record_clear(&a->records[i]);
		else
			a->records[kept++] = a->records[i];
	}
	if (a->status == DNS_OK && kept < a->count) {
		a->count = kept;
		if (kept == 0)
			a->status = DNS_NODATA;
	}
}

static enum dns_type address_type(const struct spf_eval *ev)
{
	return ev->client.family == AF_INET ? DNS_A : DNS_AAAA;
}

static bool answer_has_client(const struct spf_eval *ev, const struct dns_answer *a)
{
	size_t len = ev->client.family == AF_INET ? 4 : 16;

	for (size_t i = 0; a->status == DNS_OK && i < a->count; i++)
		if (a->records[i].len == len && memcmp(a->records[i].data, ev->client.bytes, len) == 0)
			return true;
	return false;
}

/* A /0 term matches any address of the client's family: the answer
 * (consumed) becomes the client's own address when it has any. */
static SPF_dns_rr_t *rr_give_any_is_client(SPF_dns_server_t *layer, const struct spf_eval *ev,
					   const char *name, ns_type type, struct dns_answer *a)
{
	SPF_dns_rr_t *rr;

	if (a->status != DNS_OK || a->count == 0)
		return rr_give(layer, name, type, a, NULL, SIZE_MAX);
	rr = check_alloc(SPF_dns_rr_new_init(layer, name, type, (int)a->ttl, NETDB_SUCCESS));
	rr_put(rr, 0, ev->client.bytes, ev->client.family == AF_INET ? 4 : 16);
	rr->num_rr = 1;
	dns_answer_free(&a);
	return rr;
}

/* Whether a term tagged with kind (spf_syntax.h) has /0 for the client. */
static bool zero_prefix_for_client(const struct spf_eval *ev, char kind)
{
	return kind == SPF_TAG_ZERO_BOTH[1] ||
	       kind == (ev->client.family == AF_INET ? SPF_TAG_ZERO_IP4[1] : SPF_TAG_ZERO_IP6[1]);
}

static void p_names_clear(struct spf_eval *ev)
{
	for (size_t i = 0; i < ev->p_count; i++) {
		free(ev->p_names[i]);
		ev->p_names[i] = NULL;
	}
	ev->p_count = ev->p_next = 0;
}

/* The PTR names for %{p}, which libspf2 validates next, in order, stopping
 * at the first that has the client's address (RFC 7208 5.5). */
static SPF_dns_rr_t *ask_p_macro_ptr(SPF_dns_server_t *layer, struct spf_eval *ev,
				     const char *name)
{
	struct dns_answer *a = ask(ev, name, DNS_PTR);

	drop_unsafe_names(a);
	p_names_clear(ev);
	for (size_t i = 0; a->status == DNS_OK && i < a->count && i < SPF_PTR_NAMES_MAX; i++)
		ev->p_names[ev->p_count++] = xstrdup(a->records[i].data);
	return rr_give(layer, name, ns_t_ptr, a, NULL, SPF_PTR_NAMES_MAX);
}

static bool is_p_macro_validation(const struct spf_eval *ev, const char *name, enum dns_type type)
{
	return ev->p_next < ev->p_count && type == address_type(ev) &&
	       strcmp(name, ev->p_names[ev->p_next]) == 0;
}

static SPF_dns_rr_t *ask_p_macro_address(SPF_dns_server_t *layer, struct spf_eval *ev,
					 const char *name, ns_type type)
{
	struct dns_answer *a = ask(ev, name, (enum dns_type)type);

	ev->p_next++;
	if (answer_has_client(ev, a) || ev->p_next == ev->p_count)
		p_names_clear(ev);
	return rr_give(layer, name, type, a, NULL, SIZE_MAX);
}

/* An address lookup of a name from an MX or ptr-mechanism answer. */
static SPF_dns_rr_t *ask_tagged(SPF_dns_server_t *layer, struct spf_eval *ev,
				const char *tagged, ns_type type)
{
	const char *name = tagged + TAG_LEN;
	struct dns_answer *a = ask(ev, name, (enum dns_type)type);

	/* RFC 7208 5.5: a DNS error validating a ptr name skips the name. */
	if (strncmp(tagged, TAG_PTR_NAME, TAG_LEN) == 0 && a->status == DNS_TEMPFAIL &&
	    ev->stop == SPF_EVAL_RUNNING)
		a->status = DNS_NXDOMAIN;
	if (strncmp(tagged, TAG_MX_HOST_ANY, TAG_LEN) == 0)
		return rr_give_any_is_client(layer, ev, name, type, a);
	return rr_give(layer, name, type, a, NULL, SIZE_MAX);
}

/* The lookup of an a, mx, ptr or exists term; a and mx names may carry
 * the tag of a /0 length. */
static SPF_dns_rr_t *ask_term(SPF_dns_server_t *layer, struct spf_eval *ev, const char *name,
			      ns_type type)
{
	struct dns_answer *a;
	bool zero = false;

	if (name[0] == TAG_START && name[1] != '\0') {
		zero = zero_prefix_for_client(ev, name[1]);
		name += TAG_LEN;
	}

	if (!term_begins(ev, name))
		return rr_failed(layer, name, type, TRY_AGAIN);
	a = ask(ev, name, (enum dns_type)type);
	if (is_void(a) && !void_lookup(ev, name)) {
		dns_answer_free(&a);
		return rr_failed(layer, name, type, TRY_AGAIN);
	}
	if (type == ns_t_mx && a->status == DNS_OK && a->count > SPF_MX_NAMES_MAX) {
		stop(ev, SPF_EVAL_OVER_LIMIT, "more than %d MX names for %s", SPF_MX_NAMES_MAX, name);
		dns_answer_free(&a);
		return rr_failed(layer, name, type, TRY_AGAIN);
	}
	if (type == ns_t_mx || type == ns_t_ptr)
		drop_unsafe_names(a);
	if (type == ns_t_mx)
		return rr_give(layer, name, type, a, zero ? TAG_MX_HOST_ANY : TAG_MX_HOST,
			       SPF_MX_NAMES_MAX);
	if (zero && (type == ns_t_a || type == ns_t_aaaa))
		return rr_give_any_is_client(layer, ev, name, type, a);
	if (type == ns_t_ptr)
		return rr_give(layer, name, type, a, TAG_PTR_NAME, SPF_PTR_NAMES_MAX);
	return rr_give(layer, name, type, a, NULL, SIZE_MAX);
}

/* The exp= text: used only when exactly one TXT string answers and it is
 * a valid, printable explanation string (RFC 7208 6.2); anything else
 * gives the default explanation. Not a term, not counted. */
static SPF_dns_rr_t *ask_explanation(SPF_dns_server_t *layer, struct spf_eval *ev,
				     const char *name)
{
	struct dns_answer *a = ask(ev, name, DNS_TXT);
	struct strbuf text = STRBUF_INIT;
	const char *why;
	SPF_dns_rr_t *rr;

	if (a->status != DNS_OK)
		return rr_give(layer, name, ns_t_txt, a, NULL, 0);
	if (a->count != 1 || !spf_text_is_printable(a->records[0].data, a->records[0].len) ||
	    spf_syntax_explanation(a->records[0].data, &text, &why) < 0) {
		dns_answer_free(&a);
		return rr_failed(layer, name, ns_t_txt, NO_DATA);
	}
	rr = check_alloc(SPF_dns_rr_new_init(layer, name, ns_t_txt, (int)a->ttl, NETDB_SUCCESS));
	rr_put(rr, 0, strbuf_str(&text), text.len + 1);
	rr->num_rr = 1;
	strbuf_release(&text);
	dns_answer_free(&a);
	return rr;
}

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *layer, const char *name, ns_type type,
				  int should_cache)
{
	struct spf_eval *ev = layer->hook;

	switch ((int)type) {
	case ns_t_a:
	case ns_t_aaaa:
		if (name[0] == TAG_START && (name[1] == TAG_MX_HOST[1] ||
					     name[1] == TAG_MX_HOST_ANY[1] || name[1] == TAG_PTR_NAME[1]))
			return ask_tagged(layer, ev, name, type);
		if (!should_cache && is_p_macro_validation(ev, name, (enum dns_type)type))
			return ask_p_macro_address(layer, ev, name, type);
		return ask_term(layer, ev, name, type);		/* a or exists */
	case ns_t_mx:
		return ask_term(layer, ev, name, type);
	case ns_t_ptr:
		if (!should_cache)
			return ask_p_macro_ptr(layer, ev, name);
		return ask_term(layer, ev, name, type);
	case ns_t_txt:
		/* SPF records come through layer_get_spf(): this is exp=. */
		return ask_explanation(layer, ev, name);
	default:
		/* Type SPF (99) is no more (RFC 7208 3.1); nothing else is asked. */
		return rr_failed(layer, name, type, NO_DATA);
	}
}

/* --- the SPF record -------------------------------------------------------- */

static SPF_errcode_t record_failed(SPF_response_t *response, SPF_result_t result,
				   SPF_errcode_t code, const char *why, const char *domain)
{
	response->result = result;
	response->reason = SPF_REASON_FAILURE;
	return SPF_response_add_error(response, code, "%s: %s", domain, why);
}

static SPF_errcode_t compile_record(SPF_server_t *server, SPF_response_t *response,
				    const struct dns_answer *txt, const char *domain,
				    SPF_record_t **record_r)
{
	struct strbuf text = STRBUF_INIT;
	const char *why = NULL;
	size_t i = 0;
	SPF_errcode_t err;

	switch (spf_record_select(txt->records, txt->count, &i, &why)) {
	case SPF_RECORD_NONE:
		return record_failed(response, SPF_RESULT_NONE, SPF_E_NOT_SPF, "no SPF record", domain);
	case SPF_RECORD_MULTIPLE:
		return record_failed(response, SPF_RESULT_PERMERROR, SPF_E_MULTIPLE_RECORDS, why, domain);
	case SPF_RECORD_INVALID:
		return record_failed(response, SPF_RESULT_PERMERROR, SPF_E_INVALID_CHAR, why, domain);
	case SPF_RECORD_FOUND:
		break;
	}
	if (spf_syntax_record(txt->records[i].data, &text, &why) < 0) {
		strbuf_release(&text);
		return record_failed(response, SPF_RESULT_PERMERROR, SPF_E_SYNTAX, why, domain);
	}
	err = SPF_record_compile(server, response, record_r, strbuf_str(&text));
	strbuf_release(&text);
	if (err != SPF_E_SUCCESS) {
		response->result = SPF_RESULT_PERMERROR;
		response->reason = SPF_REASON_FAILURE;
		/* Never SPF_E_DNS_ERROR: libspf2 makes that a temperror. */
		return err == SPF_E_DNS_ERROR ? SPF_E_SYNTAX : err;
	}
	return SPF_E_SUCCESS;
}

/* libspf2 asks for the record of spf_request->cur_dom: first the
 * evaluated domain, then each include and redirect target (terms). */
static SPF_errcode_t layer_get_spf(SPF_server_t *server, SPF_request_t *request,
				   SPF_response_t *response, SPF_record_t **record_r)
{
	struct spf_eval *ev = server->resolver->hook;
	const char *domain = request->cur_dom;
	bool is_term = ev->records++ > 0;
	struct dns_answer *a;
	SPF_errcode_t err;

	*record_r = NULL;
	if (is_term && !term_begins(ev, domain))
		return record_failed(response, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS, ev->stop_why, domain);
	a = ask(ev, domain, DNS_TXT);
	if (is_term && is_void(a) && !void_lookup(ev, domain)) {
		dns_answer_free(&a);
		return record_failed(response, SPF_RESULT_PERMERROR, SPF_E_BIG_DNS, ev->stop_why, domain);
	}
	if (a->status == DNS_TEMPFAIL)
		err = record_failed(response, SPF_RESULT_TEMPERROR, SPF_E_DNS_ERROR,
				    a->why != NULL ? a->why : "DNS failure", domain);
	else if (a->status != DNS_OK)
		err = record_failed(response, SPF_RESULT_NONE, SPF_E_NOT_SPF,
				    dns_status_name(a->status), domain);
	else
		err = compile_record(server, response, a, domain, record_r);
	dns_answer_free(&a);
	return err;
}

/* --- the layer --------------------------------------------------------------- */

void spf_dns_layer_bind(SPF_dns_server_t *layer, struct spf_eval *eval)
{
	if (layer->hook != NULL)
		p_names_clear(layer->hook);	/* what the last evaluation kept */
	layer->hook = eval;
}

SPF_dns_server_t *spf_dns_layer_new(struct spf_eval *eval)
{
	SPF_dns_server_t *layer = xcalloc(1, sizeof(*layer));

	layer->destroy = NULL;		/* freed by spf_dns_layer_free(), not libspf2 */
	layer->lookup = layer_lookup;
	layer->get_spf = layer_get_spf;
	layer->name = "limristem";
	layer->hook = eval;
	return layer;
}

void spf_dns_layer_free(SPF_dns_server_t **layer)
{
	if (*layer == NULL)
		return;
	if ((*layer)->hook != NULL)
		p_names_clear((*layer)->hook);
	free(*layer);
	*layer = NULL;
}
