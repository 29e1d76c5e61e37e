/*
 * authres.h - Authentication-Results header fields (RFC 8601, method and
 * property names from the RFC 7601/8601 IANA registry).
 *
 * Two pure, bounded halves, no I/O and no globals:
 *
 *  - authres_build() writes the value of the Authentication-Results field
 *    the milter adds: "authserv-id;" then one result per line, joined by a
 *    caller-chosen fold ("\n\t" for libmilter's smfi_insheader, "\r\n\t"
 *    for a message on the wire), or "authserv-id; none" without results.
 *    Property values that are not RFC 2045 tokens (nor, for smtp.mailfrom,
 *    a plain local-part@domain) are written as quoted strings.
 *
 *  - authres_parse_id() / authres_parse_aar_id() read the authserv-id at
 *    the start of an incoming Authentication-Results or
 *    ARC-Authentication-Results ("i=N;" first) value, skipping comments
 *    (nested), folding white space and an optional version number, and
 *    unquoting a quoted-string id; authres_claim() (authres_claim.c)
 *    decides whether a field claims ours, so the milter can delete forged
 *    fields (RFC 8601 section 5).
 *
 * Every function returns 0 on success or a negative AUTHRES_E* code and
 * sets *why_r (when why_r is not NULL) to a static English explanation; on
 * error the output buffer holds an empty string. Nothing is ever
 * truncated silently.
 */
#ifndef LIMRISTEM_MAILAUTH_AUTHRES_H
#define LIMRISTEM_MAILAUTH_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

/* Longest authserv-id we write or read back (a host name is at most 253). */
#define AUTHRES_ID_MAX 255
/* Longest version number ("example.org 1;") the parser accepts, in digits. */
#define AUTHRES_VERSION_DIGITS_MAX 9
/* Highest ARC instance (RFC 8617 section 4.2.1). */
#define AUTHRES_ARC_INSTANCE_MAX 50
/* Minimum length of header.b (RFC 6008 section 4); it grows beyond this
 * when two signatures of one message share a longer prefix, up to the
 * maximum (signatures alike that far are the same signature). */
#define AUTHRES_DKIM_B_PREFIX 8
#define AUTHRES_DKIM_B_PREFIX_MAX 64
/* The builder folds a result line before a property that would take the
 * line past this many characters (fold-able places only). */
#define AUTHRES_LINE_SOFT_MAX 78
/* Most results one field may carry. */
#define AUTHRES_MAX_RESULTS 64

enum authres_status {
	AUTHRES_OK = 0,
	AUTHRES_E_INVAL = -1,		/* builder: a bad argument (see why) */
	AUTHRES_E_TOOLONG = -2,		/* builder: does not fit in outlen */
	AUTHRES_E_SYNTAX = -3,		/* parser: malformed field value */
};

enum authres_method {
	AUTHRES_SPF_MAILFROM,	/* spf=...  smtp.mailfrom=<spf.identity> */
	AUTHRES_SPF_HELO,	/* spf=...  smtp.helo=<spf.identity> */
	AUTHRES_DKIM,		/* dkim=... header.d header.s header.b [header.a] */
	AUTHRES_DMARC,		/* dmarc=... (p= sp= np= t= pct= psd= dis=) header.from policy.dmarc */
	AUTHRES_ARC,		/* arc=...  smtp.remote-ip header.oldest-pass */
};

/* A NULL or empty string leaves its property (or comment part) out. */
struct authres_spf {
	const char *identity;	/* MAIL FROM address (or domain) / HELO name */
};

struct authres_dkim {
	const char *domain;	/* d= */
	const char *selector;	/* s= */
	const char *b;		/* the whole b= value, folding white space allowed */
	const char *algorithm;	/* a= ("rsa-sha256"), optional */
};

/* The comment shows the record's tags that made the policy and what was
 * done: "(p=reject sp=none np=reject t=y pct=0 psd=y dis=quarantine)"
 * with the parts that are set; policy.dmarc (RFC 9989 9.1) is the policy
 * the evaluation arrived at, after np and testing mode. */
struct authres_dmarc {
	const char *from_domain;	/* RFC5322.From domain */
	const char *policy;		/* p= of the record ("reject") */
	const char *subdomain_policy;	/* sp= of the record */
	const char *disposition;	/* what was applied ("quarantine") */
	const char *evaluated;		/* policy.dmarc= */
	const char *nonexistent_policy;	/* np= of the record, when it applied */
	const char *testing;		/* "y": t=y lowered the policy */
	const char *pct;		/* "0": the historic pct=0 lowered it instead */
	const char *psd;		/* "y": the record is a Public Suffix Domain's */
};

struct authres_arc {
	const char *remote_ip;	/* SMTP client address */
	unsigned oldest_pass;	/* 0 = leave header.oldest-pass out */
};

struct authres_result {
	enum authres_method method;
	/* Must be a result RFC 8601 section 2.7 (RFC 8617 for arc) defines for
	 * the method, lowercase: "pass", "fail", "softfail", "none", ... */
	const char *result;
	const char *reason;	/* NULL, or the text of reason="..." */
	union {
		struct authres_spf spf;
		struct authres_dkim dkim;
		struct authres_dmarc dmarc;
		struct authres_arc arc;
	};
};

/*
 * Writes the field value (without "Authentication-Results:") into
 * out[0..outlen). fold is put between results: an optional "\r\n" or "\n"
 * followed by at least one space or tab. count may be 0 ("id; none").
 * Returns 0, AUTHRES_E_INVAL (bad id, fold, result name or value that
 * cannot be represented, e.g. with a control character) or
 * AUTHRES_E_TOOLONG.
 */
int authres_build(const char *authserv_id, const struct authres_result *results,
		  size_t count, const char *fold, char *out, size_t outlen,
		  const char **why_r);

/*
 * Reads the authserv-id of an Authentication-Results value buf[0..len)
 * (what follows the colon) into id_r (AUTHRES_ID_MAX + 1 bytes), unquoted.
 * The id must be followed by [CFWS] [version [CFWS]] ";"; what follows the
 * ";" is not examined. Returns 0 or AUTHRES_E_SYNTAX.
 */
int authres_parse_id(const char *buf, size_t len, char *id_r,
		     const char **why_r);

/*
 * The same for an ARC-Authentication-Results value, which starts with
 * "i=N;" (N in 1..50, stored in *instance_r).
 */
int authres_parse_aar_id(const char *buf, size_t len, unsigned *instance_r,
			 char *id_r, const char **why_r);

/* True when two authserv-ids are the same: ASCII case-insensitive, one
 * trailing dot on either side ignored ("Example.ORG." == "example.org"). */
bool authres_id_equal(const char *a, const char *b);

/*
 * Whether an incoming field value buf[0..len) claims our_id, so that the
 * milter must delete it (RFC 8601 section 5). aar selects the
 * ARC-Authentication-Results syntax ("i=N;" first). Readers differ on
 * malformed fields and on comments, so a field claims our id when any of
 * these finds it (authres_claim.c has the details):
 *
 *  PARSED    the strict parser above reads our id;
 *  MALFORMED the strict parser fails, and our id is a token of the field
 *            once comments (nested to any depth; an unterminated one runs
 *            to the end) are dropped and quoted-pairs resolved;
 *  PREFIX    our id is a token of the raw text before the first ';' (the
 *            second for an AAR), comments and quotes read as plain text,
 *            quoted-pairs resolved, whatever the strict parser read.
 *
 * A token is a run of RFC 2045 token characters and bytes >= 0x80 (C0
 * controls and DEL are skipped, not separators); it matches our id ASCII
 * case-insensitively, one trailing dot on either side ignored. Linear in
 * len, no allocation. An empty our_id is never claimed.
 */
enum authres_claim {
	AUTHRES_CLAIM_NONE = 0,
	AUTHRES_CLAIM_PARSED,
	AUTHRES_CLAIM_MALFORMED,
	AUTHRES_CLAIM_PREFIX,
};

enum authres_claim authres_claim(const char *buf, size_t len, bool aar, const char *our_id);
const char *authres_claim_name(enum authres_claim claim);

#endif
