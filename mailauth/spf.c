/*
 * spf.c - SPF verdicts: the identity to check, one libspf2 evaluation per
 * check over our DNS layer (spf_dns.c), and the verdict it comes to.
 *
 * The identity is checked here first (RFC 7208 4.3): a domain that is not
 * a multi-label host name (an address literal, an empty or overlong label)
 * is "none" without a lookup. libspf2's own entry point is not used, since
 * it passes every loopback client without looking at the record.
 *
 * A libspf2 server and its DNS layer cost about 20 us to make (the
 * default explanation is compiled, the host name asked of the kernel);
 * an evaluation takes a pair from the checker's pool, binds the layer to
 * its own state (struct spf_eval), and gives it back, so a busy MX makes
 * them once. The pool is the checker's only mutable part, under a mutex.
 */
#include "autoconfig.h"

#include "mailauth/spf.h"
#include "mailauth/spf_dns.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"

/* Our explanation when the domain gives none (%_ is a space). */
#define SPF_DEFAULT_EXPLANATION "%{o}%_does%_not%_designate%_%{c}%_as%_a%_permitted%_sender"

#define SPF_POOL_MAX 64	/* idle servers a checker keeps */

/* A libspf2 server over our DNS layer, not bound to an evaluation. */
struct spf_engine {
	SPF_dns_server_t *layer;
	SPF_server_t *server;
	struct spf_engine *next;
};

struct spf_checker {
	spf_lookup_fn *lookup;
	void *lookup_ctx;
	char *receiving_host;
	long long time_limit_ms;
	pthread_mutex_t pool_lock;
	struct spf_engine *pool;	/* idle */
	size_t pooled;
};

/* --- libspf2's log hooks ---------------------------------------------------- */

static void __attribute__((noreturn)) libspf2_error(const char *file, int line, const char *msg)
{
	log_error("spf: libspf2 %s:%d: %s", file != NULL ? file : "?", line, msg);
	abort();
}

static void libspf2_warning(const char *file, int line, const char *msg)
{
	log_warning("spf: libspf2 %s:%d: %s", file != NULL ? file : "?", line, msg);
}

static void libspf2_debug(const char *file, int line, const char *msg)
{
	log_debug("spf: libspf2 %s:%d: %s", file != NULL ? file : "?", line, msg);
}

static void set_log_hooks(void)
{
	SPF_error_handler = libspf2_error;
	SPF_warning_handler = libspf2_warning;
	SPF_info_handler = libspf2_debug;
	SPF_debug_handler = libspf2_debug;
}

/* --- the checker ------------------------------------------------------------ */

struct dns_answer *spf_lookup_dns(void *dns, const char *name, enum dns_type type)
{
	return dns_lookup(dns, name, type);
}

struct spf_checker *spf_checker_new(spf_lookup_fn *lookup, void *lookup_ctx,
				    const char *receiving_host, char *err, size_t errlen)
{
	static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
	struct spf_checker *c;
	const char *why;

	if (lookup == NULL) {
		snprintf(err, errlen, "spf: no lookup function");
		return NULL;
	}
	if (receiving_host == NULL ||
	    domain_check(receiving_host, strlen(receiving_host), ADDR_ALLOW_UNDERSCORE, &why) < 0) {
		snprintf(err, errlen, "spf: receiving host \"%s\": %s",
			 receiving_host != NULL ? receiving_host : "", receiving_host != NULL ? why : "missing");
		return NULL;
	}
	pthread_once(&hooks_once, set_log_hooks);
	c = xcalloc(1, sizeof(*c));
	c->lookup = lookup;
	c->lookup_ctx = lookup_ctx;
	c->receiving_host = xstrdup(receiving_host);
	c->time_limit_ms = SPF_TIME_LIMIT_MS;
	pthread_mutex_init(&c->pool_lock, NULL);
	return c;
}

static void engine_free(struct spf_engine *e)
{
	SPF_server_free(e->server);
	spf_dns_layer_free(&e->layer);
	free(e);
}

void spf_checker_free(struct spf_checker **checker)
{
	if (*checker == NULL)
		return;
	while ((*checker)->pool != NULL) {
		struct spf_engine *e = (*checker)->pool;

		(*checker)->pool = e->next;
		engine_free(e);
	}
	pthread_mutex_destroy(&(*checker)->pool_lock);
	free((*checker)->receiving_host);
	free(*checker);
	*checker = NULL;
}

void spf_checker_set_time_limit(struct spf_checker *checker, long long ms)
{
	checker->time_limit_ms = ms;
}

const char *spf_verdict_name(enum spf_verdict verdict)
{
	static const char *const names[] = {
		[SPF_NONE] = "none", [SPF_NEUTRAL] = "neutral", [SPF_PASS] = "pass",
		[SPF_FAIL] = "fail", [SPF_SOFTFAIL] = "softfail",
		[SPF_TEMPERROR] = "temperror", [SPF_PERMERROR] = "permerror",
	};
	return (unsigned)verdict < sizeof(names) / sizeof(names[0]) ? names[verdict] : "?";
}

/* --- results ---------------------------------------------------------------- */

/* Formats into a result field; a text too long ends in "...", control
 * characters become '?' (these texts reach logs and SMTP replies). */
static void set_text(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_text(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_format_line(buf, size, fmt, ap);
	va_end(ap);
}

static void result_start(struct spf_result *r, enum spf_identity identity)
{
	memset(r, 0, sizeof(*r));
	r->verdict = SPF_NONE;
	r->identity = identity;
}

static enum spf_verdict verdict_of(SPF_result_t result)
{
	switch (result) {
	case SPF_RESULT_NEUTRAL:	return SPF_NEUTRAL;
	case SPF_RESULT_PASS:		return SPF_PASS;
	case SPF_RESULT_FAIL:		return SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPF_SOFTFAIL;
	case SPF_RESULT_NONE:		return SPF_NONE;
	case SPF_RESULT_PERMERROR:	return SPF_PERMERROR;
	case SPF_RESULT_TEMPERROR:
	case SPF_RESULT_INVALID:	/* never given for a finished evaluation */
	default:			return SPF_TEMPERROR;
	}
}

/* The first error libspf2 recorded, else its text for the error code. */
static const char *libspf2_problem(SPF_response_t *response)
{
	for (int i = 0; i < SPF_response_messages(response); i++) {
		SPF_error_t *e = SPF_response_message(response, i);
		if (SPF_error_errorp(e))
			return SPF_error_message(e);
	}
	return SPF_strerror(SPF_response_errcode(response));
}

static void result_finish(struct spf_result *r, SPF_response_t *response,
			  const struct spf_eval *ev)
{
	const char *exp;

	r->verdict = verdict_of(SPF_response_result(response));
	if (ev->stop == SPF_EVAL_OVER_LIMIT)
		r->verdict = SPF_PERMERROR;
	else if (ev->stop == SPF_EVAL_OUT_OF_TIME)
		r->verdict = SPF_TEMPERROR;
	if (ev->stop != SPF_EVAL_RUNNING)
		set_text(r->problem, sizeof(r->problem), "%s", ev->stop_why);
	else if (r->verdict == SPF_NONE || r->verdict == SPF_TEMPERROR || r->verdict == SPF_PERMERROR)
		set_text(r->problem, sizeof(r->problem), "%s", libspf2_problem(response));
	exp = SPF_response_get_explanation(response);
	if (r->verdict == SPF_FAIL && exp != NULL)
		set_text(r->explanation, sizeof(r->explanation), "%s", exp);
}

/* --- one evaluation ------------------------------------------------------- */

static SPF_server_t *server_new(const struct spf_checker *c, SPF_dns_server_t *layer)
{
	SPF_server_t *server = SPF_server_new_dns(layer, 0);
	SPF_response_t *compile_errors = NULL;

	if (server == NULL ||
	    SPF_server_set_rec_dom(server, c->receiving_host) != SPF_E_SUCCESS ||
	    SPF_server_set_explanation(server, SPF_DEFAULT_EXPLANATION, &compile_errors) != SPF_E_SUCCESS)
		log_fatal("spf: cannot set up libspf2");
	SPF_response_free(compile_errors);
	SPF_server_set_max_dns_mech(server, SPF_DNS_TERMS_MAX);
	SPF_server_set_max_dns_mx(server, SPF_MX_NAMES_MAX);
	SPF_server_set_max_dns_ptr(server, SPF_PTR_NAMES_MAX);
	return server;
}

static SPF_request_t *request_new(SPF_server_t *server, const struct ip_addr *client,
				  const char *helo, const char *sender)
{
	SPF_request_t *request = SPF_request_new(server);
	SPF_errcode_t err;

	if (request == NULL)
		log_fatal("spf: out of memory");
	if (client->family == AF_INET) {
		struct in_addr v4;
		memcpy(&v4, client->bytes, 4);
		err = SPF_request_set_ipv4(request, v4);
	} else {
		struct in6_addr v6;
		memcpy(&v6, client->bytes, 16);
		err = SPF_request_set_ipv6(request, v6);
	}
	if (err != SPF_E_SUCCESS || SPF_request_set_helo_dom(request, helo) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(request, sender) != 0)
		log_fatal("spf: out of memory");
	return request;
}

/* check_host() for the sender's domain, as SPF_request_query_mailfrom()
 * does it, without its free pass for loopback clients. */
static SPF_response_t *run(SPF_server_t *server, SPF_request_t *request)
{
	SPF_response_t *response = SPF_response_new(request);
	SPF_record_t *record = NULL;
	SPF_errcode_t err;

	if (response == NULL)
		log_fatal("spf: out of memory");
	request->cur_dom = request->env_from_dp;
	err = SPF_server_get_record(server, request, response, &record);
	if (err != SPF_E_SUCCESS) {
		if (record != NULL)
			SPF_record_free(record);
		SPF_i_done(response, response->result, response->reason, err);
		return response;
	}
	response->spf_record_exp = record;
	SPF_record_interpret(record, request, response, 0);
	response->spf_record_exp = NULL;
	SPF_record_free(record);
	return response;
}

/* A server from the pool (or a new one), its layer bound to ev. */
static struct spf_engine *engine_take(struct spf_checker *c, struct spf_eval *ev)
{
	struct spf_engine *e;

	pthread_mutex_lock(&c->pool_lock);
	if ((e = c->pool) != NULL) {
		c->pool = e->next;
		c->pooled--;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->layer = spf_dns_layer_new(ev);
		e->server = server_new(c, e->layer);
	}
	spf_dns_layer_bind(e->layer, ev);
	return e;
}

static void engine_give_back(struct spf_checker *c, struct spf_engine *e)
{
	spf_dns_layer_bind(e->layer, NULL);
	pthread_mutex_lock(&c->pool_lock);
	if (c->pooled < SPF_POOL_MAX) {
		e->next = c->pool;
		c->pool = e;
		c->pooled++;
		e = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (e != NULL)
		engine_free(e);
}

static void evaluate(const struct spf_checker *checker, const struct ip_addr *client,
		     const char *helo, struct spf_result *r)
{
	/* the pool is the one part a check changes (under its lock) */
	struct spf_checker *c = (struct spf_checker *)(uintptr_t)checker;
	struct spf_eval ev = {
		.lookup = c->lookup, .lookup_ctx = c->lookup_ctx, .client = *client,
		.deadline_ms = clock_monotonic_ms() + c->time_limit_ms,
	};
	struct spf_engine *e = engine_take(c, &ev);
	SPF_request_t *request = request_new(e->server, client, helo, r->sender);
	SPF_response_t *response = run(e->server, request);

	result_finish(r, response, &ev);
	SPF_response_free(response);
	SPF_request_free(request);
	engine_give_back(c, e);
}

/* --- identities ------------------------------------------------------------- */

/* Whether s[0..len) has a control character. None may reach libspf2:
 * it copies what it is given into the names it asks our DNS layer for,
 * whose own tags begin with one (spf_dns.h), and no address or host name
 * may hold one (RFC 5321 4.1.2). */
static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Fills r->domain and r->sender from local@domain; false (with the
 * verdict none and the problem set) when the domain cannot be checked. */
static bool identity_set(struct spf_result *r, const char *local, size_t local_len,
			 const char *domain, size_t domain_len)
{
	const char *why;
	int n;

	if (domain_len > 0 && domain[domain_len - 1] == '.')
		domain_len--;
	set_text(r->domain, sizeof(r->domain), "%.*s", (int)domain_len, domain);
	if (domain_len >= sizeof(r->domain)) {
		set_text(r->problem, sizeof(r->problem), "the domain is too long");
		return false;
	}
	if (domain_check(domain, domain_len, ADDR_ALLOW_UNDERSCORE | ADDR_REQUIRE_DOT, &why) < 0) {
		set_text(r->problem, sizeof(r->problem), "\"%s\" is not a domain to check: %s",
			 r->domain, why);
		return false;
	}
	if (local_len == 0) {
		local = "postmaster";
		local_len = strlen(local);
	}
	if (has_control(local, local_len)) {
		set_text(r->problem, sizeof(r->problem), "the local part has a control character");
		return false;
	}
	n = snprintf(r->sender, sizeof(r->sender), "%.*s@%s", (int)local_len, local, r->domain);
	if (n < 0 || (size_t)n >= sizeof(r->sender)) {
		r->sender[0] = '\0';
		set_text(r->problem, sizeof(r->problem), "the sender address is too long");
		return false;
	}
	return true;
}

static bool client_usable(const struct ip_addr *client, struct ip_addr *client_r,
			  struct spf_result *r)
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	*client_r = *client;
	if (client->family == AF_INET6 && memcmp(client->bytes, v4_mapped, 12) == 0) {
		client_r->family = AF_INET;
		memmove(client_r->bytes, client->bytes + 12, 4);
		memset(client_r->bytes + 4, 0, 12);
	}
	if (client_r->family == AF_INET || client_r->family == AF_INET6)
		return true;
	r->verdict = SPF_TEMPERROR;
	set_text(r->problem, sizeof(r->problem), "the client address has no usable family");
	return false;
}

/* The HELO name for the %{h} macro. */
static const char *helo_or_unknown(const char *helo)
{
	return helo != NULL && helo[0] != '\0' && !has_control(helo, strlen(helo)) ? helo
		: "unknown";
}

int spf_check_helo(const struct spf_checker *checker, const struct ip_addr *client,
		   const char *helo, struct spf_result *result_r)
{
	struct ip_addr ip;

	result_start(result_r, SPF_IDENTITY_HELO);
	if (!client_usable(client, &ip, result_r))
		return -1;
	if (helo == NULL || helo[0] == '\0') {
		set_text(result_r->problem, sizeof(result_r->problem), "no HELO name");
		return 0;
	}
	if (identity_set(result_r, "", 0, helo, strlen(helo)))
		evaluate(checker, &ip, helo, result_r);
	return 0;
}

int spf_check_mailfrom(const struct spf_checker *checker, const struct ip_addr *client,
		       const char *helo, const char *mail_from, struct spf_result *result_r)
{
	size_t len = mail_from != NULL ? strlen(mail_from) : 0;
	size_t at;
	struct ip_addr ip;

	if (len >= 2 && mail_from[0] == '<' && mail_from[len - 1] == '>') {
		mail_from++;
		len -= 2;
	}
	if (len == 0)		/* MAIL FROM:<>: RFC 7208 2.4 */
		return spf_check_helo(checker, client, helo, result_r);
	result_start(result_r, SPF_IDENTITY_MAILFROM);
	if (!client_usable(client, &ip, result_r))
		return -1;
	/* The domain follows the last '@'; a bare domain is taken as
	 * postmaster@domain, as libspf2 and pyspf do. */
	for (at = len; at > 0 && mail_from[at - 1] != '@'; at--)
		;
	if (identity_set(result_r, mail_from, at > 0 ? at - 1 : 0, mail_from + at, len - at))
		evaluate(checker, &ip, helo_or_unknown(helo), result_r);
	return 0;
}
