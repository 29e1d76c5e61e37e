/*
 * dmarc_record.h - one DMARC Policy Record (RFC 9989 sections 4.7 and 4.8)
 * read from the text of one TXT record.
 *
 * Pure and bounded, no allocation: the text goes through the tree's one
 * tag-list parser (dkim_tags.h) in its lenient reading, then each tag
 * RFC 9989 defines is checked against its grammar.
 *
 * A TXT record is a DMARC Policy Record when it starts with the v tag
 * whose value is exactly "DMARC1" (case-sensitive; white space around the
 * '=' allowed, nothing before the 'v'); anything else is not one and is
 * discarded (section 4.7). In a record, syntax errors are ignored
 * (section 4.8) and counted in `ignored`: a tag-spec that cannot be read,
 * an unknown tag, a known tag whose value is outside its grammar (the tag
 * keeps its default) and a tag given more than once (none of its values
 * counts). Tag names are case-sensitive, as in every DKIM-style list;
 * the words of the values (reject, y, r ...) are not (RFC 5234 strings).
 *
 * What is left to the evaluation (section 4.10.1): a p, sp or np that is
 * present but not valid (the *_invalid flags) means p=none when rua holds
 * a valid URI, and no DMARC processing otherwise; an absent p is p=none.
 * pct, rf and ri are historic (RFC 9989 9.3): they change nothing, but
 * pct is read for the milter's pct=0 compatibility setting.
 */
#ifndef LIMRISTEM_MAILAUTH_DMARC_RECORD_H
#define LIMRISTEM_MAILAUTH_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

enum dmarc_policy { DMARC_POLICY_NONE_SET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };
enum dmarc_psd { DMARC_PSD_U, DMARC_PSD_Y, DMARC_PSD_N };

struct dmarc_record {
	enum dmarc_policy p, sp, np;	/* DMARC_POLICY_NONE_SET: absent or not valid */
	bool p_invalid, sp_invalid, np_invalid;	/* present, but not a valid request */
	bool testing;			/* t=y */
	bool testing_given;		/* t= present and valid (y or n) */
	int pct;			/* historic pct= (0..100), -1 when absent or not valid */
	enum dmarc_psd psd;
	bool strict_dkim, strict_spf;	/* adkim=s, aspf=s */
	bool rua;			/* rua= holds at least one syntactically valid URI */
	unsigned ignored;		/* tag-specs ignored: unreadable, unknown, invalid, repeated */
};

/* 1 with *r_r filled when txt[0..len) is a DMARC Policy Record, 0 (and
 * *r_r zeroed) when it is not one. */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r_r);

/* "none", "quarantine", "reject" ("unspecified" for DMARC_POLICY_NONE_SET). */
const char *dmarc_policy_name(enum dmarc_policy policy);

#endif
