/*
 * arc_sig.h - the fields of an ARC set (RFC 8617 section 4.1) as data.
 *
 * ARC-Message-Signature (AMS) and ARC-Seal (AS) values are DKIM-style tag
 * lists (dkim_tags.h); this checks each tag the way RFC 8617 and RFC 6376
 * define it and turns the list into a struct. ARC-Authentication-Results
 * (AAR) is an Authentication-Results payload; only its "i=N;" prefix
 * matters to the chain. Pure functions; the structs point into the value
 * they were parsed from, which must outlive them.
 */
#ifndef LIMRISTEM_MAILAUTH_ARC_SIG_H
#define LIMRISTEM_MAILAUTH_ARC_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "mailauth/dkim_canon.h"
#include "mailauth/dkim_crypto.h"

#define ARC_INSTANCE_MAX 50	/* RFC 8617 4.2.1 */
#define ARC_SIG_MAX_HEADERS 128	/* names in an AMS h= list */
#define ARC_NAME_MAX 253	/* a domain or selector */

enum arc_sig_kind {
	ARC_SIG_MESSAGE,	/* ARC-Message-Signature */
	ARC_SIG_SEAL,		/* ARC-Seal */
};

/* Chain validation status as an ARC-Seal's cv= states it. */
enum arc_cv {
	ARC_CV_NONE,
	ARC_CV_PASS,
	ARC_CV_FAIL,
};

struct arc_sig {
	enum arc_sig_kind kind;
	unsigned instance;		/* i=, 1..ARC_INSTANCE_MAX */
	enum dkim_alg alg;		/* a= */
	char domain[ARC_NAME_MAX + 1];	/* d=, lowercased, no final dot */
	char selector[ARC_NAME_MAX + 1];	/* s= */
	unsigned char b[DKIM_SIG_MAX_BYTES];	/* b=, decoded */
	size_t b_len;
	size_t b_span_start, b_span_end;	/* what "b= emptied" removes */
	bool has_t;
	uint64_t t;			/* t=, when has_t */
	/* AMS only */
	enum dkim_canon_mode header_canon, body_canon;	/* c= (simple/simple by default) */
	unsigned char bh[EVP_MAX_MD_SIZE];	/* bh=, decoded */
	size_t bh_len;
	struct canon_name h[ARC_SIG_MAX_HEADERS];	/* h=, pointing into the value */
	size_t h_count;
	bool has_x, has_l;
	uint64_t x, l;
	/* AS only */
	enum arc_cv cv;
};

/* Parses an AMS or AS value. Returns 0, or -1 with *why_r (static text). */
int arc_sig_parse(enum arc_sig_kind kind, const char *value, size_t len, struct arc_sig *sig_r,
		  const char **why_r);

/* Appends value with everything between "b=" and the next ';' removed:
 * the form the signature itself was computed over. */
void arc_sig_value_without_b(const struct arc_sig *sig, const char *value, size_t len,
			     struct strbuf *out);

/* True when the AMS h= list names name (case-insensitive). */
bool arc_sig_signs_header(const struct arc_sig *sig, const char *name);

/* Reads the "i=N;" that starts an AAR value (CFWS allowed around each
 * token). Returns 0 with the instance, or -1 with *why_r. */
int arc_aar_instance(const char *value, size_t len, unsigned *instance_r, const char **why_r);

const char *arc_cv_name(enum arc_cv cv);

#endif
