/*
 * dkim_verify.c - DKIM verification of every signature on libopendkim.
 *
 * libopendkim does the parsing, canonicalization and cryptography (RSA and,
 * since 2.11, Ed25519). What this file adds:
 *   - key records come from the caller's key_lookup through
 *     dkim_set_key_lookup(); libopendkim's resolver is also disarmed with a
 *     query-start hook that fails, so no query can leave by another path;
 *   - a prescreen callback marks rsa-sha1 signatures and those past the
 *     per-message maximum as ignored before any key is fetched;
 *   - libopendkim's own minimum key size is switched off and RSA key
 *     sizes are checked here, so that the result for a short key is
 *     configurable and its reason names the size (2.11 reports no size
 *     for Ed25519 keys; they count as 256 bits);
 *   - the verdict of each signature is mapped to an RFC 8601 result and a
 *     reason, in header order.
 * See dkim_verify.h for the contract and the thread-safety rules.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_verify.h"

#define REASON_MAX 128

struct dkim_verify_lib {
	DKIM_LIB *lib;
};

/* One selector/domain pair looked up for this message. */
struct key_memo {
	char *selector;
	char *domain;
	enum dkim_key_status status;
	char *txt;		/* with DKIM_KEY_OK */
	bool too_long;		/* did not fit libopendkim's buffer */
};

/* Strings behind one struct dkim_verify_sig. */
struct sig_store {
	char *domain;
	char *selector;
	char *algorithm;
	char b[DKIM_VERIFY_B_PREFIX + 1];
	char reason[REASON_MAX];
};

struct dkim_verify {
	DKIM *dkim;
	struct dkim_verify_options opt;
	const char *error;	/* libopendkim failed on the message itself */
	bool eoh_done;
	bool has_sigs;		/* libopendkim found signatures */
	bool need_body;		/* and will evaluate some */
	bool ended;
	struct strbuf field;
	struct key_memo *memos;
	size_t memo_count, memo_cap;
	struct dkim_verify_sig *sigs;
	struct sig_store *stores;
	struct dkim_verify_result result;
};

const char *dkim_result_name(enum dkim_result result)
{
	switch (result) {
	case DKIM_RESULT_NONE: return "none";
	case DKIM_RESULT_PASS: return "pass";
	case DKIM_RESULT_FAIL: return "fail";
	case DKIM_RESULT_NEUTRAL: return "neutral";
	case DKIM_RESULT_POLICY: return "policy";
	case DKIM_RESULT_TEMPERROR: return "temperror";
	case DKIM_RESULT_PERMERROR: return "permerror";
	}
	return "permerror";
}

/* ---- key lookups ---- */

static struct key_memo *memo_find(struct dkim_verify *v, const char *selector, const char *domain)
{
	for (size_t i = 0; i < v->memo_count; i++) {
		struct key_memo *m = &v->memos[i];
		if (strcasecmp(m->selector, selector) == 0 && strcasecmp(m->domain, domain) == 0)
			return m;
	}
	return NULL;
}

static struct key_memo *memo_fetch(struct dkim_verify *v, const char *selector, const char *domain)
{
	struct key_memo *m = memo_find(v, selector, domain);
	if (m != NULL)
		return m;
	v->memos = xgrow(v->memos, &v->memo_cap, v->memo_count + 1, sizeof(*v->memos));
	m = &v->memos[v->memo_count++];
	memset(m, 0, sizeof(*m));
	m->selector = xstrdup(selector);
	m->domain = xstrdup(domain);
	m->status = DKIM_KEY_NOTFOUND;
	if (v->opt.key_lookup != NULL)
		m->status = v->opt.key_lookup(v->opt.key_ctx, selector, domain, &m->txt);
	if (m->status == DKIM_KEY_OK && m->txt == NULL)
		m->status = DKIM_KEY_NOTFOUND;
	return m;
}

static const char *sig_str(unsigned char *s)
{
	return s != NULL ? (const char *)s : "";
}

/* libopendkim's key lookup hook: answers from the caller's key_lookup. */
static DKIM_CBSTAT key_lookup_cb(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkim_verify *v = dkim_get_user_context(dkim);
	const char *selector = sig_str(dkim_sig_getselector(sig));
	const char *domain = sig_str(dkim_sig_getdomain(sig));
	if (v == NULL || *selector == '\0' || *domain == '\0')
		return DKIM_CBSTAT_NOTFOUND;
	struct key_memo *m = memo_fetch(v, selector, domain);
	switch (m->status) {
	case DKIM_KEY_OK:
		break;
	case DKIM_KEY_TEMPFAIL:
		return DKIM_CBSTAT_TRYAGAIN;
	case DKIM_KEY_NOTFOUND:
	default:
		return DKIM_CBSTAT_NOTFOUND;
	}
	size_t len = strlen(m->txt);
	if (buflen == 0 || len >= buflen) {
		m->too_long = true;
		return DKIM_CBSTAT_ERROR;
	}
	memcpy(buf, m->txt, len + 1);
	return DKIM_CBSTAT_CONTINUE;
}

/* libopendkim's DNS query start, replaced so that its resolver can never
 * be used, whatever a signature's q= says. */
static int dns_start_refused(void *srv, int type, unsigned char *query, unsigned char *buf,
			     size_t buflen, void **qh)
{
	return DKIM_DNS_ERROR;
}

/* ---- prescreen: what is not evaluated ---- */

static unsigned max_signatures(const struct dkim_verify *v)
{
	return v->opt.max_signatures != 0 ? v->opt.max_signatures : DKIM_VERIFY_MAX_SIGNATURES_DEFAULT;
}

/* The a= tag as written; dkim_sig_getsignalg() says rsa-sha1 for a
 * signature whose a= could not be parsed. */
static const char *sig_alg_tag(DKIM_SIGINFO *sig)
{
	static u_char tag_a[] = "a";
	return sig_str(dkim_sig_gettagvalue(sig, false, tag_a));
}

static bool sig_is_sha1(DKIM_SIGINFO *sig)
{
	return strcasecmp(sig_alg_tag(sig), "rsa-sha1") == 0;
}

static bool sig_is_ed25519(DKIM_SIGINFO *sig)
{
	return strcasecmp(sig_alg_tag(sig), "ed25519-sha256") == 0;
}

static DKIM_CBSTAT prescreen_cb(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkim_verify *v = dkim_get_user_context(dkim);
	if (v == NULL)
		return DKIM_CBSTAT_CONTINUE;
	for (int i = 0; i < nsigs; i++) {
		if ((unsigned)i >= max_signatures(v) || sig_is_sha1(sigs[i]))
			dkim_sig_ignore(sigs[i]);
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* ---- the library handle ---- */

static int lib_configure(DKIM_LIB *lib)
{
	unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF |
		DKIM_LIBFLAGS_DELAYSIGPROC;	/* keys are fetched at end of message */
	unsigned int minbits = 0;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK)
		return -1;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &minbits, sizeof(minbits)) != DKIM_STAT_OK)
		return -1;
	if (dkim_set_key_lookup(lib, key_lookup_cb) != DKIM_STAT_OK)
		return -1;
	if (dkim_set_prescreen(lib, prescreen_cb) != DKIM_STAT_OK)
		return -1;
	dkim_dns_set_query_start(lib, dns_start_refused);
	return 0;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (errlen > 0 && snprintf(err, errlen, "%s", msg) >= (int)errlen)
		err[errlen - 1] = '\0';	/* cut: still a useful message */
}

struct dkim_verify_lib *dkim_verify_lib_new(char *err, size_t errlen)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	if (lib == NULL) {
		set_err(err, errlen, "libopendkim: dkim_init() failed");
		return NULL;
	}
	if (!dkim_libfeature(lib, DKIM_FEATURE_SHA256) || !dkim_libfeature(lib, DKIM_FEATURE_ED25519)) {
		set_err(err, errlen, "libopendkim: built without SHA-256 or Ed25519 support");
		dkim_close(lib);
		return NULL;
	}
	if (lib_configure(lib) < 0) {
		set_err(err, errlen, "libopendkim: cannot set options and callbacks");
		dkim_close(lib);
		return NULL;
	}
	struct dkim_verify_lib *l = xcalloc(1, sizeof(*l));
	l->lib = lib;
	return l;
}

void dkim_verify_lib_free(struct dkim_verify_lib **lib)
{
	if (*lib == NULL)
		return;
	dkim_close((*lib)->lib);
	free(*lib);
	*lib = NULL;
}

/* ---- feeding the message ---- */

struct dkim_verify *dkim_verify_new(struct dkim_verify_lib *lib,
				    const struct dkim_verify_options *options, const char *id)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));
	DKIM_STAT st = DKIM_STAT_OK;
	if (options != NULL)
		v->opt = *options;
	strbuf_init(&v->field);
	v->dkim = dkim_verify(lib->lib, (const unsigned char *)(id != NULL ? id : "-"), NULL, &st);
	if (v->dkim == NULL || dkim_set_user_context(v->dkim, v) != DKIM_STAT_OK)
		v->error = "libopendkim cannot start a verification";
	return v;
}

/* Appends s with every bare LF (a fold as libmilter may hand it over)
 * written as CRLF, which libopendkim's canonicalization expects. */
static void append_crlf(struct strbuf *sb, const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			strbuf_append_char(sb, '\r');
		strbuf_append_char(sb, *p);
	}
}

void dkim_verify_header(struct dkim_verify *v, const char *name, const char *value)
{
	if (v->dkim == NULL || v->eoh_done || v->error != NULL)
		return;
	strbuf_reset(&v->field);
	strbuf_append_str(&v->field, name);
	strbuf_append_char(&v->field, ':');
	append_crlf(&v->field, value);
	DKIM_STAT st = dkim_header(v->dkim, (u_char *)v->field.data, v->field.len);
	if (st != DKIM_STAT_OK)
		log_debug("dkim: header %s refused by libopendkim: %s", name, dkim_getresultstr(st));
}

/* Signatures libopendkim found, evaluated or not. */
static int sig_count(struct dkim_verify *v)
{
	DKIM_SIGINFO **sigs = NULL;
	int n = 0;
	if (dkim_getsiglist(v->dkim, &sigs, &n) != DKIM_STAT_OK || sigs == NULL)
		return 0;
	return n;
}

bool dkim_verify_eoh(struct dkim_verify *v)
{
	if (v->eoh_done)
		return v->need_body;
	v->eoh_done = true;
	if (v->dkim == NULL || v->error != NULL)
		return false;
	DKIM_STAT st = dkim_eoh(v->dkim);
	/* NOSIG also when the prescreen set every signature aside */
	v->has_sigs = sig_count(v) > 0;
	if (st == DKIM_STAT_OK) {
		v->need_body = v->has_sigs;
	} else if (st != DKIM_STAT_NOSIG) {
		v->error = "libopendkim refused the header block";
		log_debug("dkim: end of header: %s", dkim_getresultstr(st));
	}
	return v->need_body;
}

void dkim_verify_body(struct dkim_verify *v, const void *data, size_t len)
{
	if (!dkim_verify_eoh(v) || len == 0)
		return;
	/* libopendkim does not write to the body; its prototype lacks const. */
	DKIM_STAT st = dkim_body(v->dkim, (u_char *)(uintptr_t)data, len);
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG)
		log_debug("dkim: body: %s", dkim_getresultstr(st));
}

/* ---- verdicts ---- */

static void set_reason(struct sig_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(struct sig_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	if (n < 0)
		s->reason[0] = '\0';
	else if ((size_t)n >= sizeof(s->reason))
		memcpy(s->reason + sizeof(s->reason) - 4, "...", 4);	/* cut, and say so */
}

static enum dkim_result configured(enum dkim_result r, enum dkim_result dflt)
{
	return r == DKIM_RESULT_NONE ? dflt : r;
}

static void sig_describe(DKIM_SIGINFO *sig, struct dkim_verify_sig *out, struct sig_store *s)
{
	static u_char tag_b[] = "b";
	s->domain = xstrdup(sig_str(dkim_sig_getdomain(sig)));
	s->selector = xstrdup(sig_str(dkim_sig_getselector(sig)));
	s->algorithm = xstrdup(sig_alg_tag(sig));
	for (char *p = s->algorithm; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	const char *b = sig_str(dkim_sig_gettagvalue(sig, false, tag_b));
	size_t n = 0;
	for (; *b != '\0' && n < DKIM_VERIFY_B_PREFIX; b++) {
		if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
			s->b[n++] = *b;
	}
	s->b[n] = '\0';
	out->domain = s->domain;
	out->selector = s->selector;
	out->algorithm = s->algorithm;
	out->b = s->b;
	out->reason = s->reason;
	unsigned int bits = 0;
	unsigned int flags = dkim_sig_getflags(sig);
	if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && sig_is_ed25519(sig))
		out->key_bits = (flags & DKIM_SIGFLAG_PASSED) != 0 ? 256 : 0;	/* 2.11 reports none */
	else if ((flags & DKIM_SIGFLAG_PROCESSED) != 0 && dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		out->key_bits = bits;
	out->testing = (flags & DKIM_SIGFLAG_TESTKEY) != 0;
}

/* A signature libopendkim was told to ignore (prescreen). */
static enum dkim_result verdict_ignored(const struct dkim_verify *v, DKIM_SIGINFO *sig, size_t index,
					struct sig_store *s)
{
	if (index >= max_signatures(v)) {
		set_reason(s, "not evaluated: more than %u signatures", max_signatures(v));
		return DKIM_RESULT_POLICY;
	}
	set_reason(s, "rsa-sha1 is not accepted (RFC 8301)");
	return configured(v->opt.sha1_result, DKIM_RESULT_POLICY);
}

/* What the key lookup said when libopendkim did not get to check a
 * signature, or NONE when the lookup is not why. */
static enum dkim_result verdict_lookup(struct dkim_verify *v, struct dkim_verify_sig *out,
				       struct sig_store *s)
{
	struct key_memo *m = memo_find(v, out->selector, out->domain);
	if (m == NULL)
		return DKIM_RESULT_NONE;
	if (m->status == DKIM_KEY_TEMPFAIL) {
		set_reason(s, "key lookup failed temporarily");
		return DKIM_RESULT_TEMPERROR;
	}
	if (m->too_long) {
		set_reason(s, "key record longer than libopendkim accepts");
		return DKIM_RESULT_PERMERROR;
	}
	return DKIM_RESULT_NONE;
}

static enum dkim_result verdict_error(int err, struct sig_store *s)
{
	switch (err) {
	case DKIM_SIGERROR_BADSIG:
		set_reason(s, "signature did not verify");
		return DKIM_RESULT_FAIL;
	case DKIM_SIGERROR_EXPIRED:
		set_reason(s, "signature expired");
		return DKIM_RESULT_FAIL;
	case DKIM_SIGERROR_NOKEY:
		set_reason(s, "no key record");
		return DKIM_RESULT_PERMERROR;
	case DKIM_SIGERROR_KEYREVOKED:
		set_reason(s, "key revoked");
		return DKIM_RESULT_PERMERROR;
	case DKIM_SIGERROR_DNSSYNTAX:
		set_reason(s, "key record syntax error");
		return DKIM_RESULT_PERMERROR;
	case DKIM_SIGERROR_KEYDECODE:
		set_reason(s, "key cannot be decoded");
		return DKIM_RESULT_PERMERROR;
	case DKIM_SIGERROR_KEYFAIL:
		set_reason(s, "key lookup failed");
		return DKIM_RESULT_TEMPERROR;
	default: {
		const char *text = dkim_sig_geterrorstr(err);
		set_reason(s, "%s", text != NULL ? text : "unusable signature");
		return DKIM_RESULT_PERMERROR;
	}
	}
}

static enum dkim_result verdict_pass(const struct dkim_verify *v, DKIM_SIGINFO *sig,
				     const struct dkim_verify_sig *out, struct sig_store *s)
{
	unsigned min = v->opt.min_rsa_bits != 0 ? v->opt.min_rsa_bits : DKIM_RSA_MIN_BITS_DEFAULT;
	if (!sig_is_ed25519(sig) && out->key_bits < min) {
		set_reason(s, "RSA key of %u bits, under %u (RFC 8301)", out->key_bits, min);
		return configured(v->opt.short_key_result, DKIM_RESULT_PERMERROR);
	}
	s->reason[0] = '\0';
	return DKIM_RESULT_PASS;
}

static enum dkim_result sig_verdict(struct dkim_verify *v, DKIM_SIGINFO *sig, size_t index,
				    struct dkim_verify_sig *out, struct sig_store *s)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	if ((flags & DKIM_SIGFLAG_IGNORE) != 0)
		return verdict_ignored(v, sig, index, s);
	enum dkim_result r = verdict_lookup(v, out, s);
	if (r != DKIM_RESULT_NONE && (flags & DKIM_SIGFLAG_PROCESSED) == 0)
		return r;
	if ((flags & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
		return verdict_pass(v, sig, out, s);
	if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
		set_reason(s, "body hash mismatch");
		return DKIM_RESULT_FAIL;
	}
	if (err > DKIM_SIGERROR_OK)
		return verdict_error(err, s);
	set_reason(s, "not evaluated: %s", v->error != NULL ? v->error : "libopendkim did not check it");
	return DKIM_RESULT_TEMPERROR;
}

static void collect(struct dkim_verify *v)
{
	DKIM_SIGINFO **sigs = NULL;
	int n = 0;
	if (dkim_getsiglist(v->dkim, &sigs, &n) != DKIM_STAT_OK || n <= 0 || sigs == NULL)
		return;
	v->sigs = xcalloc((size_t)n, sizeof(*v->sigs));
	v->stores = xcalloc((size_t)n, sizeof(*v->stores));
	for (size_t i = 0; i < (size_t)n; i++) {
		sig_describe(sigs[i], &v->sigs[i], &v->stores[i]);
		v->sigs[i].result = sig_verdict(v, sigs[i], i, &v->sigs[i], &v->stores[i]);
	}
	v->result.count = (size_t)n;
	v->result.sigs = v->sigs;
}

void dkim_verify_end(struct dkim_verify *v)
{
	if (v->ended)
		return;
	v->ended = true;
	if (dkim_verify_eoh(v)) {
		_Bool testkey = false;
		DKIM_STAT st = dkim_eom(v->dkim, &testkey);
		if (st != DKIM_STAT_OK)
			log_debug("dkim: end of message: %s", dkim_getresultstr(st));
	}
	if (v->has_sigs)
		collect(v);
	v->result.error = v->error;
}

const struct dkim_verify_result *dkim_verify_result(const struct dkim_verify *v)
{
	return &v->result;
}

void dkim_verify_free(struct dkim_verify **vp)
{
	struct dkim_verify *v = *vp;
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	for (size_t i = 0; i < v->memo_count; i++) {
		free(v->memos[i].selector);
		free(v->memos[i].domain);
		free(v->memos[i].txt);
	}
	free(v->memos);
	for (size_t i = 0; i < v->result.count; i++) {
		free(v->stores[i].domain);
		free(v->stores[i].selector);
		free(v->stores[i].algorithm);
	}
	free(v->stores);
	free(v->sigs);
	strbuf_release(&v->field);
	free(v);
	*vp = NULL;
}
