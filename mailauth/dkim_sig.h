/*
 * dkim_sig.h - the DKIM-Signature header field as data (RFC 6376 3.5,
 * RFC 8301, RFC 8463).
 *
 * A pure, bounded parser over the field's value: the tag list
 * (dkim_tags.h), then every tag RFC 6376 3.5 defines checked the way it
 * defines it. Required: v=1, a=, b=, bh=, d=, h= (naming From), s=.
 * Optional: c= (simple/simple when absent), i= (d= or a subdomain of it),
 * l=, q= (must offer dns/txt), t=, x= (not before t=), z= (ignored).
 * Tags are case-sensitive ("V=1" is an unknown tag, and v= is then
 * missing); unknown tags are ignored; a tag given twice is an error
 * (dkim_tags_parse()). b= and bh= may hold folding white space anywhere
 * (dkim_base64_decode()). a=rsa-sha1 parses (sig->sha1), so that the
 * verifier can apply RFC 8301's policy to it rather than call it malformed.
 *
 * The struct points into the value it was parsed from, which must outlive
 * it. It is large (the decoded b=, the h= list): keep it off small stacks.
 * The same tag checks serve ARC's signatures (arc_sig.c).
 */
#ifndef LIMRISTEM_MAILAUTH_DKIM_SIG_H
#define LIMRISTEM_MAILAUTH_DKIM_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"
#include "mailauth/dkim_tags.h"

#define DKIM_SIG_MAX_NAMES 256		/* entries of an h= list */
#define DKIM_NAME_MAX 253		/* a domain or selector */
#define DKIM_TIMESTAMP_DIGITS_MAX 12	/* t= and x= (RFC 6376 3.5) */
#define DKIM_LENGTH_DIGITS_MAX 19	/* l=, so that it fits a uint64_t */

/* A tag's value as written, for reports. */
struct dkim_span {
	const char *p;		/* NULL: the tag is missing */
	size_t len;
};

struct dkim_sig {
	/* As written, also when the signature is invalid (as far as the tag
	 * list could be read): what a report names the signature by. */
	struct dkim_span raw_a, raw_b, raw_d, raw_s;
	bool sha1;				/* a=rsa-sha1 (RFC 8301: never valid) */
	enum dkim_alg alg;			/* a=, unless sha1 */
	char domain[DKIM_NAME_MAX + 1];		/* d=, lowercased, no final dot */
	char selector[DKIM_NAME_MAX + 1];	/* s=, as written */
	unsigned char b[DKIM_SIG_MAX_BYTES];	/* b=, decoded */
	size_t b_len;
	size_t b_span_start, b_span_end;	/* what "b= emptied" removes */
	unsigned char bh[EVP_MAX_MD_SIZE];	/* bh=, decoded */
	size_t bh_len;
	enum dkim_canon_mode header_canon, body_canon;	/* c= */
	struct canon_name h[DKIM_SIG_MAX_NAMES];	/* h=, pointing into the value */
	size_t h_count;
	bool i_subdomain;	/* i= names a strict subdomain of d= (t=s keys refuse it) */
	bool has_t, has_x, has_l;
	uint64_t t, x, l;
};

/* Parses a DKIM-Signature value[0..len). Returns 0, or -1 with *why_r
 * (static text, naming the tag). */
int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig_r, const char **why_r);

/* Appends value[0..len) with b='s value emptied (RFC 6376 3.7: the value
 * and the white space around it): what the signature was computed over. */
void dkim_sig_value_without_b(size_t b_span_start, size_t b_span_end, const char *value,
			      size_t len, struct strbuf *out);

/* The checks of single tags, shared with ARC (arc_sig.c); 0 or -1. */
/* 1 to max_digits decimal digits. */
int dkim_sig_digits(const struct dkim_tag *tag, size_t max_digits, uint64_t *value_r);
/* d= (is_domain: host-name syntax, U-labels allowed, lowercased into out
 * without a final dot) or s= (the same syntax, no final dot, as written).
 * out has DKIM_NAME_MAX + 1 bytes. */
int dkim_sig_name(const struct dkim_tag *tag, bool is_domain, char *out, const char **why_r);
/* Non-empty base64 (FWS allowed) that decodes to at most cap bytes. */
int dkim_sig_base64(const struct dkim_tag *tag, unsigned char *out, size_t cap, size_t *len_r);
/* An h= list: names without white space or controls; empty names are
 * kept (they sign nothing). At most cap names. */
int dkim_sig_header_list(const struct dkim_tag *tag, struct canon_name *names, size_t cap,
			 size_t *count_r, const char **why_r);

#endif
